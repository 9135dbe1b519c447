import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { buildErrorReportMail, type ErrorReportMailInput } from './error-report-mail.js';

const mb = (a: string) => { const [local, domain] = a.split('@') as [string, string]; return { local, domain }; };

const REPORT = [
  'Spool file PAYROLL JOB00042 (user OPER1): 2 problems',
  '  501 5.1.3 record 7 message 1: RCPT TO: <bad address> syntax error',
  '  552 5.3.4 record 90 message 2: message larger than JESMsgSize',
  `  a very long line ${'x'.repeat(1200)}`,
  '  Zeichen: \u00e4\u00f6\u00fc \u20ac',
].join('\n');

function input(over: Partial<ErrorReportMailInput> = {}): ErrorReportMailInput {
  return {
    report: REPORT,
    administrators: ['a1@example.com', 'a2@example.com', 'a3@example.com', 'a4@example.com', 'a5@example.com'].map(mb),
    from: { kind: 'mailbox', mailbox: mb('spoolgate@gw.example.com') },
    jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'OPER1',
    hostName: 'gw.example.com',
    now: new Date(Date.UTC(2026, 10, 22, 12, 0, 0)),
    ...over,
  };
}

test('one mail to the first four administrators, Subject names the job, report intact', async () => {
  const r = buildErrorReportMail(input());
  assert.ok(r.ok);
  const { envelope, data } = r.value;
  assert.deepEqual(envelope.recipients.map((x) => `${x.mailbox.local}@${x.mailbox.domain}`), ['a1@example.com', 'a2@example.com', 'a3@example.com', 'a4@example.com']);
  assert.deepEqual(envelope.from, { kind: 'mailbox', mailbox: mb('spoolgate@gw.example.com') });
  const raw = data.toString('latin1');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(raw), 'CRLF only');
  for (const line of raw.split('\r\n')) assert.ok(line.length <= 78, `short lines: ${line}`);
  assert.ok(!raw.split('').some((ch) => ch.charCodeAt(0) > 0x7f), '7-bit');
  const mail = await simpleParser(data);
  assert.equal(mail.subject, 'spoolgate error report for job PAYROLL JOB00042 (user OPER1)');
  assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
  assert.equal(mail.text?.replace(/\r\n/g, '\n').trimEnd(), REPORT);
});

test('null sender allowed; no administrators is an error', () => {
  const r = buildErrorReportMail(input({ from: { kind: 'null' }, administrators: [mb('root@example.com')] }));
  assert.ok(r.ok);
  assert.deepEqual(r.value.envelope.from, { kind: 'null' });
  assert.match(r.value.data.toString('latin1'), /^From: spoolgate <MAILER-DAEMON@gw\.example\.com>\r\n/);
  assert.deepEqual(buildErrorReportMail(input({ administrators: [] })), { ok: false, error: 'no-administrators' });
});
