// Issue #16 item 15 (SMTP-Send's "who sends e-mail"): the MAIL accounting record carries the
// subject and the attachment count. Fixtures: seed 002's batch SMTP job (HELO, MAIL FROM, RCPT TO,
// DATA with a report subject and no attachment) and a MIME job with two attached files, one of
// them named with RFC 2231; plus the bound — a message longer than the scan limit is counted on
// its first bytes and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountingSummary } from '../../src/receiver/mime.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { accountingRecords } from '../../src/testing/records.js';
import { SEED_002_JOB } from '../fixtures/seed-jobs.js';
import { runGateway, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';

const MIME_JOB = [
  'HELO BAR.COM',
  'MAIL FROM:<foo@bar.com>',
  'RCPT TO:<wayne@bar.com>',
  'DATA',
  'From: foo@bar.com',
  'To: wayne@bar.com',
  'Subject: =?ISO-8859-1?Q?Disk_report_f=FCr_Juli?=',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain',
  '',
  'Two files attached.',
  '--b1',
  'Content-Type: text/csv; name="dasd.csv"',
  'Content-Disposition: attachment; filename="dasd.csv"',
  '',
  'VOLSER,FREE',
  '--b1',
  'Content-Type: application/pdf',
  "Content-Disposition: attachment; filename*=UTF-8''Bericht%20Juli.pdf",
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--b1--',
  '.',
  'QUIT',
  '',
].join('\r\n');

type Rec = Record<string, unknown> & { name: string };

test('MAIL records carry the subject and the attachment count (seed 002 job and a MIME job); accounting shows them', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} ConnectLimit 1 }\nSMF119 { MAIL YES }`);
  const gw = await runGateway(config);
  let stopped = false;
  t.after(async () => { if (!stopped) await gw.stop(); });
  await submitText(config, SEED_002_JOB, 'DISKRPT');
  await submitText(config, MIME_JOB, 'DISKCSV');
  await until('both delivered', () => gw.forwarder.counters.mailSent === 2);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  await gw.stop();
  stopped = true;
  const mail = (await accountingRecords(path) as Rec[]).filter((r) => r.name === 'MAIL');
  const by = (job: string): Rec => mail.find((r) => r.jobName === job)!;
  assert.deepEqual([by('DISKRPT').subject, by('DISKRPT').attachments, by('DISKRPT').attachmentsPartial], ['DAILY REPORT OF DISK UTILIZATION', 0, undefined]);
  assert.deepEqual([by('DISKCSV').subject, by('DISKCSV').attachments], ['Disk report für Juli', 2]);
  const cli = await spoolgateCli('accounting', '--config', path, '--type', 'MAIL');
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /DISKCSV\(.*attachments=2 .*subject="Disk report für Juli"/);
});

test('the attachment count is bounded: only the first bytes of a long message are read, and the record says so', () => {
  const part = (n: number): string => `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${n}.bin"\r\n\r\n${'A'.repeat(1000)}\r\n`;
  const msg = Buffer.from(`Subject: many\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${Array.from({ length: 50 }, (_, i) => part(i)).join('')}--b--\r\n`);
  assert.deepEqual(accountingSummary(msg), { subject: 'many', attachments: 50, partial: false });
  const cut = accountingSummary(msg, 10_000);
  assert.equal(cut.partial, true);
  assert.ok(cut.attachments < 50 && cut.attachments > 0, `counted ${cut.attachments} in the first 10000 bytes`);
});
