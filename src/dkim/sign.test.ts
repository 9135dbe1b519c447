// DKIM signing against the independent verifier (dkimpy, Debian python3-dkim) with test DNS
// answers: what the target receives (the DKIM-Signature field, then the message with its line
// ends as the SMTP client sends them) must verify, and must stop verifying when changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { needPeer } from '../testing/peers.js';
import { dkimVerify } from '../testing/dkim.js';
import { prng } from '../testing/prng.js';
import { normaliseLineEnds } from '../smtp/protocol/dot-stuff.js';
import type { DkimConfig } from '../config/index.js';
import { hashRelaxedBody, readHeaderSection } from './canon.js';
import { loadDkimKeys, signMessage, type DkimKeyring, type SignResult } from './index.js';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const edPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const NOW = new Date('2026-11-27T10:00:00Z');

function entry(domain: string, o: Partial<DkimConfig> = {}): DkimConfig {
  return { domain, selector: 's1', keyFile: `/keys/${domain}.key`, headers: null, algorithm: 'rsa-sha256', line: 7, ...o };
}

function keyring(entries: DkimConfig[], pems: Record<string, string> = {}): { ring: DkimKeyring; records: Record<string, string> } {
  const r = loadDkimKeys(entries, '/etc/spoolgate.conf', (path) => ({ bytes: Buffer.from(pems[path] ?? (path.includes('ed') ? edPem : rsaPem)), mode: 0o100600 }));
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  const records: Record<string, string> = {};
  for (const d of r.value.keyring.domains()) {
    const k = r.value.keyring.get(d)!;
    records[k.dnsName] = k.txtRecord();
  }
  return { ring: r.value.keyring, records };
}

const { ring, records } = keyring([
  entry('example.com'),
  entry('ed.example', { algorithm: 'ed25519-sha256', selector: 'ed1' }),
  entry('xn--bcher-kva.example'),
]);

/** The octets the target receives: the signature field on top, bare CR/LF as CRLF (the DotStuffer's rule). */
function wire(field: Buffer | undefined, data: Buffer): Buffer {
  return normaliseLineEnds(field === undefined ? data : Buffer.concat([field, data]));
}

function signed(r: SignResult): Buffer {
  assert.equal(r.kind, 'signed', JSON.stringify(r));
  return (r as { field: Buffer }).field;
}

const msg = (from: string, body = 'Hello,\r\nthis is a test.\r\n', extra = ''): Buffer =>
  Buffer.from(`Received: from x by gw; Fri, 27 Nov 2026 10:00:00 +0000\r\nFrom: ${from}\r\nTo: bob@example.net\r\nSubject: test\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n${extra}\r\n${body}`, 'utf8');

test('rsa-sha256 and ed25519-sha256 signatures verify with dkimpy; a change after signing does not', (t) => {
  if (!needPeer(t, 'dkimpy')) return;
  for (const from of ['Alice <alice@example.com>', 'eve@ed.example']) {
    const data = msg(from);
    const field = signed(signMessage(data, ring, NOW));
    const sent = wire(field, data);
    const v = dkimVerify(sent, records);
    assert.deepEqual(v.results, [true], v.log);
    assert.match(field.toString('latin1'), /^DKIM-Signature: v=1; a=(rsa|ed25519)-sha256; c=relaxed\/relaxed; d=(example\.com|ed\.example); s=(s1|ed1);/);
    // Body changed, a signed header changed, a second From added: each fails.
    const changed = [
      Buffer.from(sent.toString('latin1').replace('this is a test', 'this is a tesT'), 'latin1'),
      Buffer.from(sent.toString('latin1').replace('Subject: test', 'Subject: t3st'), 'latin1'),
      Buffer.from(sent.toString('latin1').replace('\r\nTo: ', '\r\nFrom: mallory@evil.example\r\nTo: '), 'latin1'),
    ];
    for (const c of changed) assert.deepEqual(dkimVerify(c, records).results, [false], c.toString('latin1').slice(0, 400));
  }
});

test('relaxed canonicalisation: whitespace, folding, bare CR and LF, empty lines, no final line end, empty body', (t) => {
  if (!needPeer(t, 'dkimpy')) return;
  const cases: readonly [string, Buffer][] = [
    ['whitespace runs and trailing WSP', msg('alice@example.com', 'a  b\t\tc \r\n \t leading\r\ntrailing \t\r\n\r\n\r\n')],
    ['folded headers with tabs', Buffer.from('From:   Alice\r\n\t<alice@example.com>  \r\nSubject: folded\r\n  over lines\r\n\r\nbody\r\n')],
    ['bare LF line ends', Buffer.from('From: alice@example.com\nSubject: lf\n\nline 1\nline 2  \n\n\n')],
    ['bare CR line ends', Buffer.from('From: alice@example.com\rSubject: cr\r\rline 1\rline 2\r')],
    ['no final line end', msg('alice@example.com', 'last line without CRLF')],
    ['empty body', msg('alice@example.com', '')],
    ['only empty lines', msg('alice@example.com', '\r\n\r\n\r\n')],
    ['no body at all', Buffer.from('From: alice@example.com\r\nSubject: none\r\n')],
    ['a line of 200 KiB with spaces', msg('alice@example.com', `${'word  \t'.repeat(30_000)}\r\n`)],
    ['8-bit body', msg('alice@example.com', 'Grüße aus Köln \r\n')],
  ];
  for (const [name, data] of cases) {
    const v = dkimVerify(wire(signed(signMessage(data, ring, NOW)), data), records);
    assert.deepEqual(v.results, [true], `${name}: ${v.log}`);
  }
});

test('random messages (line ends, whitespace, dots) all verify', (t) => {
  if (!needPeer(t, 'dkimpy')) return;
  const rnd = prng(21);
  const rng = { int: (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1)) };
  const pieces = ['a', 'b', ' ', '  ', '\t', '\r\n', '\n', '\r', '.', '..', 'ä', '\r\n\r\n'];
  for (let n = 0; n < 12; n++) {
    let body = '';
    for (let i = rng.int(0, 200); i > 0; i--) body += pieces[rng.int(0, pieces.length - 1)];
    const data = msg('alice@example.com', body);
    const v = dkimVerify(wire(signed(signMessage(data, ring, NOW)), data), records);
    assert.deepEqual(v.results, [true], `${JSON.stringify(body)}: ${v.log}`);
  }
});

test('random header sections (folding, blanks, line ends, repeated fields, 8-bit) all verify', (t) => {
  if (!needPeer(t, 'dkimpy')) return;
  const rnd = prng(6376);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const eols = ['\r\n', '\r\n', '\n', '\r'];
  const blanks = ['', ' ', '  ', '\t', ' \t '];
  const words = ['alpha', 'Beta', 'gämma', '=?utf-8?q?d=C3=A9lta?=', '(comment)', '"quoted  text"', 'x;y=z'];
  for (let n = 0; n < 12; n++) {
    const eol = pick(eols);
    const value = (): string => {
      let v = pick(blanks);
      for (let i = 1 + Math.floor(rnd() * 4); i > 0; i--) v += pick(words) + (rnd() < 0.3 ? `${eol}${pick([' ', '\t', '  '])}` : pick(blanks.slice(1)));
      return v;
    };
    const fields = [
      `From:${pick(blanks)}${pick(['Alice <alice@example.com>', 'alice@example.com', '"A. Lice" <alice@example.com> (work)'])}${pick(blanks)}`,
      `To:${value()}`, `Subject:${value()}`, `Date: Fri, 27 Nov 2026 10:00:00 +0000`,
      ...(rnd() < 0.5 ? [`Subject:${value()}`, `Cc:${value()}`] : []), `X-Other:${value()}`,
    ].sort(() => rnd() - 0.5);
    const data = Buffer.from(fields.join(eol) + eol + eol + `body${pick(blanks)}${eol}`, 'utf8');
    const v = dkimVerify(wire(signed(signMessage(data, ring, NOW)), data), records);
    assert.deepEqual(v.results, [true], `${JSON.stringify(data.toString('utf8'))}: ${v.log}`);
  }
});

test('the body hash is the one RFC 6376 §3.4.4 gives for known inputs', () => {
  // Hand-made canonical forms of a few bodies (the RFC's rules applied by hand).
  const cases: readonly [string, string][] = [
    ['', ''],
    ['\r\n', ''],
    ['a \r\n', 'a\r\n'],
    [' c \t d \r\n\r\n', ' c d\r\n'],
    ['x\n\ny', 'x\r\n\r\ny\r\n'],
    ['x\r\ry \t', 'x\r\n\r\ny\r\n'],
    ['a\r', 'a\r\n'],
    ['a \r', 'a\r\n'],
    ['\r', ''],
    ['a\n', 'a\r\n'],
    ['clean line\r\nnext one\r\n\r\n', 'clean line\r\nnext one\r\n'],
    ['clean\r\n\r\n\r\nafter gap\r\n', 'clean\r\n\r\n\r\nafter gap\r\n'],
    ['clean\r\n \r\nx  y\r\nclean again\r\n\t\r\n', 'clean\r\n\r\nx y\r\nclean again\r\n'],
    [' lead\r\n', ' lead\r\n'],
  ];
  for (const [body, canonical] of cases) {
    const h = createHash('sha256');
    hashRelaxedBody(Buffer.from(body, 'latin1'), 0, h);
    assert.equal(h.digest('hex'), createHash('sha256').update(canonical, 'latin1').digest('hex'), JSON.stringify(body));
  }
});

test('the body hash equals a plain reading of RFC 6376 §3.4.4 on 3000 random bodies (fast path and octet path alike)', () => {
  // The rules written the simplest way: line ends as the SMTP client sends them, then (a) and (b).
  const reference = (body: string): string => {
    const lines = body.split(/\r\n|\r|\n/).map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.length === 0 ? '' : lines.join('\r\n') + '\r\n';
  };
  const rnd = prng(3443);
  const pieces = ['word', 'x', ' ', '  ', '\t', ' \t', '\r\n', '\r\n', '\r\n', '\n', '\r', 'TWFuIGlzIGRpc3Rpbmd1aXNoZWQs\r\n', '\r\n\r\n', 'ü'];
  for (let n = 0; n < 3000; n++) {
    let body = '';
    for (let i = Math.floor(rnd() * 40); i > 0; i--) body += pieces[Math.floor(rnd() * pieces.length)];
    const h = createHash('sha256');
    const head = 'From: a@example.com\r\n\r\n';
    hashRelaxedBody(Buffer.from(head + body, 'latin1'), head.length, h);
    assert.equal(h.digest('hex'), createHash('sha256').update(reference(body), 'latin1').digest('hex'), JSON.stringify(body));
  }
});

test('already signed for the domain: not signed again; signed for another domain: signed on top', (t) => {
  const data = msg('alice@example.com');
  const first = signed(signMessage(data, ring, NOW));
  const once = Buffer.concat([first, data]);
  assert.deepEqual(signMessage(once, ring, NOW), { kind: 'skipped', reason: 'already-signed', domain: 'example.com' });
  // Spelled differently (case, folding, trailing dot): still the same domain.
  const other = Buffer.concat([Buffer.from('DKIM-Signature: v=1; a=rsa-sha256;\r\n d = EXAMPLE.COM. ; s=x; b=abc\r\n'), data]);
  assert.equal(signMessage(other, ring, NOW).kind, 'skipped');
  const foreign = Buffer.concat([Buffer.from('DKIM-Signature: v=1; a=rsa-sha256; d=list.example; s=x; bh=x; h=from; b=abc\r\n'), data]);
  const field = signed(signMessage(foreign, ring, NOW));
  if (!needPeer(t, 'dkimpy')) return;
  // Ours (the top one) verifies; the foreign one has no key here.
  assert.deepEqual(dkimVerify(wire(field, foreign), records).results, [true, false]);
});

test('mail from an unconfigured domain is not signed', () => {
  assert.deepEqual(signMessage(msg('bob@example.org'), ring, NOW), { kind: 'skipped', reason: 'no-key', domain: 'example.org' });
  // A subdomain is another domain (d= must equal the From: domain, docs/dkim.md).
  assert.deepEqual(signMessage(msg('bob@mail.example.com'), ring, NOW), { kind: 'skipped', reason: 'no-key', domain: 'mail.example.com' });
});

test('hostile From fields: injection, several authors, display-name tricks, several From fields', (t) => {
  const skip = (data: Buffer): string => { const r = signMessage(data, ring, NOW); return r.kind === 'skipped' ? r.reason : 'signed'; };
  assert.equal(skip(msg('"alice@example.com" <mallory@evil.example>')), 'no-key');
  assert.equal(skip(msg('alice@example.com, mallory@evil.example')), 'mixed-domains');
  assert.equal(skip(msg('alice@example.com\r\n\tmallory@evil.example')), 'unreadable-from');
  assert.equal(skip(msg('"Alice (alice@example.com)" <alice@example.com>')), 'signed');
  assert.equal(skip(msg('alice@example.com', 'x\r\n', 'From: mallory@evil.example\r\n')), 'several-from');
  assert.equal(skip(Buffer.from('To: a@b.example\r\n\r\nno from\r\n')), 'no-from');
  assert.equal(skip(msg('undisclosed')), 'unreadable-from');
  assert.equal(skip(msg('alice@[192.0.2.1]')), 'unreadable-from');
  assert.equal(skip(msg('alice@exa\u0001mple.com')), 'unreadable-from');
  // A bare CR in From is a line end on the wire (the DotStuffer sends it as CRLF): the signer
  // reads it so too, and the injected field is a field of its own, signed or not as its name says.
  const injected = Buffer.from('From: alice@example.com\rBcc: mallory@evil.example\r\nSubject: x\r\n\r\nbody\r\n');
  const field = signed(signMessage(injected, ring, NOW));
  assert.doesNotMatch(field.toString('latin1'), /bcc/);
  if (!needPeer(t, 'dkimpy')) return;
  assert.deepEqual(dkimVerify(wire(field, injected), records).results, [true]);
});

test('an IDN From domain is signed with d= its A-label', (t) => {
  const data = msg('Jörg <joerg@bücher.example>');
  const r = signMessage(data, ring, NOW);
  assert.equal(r.kind === 'signed' && r.domain, 'xn--bcher-kva.example');
  if (!needPeer(t, 'dkimpy')) return;
  assert.deepEqual(dkimVerify(wire(signed(r), data), records).results, [true]);
});

test('enormous or malformed header sections are not signed; a large one within the limit is', (t) => {
  const big = (n: number): Buffer => msg('alice@example.com', 'b\r\n', `X-Big: ${'x'.repeat(76)}\r\n`.repeat(n));
  assert.deepEqual(signMessage(big(14_000), ring, NOW), { kind: 'skipped', reason: 'header-too-large' });
  // One line over the limit without a line end: found before the whole line is read.
  assert.deepEqual(signMessage(Buffer.concat([Buffer.from('From: alice@example.com\r\nX: '), Buffer.alloc(2 * 1024 * 1024, 0x61)]), ring, NOW), { kind: 'skipped', reason: 'header-too-large' });
  assert.deepEqual(signMessage(Buffer.from('From alice Fri Nov 27\r\nFrom: alice@example.com\r\n\r\nb\r\n'), ring, NOW), { kind: 'skipped', reason: 'malformed-header' });
  assert.deepEqual(signMessage(Buffer.from('From: alice@example.com\r\nSubject : x\r\n\r\nb\r\n'), ring, NOW), { kind: 'skipped', reason: 'malformed-header' });
  assert.deepEqual(signMessage(Buffer.from(' continued\r\nFrom: alice@example.com\r\n\r\nb\r\n'), ring, NOW), { kind: 'skipped', reason: 'malformed-header' });
  const ok = big(10_000);
  assert.ok(readHeaderSection(ok).ok);
  const field = signed(signMessage(ok, ring, NOW));
  if (!needPeer(t, 'dkimpy')) return;
  assert.deepEqual(dkimVerify(wire(field, ok), records).results, [true]);
});

test('Headers: only the named fields are signed, From oversigned', () => {
  const { ring: r } = keyring([entry('example.com', { headers: ['from', 'subject'] })]);
  const field = signed(signMessage(msg('alice@example.com'), r, NOW)).toString('latin1');
  assert.match(field, /h=from:from:subject;/);
});
