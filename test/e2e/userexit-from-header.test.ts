// Issue #16 item 15: the sender-verification exit (SMTP-Send: verify or replace the sender by the
// job's user id) replaces the From: header too, not only MAIL FROM. End to end: seed 002's batch
// job through a real gateway and a worker-thread exit module to a FakeSmtpServer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { SEED_002_JOB } from '../fixtures/seed-jobs.js';
import { runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';

// Whoever owns the spool file sends as themselves, in the envelope and in the header.
const VERIFY = `
export default function (ev) {
  if (ev.kind !== 'mail') return 'CONTINUE';
  const me = ev.job.originUser + '@corp.example';
  return { action: 'ACCEPT', mailFrom: me, fromHeader: '"Job ' + ev.job.jobName + '" <' + me + '>' };
}
`;

test('the exit replaces MAIL FROM and the From: header; the rest of the message is as the job wrote it', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const exit = join(dir, 'verify.mjs');
  writeFileSync(exit, VERIFY);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nUserExit ${exit}`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitText(config, SEED_002_JOB, 'GORDON');
  await until('delivered', () => server.messages.length === 1, 30_000);
  const m = server.messages[0]!;
  const me = `${userInfo().username}@corp.example`;
  assert.equal(m.from, me);
  const text = m.data.toString('latin1');
  assert.match(text, new RegExp(`\\r\\nFrom: "Job GORDON" <${me.replace(/[.]/g, '\\.')}>\\r\\n`));
  assert.doesNotMatch(text, /Commissioner Gordon/);
  assert.match(text, /\r\nSubject: DAILY REPORT OF DISK UTILIZATION\r\nTo: "Bruce Wayne" <wayne@bar\.com>\r\n/);
  assert.match(text, /\r\n\r\nPlease fix the bulb in the searchlight\r\n$/);
});
