import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../testing/clock.js';
import { enhancedOf } from '../smtp/protocol/codes.js';
import { BatchReplies } from './batch-replies.js';
import { getCodePage } from '../codepage/index.js';
import { BatchParser, type BatchOptions } from './batch.js';
import type { RecordProblem } from './records.js';
import { toItems, baseOptions, render, runAll, normalizeData } from './batch-testutil.js';

const H = 'HELO MVSHOST';
const M = 'MAIL FROM:<payroll@corp.example>';
const R = 'RCPT TO:<alice@corp.example>';
const msg = (...body: string[]): string[] => [M, R, 'DATA', ...body, '.'];
const rep = (s: string, n: number): string => s.repeat(n);
const local = (n: number): string => rep('a', n);
const PROBLEM = {
  seq: '503 5.5.1 JES Bad sequence of commands.',
};

interface Case {
  name: string;
  records: (string | { error: RecordProblem })[];
  want: string[];
  /** Normalised data of each emitted message (see normalizeData). */
  data?: string[];
  opts?: Partial<BatchOptions>;
  stats?: { reset?: number };
}

const atSign1047For273 = String.fromCharCode(getCodePage('IBM-1047')!.toAscii![0xb5]!);

const cases: Case[] = [
  {
    name: 'one message, seed 002 layout',
    records: [H, M, R, 'RCPT TO:<bob@corp.example>', 'DATA', 'From: Payroll <payroll@corp.example>', 'Subject: Daily', '', 'body', '.', 'QUIT'],
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example>,<bob@corp.example> r2-10'],
    data: ['From: Payroll <payroll@corp.example>\nSubject: Daily\nMessage-ID: <ID>\n\nbody\n'],
  },
  {
    name: 'EHLO accepted, QUIT missing is implied, with a warning (the file may have been cut after the last message)', records: ['EHLO mvs.example', ...msg('x')],
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-6', 'warning r6 m0 451 4.3.0 JES End of file without QUIT; the file may have been cut short after the last message'],
  },
  { name: 'QUIT missing in a file of only HELO: no message, no warning', records: ['HELO mvs.example'], want: [] },
  {
    name: 'several messages per file, null sender',
    records: [H, ...msg('a'), 'MAIL FROM:<>', R, 'DATA', 'b', '.', 'QUIT'],
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-6', 'message 2 <> -> <alice@corp.example> r7-11'],
  },
  {
    name: 'dot-stuffing undone; a ".." line is a "." line',
    records: [H, ...msg('..x', '..', '...', 'a.b')],
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-9'],
    data: ['Message-ID: <ID>\n\n.x\n.\n..\na.b\n'],
  },
  {
    name: 'STARTTLS marks the following mail; a second HELO resets it',
    records: ['EHLO a', 'STARTTLS', ...msg('1'), ...msg('2'), 'EHLO b', ...msg('3')],
    want: [
      'message 1 <payroll@corp.example> -> <alice@corp.example> tls r3-7',
      'message 2 <payroll@corp.example> -> <alice@corp.example> tls r8-12',
      'message 3 <payroll@corp.example> -> <alice@corp.example> r14-18',
    ],
  },
  {
    name: 'STARTTLS before HELO is reported but honoured',
    records: ['STARTTLS', H, ...msg('1')],
    want: [`problem r1 m0 ${PROBLEM.seq} HELO or EHLO required before 'STARTTLS'`, 'message 1 <payroll@corp.example> -> <alice@corp.example> tls r3-7'],
  },
  {
    name: 'STARTTLS inside a transaction applies to the next mail',
    records: [H, M, R, 'STARTTLS', 'DATA', 'x', '.', ...msg('2')],
    want: [
      `problem r4 m1 ${PROBLEM.seq} 'STARTTLS' inside a transaction applies to the next mail`,
      'message 1 <payroll@corp.example> -> <alice@corp.example> r2-7',
      'message 2 <payroll@corp.example> -> <alice@corp.example> tls r8-12',
    ],
  },
  { name: 'HELO too many args', records: ['HELO a b', ...msg('x')], want: ["problem r1 m0 501 5.5.4 JES Syntax error. Too many args after 'HELO' command", 'message 1 <payroll@corp.example> -> <alice@corp.example> r2-6'] },
  { name: 'EHLO missing arg', records: ['EHLO', ...msg('x')], want: ["problem r1 m0 501 5.5.4 JES Syntax error. Missing argument after 'EHLO' command", 'message 1 <payroll@corp.example> -> <alice@corp.example> r2-6'] },
  { name: 'unrecognized command', records: [H, 'FOO bar'], want: ["problem r2 m0 500 5.5.2 JES Syntax error. Command unrecognized: 'FOO'"] },
  { name: 'not implemented command', records: [H, 'BDAT 100 LAST'], want: ["problem r2 m0 502 5.5.1 JES Command not implemented: 'BDAT'"] },
  { name: 'NOOP VERB TICK HELP VRFY EXPN are ignored, also inside a transaction', records: [H, 'NOOP', 'VERB ON', 'TICK 1', M, 'HELP', 'VRFY x', 'EXPN list', R, 'DATA', 'x', '.'], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r5-12'] },
  { name: 'verbs are case-insensitive, leading blanks and blank records are skipped', records: ['helo x', '', '  mail from:<a@b.example>', 'rcpt to:<c@d.example>', 'data', 'x', '.', 'quit'], want: ['message 1 <a@b.example> -> <c@d.example> r3-7'] },
  { name: 'MAIL FROM: with a space before the path (lenient)', records: [H, 'MAIL FROM: <a@b.example>', 'RCPT TO: <c@d.example>', 'DATA', '.'], want: ['message 1 <a@b.example> -> <c@d.example> r2-5'] },
  {
    name: 'MAIL before HELO: message rejected, its RCPT and DATA skipped',
    records: [M, R, 'DATA', 'Subject: x', 'MAIL FROM:<in@data>', '.', H, ...msg('ok')],
    want: [`problem r1 m1 ${PROBLEM.seq} HELO or EHLO required before 'MAIL'`, 'message 2 <payroll@corp.example> -> <alice@corp.example> r8-12'],
  },
  { name: 'RCPT before MAIL', records: [H, R], want: [`problem r2 m0 ${PROBLEM.seq} MAIL required before 'RCPT'`] },
  { name: 'DATA before MAIL skips the data to its final dot', records: [H, 'DATA', 'HELO x y', '.', 'QUIT'], want: [`problem r2 m0 ${PROBLEM.seq} MAIL required before 'DATA'; data skipped`] },
  { name: 'DATA without RCPT', records: [H, M, 'DATA', 'x', '.'], want: [`problem r3 m1 ${PROBLEM.seq} RCPT required before 'DATA'; data skipped`] },
  { name: 'DATA with an argument is reported but still reads data', records: [H, M, R, 'DATA now', 'x', '.'], want: ["problem r4 m1 501 5.5.4 JES Syntax error. No arguments allowed after 'DATA' command", 'message 1 <payroll@corp.example> -> <alice@corp.example> r2-6'] },
  {
    name: 'bad RCPT goes to badRecipients and is not counted',
    records: [H, M, 'RCPT TO:<bad address>', R, 'RCPT TO:nobrackets@x.example', 'DATA', '.'],
    opts: { syntaxErrorLimit: 1 },
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example> bad=<bad address>:553 bad=nobrackets@x.example:553 r2-7'],
  },
  {
    name: 'no valid recipient at DATA: not emitted, each bad recipient and the failure reported',
    records: [H, M, 'RCPT TO:<@x>', 'RCPT TO:<a@b.example> FOO=1', 'DATA', 'x', '.'],
    want: [
      'problem r3 m1 553 5.1.3 JES Bad recipient address: source routes are not accepted',
      "problem r4 m1 555 5.5.4 JES RCPT parameter not recognized: 'FOO'",
      'problem r5 m1 554 5.0.0 JES No valid recipients; message not sent',
    ],
  },
  { name: 'RCPT without TO:', records: [H, M, 'RCPT <a@b.example>', R, 'DATA', '.'], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> bad=<a@b.example>:501 r2-6'] },
  { name: 'duplicate recipients are kept once', records: [H, M, R, 'RCPT TO:<alice@CORP.example>', 'DATA', '.'], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-6'] },
  {
    name: 'MAIL inside a transaction discards the open one',
    records: [H, M, R, 'MAIL FROM:<b@x.example>', 'RCPT TO:<c@x.example>', 'DATA', '.'],
    want: [`problem r4 m1 ${PROBLEM.seq} 'MAIL' inside a transaction; message discarded`, 'message 2 <b@x.example> -> <c@x.example> r4-7'],
  },
  { name: 'RSET mid-transaction cancels it without a problem', records: [H, M, R, 'RSET', ...msg('x')], want: ['message 2 <payroll@corp.example> -> <alice@corp.example> r5-9'], stats: { reset: 1 } },
  { name: 'HELO inside a transaction discards it', records: [H, M, R, H, ...msg('x')], want: [`problem r4 m1 ${PROBLEM.seq} 'HELO' inside a transaction; message discarded`, 'message 2 <payroll@corp.example> -> <alice@corp.example> r5-9'] },
  {
    name: 'QUIT inside a transaction; records after QUIT reported once',
    records: [H, M, R, 'QUIT', '', 'NOOP', ...msg('x')],
    want: [`problem r4 m1 ${PROBLEM.seq} 'QUIT' inside a transaction; message discarded`, 'problem r6 m0 503 5.5.1 JES Records after QUIT ignored'],
  },
  { name: 'QUIT with an argument', records: [H, 'QUIT now'], want: ["problem r2 m0 501 5.5.4 JES Syntax error. No arguments allowed after 'QUIT' command"] },
  { name: 'end of file inside DATA', records: [H, M, R, 'DATA', 'x'], want: ["problem r5 m1 554 5.0.0 JES End of file before the final '.' of DATA; message discarded"] },
  { name: 'end of file inside a transaction', records: [H, M, R], want: ['problem r3 m1 503 5.5.1 JES End of file inside a transaction; message discarded'] },
  // Limits.
  { name: 'command line of 509 bytes', records: [H, `NOOP ${rep('x', 504)}`], want: [] },
  { name: 'command line of 510 bytes', records: [H, `NOOP ${rep('x', 505)}`], want: [] },
  { name: 'command line of 511 bytes', records: [H, `NOOP ${rep('x', 506)}`], want: ['problem r2 m0 500 5.5.6 JES Line too long'] },
  {
    name: 'MAIL line of 511 bytes rejects that message',
    records: [H, `MAIL FROM:<a@b.example> ENVID=${rep('x', 511 - 30)}`, R, 'DATA', 'x', '.'],
    want: ['problem r2 m1 500 5.5.6 JES Line too long'],
  },
  { name: 'data line of 998 bytes', records: [H, ...msg(rep('d', 998))], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-6'] },
  {
    name: 'data line of 999 bytes rejects the message, reading continues to its final dot',
    records: [H, ...msg(rep('d', 999), 'QUIT'), ...msg('ok')],
    want: ['problem r5 m1 500 5.2.5 JES Text line too long', 'message 2 <payroll@corp.example> -> <alice@corp.example> r8-12'],
  },
  { name: 'local part of 64', records: [H, M, `RCPT TO:<${local(64)}@x.example>`, 'DATA', '.'], want: [`message 1 <payroll@corp.example> -> <${local(64)}@x.example> r2-5`] },
  { name: 'local part of 65 in RCPT', records: [H, M, R, `RCPT TO:<${local(65)}@x.example>`, 'DATA', '.'], want: [`message 1 <payroll@corp.example> -> <alice@corp.example> bad=<${local(65)}@x.example>:553 r2-6`] },
  { name: 'local part of 65 in MAIL', records: [H, `MAIL FROM:<${local(65)}@x.example>`, R, 'DATA', '.'], want: ['problem r2 m1 553 5.1.7 JES Bad sender address: local part longer than 64 octets'] },
  { name: 'MAIL syntax', records: [H, 'MAIL <a@b.example>'], want: ['problem r2 m1 501 5.5.4 JES Syntax error. Expected MAIL FROM:<reverse-path>'] },
  { name: 'unknown MAIL parameter', records: [H, 'MAIL FROM:<a@b.example> XYZ=1'], want: ["problem r2 m1 555 5.5.4 JES MAIL parameter not recognized: 'XYZ'"] },
  { name: 'bad MAIL parameter value', records: [H, 'MAIL FROM:<a@b.example> SIZE=big'], want: ["problem r2 m1 501 5.5.4 JES Syntax error in MAIL parameter 'SIZE'"] },
  { name: 'declared SIZE above JESMsgSize', records: [H, 'MAIL FROM:<a@b.example> SIZE=1001'], opts: { msgSizeKB: 1 }, want: ['problem r2 m1 552 5.3.4 JES Declared SIZE exceeds JESMsgSize'] },
  {
    name: 'AtSign: the 273 @ (X\'B5\' read as IBM-1047) is rewritten in commands and headers, not the body',
    records: [H, `MAIL FROM:<a${atSign1047For273}b.example>`, `RCPT TO:<c${atSign1047For273}d.example>`, 'DATA', `To: c${atSign1047For273}d.example`, '', `body ${atSign1047For273}`, '.'],
    opts: { atSign: atSign1047For273 },
    want: ['message 1 <a@b.example> -> <c@d.example> r2-8'],
    data: [`To: c@d.example\nMessage-ID: <ID>\n\nbody ${atSign1047For273}\n`],
  },
  // Syntax error limit.
  {
    // The limit is the number of errors tolerated: the one over it stops the file.
    name: 'syntax error limit exceeded stops the file',
    records: [H, 'FOO', M, R, 'BAR', 'BAZ', 'DATA', 'x', '.', ...msg('never')],
    opts: { syntaxErrorLimit: 2 },
    want: ["problem r2 m0 500 5.5.2 JES Syntax error. Command unrecognized: 'FOO'", "problem r5 m1 500 5.5.2 JES Syntax error. Command unrecognized: 'BAR'", "problem r6 m1 500 5.5.2 JES Syntax error. Command unrecognized: 'BAZ'", 'stopped r6 m1 554 5.0.0 JES Syntax error limit reached; rest of file not processed'],
  },
  {
    // Issue #16 item 4: exactly JESSyntaxErrLimit (default 5) errors still sends the rest.
    name: 'exactly the default limit of 5 errors: the other mail is still sent',
    records: [H, 'A', 'B', 'C', 'D', 'E', ...msg('x')],
    opts: { syntaxErrorLimit: 5 },
    want: ['A', 'B', 'C', 'D', 'E'].map((v, i) => `problem r${i + 2} m0 500 5.5.2 JES Syntax error. Command unrecognized: '${v}'`).concat(['message 1 <payroll@corp.example> -> <alice@corp.example> r7-11']),
  },
  { name: 'syntax error limit 0 = unlimited', records: [H, 'A', 'B', 'C', 'D', 'E', 'F', ...msg('x')], opts: { syntaxErrorLimit: 0 }, want: ['A', 'B', 'C', 'D', 'E', 'F'].map((v, i) => `problem r${i + 2} m0 500 5.5.2 JES Syntax error. Command unrecognized: '${v}'`).concat(['message 1 <payroll@corp.example> -> <alice@corp.example> r8-12']) },
  // Records the decoder could not deliver.
  { name: 'control character in a command record', records: [H, { error: 'control-character' }, ...msg('x')], want: ['problem r2 m0 500 5.5.2 JES Control character in record', 'message 1 <payroll@corp.example> -> <alice@corp.example> r3-7'] },
  { name: 'decoder error inside DATA rejects the message', records: [H, M, R, 'DATA', { error: 'record-too-long' }, 'x', '.', ...msg('ok')], want: ['problem r5 m1 500 5.5.6 JES Record too long', 'message 2 <payroll@corp.example> -> <alice@corp.example> r8-12'] },
  { name: 'bad RDW and truncated record', records: [{ error: 'bad-rdw' }, { error: 'truncated-record' }], want: ['problem r1 m0 500 5.5.2 JES Bad record descriptor word', 'problem r2 m0 500 5.5.2 JES Truncated record'] },
  // Sizes.
  {
    name: 'message over JESMsgSize rejected, the rest of it is read to its final dot',
    records: [H, ...msg(rep('x', 600), rep('y', 600), 'MAIL FROM:<x@y>'), ...msg('ok')],
    opts: { msgSizeKB: 1 },
    want: ['problem r6 m1 552 5.3.4 JES Message size exceeds JESMsgSize', 'message 2 <payroll@corp.example> -> <alice@corp.example> r9-13'],
  },
  {
    name: 'file over JESJobSize stops the file',
    records: [H, ...msg(rep('x', 600)), ...msg(rep('y', 600))],
    opts: { jobSizeKB: 1 },
    want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-6', 'stopped r10 m2 552 5.3.4 JES Spool file exceeds JESJobSize; rest of file not processed'],
  },
  // Header block.
  { name: 'first line not a header: separator inserted at the start', records: [H, ...msg('Hello world', 'x: y')], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-7'], data: ['Message-ID: <ID>\n\nHello world\nx: y\n'] },
  { name: 'header block not ended: separator before the first non-header line', records: [H, ...msg('Subject: a', ' folded', 'Body text', '')], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-9'], data: ['Subject: a\n folded\nMessage-ID: <ID>\n\nBody text\n\n'] },
  { name: 'headers only', records: [H, ...msg('Subject: a', 'Message-ID: <own@x>')], want: ['message 1 <payroll@corp.example> -> <alice@corp.example> r2-7'], data: ['Subject: a\nMessage-ID: <own@x>\n\n'] },
];

for (const c of cases) {
  test(`batch: ${c.name}`, () => {
    const clock = new FakeClock();
    const { events, parser } = runAll(baseOptions(clock, c.opts), toItems(c.records));
    // The cases leave QUIT out for brevity; the missing-QUIT warning has its own cases below.
    assert.deepEqual(events.filter((e) => e.kind !== 'warning' || c.name.includes('QUIT missing')).map(render), c.want);
    if (c.data) {
      const msgs = events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
      assert.deepEqual(msgs.map((m) => normalizeData(m.data)), c.data);
      for (const m of msgs) assert.equal(m.size, m.data.length);
    }
    const s = parser.stats;
    assert.equal(s.mailCommands, s.messagesEmitted + s.messagesRejected + s.messagesReset, 'conservation');
    assert.equal(s.messagesReset, c.stats?.reset ?? 0);
  });
}

test('batch: 2000 recipients accepted, the 2001st ignored and reported once', () => {
  const rcpts = (n: number): string[] => Array.from({ length: n }, (_, i) => `RCPT TO:<u${i}@x.example>`);
  for (const n of [2000, 2001, 2002]) {
    const { events } = runAll(baseOptions(new FakeClock()), toItems([H, M, ...rcpts(n), 'DATA', '.']));
    const problems = events.filter((e) => e.kind === 'problem').map(render);
    const m = events.find((e) => e.kind === 'message');
    assert.ok(m?.kind === 'message');
    assert.equal(m.message.envelope.recipients.length, 2000);
    assert.deepEqual(problems, n === 2000 ? [] : ['problem r2003 m1 552 5.5.3 JES Too many recipients; recipients after 2000 ignored']);
  }
});

test('batch: MAIL and RCPT parameters are kept', () => {
  const { events } = runAll(baseOptions(new FakeClock()), toItems([
    H, 'MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=ab+2Bc AUTH=<>',
    'RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d.example',
    'RCPT TO:<e@d.example> NOTIFY=NEVER', 'DATA', '.',
  ]));
  const m = events[0];
  assert.ok(m?.kind === 'message');
  const env = m.message.envelope;
  assert.deepEqual(env.dsn, { ret: 'HDRS', envid: 'ab+c' });
  assert.equal(env.body8bit, true);
  assert.deepEqual(env.recipients[0], { mailbox: { local: 'c', domain: 'd.example' }, notify: { kind: 'on', success: true, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'c@d.example' } });
  assert.deepEqual(env.recipients[1]?.notify, { kind: 'never' });
});

test('batch: SMTPUTF8 allows UTF-8 addresses (bytes as latin1 chars)', () => {
  const utf8 = Buffer.from('jörg@bücher.example', 'utf8').toString('latin1');
  const { events } = runAll(baseOptions(new FakeClock()), toItems([H, `MAIL FROM:<${utf8}> SMTPUTF8`, `RCPT TO:<${utf8}>`, 'DATA', '.']));
  assert.ok(events[0]?.kind === 'message');
  assert.equal(events[0].message.envelope.smtputf8, true);
  const { events: e2 } = runAll(baseOptions(new FakeClock()), toItems([H, `MAIL FROM:<${utf8}>`]));
  assert.equal(e2.map(render)[0], 'problem r2 m1 553 5.1.7 JES Bad sender address: local part has invalid characters');
});

test('batch: repeated MAIL/RCPT arguments (parsed once per run of equal commands) give the same envelopes as parsing each', () => {
  const utf8 = Buffer.from('jörg@bücher.example', 'utf8').toString('latin1');
  const recs = [
    H, ...msg('a'), ...msg('b'),
    // the same RCPT argument under a MAIL with SMTPUTF8 and without: only the first accepts it
    `MAIL FROM:<x@corp.example> SMTPUTF8`, `RCPT TO:<${utf8}>`, 'DATA', 'c', '.',
    'MAIL FROM:<x@corp.example>', `RCPT TO:<${utf8}>`, R, 'DATA', 'd', '.',
    // a recipient twice in one message stays one; the next message has it again
    M, R, R, 'RCPT TO:<bob@corp.example> NOTIFY=NEVER', 'DATA', 'e', '.',
    M, 'RCPT TO:<bob@corp.example> NOTIFY=NEVER', 'RCPT TO:<bob@corp.example>', 'DATA', 'f', '.', 'QUIT',
  ];
  const p = new BatchParser(baseOptions(new FakeClock()));
  const cached = p.push(toItems(recs)).concat(p.end());
  // One message per parser: nothing to reuse.
  const fresh = recs.slice(1).reduce<string[][]>((acc, r) => { if (/^(MAIL|QUIT)/.test(r)) acc.push([]); acc[acc.length - 1]!.push(r); return acc; }, [])
    .flatMap((chunk) => { const q = new BatchParser(baseOptions(new FakeClock())); return q.push(toItems([H, ...chunk])).concat(q.end()); });
  const envelopes = (evs: typeof cached): unknown[] => evs.flatMap((e) => (e.kind === 'message' ? [e.message.envelope] : []));
  assert.equal(envelopes(cached).length, 6);
  assert.deepEqual(envelopes(cached), envelopes(fresh));
  const recipients = envelopes(cached).map((e) => (e as { recipients: { mailbox: { local: string } }[] }).recipients.map((r) => r.mailbox.local).join(','));
  assert.deepEqual(recipients, ['alice', 'alice', Buffer.from('jörg', 'utf8').toString('latin1'), 'alice', 'alice,bob', 'bob']);
  assert.ok(cached.some((e) => e.kind === 'message' && /bad=<[^>]*>:553/.test(render(e))), 'the UTF-8 recipient without SMTPUTF8 is refused');
});

test('batch: records pushed one at a time give the same events', () => {
  const recs = [H, 'STARTTLS', ...msg('Subject: x', '', '..dot'), 'FOO', ...msg('b'), 'QUIT'];
  const whole = runAll(baseOptions(new FakeClock()), toItems(recs)).events.map(render);
  const p = new BatchParser(baseOptions(new FakeClock()));
  const out = toItems(recs).flatMap((it) => p.push([it])).concat(p.end());
  assert.deepEqual(out.map(render), whole);
});

test('batch: data is CRLF, starts with the Received trace header', () => {
  const { events } = runAll(baseOptions(new FakeClock()), toItems([H, ...msg('Subject: x', '', 'b')]));
  assert.ok(events[0]?.kind === 'message');
  const s = events[0].message.data.toString('latin1');
  assert.ok(s.startsWith('Received: from PAYJOB (job J0001234 user PAYUSER)\r\n\tby gw.example (spoolgate SPOOLGW) with BSMTP id <'), s);
  assert.ok(s.endsWith('\r\n\r\nb\r\n'));
  assert.ok(!/[^\r]\n/.test(s));
});

test('docs/spool-format.md lists every problem text with its reply code', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/spool-format.md'), 'utf8');
  for (const [name, d] of Object.entries(BatchReplies)) {
    const row = `| ${d.rc.code} ${enhancedOf(d.rc)} | \`${d.text.replace('%s', '<arg>')}\``;
    assert.ok(doc.includes(row), `${name}: ${row}`);
  }
});

test('batch: MAIL/RCPT use the SMTP server\'s parameter grammar (issue 14)', () => {
  const { events } = runAll(baseOptions(new FakeClock()), toItems([
    H, 'MAIL FROM:<a@b.example>SIZE=1', 'DATA', '.',
    'MAIL FROM:<a@b.example> AUTH=x=y', 'DATA', '.',
    'MAIL FROM:<a@b.example>', 'RCPT TO:<c@d.example> ORCPT=-x;c@d.example', 'DATA', '.',
  ]));
  const problems = events.filter((e) => e.kind === 'problem').map(render);
  assert.deepEqual(problems, [
    'problem r2 m1 501 5.5.4 JES Syntax error. Expected MAIL FROM:<reverse-path>',
    "problem r5 m2 501 5.5.4 JES Syntax error in MAIL parameter 'AUTH'",
  ]);
  const m = events.find((e) => e.kind === 'message');
  assert.ok(m?.kind === 'message');
  assert.deepEqual(m.message.envelope.recipients[0]?.orcpt, { type: '-x', address: 'c@d.example' });
});
