// The per-file decisions, with a scripted exit: which events the exit sees, and what each
// answer or failure means for the mail (send, new MAIL FROM, reject, stop the file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../log/index.js';
import { ExitSession, type ExitMail, type MailDecision, type UserExitFailureRule } from './session.js';
import { parseAnswer, headerSection, replaceFromHeader, type ExitEvent } from './events.js';
import type { ExitCallResult, ExitCaller } from './runner.js';

const JOB = { jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'alice', taskType: 'WRITER', spoolId: 'S1' } as const;

const MAIL: ExitMail = {
  messageNo: 3,
  from: { kind: 'mailbox', mailbox: { local: 'boss', domain: 'corp.test' } },
  recipients: [{ mailbox: { local: 'x', domain: 'remote.test' } }, { mailbox: { local: 'y', domain: 'remote.test' } }],
  data: Buffer.from('Received: by gw\r\nSubject: hi\r\n\r\nbody\r\n'),
  size: 40,
  requireTls: false,
  firstRecordNo: 12,
  lastRecordNo: 20,
};

/** An exit answering from a script (one answer per call, then CONTINUE); records what it saw. */
function scripted(answers: (unknown | ExitCallResult)[]): ExitCaller & { seen: ExitEvent[] } {
  const seen: ExitEvent[] = [];
  return {
    name: 'check.mjs',
    seen,
    call: async (ev) => {
      seen.push(ev);
      const a = answers.shift() ?? 'CONTINUE';
      if (typeof a === 'object' && a !== null && 'cause' in a) return a as ExitCallResult;
      const p = parseAnswer(a);
      assert.ok(p.ok);
      return { ok: true, answer: p.value };
    },
  };
}

function session(exit: ExitCaller, failure: UserExitFailureRule = 'rejectFile'): ExitSession {
  return new ExitSession({ exit, job: JOB, failure, log: Logger.silent() });
}

test('the exit sees MAIL, each RCPT, DATA and the mail, with the job; CONTINUE throughout sends the mail', async () => {
  const exit = scripted([]);
  const s = session(exit);
  assert.deepEqual(await s.mail(MAIL), { send: true });
  assert.deepEqual(exit.seen.map((e) => (e.kind === 'command' ? `${e.verb} ${e.argument}` : 'mail')), ['MAIL FROM:<boss@corp.test>', 'RCPT TO:<x@remote.test>', 'RCPT TO:<y@remote.test>', 'DATA ', 'mail']);
  assert.deepEqual(exit.seen[0], { kind: 'command', job: JOB, messageNo: 3, verb: 'MAIL', argument: 'FROM:<boss@corp.test>', recordNo: 12 });
  assert.deepEqual(exit.seen[4], {
    kind: 'mail', job: JOB, messageNo: 3, mailFrom: 'boss@corp.test', recipients: ['x@remote.test', 'y@remote.test'], size: 40,
    headers: 'Received: by gw\r\nSubject: hi\r\n', requireTls: false, firstRecordNo: 12, lastRecordNo: 20,
  });
  assert.deepEqual(s.counters, { calls: 5, accepted: 1, rejected: 0, failures: 0, mailFromReplaced: 0 });
});

const cases: { name: string; answers: unknown[]; want: MailDecision; calls: number }[] = [
  { name: 'ACCEPT at MAIL: no more calls for this mail', answers: ['ACCEPT'], want: { send: true }, calls: 1 },
  { name: 'ACCEPT with a new MAIL FROM', answers: [{ action: 'ACCEPT', mailFrom: 'alice@corp.test' }], want: { send: true, from: { kind: 'mailbox', mailbox: { local: 'alice', domain: 'corp.test' } } }, calls: 1 },
  { name: 'MAIL FROM replaced at MAIL, then CONTINUE to the end', answers: [{ action: 'CONTINUE', mailFrom: '<alice@corp.test>' }], want: { send: true, from: { kind: 'mailbox', mailbox: { local: 'alice', domain: 'corp.test' } } }, calls: 5 },
  {
    name: 'REJECT_MAIL at a RCPT', answers: ['CONTINUE', { action: 'REJECT_MAIL', reason: 'no mail to x' }], calls: 2,
    want: { send: false, stopFile: false, problem: { code: 550, enhanced: '5.7.1', recordNo: 12, messageNo: 3, text: 'Rejected by user exit check.mjs: no mail to x' } },
  },
  {
    name: 'REJECT_FILE at the mail event', answers: ['CONTINUE', 'CONTINUE', 'CONTINUE', 'CONTINUE', 'REJECT_FILE'], calls: 5,
    want: { send: false, stopFile: true, problem: { code: 550, enhanced: '5.7.1', recordNo: 12, messageNo: 3, text: 'Rejected by user exit check.mjs: no reason given; the rest of the spool file is not processed' } },
  },
];
for (const c of cases) {
  test(`answer: ${c.name}`, async () => {
    const exit = scripted(c.answers);
    assert.deepEqual(await session(exit).mail(MAIL), c.want);
    assert.equal(exit.seen.length, c.calls);
  });
}

const failure: ExitCallResult = { ok: false, cause: 'timeout', detail: 'no answer within 150 ms' };
const failures: { rule: UserExitFailureRule; want: MailDecision }[] = [
  { rule: 'rejectFile', want: { send: false, stopFile: true, problem: { code: 451, enhanced: '4.3.0', recordNo: 12, messageNo: 3, text: 'User exit check.mjs failed (timeout): no answer within 150 ms; mail and the rest of the spool file not sent (UserExitFailure REJECT_FILE)' } } },
  { rule: 'rejectMail', want: { send: false, stopFile: false, problem: { code: 451, enhanced: '4.3.0', recordNo: 12, messageNo: 3, text: 'User exit check.mjs failed (timeout): no answer within 150 ms; mail not sent (UserExitFailure REJECT_MAIL)' } } },
  { rule: 'continue', want: { send: true, problem: { code: 451, enhanced: '4.3.0', recordNo: 12, messageNo: 3, text: 'User exit check.mjs failed (timeout): no answer within 150 ms; mail sent without the exit\'s decision (UserExitFailure CONTINUE)' } } },
];
for (const f of failures) {
  test(`a failing exit under UserExitFailure ${f.rule}`, async () => {
    const exit = scripted(['CONTINUE', failure]);
    const s = session(exit, f.rule);
    assert.deepEqual(await s.mail(MAIL), f.want);
    assert.equal(s.counters.failures, 1);
  });
}

test('QUIT at end of file: an answer is ignored, a failure is a problem', async () => {
  const exit = scripted(['REJECT_FILE', { ok: false, cause: 'throw', detail: 'Error: x' }]);
  const s = session(exit, 'rejectMail');
  assert.equal(await s.end(30), undefined);
  assert.deepEqual(await s.end(30), { code: 451, enhanced: '4.3.0', recordNo: 30, messageNo: 0, text: 'User exit check.mjs failed (throw): Error: x; at end of file (UserExitFailure REJECT_MAIL)' });
  assert.deepEqual(exit.seen[0], { kind: 'command', job: JOB, messageNo: 0, verb: 'QUIT', argument: '' });
});

test('parseAnswer: reasons are cleaned of control characters and bounded', () => {
  const p = parseAnswer({ action: 'REJECT_MAIL', reason: `bad\r\nsender${'x'.repeat(300)}` });
  assert.ok(p.ok);
  assert.equal(p.value.reason?.startsWith('bad sender'), true);
  assert.equal(p.value.reason?.length, 200);
  assert.deepEqual(parseAnswer({ action: 'ACCEPT', reason: 5 }), { ok: false, error: 'reason is not a string' });
  assert.deepEqual(parseAnswer(null), { ok: false, error: 'answer is null, not an action' });
});

test('headerSection: up to the empty line, bounded, lossless for 8-bit bytes', () => {
  assert.equal(headerSection(Buffer.from('A: 1\r\nB: \xe4\r\n\r\nbody', 'latin1')), 'A: 1\r\nB: \xe4\r\n');
  assert.equal(headerSection(Buffer.alloc(100_000, 0x41)).length, 64 * 1024);
});

// Issue #16 item 15: SMTP-Send's sender verification exit may replace what the recipient sees.
// Fixture: seed 002's job header (From: "Commissioner Gordon" <foo@bar.com>).
test('fromHeader: an answer may replace the From: field; the decision carries it, with or without mailFrom', async () => {
  const gordon = '"Commissioner Gordon" <gordon@gcpd.example>';
  assert.deepEqual(await session(scripted([{ action: 'ACCEPT', fromHeader: gordon }])).mail(MAIL), { send: true, fromHeader: gordon });
  assert.deepEqual(await session(scripted([{ action: 'CONTINUE', mailFrom: 'gordon@gcpd.example', fromHeader: 'gordon@gcpd.example' }])).mail(MAIL),
    { send: true, from: { kind: 'mailbox', mailbox: { local: 'gordon', domain: 'gcpd.example' } }, fromHeader: 'gordon@gcpd.example' });
});

test('fromHeader: refused unless it is one printable line naming a valid mailbox', () => {
  for (const [v, ok] of [
    ['"Commissioner Gordon" <foo@bar.com>', true],
    ['foo@bar.com', true],
    ['=?ISO-8859-1?Q?G=F6rdon?= <foo@bar.com>', true],
    ['Commissioner Gordon', false],
    ['<not an address>', false],
    ['x <foo@bar.com>\r\nBcc: everyone@bar.com', false],
    ['Gördon <foo@bar.com>', false],
    [`${'n'.repeat(990)} <foo@bar.com>`, false],
    [42, false],
  ] as const) {
    const p = parseAnswer({ action: 'ACCEPT', fromHeader: v });
    assert.equal(p.ok, ok, JSON.stringify(v));
  }
});

test('replaceFromHeader: the From: field and its continuation lines are replaced; one is added when missing; the rest is byte-exact', () => {
  const seed = 'Date: Fri, 16 Jul 2010 13:41:30 -0400\r\nFrom: "Commissioner Gordon"\r\n <foo@bar.com>\r\nSubject: DAILY REPORT OF DISK UTILIZATION\r\nTo: "Bruce Wayne" <wayne@bar.com>\r\n\r\nPlease fix the bulb in the searchlight\r\nFrom: not a header\r\n';
  const out = replaceFromHeader(Buffer.from(seed, 'latin1'), 'Payroll <payroll@corp.test>').toString('latin1');
  assert.equal(out, seed.replace('From: "Commissioner Gordon"\r\n <foo@bar.com>\r\n', 'From: Payroll <payroll@corp.test>\r\n'));
  const none = 'Subject: x\r\n\r\nbody\r\n';
  assert.equal(replaceFromHeader(Buffer.from(none), 'a@b.test').toString(), 'Subject: x\r\nFrom: a@b.test\r\n\r\nbody\r\n');
});
