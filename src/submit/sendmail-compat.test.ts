// The classic sendmail interface: option parsing as Postfix does it, the "." rule, -t, Bcc
// removal, a missing header, the bounds; and queueing through the one submission path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EX, parseSendmailArgs } from './sendmail-args.js';
import { addressesOf, enqueueSendmail, prepareMessage, readMessage } from './sendmail-compat.js';
import { tempDir } from '../testing/peers.js';
import { parseEnvelopeFile } from '../spool/message-entry.js';

const args = (argv: string[], as?: string) => {
  const r = parseSendmailArgs(argv, as);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
};

test('options: bundled, attached and separate values; -q, -b modes; unknown ones are ignored, not fatal', () => {
  const a = args(['-ti', '-fjob@corp.test', '-F', 'Nightly Job', '-oem', '-N', 'success,failure', '-R', 'hdrs', '-V', 'env-1', '-x', '-Z', 'extra@r.test']);
  assert.equal(a.mode, 'enqueue');
  assert.equal(a.extractRecipients, true);
  assert.equal(a.dotEnds, false);
  assert.equal(a.sender, 'job@corp.test');
  assert.equal(a.fullName, 'Nightly Job');
  assert.equal(a.errorMode, 'm');
  assert.deepEqual(a.notify, { kind: 'on', success: true, failure: true, delay: false });
  assert.equal(a.ret, 'HDRS');
  assert.equal(a.envid, 'env-1');
  assert.deepEqual(a.recipients, ['extra@r.test']);
  assert.deepEqual(a.ignored, ['-x', '-Z (unknown)']);
  assert.equal(args(['-oi', 'a@b.test']).dotEnds, false);
  assert.equal(args(['-r', '<>', 'a@b.test']).sender, '<>');
  assert.equal(args(['-q']).mode, 'flush');
  assert.equal(args(['-q15m']).mode, 'enqueue');
  assert.equal(args(['-bp']).mode, 'mailq');
  assert.equal(args([], 'mailq').mode, 'mailq');
  assert.equal(args(['-bs']).mode, 'smtp');
  assert.deepEqual(args(['--', '-odd@r.test']).recipients, ['-odd@r.test']);
  assert.deepEqual(args(['-N', 'never', 'a@b.test']).notify, { kind: 'never' });
});

test('options that cannot work are usage errors with a reason', () => {
  for (const [argv, re] of [
    [['-f'], /-f needs a value/],
    [['-bd'], /spoolgate start/],
    [['-bv', 'x@y.test'], /not supported/],
    [['-N', 'sometimes', 'a@b.test'], /-N sometimes/],
    [['-R', 'body', 'a@b.test'], /full or hdrs/],
    [['-V', 'x'.repeat(101), 'a@b.test'], /envelope id/],
    [['-bp', 'a@b.test'], /takes no recipients/],
    [['-t', '-bp'], /-t can be used only/],
  ] as const) {
    const r = parseSendmailArgs(argv);
    assert.ok(!r.ok, `${argv.join(' ')} accepted`);
    assert.match(r.error, re);
  }
});

const input = (...chunks: (string | Buffer)[]): AsyncIterable<Buffer> => Readable.from(chunks.map((c) => Buffer.from(c)));

test('readMessage: a lone "." ends the message unless -i, even split across chunks; ".." or ". " does not', async () => {
  const text = 'Subject: x\n\nline\n..\n. \n.x\n';
  const r1 = await readMessage(input(text, '.', '\nafter\n'), { dotEnds: true, limit: 1000 });
  assert.ok(r1.ok);
  assert.equal(r1.value.toString(), text);
  const r2 = await readMessage(input('Subject: x\r\n\r\nbody\r\n.\r', '\n'), { dotEnds: true, limit: 1000 });
  assert.ok(r2.ok);
  assert.equal(r2.value.toString(), 'Subject: x\r\n\r\nbody\r\n');
  const r3 = await readMessage(input(text, '.\n', 'after\n'), { dotEnds: false, limit: 1000 });
  assert.ok(r3.ok);
  assert.equal(r3.value.toString(), `${text}.\nafter\n`);
  const r4 = await readMessage(input('Subject: x\n\n.'), { dotEnds: true, limit: 1000 });
  assert.ok(r4.ok);
  assert.equal(r4.value.toString(), 'Subject: x\n\n');
});

test('readMessage: input over the limit is refused (EX_UNAVAILABLE), however it is chunked', async () => {
  const r = await readMessage(input('a'.repeat(600), 'b'.repeat(600)), { dotEnds: true, limit: 1000 });
  assert.ok(!r.ok);
  assert.equal(r.error.exit, EX.UNAVAILABLE);
  assert.match(r.error.message, /more than 1000 octets/);
});

test('prepareMessage: -t reads To/Cc/Bcc (groups, display names, folding), Bcc is removed, Resent- fields win', () => {
  const msg = 'From: Job <job@corp.test>\nTo: "Doe, Jane" <jane@r.test>,\n bob@r.test\nCc: team: a@r.test, b@r.test;\nBcc: audit@corp.test,\n\tlegal@corp.test\nSubject: s\n\nbody\nTo: not@header.test\n';
  const p = prepareMessage(Buffer.from(msg), true);
  assert.deepEqual(p.headerRecipients, ['jane@r.test', 'bob@r.test', 'a@r.test', 'b@r.test', 'audit@corp.test', 'legal@corp.test']);
  assert.equal(p.data.toString(), msg.replace('Bcc: audit@corp.test,\n\tlegal@corp.test\n', ''));
  assert.equal(p.hasFrom, true);
  const resent = prepareMessage(Buffer.from('To: old@r.test\nResent-To: new@r.test\nResent-Bcc: hidden@r.test\n\nb\n'), true);
  assert.deepEqual(resent.headerRecipients, ['new@r.test', 'hidden@r.test']);
  assert.equal(resent.data.toString(), 'To: old@r.test\nResent-To: new@r.test\n\nb\n');
  assert.deepEqual(prepareMessage(Buffer.from('To: x@r.test\n\nb\n'), false).headerRecipients, []);
  assert.deepEqual(addressesOf('a@r.test, "B" <b@r.test>'), ['a@r.test', 'b@r.test']);
});

test('prepareMessage: input without a header is all body; an mbox "From " line is dropped; a header cut by EOF ends', () => {
  assert.equal(prepareMessage(Buffer.from('just text\nmore\n'), false).data.toString(), '\njust text\nmore\n');
  assert.equal(prepareMessage(Buffer.from('From job Fri Nov 27 06:00:00 2026\nSubject: s\n\nb\n'), false).data.toString(), 'Subject: s\n\nb\n');
  assert.equal(prepareMessage(Buffer.from('Subject: s'), false).data.toString(), 'Subject: s\n\n');
  assert.equal(prepareMessage(Buffer.from('Subject: s\r\nbody without blank line\r\n'), false).data.toString(), 'Subject: s\r\n\r\nbody without blank line\r\n');
});

test('enqueueSendmail: one message entry with the envelope (DSN options, 8-bit), From: added with -F, body byte for byte', async (t) => {
  const root = tempDir(t);
  const message = Buffer.from('To: a@r.test\nSubject: Bericht\n\nSumme: 12,50 \u20ac  \n..\n\tend\n');
  const r = await enqueueSendmail({
    args: args(['-t', '-i', '-F', 'Müller, Hans', '-N', 'failure', '-R', 'hdrs', '-V', 'E1']),
    message, target: { root, writer: 'SPGATE', hostName: 'gw.test' }, policy: 'own', domain: 'corp.test',
    caller: { uid: 1000, user: 'batch' }, now: () => Date.UTC(2026, 10, 27, 6, 0, 0),
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const dir = join(root, 'SPGATE', 'incoming', r.value.entry.id);
  const entry = parseEnvelopeFile(await readFile(join(dir, 'envelope.json')));
  assert.ok(entry.ok, entry.ok ? '' : JSON.stringify(entry.error));
  const env = entry.value.envelope;
  assert.deepEqual(env.from, { kind: 'mailbox', mailbox: { local: 'batch', domain: 'corp.test' } });
  assert.equal(env.recipients.length, 1);
  assert.deepEqual(env.recipients[0]!.notify, { kind: 'on', success: false, failure: true, delay: false });
  assert.deepEqual(env.dsn, { ret: 'HDRS', envid: 'E1' });
  assert.equal(env.body8bit, true);
  assert.deepEqual(entry.value.origin, { kind: 'submission', tool: 'sendmail' });
  const data = (await readFile(join(dir, 'data'))).toString('utf8');
  assert.match(data, /^Received: by gw\.test \(spoolgate SPOOLGATE sendmail, from user batch\)\r\n/);
  assert.ok(data.includes(`From: =?UTF-8?B?${Buffer.from('Müller, Hans').toString('base64')}?= <batch@corp.test>\nTo: a@r.test\n`), data);
  assert.ok(data.endsWith('\n\nSumme: 12,50 \u20ac  \n..\n\tend\n'), 'body unaltered');
  assert.match(data, /\nSubject: Bericht\nDate: .*\r\nMessage-ID: </);
});

test('enqueueSendmail: SenderPolicy Own refuses another sender (EX_NOPERM) but not the null sender; no recipient is EX_USAGE; a bad one EX_DATAERR', async (t) => {
  const root = tempDir(t);
  const base = { message: Buffer.from('Subject: s\n\nb\n'), target: { root, writer: 'W', hostName: 'gw.test' }, policy: 'own' as const, domain: 'corp.test', caller: { uid: 1000, user: 'batch' } };
  const cases: [string[], number, RegExp][] = [
    [['-f', 'ceo@corp.test', 'a@r.test'], EX.NOPERM, /may not send as ceo@corp\.test/],
    [['-t'], EX.USAGE, /no recipient addresses found/],
    [[], EX.USAGE, /no recipients/],
    [['not an address'], EX.DATAERR, /not a valid address/],
  ];
  for (const [argv, exit, re] of cases) {
    const r = await enqueueSendmail({ ...base, args: args(argv) });
    assert.ok(!r.ok, argv.join(' '));
    assert.equal(r.error.exit, exit, argv.join(' '));
    assert.match(r.error.message, re);
  }
  const own = await enqueueSendmail({ ...base, args: args(['-f', 'batch@corp.test', 'a@r.test']) });
  assert.ok(own.ok);
  const nul = await enqueueSendmail({ ...base, args: args(['-f', '<>', 'a@r.test']) });
  assert.ok(nul.ok, 'the null sender names nobody: allowed (spool/sender-policy.ts)');
});
