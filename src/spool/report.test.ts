import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpoolAttributes } from './attributes.js';
import { buildAdminReportMail, formatReport } from './report.js';

const attrs: SpoolAttributes = {
  jobName: 'PAYROLL', jobId: 'J0001234', originUser: 'batch', originUid: 1234, originNode: 'mvs1',
  taskType: 'WRITER', created: new Date('2026-11-22T12:00:00.000Z'), recordFormat: 'fixed', encoding: 'IBM-1047',
};

const GOLDEN = `SPOOLGATE SPOOL FILE ERROR REPORT

Job name:     PAYROLL
Job id:       J0001234
Origin user:  batch (uid 1234)
Origin node:  mvs1
Task type:    WRITER
Created:      2026-11-22T12:00:00.000Z
Spool entry:  0mf1abcde0000000001
Format:       fixed / IBM-1047
Summary:      3 problems; syntax error limit reached, rest of file not processed

3 problems:

  Record  Message  Reply
       1        -  501 5.5.4 JES Syntax error. Too many args after 'HELO' command
      17        2  500 5.2.5 JES Text line too long
       -        -  554 5.0.0 control character \\x07 in record
`;

test('formatReport: golden text', () => {
  const text = formatReport({
    attrs,
    entryId: '0mf1abcde0000000001',
    summary: '3 problems; syntax error limit reached, rest of file not processed',
    problems: [
      { code: 501, enhanced: '5.5.4', text: "JES Syntax error. Too many args after 'HELO' command", recordNo: 1, messageNo: 0 },
      { code: 500, enhanced: '5.2.5', text: 'JES Text line too long', recordNo: 17, messageNo: 2 },
      { code: 554, enhanced: '5.0.0', text: 'control character \x07 in record', recordNo: 0, messageNo: 0 },
    ],
  });
  assert.equal(text, GOLDEN);
});

test('formatReport without problems', () => {
  const text = formatReport({ attrs: { ...attrs, recordFormat: undefined, encoding: undefined }, problems: [], summary: 'unreadable' });
  assert.ok(text.endsWith('Summary:      unreadable\n\nNo individual problems were recorded.\n'));
  assert.ok(!text.includes('Format:'));
});

test('buildAdminReportMail: one batch-SMTP mail to all administrators, dot-stuffed', () => {
  const r = buildAdminReportMail({
    from: '', to: ['ops@example.test', 'admin@example.test'], hostName: 'gw.example.test', attrs,
    report: 'line one\n.starts with a dot\n',
  });
  assert.ok(r.ok);
  assert.equal(r.value.toString('latin1'), [
    'HELO gw.example.test',
    'MAIL FROM:<>',
    'RCPT TO:<ops@example.test>',
    'RCPT TO:<admin@example.test>',
    'DATA',
    'From: Mail Delivery Subsystem <MAILER-DAEMON@gw.example.test>',
    'To: ops@example.test,',
    ' admin@example.test',
    'Subject: spoolgate error report for job PAYROLL (J0001234)',
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
    'line one',
    '..starts with a dot',
    '.',
    'QUIT',
    '',
  ].join('\r\n'));
});

test('buildAdminReportMail refuses bad input', () => {
  const base = { from: 'gw@example.test', to: ['ops@example.test'], hostName: 'gw', attrs, report: 'x' };
  assert.match(expectErr(buildAdminReportMail({ ...base, to: [] })), /no MailAdministrator/);
  assert.match(expectErr(buildAdminReportMail({ ...base, to: ['x>\r\nRCPT TO:<evil@x'] })), /not valid/);
  assert.match(expectErr(buildAdminReportMail({ ...base, from: 'nope' })), /sender/);
  const long = buildAdminReportMail({ ...base, report: 'y'.repeat(2500) });
  assert.ok(long.ok);
  for (const line of long.value.toString('latin1').split('\r\n')) assert.ok(line.length <= 998);
});

function expectErr(r: { ok: true } | { ok: false; error: string }): string {
  assert.ok(!r.ok);
  return r.error;
}
