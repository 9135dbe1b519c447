// SPEC.md §2.2 TestMode: parse and validate everything, deliver nothing; clean files are
// deleted, bad ones follow BadSpoolDisp; the report is the only output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, disposedJob, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startGateway } from '../../src/main.js';

test('TestMode YES: nothing delivered, clean file deleted without a report, bad file held with a report', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nOptions { TestMode YES }\nBadSpoolDisp Hold\nReport Sysout\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitText(config, batchFile('CLEAN', 3).text, 'CLEANJOB');
  await submitText(config, 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<a@remote.test>\r\nBOGUS command\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'BADJOB');
  // The end of each file, through the gateway (its SPOOL record, its held files and reports).
  const bad = await disposedJob(gw, 'BADJOB');
  assert.equal(bad.disposition, 'held');
  assert.equal(bad.held, true, 'bad file held');
  assert.match(bad.report, /BOGUS/, 'report for the bad file');
  // Issue #16 item 2: reports are written for files with problems only.
  assert.deepEqual(await disposedJob(gw, 'CLEANJOB'), { disposition: 'finished', held: false, report: '' }, 'the clean file is finished, not held, without a report');
  assert.equal(server.connections, 0, 'TestMode opens no connection to the targets');
  assert.equal(server.messages.length, 0);
});

// Issue #16 item 2: with Report Admin the error report is test mode's only output, so it is
// mailed to the administrators even though TestMode delivers none of the jobs' mail.
test('TestMode YES with Report Admin: the error report of a bad file reaches the administrators; job mail does not', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nOptions { TestMode YES }\nBadSpoolDisp Hold\nReport Admin\nMailAdministrator admin@ops.test`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitText(config, batchFile('CLEAN', 2).text, 'CLEANJOB');
  await submitText(config, 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<a@remote.test>\r\nBOGUS command\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'BADJOB');
  await until('the report mail', () => server.messages.length >= 1, 20_000);
  const writerDir = join(config.spool.directory, config.extWrtName);
  await until('spool empty', () => readdirSync(join(writerDir, 'incoming')).length === 0, 20_000);
  assert.equal(server.messages.length, 1, 'one mail: the report of the bad file (none for the clean file, no job mail)');
  const m = server.messages[0]!;
  assert.deepEqual(m.recipients, ['admin@ops.test']);
  const text = m.data.toString('latin1');
  assert.match(text, /Subject: spoolgate error report for job BADJOB/);
  assert.match(text, /BOGUS/);
  assert.deepEqual(readdirSync(join(writerDir, 'sysout')), [], 'the report went by mail, not to sysout');
});

// Issue #16 item 2: the seed's EZD1841I when test mode has no valid report destination.
test('TestMode YES with Report None: EZD1841I is logged at start; with Report Sysout it is not', async (t) => {
  for (const [report, want] of [['None', true], ['Sysout', false]] as const) {
    const dir = tempDir(t);
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }\nOptions { TestMode YES }\nReport ${report}`);
    const records: LogRecord[] = [];
    const gw = await startGateway(config, { log: Logger.create({ sink: { write: (r) => records.push(r) }, instance: config.instance }) });
    await gw.stop();
    const hit = records.find((r) => r.event === 'testmode.no-report');
    assert.equal(hit !== undefined, want, `Report ${report}`);
    if (want) {
      assert.equal(hit!.level, 'warning');
      assert.equal(hit!.fields.message, 'EZD1841I TEST TESTMODE HAS NO VALID REPORT DESTINATION');
    }
  }
});
