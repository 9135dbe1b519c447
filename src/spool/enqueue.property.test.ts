// [Q1] acceptance, property: random envelopes and random message bytes put on the spool with
// enqueueMessage() arrive at the next hop exactly as enqueued. The path is the real one: the
// entry is written by enqueueMessage, listed by the real SpoolQueue (envelope.json read back and
// re-validated), turned into one work item by the spool task and sent by the forwarder's SMTP
// client to a FakeSmtpServer that records the command lines and the un-stuffed bytes.
//
// Oracle for the bytes: normaliseLineEnds() from smtp/protocol/dot-stuff.ts, the canonical form
// of a message on the wire. Why bare CR and bare LF are canonicalised, not kept: RFC 5321 §2.3.8
// and §4.1.1.4 allow CR and LF in mail text only together as CRLF, and a receiving server's DATA
// reader may refuse or reinterpret a bare one (the "SMTP smuggling" family). So the only way to
// carry such octets over SMTP is as line ends: the client turns each bare CR and bare LF into CRLF
// and adds a final CRLF when the data lacks one. Everything else — NUL, 8-bit octets, ESC, long
// lines, trailing blanks, lines starting with "." — must arrive untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMailbox, formatPath, parseMailbox, systemClock, type Envelope, type Recipient, type ReversePath } from '../core/index.js';
import { normaliseLineEnds } from '../smtp/protocol/dot-stuff.js';
import { decodeXtext } from '../smtp/protocol/esmtp-params.js';
import { FakeSmtpServer } from '../testing/fake-smtp-server.js';
import { runGateway, until, writeConfig } from '../testing/gateway.js';
import { prng } from '../testing/prng.js';
import { enqueueMessage } from './enqueue.js';
import { SpoolQueue } from './queue.js';

const SEED = Number(process.env.SEED ?? 0x51a7e5);
const CASES = 30;

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number): boolean => r() < p;

const ATEXT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-/=?^_`{|}~';
// qtextSMTP without '"' and '\', which are written as quoted pairs; "<", ">", "@", ":" and space
// are the characters a path parser would trip over.
const QTEXT = ' !#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~';
const UTF8_CHARS = ['ä', 'ö', 'ü', 'ß', 'é', '€', '日', '本', 'ж', '😀'];

function str(r: Rand, alphabet: string | readonly string[], lo: number, hi: number): string {
  let s = '';
  const n = int(r, lo, hi);
  for (let i = 0; i < n; i++) s += pick(r, typeof alphabet === 'string' ? [...alphabet] : alphabet);
  return s;
}

/** A local part starting with `tag` (unique per address): dot-string or quoted-string, UTF-8 with SMTPUTF8. */
function localPart(r: Rand, tag: string, utf8: boolean): string {
  const chars = utf8 && chance(r, 0.5) ? [...ATEXT, ...UTF8_CHARS] : [...ATEXT];
  if (chance(r, 0.3)) {
    const q = [...QTEXT, '\\"', '\\\\', ...(utf8 ? UTF8_CHARS : [])];
    return `"${tag} ${str(r, q, 0, 12)}"`;
  }
  const atoms = [tag, ...Array.from({ length: int(r, 0, 2) }, () => str(r, chars, 1, 8))];
  return atoms.join('.');
}

function domain(r: Rand, utf8: boolean): string {
  if (chance(r, 0.05)) return '[192.0.2.7]';
  const label = (): string => {
    const u = utf8 && chance(r, 0.4);
    const inner = str(r, u ? ['a', 'b', 'x', '1', '-', ...UTF8_CHARS.slice(0, 8)] : 'abcxyz019-', 0, 10);
    return `${u ? pick(r, UTF8_CHARS.slice(0, 8)) : 'd'}${inner}${u ? 'ü' : '9'}`;
  };
  return [...Array.from({ length: int(r, 1, 3) }, label), pick(r, ['test', 'example', 'invalid'])].join('.');
}

function mailbox(r: Rand, tag: string, utf8: boolean): string {
  for (;;) {
    const a = `${localPart(r, tag, utf8)}@${domain(r, utf8)}`;
    // The generator aims at valid addresses; the parser is the judge (length limits).
    if (parseMailbox(a, { utf8 }).ok && Buffer.byteLength(a) <= 254) return a;
  }
}

/** Any Unicode text without lone surrogates, with the characters xtext must encode. */
function anyText(r: Rand, lo: number, hi: number, maxBytes: number): string {
  const alphabet = ['a', 'Z', '0', '+', '=', ' ', '\r', '\n', '\0', '<', '>', ';', '"', '\\', '\x7f', '\x1b', 'é', '€', '😀', '\t'];
  let s = str(r, alphabet, lo, hi);
  while (Buffer.byteLength(s) > maxBytes) s = s.slice(0, -1);
  return s.length === 0 ? 'x' : s;
}

function notify(r: Rand): Recipient['notify'] {
  if (chance(r, 0.4)) return undefined;
  if (chance(r, 0.25)) return { kind: 'never' };
  for (;;) {
    const n = { kind: 'on' as const, success: chance(r, 0.5), failure: chance(r, 0.5), delay: chance(r, 0.5) };
    if (n.success || n.failure || n.delay) return n;
  }
}

function envelope(r: Rand, caseNo: number): Envelope {
  const utf8 = chance(r, 0.4);
  const mb = (tag: string): ReturnType<typeof parseMailbox> => parseMailbox(mailbox(r, tag, utf8), { utf8 });
  const fromParsed = mb(`s${caseNo}`);
  if (!fromParsed.ok) throw new Error('generator');
  const from: ReversePath = chance(r, 0.3) ? { kind: 'null' } : { kind: 'mailbox', mailbox: fromParsed.value };
  const recipients: Recipient[] = [];
  const n = chance(r, 0.2) ? int(r, 20, 50) : int(r, 1, 5);
  for (let i = 0; i < n; i++) {
    const m = mb(`r${i}c${caseNo}`);
    if (!m.ok) throw new Error('generator');
    const nt = notify(r);
    const orcpt = chance(r, 0.4) ? { type: pick(r, ['rfc822', 'utf-8', 'x-Local9']), address: anyText(r, 1, 40, 500) } : undefined;
    recipients.push({ mailbox: m.value, ...(nt ? { notify: nt } : {}), ...(orcpt ? { orcpt } : {}) });
  }
  const ret = pick(r, [undefined, 'FULL', 'HDRS'] as const);
  const envid = chance(r, 0.4) ? anyText(r, 1, 30, 100) : undefined;
  const body8bit = pick(r, [undefined, true, false]);
  return {
    from, recipients, requireTls: false,
    ...(ret !== undefined || envid !== undefined ? { dsn: { ...(ret ? { ret } : {}), ...(envid !== undefined ? { envid } : {}) } } : {}),
    ...(body8bit !== undefined ? { body8bit } : {}),
    ...(utf8 || chance(r, 0.2) ? { smtputf8: utf8 } : {}),
  };
}

/** Any octets: NUL, bare CR and LF, CRLF, 8-bit, lines over 998 octets, "." at line starts. */
function body(r: Rand): Buffer {
  if (chance(r, 0.05)) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  const pieces = int(r, 1, 40);
  for (let i = 0; i < pieces; i++) {
    switch (int(r, 0, 9)) {
      case 0: parts.push(Buffer.from(Array.from({ length: int(r, 1, 64) }, () => int(r, 0, 255)))); break;
      case 1: parts.push(Buffer.from('\r')); break;
      case 2: parts.push(Buffer.from('\n')); break;
      case 3: parts.push(Buffer.from(pick(r, ['.', '..', '.\r\n', '\r\n.\r\n', '\r\n..\r\n', '\n.\n', '\r.\r']))); break;
      case 4: parts.push(Buffer.from('L'.repeat(int(r, 999, 2100)))); break;
      case 5: parts.push(Buffer.from([0])); break;
      case 6: parts.push(Buffer.from(`${pick(r, ['MAIL FROM:<x@evil.test>', 'RCPT TO:<y@evil.test>', 'DATA', 'QUIT', 'Subject: t'])}\r\n`)); break;
      case 7: parts.push(Buffer.from(pick(r, ['trailing  ', '\t', 'x'.repeat(79) + '<']))); break;
      default: parts.push(Buffer.from(`${str(r, 'abc xyz', 0, 70)}\r\n`));
    }
  }
  return Buffer.concat(parts);
}

/** The case a RCPT line belongs to: local parts start with r<i>c<case>. */
function caseOf(rcptLine: string): number | undefined {
  const m = /^RCPT TO:<"?r\d+c(\d+)[ .@]/.exec(rcptLine);
  return m === null ? undefined : Number(m[1]);
}

/** "K=V K2" after the given prefix of a command line, as a map (upper-case keys). */
function paramsAfter(line: string, prefix: string, what: string): Map<string, string | undefined> {
  assert.ok(line.startsWith(prefix), `${what}: ${JSON.stringify(line)} should start with ${JSON.stringify(prefix)}`);
  const rest = line.slice(prefix.length);
  const out = new Map<string, string | undefined>();
  if (rest === '') return out;
  assert.ok(rest.startsWith(' '), `${what}: parameters after ${JSON.stringify(prefix)}: ${JSON.stringify(rest)}`);
  for (const p of rest.slice(1).split(' ')) {
    const eq = p.indexOf('=');
    out.set((eq < 0 ? p : p.slice(0, eq)).toUpperCase(), eq < 0 ? undefined : p.slice(eq + 1));
  }
  return out;
}

function notifyText(n: NonNullable<Recipient['notify']>): string {
  return n.kind === 'never' ? 'NEVER' : [n.success && 'SUCCESS', n.failure && 'FAILURE', n.delay && 'DELAY'].filter(Boolean).join(',');
}

function checkArrival(label: string, want: Envelope, data: Buffer, got: ReturnType<FakeSmtpServer['transactions']>): void {
  assert.ok(got.length > 0, `${label}: never arrived`);
  const rcptLines: string[] = [];
  for (const t of got) {
    const p = paramsAfter(t.mail, `MAIL FROM:${formatPath(want.from)}`, `${label} MAIL`);
    p.delete('SIZE');
    const body = p.get('BODY');
    p.delete('BODY');
    assert.equal(body, want.body8bit === true ? '8BITMIME' : undefined, `${label}: BODY`);
    assert.equal(p.has('SMTPUTF8'), want.smtputf8 === true, `${label}: SMTPUTF8`);
    p.delete('SMTPUTF8');
    assert.equal(p.get('RET'), want.dsn?.ret, `${label}: RET`);
    p.delete('RET');
    const envid = p.get('ENVID');
    p.delete('ENVID');
    assert.equal(envid === undefined ? undefined : decodeXtext(envid), want.dsn?.envid, `${label}: ENVID`);
    assert.deepEqual([...p.keys()], [], `${label}: no other MAIL parameters`);
    // The bytes: every transaction carries the whole message.
    assert.ok(t.message.data.equals(normaliseLineEnds(data)), `${label}: data differs (${t.message.data.length} octets arrived, ${normaliseLineEnds(data).length} expected)`);
    rcptLines.push(...t.rcpts);
  }
  assert.equal(rcptLines.length, want.recipients.length, `${label}: number of recipients`);
  want.recipients.forEach((r, i) => {
    const p = paramsAfter(rcptLines[i]!, `RCPT TO:<${formatMailbox(r.mailbox)}>`, `${label} RCPT ${i}`);
    assert.equal(p.get('NOTIFY'), r.notify === undefined ? undefined : notifyText(r.notify), `${label} RCPT ${i}: NOTIFY`);
    p.delete('NOTIFY');
    const orcpt = p.get('ORCPT');
    p.delete('ORCPT');
    if (r.orcpt === undefined) assert.equal(orcpt, undefined, `${label} RCPT ${i}: ORCPT`);
    else {
      assert.ok(orcpt !== undefined, `${label} RCPT ${i}: ORCPT missing`);
      const semi = orcpt.indexOf(';');
      assert.equal(orcpt.slice(0, semi), r.orcpt.type, `${label} RCPT ${i}: ORCPT type`);
      assert.equal(decodeXtext(orcpt.slice(semi + 1)), r.orcpt.address, `${label} RCPT ${i}: ORCPT address`);
    }
    assert.deepEqual([...p.keys()], [], `${label} RCPT ${i}: no other parameters`);
  });
}

test(`enqueueMessage → SpoolQueue → spool task → forwarder → FakeSmtpServer: ${CASES} random envelopes and bodies arrive as enqueued (seed ${SEED})`, async (t) => {
  const r = prng(SEED);
  const srv = await FakeSmtpServer.start({ extensions: ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 52428800', 'ENHANCEDSTATUSCODES', 'DSN'] });
  t.after(() => srv.close());
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-prop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} ConnectLimit 4 }`);

  const tq = Date.now();
  const cases = Array.from({ length: CASES }, (_, i) => ({ no: i, envelope: envelope(r, i), data: body(r) }));
  const ids = new Map<string, number>();
  // Concurrent writers, as the receiver's sessions and the notifier are.
  await Promise.all(cases.map(async (c) => {
    const e = await enqueueMessage({ root: config.spool.directory, writer: config.extWrtName, envelope: c.envelope, data: c.data, origin: { kind: 'notification' }, jobName: 'SGNOTIFY' });
    ids.set(e.id, c.no);
  }));

  t.diagnostic(`enqueued ${Date.now() - tq} ms`);
  // The real listing reads every entry back as a valid message entry with the envelope enqueued.
  const opened = await SpoolQueue.open({ root: config.spool.directory, writer: config.extWrtName, clock: systemClock });
  assert.ok(opened.ok);
  const listed = await opened.value.list();
  await opened.value.close();
  assert.equal(listed.length, CASES);
  for (const e of listed) {
    const c = cases[ids.get(e.id)!]!;
    assert.equal(e.problem, undefined, `case ${c.no}: ${e.problem?.reason}`);
    assert.equal(e.kind, 'message');
    assert.deepEqual(e.message?.envelope, c.envelope, `case ${c.no}: envelope.json read back`);
  }

  const t0 = Date.now();
  const gw = await runGateway(config);
  t.diagnostic(`gateway up ${Date.now() - t0} ms`);
  t.after(() => gw.stop());
  const total = cases.reduce((n, c) => n + c.envelope.recipients.length, 0);
  await until('every recipient at the target and the spool empty', async () =>
    srv.transactions().reduce((n, x) => n + x.rcpts.length, 0) >= total && (await gw.queue.list()).length === 0, 30_000);

  t.diagnostic(`delivered ${Date.now() - t0} ms`);
  const txs = srv.transactions();
  for (const c of cases) {
    const mine = txs.filter((x) => x.rcpts.some((l) => caseOf(l) === c.no));
    const label = `seed ${SEED} case ${c.no} (${JSON.stringify({ from: formatPath(c.envelope.from), rcpts: c.envelope.recipients.length, size: c.data.length })})`;
    checkArrival(label, c.envelope, c.data, mine);
  }
  assert.equal(txs.reduce((n, x) => n + x.rcpts.length, 0), total, 'nothing else arrived (no DSN, no duplicate)');
});
