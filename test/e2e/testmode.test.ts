// SPEC.md §2.2 TestMode: parse and validate everything, deliver nothing; clean files are
// deleted, bad ones follow BadSpoolDisp; the report is the only output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';

test('TestMode YES: nothing delivered, clean file deleted with a report, bad file held with a report', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nOptions { TestMode YES }\nBadSpoolDisp Hold\nReport Sysout`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const clean = await submitText(config, batchFile('CLEAN', 3).text, 'CLEANJOB');
  const bad = await submitText(config, 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<a@remote.test>\r\nBOGUS command\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'BADJOB');
  const writerDir = join(config.spool.directory, config.extWrtName);
  await until('both files disposed', () => readdirSync(join(writerDir, 'incoming')).length === 0, 20_000);
  const held = readdirSync(join(writerDir, 'held'));
  assert.ok(held.some((f) => f.startsWith(bad)), `bad file held: ${held.join(', ')}`);
  assert.ok(!held.some((f) => f.startsWith(clean)), 'clean file not held');
  const reports = readdirSync(join(writerDir, 'sysout'));
  assert.ok(reports.some((f) => f.includes(clean)), `report for the clean file: ${reports.join(', ')}`);
  assert.ok(reports.some((f) => f.includes(bad)), 'report for the bad file');
  assert.equal(server.connections, 0, 'TestMode opens no connection to the targets');
  assert.equal(server.messages.length, 0);
});
