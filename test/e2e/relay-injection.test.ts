// [Q1] acceptance: spool-injection attempts through the receiver never change the envelope, in
// every relay mode. Before message entries, relayed mail was queued as batch-SMTP text and read
// back under the JES record rules, so a record of exactly 80 bytes ending in "<" was joined to the
// next one and the message body ran as commands (the NearDomains open relay). Here each attempt —
// ORCPT and ENVID values, AUTH= on MAIL, quoted local parts, body lines shaped as 80-byte "<"
// records and 80/160-byte boundaries, bare CR in the body and in commands, CR inside xtext, lines
// that look like MAIL FROM/RCPT TO/DATA/./QUIT — goes over real SMTP to a real gateway
// (receiver → message entry → spool task → forwarder) and what reaches the target must be exactly
// the envelope the receiver accepted (sender, the recipients it answered 250 for and nothing else,
// their NOTIFY/ORCPT, RET/ENVID, no AUTH=) and the accepted bytes below our Received field. The
// journal must name every relayed recipient.
//
// Two targets: nodemailer's smtp-server (an implementation nobody here wrote), which refuses some
// legal but unusual envelope values itself (quoted local parts with spaces or "<", control
// characters inside xtext), so those attempts go to FakeSmtpServer, a recorder of the exact lines.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decodeXtext } from '../../src/smtp/protocol/esmtp-params.js';
import { testCerts } from '../../src/testing/certs.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { until } from '../../src/testing/gateway.js';
import { RawSmtp } from './receiver-harness.js';
import { belowOurReceived, startRelayGateway, startRelayTarget, type RelayGateway } from './relay-harness.js';

const CRLF = '\r\n';

/** A raw SMTP session whose greeting was 220. */
async function openClient(port: number): Promise<RawSmtp> {
  const { c, greeting } = await RawSmtp.open(port);
  assert.equal(greeting.code, 220);
  return c;
}

/** RFC 5321 §4.5.2 dot-stuffing of CRLF-separated text, with the terminating line. */
function stuffed(body: Buffer): Buffer {
  const s = body.toString('latin1');
  const out = (s.startsWith('.') ? '.' : '') + s.replace(/\r\n\./g, '\r\n..');
  return Buffer.from(out + (out.endsWith(CRLF) || out === '' ? '' : CRLF) + '.' + CRLF, 'latin1');
}

// --- attempts ------------------------------------------------------------------------------------

/** prefix + "x"… + "<", exactly `total` octets (the shape of an 80-byte record ending in "<"). */
function ending(prefix: string, total: number, fill = 'x'): string {
  const n = total - prefix.length - 1;
  assert.ok(n >= 1, `${prefix} is too long for ${total}`);
  return prefix + fill.repeat(n) + '<';
}

/** Body lines that look like commands and records at the 80/160-octet boundaries. */
const FORGED_LINES = [
  ending('', 80), 'MAIL FROM:<forged@evil.test>', 'RCPT TO:<victim@evil.test>', 'DATA', 'Subject: forged', '.', 'QUIT',
  ending('', 160, 'y'), 'RCPT TO:<victim2@evil.test>', 'z'.repeat(80), 'w'.repeat(160), '.' + ending('', 79), '.', 'QUIT  ', '<',
];

interface Attempt {
  readonly name: string;
  readonly mail: string;
  /** RCPT command lines (without CRLF). */
  readonly rcpts: readonly string[];
  /** The message after the X-Tx line (CRLF line ends), or raw bytes that must be refused. */
  readonly body?: readonly string[];
  readonly rawBody?: string;
  /** smtp-server refuses something in it (quoted local part with space or "<", control character in xtext). */
  readonly fakeOnly?: boolean;
}

/** The attempts for a mode whose permitted relay domain is `R`; k makes addresses unique. */
function attempts(R: string): Attempt[] {
  const a: Attempt[] = [];
  // The original exploit shape: a RCPT record of exactly 80 octets ending in "<" (and its neighbours,
  // and 160) built from the ORCPT value, with a far recipient and forged commands in the body.
  for (const total of [79, 80, 81, 160]) {
    a.push({
      name: `ORCPT making a ${total}-octet RCPT line ending in "<"`,
      mail: `MAIL FROM:<orcpt${total}@client.test>`,
      rcpts: [ending(`RCPT TO:<o${total}@${R}> ORCPT=rfc822;`, total), 'RCPT TO:<victim@far.test>'],
      body: ['Subject: orcpt', '', ...FORGED_LINES],
    });
  }
  a.push({
    name: 'NOTIFY and ORCPT making an 80-octet line; ORCPT type in upper case',
    mail: 'MAIL FROM:<notify80@client.test> RET=HDRS',
    rcpts: [ending(`RCPT TO:<n80@${R}> NOTIFY=SUCCESS,FAILURE ORCPT=RFC822;`, 80), ending(`RCPT TO:<n160@${R}> NOTIFY=NEVER ORCPT=rfc822;`, 160)],
    body: ['Subject: notify', '', ...FORGED_LINES],
  });
  for (const total of [80, 81]) {
    a.push({
      name: `ENVID making a ${total}-octet MAIL line ending in "<"`,
      mail: ending(`MAIL FROM:<envid${total}@client.test> RET=FULL ENVID=`, total),
      rcpts: [`RCPT TO:<e${total}@${R}>`],
      body: ['Subject: envid', '', ...FORGED_LINES],
    });
  }
  a.push({
    name: 'a long sender and ENVID making a 160-octet MAIL line ending in "<"',
    mail: ending(`MAIL FROM:<${'s'.repeat(60)}@${'d'.repeat(40)}.client.test> RET=HDRS ENVID=`, 160),
    rcpts: [`RCPT TO:<e160@${R}> NOTIFY=SUCCESS`],
    body: ['Subject: envid 160', '', ...FORGED_LINES],
  });
  a.push({
    name: 'AUTH= on MAIL naming someone else',
    mail: 'MAIL FROM:<auth1@client.test> AUTH=forged+40evil.test',
    rcpts: [`RCPT TO:<a1@${R}>`],
    body: ['Subject: auth', '', ...FORGED_LINES],
  });
  a.push({
    name: 'AUTH=<...> making an 80-octet MAIL line ending in "<"',
    mail: ending('MAIL FROM:<auth2@client.test> AUTH=<forged@evil.test> ENVID=', 80),
    rcpts: [`RCPT TO:<a2@${R}>`],
    body: ['Subject: auth', '', ...FORGED_LINES],
  });
  a.push({
    name: 'quoted local parts (smtp-server safe) with an ENVID and ORCPT ending in "<" at 80 and 160',
    mail: ending('MAIL FROM:<"MAIL:FROM;x(y)"@client.test> ENVID=', 80),
    // The receiver refuses quoted local parts of relay recipients (a relay trick, open-relay.test.ts);
    // the plain recipient carries the quoted sender to the target.
    rcpts: [ending(`RCPT TO:<"RCPT:TO;v(evil.test)"@${R}> ORCPT=rfc822;`, 80), ending(`RCPT TO:<"q\\"2"@${R}> ORCPT=rfc822;`, 160), ending(`RCPT TO:<q3@${R}> ORCPT=rfc822;`, 80)],
    body: ['Subject: quoted', '', ...FORGED_LINES],
  });
  a.push({
    name: 'quoted local parts holding commands, spaces and "<"',
    mail: 'MAIL FROM:<"MAIL FROM:<forged@evil.test> <"@client.test>',
    rcpts: [`RCPT TO:<"RCPT TO:<victim@evil.test> <"@${R}>`, ending(`RCPT TO:<"x y"@${R}> ORCPT=rfc822;`, 80), ending(`RCPT TO:<q4@${R}> NOTIFY=DELAY ORCPT=rfc822;`, 160)],
    body: ['Subject: quoted', '', ...FORGED_LINES],
    fakeOnly: true,
  });
  a.push({
    name: 'CR and LF inside xtext (ENVID, ORCPT)',
    mail: 'MAIL FROM:<xtextcr@client.test> ENVID=a+0Db+0D+0AMAIL+20FROM:<forged@evil.test>',
    rcpts: [`RCPT TO:<x1@${R}> ORCPT=rfc822;v+0D+0ARCPT+20TO:<victim@evil.test>`, `RCPT TO:<x2@${R}> ORCPT=rfc822;${ending('+0D', 60)}`],
    body: ['Subject: xtext', '', ...FORGED_LINES],
    fakeOnly: true,
  });
  a.push({
    // smtp-server decodes "+XX" into Latin-1 characters, so the UTF-8 comparison needs the recorder.
    name: 'UTF-8 octets inside xtext (ENVID, ORCPT) with an 80-octet line ending in "<"',
    mail: 'MAIL FROM:<xtext8@client.test> ENVID=Gr+C3+BC+C3+9Fe+E2+82+AC',
    rcpts: [ending(`RCPT TO:<u1@${R}> ORCPT=utf-8;m+C3+BCller+E6+97+A5`, 80)],
    body: ['Subject: xtext utf-8', '', ...FORGED_LINES],
    fakeOnly: true,
  });
  a.push({
    name: 'bare CR inside a RCPT line (refused) beside a clean recipient',
    mail: 'MAIL FROM:<crcmd@client.test>',
    rcpts: [`RCPT TO:<c1@${R}>\rRCPT TO:<victim@evil.test>`, `RCPT TO:<c2@${R}>`],
    body: ['Subject: cr in command', '', ...FORGED_LINES],
  });
  a.push({
    name: 'a local recipient beside a relayed one',
    mail: 'MAIL FROM:<mixed@client.test>',
    rcpts: ['RCPT TO:<alice@local.test>', `RCPT TO:<m1@${R}>`],
    body: ['Subject: mixed', '', ...FORGED_LINES],
  });
  a.push({
    name: 'bare CR in the body (must be refused)',
    mail: 'MAIL FROM:<crbody@client.test>',
    rcpts: [`RCPT TO:<b1@${R}>`],
    rawBody: `Subject: bare cr\r\n\r\nhello\rMAIL FROM:<forged@evil.test>\rRCPT TO:<victim@evil.test>\r\n${ending('', 80)}\r\n`,
  });
  a.push({
    name: 'bare LF in the body (must be refused)',
    mail: 'MAIL FROM:<lfbody@client.test>',
    rcpts: [`RCPT TO:<l1@${R}>`],
    rawBody: `Subject: bare lf\r\n\r\nhello\n.\nMAIL FROM:<forged@evil.test>\nRCPT TO:<victim@evil.test>\nDATA\r\n`,
  });
  return a;
}

// --- what arrived --------------------------------------------------------------------------------

interface Arrival {
  readonly tag: string;
  readonly from: string;
  /** MAIL parameters, xtext-decoded, upper-case keys (SIZE left out). */
  readonly params: Record<string, string | true>;
  readonly rcpts: readonly { readonly address: string; readonly notify?: string; readonly orcpt?: string }[];
  readonly data: Buffer;
}

function tagOf(data: Buffer): string {
  return /^X-Tx: (\S+)\r$/m.exec(data.toString('latin1'))?.[1] ?? '?';
}

/** A path "<...>" at the start of s (quotes respected); returns the address and the rest. */
function splitPath(s: string): { address: string; rest: string } {
  assert.ok(s.startsWith('<'), `no path in ${JSON.stringify(s)}`);
  let q = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && q) { i++; continue; }
    if (c === '"') q = !q;
    else if (c === '>' && !q) return { address: s.slice(1, i), rest: s.slice(i + 1) };
  }
  throw new Error(`unterminated path in ${JSON.stringify(s)}`);
}

function paramMap(rest: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const p of rest.trim().split(' ').filter((x) => x !== '')) {
    const eq = p.indexOf('=');
    if (eq < 0) { out[p.toUpperCase()] = true; continue; }
    const v = decodeXtext(p.slice(eq + 1));
    assert.ok(v !== undefined, `bad xtext in ${p}`);
    out[p.slice(0, eq).toUpperCase()] = v;
  }
  return out;
}

interface Target { readonly port: number; arrivals(): Arrival[]; }

async function smtpServerTarget(t: TestContext): Promise<Target> {
  const tg = await startRelayTarget(t);
  return {
    port: tg.port,
    arrivals: () => tg.mails.map((m) => {
      const params: Record<string, string | true> = {};
      for (const [k, v] of Object.entries(m.fromArgs)) if (k !== 'SIZE') params[k] = v === true ? true : String(v);
      return {
        tag: tagOf(m.data), from: m.from, params, data: m.data,
        rcpts: m.rcpts.map((r) => ({ address: r.address, ...(r.notify ? { notify: r.notify.join(',') } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}) })),
      };
    }),
  };
}

async function fakeTarget(t: TestContext): Promise<Target> {
  const srv = await FakeSmtpServer.start();
  t.after(() => srv.close());
  return {
    port: srv.port,
    arrivals: () => srv.transactions().map((tx) => {
      const data = tx.message.data;
      const mail = splitPath(tx.mail.replace(/^MAIL FROM:/i, ''));
      const params = paramMap(mail.rest);
      delete params.SIZE;
      return {
        tag: tagOf(data), from: mail.address, params, data,
        rcpts: tx.rcpts.map((l) => {
          const r = splitPath(l.replace(/^RCPT TO:/i, ''));
          const p = paramMap(r.rest);
          return { address: r.address, ...(typeof p.NOTIFY === 'string' ? { notify: p.NOTIFY } : {}), ...(typeof p.ORCPT === 'string' ? { orcpt: p.ORCPT } : {}) };
        }),
      };
    }),
  };
}

// --- one mode ------------------------------------------------------------------------------------

interface Sent { tag: string; attempt: Attempt; expected: Omit<Arrival, 'tag' | 'data'> & { body: Buffer } | undefined; refused: string[] }

/** What the receiver accepted, as the envelope the target must see (undefined: nothing relayed). */
function expectedFrom(mail: string, rcpts: readonly { line: string; code: number }[], final: number | undefined, body: Buffer): Sent['expected'] {
  if (final !== 250) return undefined;
  const m = splitPath(mail.replace(/^MAIL FROM:/, ''));
  const p = paramMap(m.rest);
  const params: Record<string, string | true> = {};
  // The envelope keeps RET, ENVID, BODY=8BITMIME, SMTPUTF8; AUTH= is not passed on (RFC 4954 §5:
  // only an authenticated submitter's identity would be, and the gateway keeps none).
  if (p.RET !== undefined) params.RET = p.RET;
  if (p.ENVID !== undefined) params.ENVID = p.ENVID;
  const relayed = rcpts.filter((r) => r.code === 250).map((r) => {
    const x = splitPath(r.line.replace(/^RCPT TO:/, ''));
    const rp = paramMap(x.rest);
    const orcpt = typeof rp.ORCPT === 'string' ? rp.ORCPT.replace(/^rfc822;/i, 'rfc822;') : undefined;
    return { address: x.address, ...(typeof rp.NOTIFY === 'string' ? { notify: rp.NOTIFY } : {}), ...(orcpt !== undefined ? { orcpt } : {}) };
  }).filter((r) => !/@local\.test$/i.test(r.address));
  if (relayed.length === 0) return undefined;
  return { from: m.address, params, rcpts: relayed, body };
}

async function session(port: number, mode: string): Promise<RawSmtp> {
  const c = await openClient(port);
  assert.equal((await c.send('EHLO client.test')).code, 250);
  if (mode === 'None') {
    assert.equal((await c.startTls(testCerts().ca)).code, 220);
    assert.equal((await c.send('EHLO client.test')).code, 250);
    const r = await c.send(`AUTH PLAIN ${Buffer.from('\0alice\0secret-alice').toString('base64')}`);
    assert.equal(r.code, 235, `AUTH: ${r.code} ${r.text}`);
  }
  return c;
}

async function runMode(t: TestContext, mode: string, receiverBody: string, relayDomain: string, target: 'smtp-server' | 'fake'): Promise<{ gw: RelayGateway; sent: Sent[]; arrivals: Arrival[] }> {
  const tg = target === 'fake' ? await fakeTarget(t) : await smtpServerTarget(t);
  const gw = await startRelayGateway(t, tg.port, receiverBody);
  const store = gw.services.store;
  assert.ok(store !== undefined);
  await store.users.addUser('alice', 'secret-alice');
  const sent: Sent[] = [];
  let c = await session(gw.receiverPort, mode);
  t.after(() => c.destroy());
  const list = attempts(relayDomain).filter((a) => target === 'fake' || a.fakeOnly !== true);
  for (const [k, a] of list.entries()) {
    const tag = `${mode}-${target}-${k}`;
    if (c.isClosed) c = await session(gw.receiverPort, mode);
    const mail = await c.send(a.mail);
    assert.equal(mail.code, 250, `${a.name}: MAIL ${mail.code} ${mail.text}`);
    const rcpts: { line: string; code: number }[] = [];
    for (const line of a.rcpts) rcpts.push({ line, code: (await c.send(line)).code });
    for (const r of rcpts) if (r.line.includes('\r')) assert.ok(r.code >= 500 && r.code < 600, `${a.name}: a command with a bare CR is refused (got ${r.code})`);
    let final: number | undefined;
    const body = Buffer.from(a.rawBody ?? [`X-Tx: ${tag}`, ...(a.body ?? [])].join(CRLF) + CRLF, 'latin1');
    const withTag = a.rawBody !== undefined ? Buffer.from(`X-Tx: ${tag}\r\n` + a.rawBody, 'latin1') : body;
    if (rcpts.some((r) => r.code === 250)) {
      const go = await c.send('DATA');
      assert.equal(go.code, 354, `${a.name}: DATA`);
      final = (await c.send(a.rawBody !== undefined ? Buffer.concat([withTag, Buffer.from('.\r\n')]) : stuffed(withTag))).code;
    } else {
      await c.send('RSET');
    }
    if (a.rawBody !== undefined) assert.ok(final === undefined || final >= 500, `${a.name}: bare CR/LF in the body refused (got ${final})`);
    else assert.equal(final, rcpts.some((r) => r.code === 250) ? 250 : undefined, `${a.name}: accepted`);
    sent.push({ tag, attempt: a, expected: expectedFrom(a.mail, rcpts, final, withTag), refused: rcpts.filter((r) => r.code !== 250).map((r) => r.line) });
  }
  await c.send('QUIT');
  const want = sent.filter((s) => s.expected !== undefined).length;
  await until(`${want} messages at the target and an empty spool`, async () => tg.arrivals().length >= want && (await gw.services.gateway.queue.list()).length === 0);
  return { gw, sent, arrivals: tg.arrivals() };
}

async function check(gw: RelayGateway, sent: readonly Sent[], arrivals: readonly Arrival[]): Promise<void> {
  const journal = gw.services.store!.journal;
  for (const s of sent) {
    const got = arrivals.filter((x) => x.tag === s.tag);
    if (s.expected === undefined) {
      assert.deepEqual(got.map((g) => g.rcpts), [], `${s.attempt.name}: nothing relayed, nothing arrives`);
      continue;
    }
    assert.equal(got.length, 1, `${s.attempt.name}: arrives once`);
    const g = got[0]!;
    const want = s.expected;
    assert.equal(g.from, want.from, `${s.attempt.name}: sender`);
    assert.deepEqual(g.params, want.params, `${s.attempt.name}: MAIL parameters`);
    assert.deepEqual(g.rcpts, want.rcpts, `${s.attempt.name}: recipients (only those answered 250) and their parameters`);
    assert.ok(belowOurReceived(g.data).equals(want.body), `${s.attempt.name}: bytes below our Received field are the accepted bytes`);
    for (const r of want.rcpts) {
      const j = await journal.query({ to: r.address, type: 'received-relay' });
      assert.ok(j.length >= 1, `${s.attempt.name}: the journal records the relayed recipient ${r.address}`);
    }
  }
  const tags = new Set(sent.map((s) => s.tag));
  assert.deepEqual(arrivals.filter((a) => !tags.has(a.tag)).map((a) => [a.from, a.rcpts]), [], 'nothing else arrived (no forged message, no DSN)');
  // No recipient ever written only in a body or refused by the receiver reaches the target.
  const everyone = arrivals.flatMap((a) => a.rcpts.map((r) => r.address));
  assert.deepEqual(everyone.filter((r) => /@evil\.test$/i.test(r)), [], 'no forged recipient reached the target');
  for (const forged of ['victim@evil.test', 'victim2@evil.test', 'forged@evil.test']) {
    const trail = (await journal.query({ to: forged })).map((e) => e.type);
    assert.deepEqual(trail.filter((x) => x !== 'relay-refused'), [], `the journal has nothing relayed to ${forged}`);
  }
}

const MODES: readonly { mode: string; body: (certs: { certFile: string; keyFile: string }) => string; relayDomain: string }[] = [
  // The injection senders are not alice's own: SenderLoginMatch (sender-login.test.ts) is off here.
  { mode: 'None', body: (c) => `RelayMode None\n TlsCert ${c.certFile}\n TlsKey ${c.keyFile}\n SenderLoginMatch NO`, relayDomain: 'far.test' },
  { mode: 'AddressList', body: () => 'RelayMode AddressList\n RelayAddress 127.0.0.1/32', relayDomain: 'far.test' },
  { mode: 'NearDomains', body: () => 'RelayMode NearDomains\n NearDomain near.test', relayDomain: 'near.test' },
  { mode: 'Both', body: () => 'RelayMode Both\n RelayAddress 192.0.2.0/24\n NearDomain near.test', relayDomain: 'near.test' },
  { mode: 'All', body: () => 'RelayMode All', relayDomain: 'far.test' },
];

for (const m of MODES) {
  for (const target of ['smtp-server', 'fake'] as const) {
    test(`RelayMode ${m.mode}${m.mode === 'None' ? ' (AUTH over STARTTLS)' : ''}: injection attempts reach ${target} with the accepted envelope and bytes only`, async (t) => {
      const { gw, sent, arrivals } = await runMode(t, m.mode, m.body(testCerts()), m.relayDomain, target);
      await check(gw, sent, arrivals);
      if (m.relayDomain === 'near.test') {
        // Near modes: the far recipient beside each exploit attempt was refused, never relayed.
        assert.ok(sent.some((s) => s.refused.includes('RCPT TO:<victim@far.test>')), 'the far recipient was tried and refused');
        assert.deepEqual(arrivals.flatMap((a) => a.rcpts.map((r) => r.address)).filter((r) => !r.endsWith('@near.test')), [], 'only near recipients reach the target');
        assert.deepEqual((await gw.services.store!.journal.query({ to: 'victim@far.test' })).map((e) => e.type).filter((x) => x !== 'relay-refused'), [], 'the far recipient is journaled only as refused');
      }
      t.diagnostic(`${sent.length} attempts, ${arrivals.length} relayed; not relayed: ${sent.filter((s) => s.expected === undefined).map((s) => s.attempt.name).join('; ')}; refused recipients: ${[...new Set(sent.flatMap((s) => s.refused))].map((r) => JSON.stringify(r.slice(0, 40))).join(', ')}`);
    });
  }
}

test('NearDomains, the original exploit: unauthenticated client, near recipient with an ORCPT making an 80-byte record ending in "<", forged MAIL FROM and far RCPT in the body — nothing reaches the far recipient', async (t) => {
  const tg = await smtpServerTarget(t);
  const gw = await startRelayGateway(t, tg.port, 'RelayMode NearDomains\n NearDomain near.test');
  const c = await openClient(gw.receiverPort);
  t.after(() => c.destroy());
  assert.equal((await c.send('EHLO attacker.test')).code, 250);
  assert.equal((await c.send('MAIL FROM:<attacker@client.test>')).code, 250);
  const near = ending('RCPT TO:<x@near.test> ORCPT=rfc822;', 80);
  assert.equal(Buffer.byteLength(near), 80);
  assert.equal((await c.send(near)).code, 250);
  assert.equal((await c.send('RCPT TO:<victim@far.test>')).code, 550, 'the far recipient is refused');
  assert.equal((await c.send('DATA')).code, 354);
  const body = Buffer.from(['X-Tx: exploit', 'Subject: hi', '', 'MAIL FROM:<ceo@bank.test>', 'RCPT TO:<victim@far.test>', 'DATA', 'Subject: pay now', '', 'wire money', '.', 'QUIT', ''].join(CRLF), 'latin1');
  assert.equal((await c.send(stuffed(body))).code, 250);
  await c.send('QUIT');
  await until('the near message at the target and the spool empty', async () => tg.arrivals().length >= 1 && (await gw.services.gateway.queue.list()).length === 0);
  const got = tg.arrivals();
  assert.equal(got.length, 1, 'exactly one message left the gateway');
  assert.equal(got[0]!.from, 'attacker@client.test', 'with the sender the client gave, not the forged one');
  assert.deepEqual(got[0]!.rcpts.map((r) => r.address), ['x@near.test'], 'to the near recipient only');
  assert.equal(got[0]!.rcpts[0]!.orcpt, `rfc822;${ending('', 80 - 'RCPT TO:<x@near.test> ORCPT=rfc822;'.length)}`);
  assert.ok(belowOurReceived(got[0]!.data).equals(body), 'the forged commands arrive as message text');
  const journal = gw.services.store!.journal;
  assert.deepEqual((await journal.query({ to: 'victim@far.test' })).map((e) => e.type), ['relay-refused'], 'the journal has the far recipient only as refused');
  assert.ok((await journal.query({ to: 'x@near.test', type: 'received-relay' })).length === 1, 'the journal records the near recipient');
});

test('SMTPUTF8: UTF-8 octets in the sender, a recipient and ORCPT reach smtp-server as the same octets (not re-encoded)', async (t) => {
  const tg = await smtpServerTarget(t);
  const gw = await startRelayGateway(t, tg.port, 'RelayMode All');
  const c = await openClient(gw.receiverPort);
  t.after(() => c.destroy());
  // Exactly the UTF-8 octets on the wire (RawSmtp.send writes a Buffer as given).
  const line = (s: string): Buffer => Buffer.from(s + CRLF, 'utf8');
  assert.equal((await c.send('EHLO client.test')).code, 250);
  assert.equal((await c.send(line('MAIL FROM:<jörg@clïent.test> SMTPUTF8 BODY=8BITMIME'))).code, 250);
  assert.equal((await c.send(line('RCPT TO:<müller@fär.test> NOTIFY=FAILURE ORCPT=utf-8;m+C3+BCller@f+C3+A4r.test'))).code, 250);
  assert.equal((await c.send('DATA')).code, 354);
  const body = Buffer.from('X-Tx: utf8\r\nSubject: Grüße\r\n\r\nÄÖÜ\r\n', 'utf8');
  assert.equal((await c.send(stuffed(body))).code, 250);
  await c.send('QUIT');
  await until('the message at the target', () => tg.arrivals().length >= 1);
  const got = tg.arrivals()[0]!;
  // smtp-server decodes command lines as UTF-8: the same octets give the same text.
  assert.equal(got.from, 'jörg@clïent.test');
  // smtp-server decodes command lines as UTF-8, but xtext "+XX" octet by octet into Latin-1
  // characters: the octets on the wire are those of the Latin-1 string.
  const orcptOctets = Buffer.from(got.rcpts[0]?.orcpt ?? '', 'latin1');
  assert.deepEqual(got.rcpts.map((r) => ({ ...r, orcpt: undefined })), [{ address: 'müller@fär.test', notify: 'FAILURE', orcpt: undefined }]);
  assert.ok(orcptOctets.equals(Buffer.from('utf-8;müller@fär.test', 'utf8')), `ORCPT octets as sent: ${orcptOctets.toString('hex')}`);
  assert.equal(got.params.BODY, '8BITMIME');
  assert.equal(got.params.SMTPUTF8, true);
  assert.ok(belowOurReceived(got.data).equals(body));
});
