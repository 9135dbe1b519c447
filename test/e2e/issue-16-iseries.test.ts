// Issue #16 item 14 (iSeries role), end to end through a real gateway to nodemailer's smtp-server:
// the NONDELIVERY user (Undeliverable CopyTo) gets its copy of a notification.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../src/main.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { startRelayTarget } from './relay-harness.js';

function reject550(text: string): Error {
  return Object.assign(new Error(text), { responseCode: 550 });
}

async function gateway(t: TestContext, port: number, extra: string): Promise<{ gw: Gateway; config: ReturnType<typeof writeConfig>['config'] }> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-i16-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} ConnectLimit 2 }\nRetryLimit { Count 2 Interval 1 }\n${extra}`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  return { gw, config };
}

// Seed 004 (tracking undelivered mail): a NONDELIVERY user receives a copy of the nondelivery
// notice, and the sender receives one too.
test('Undeliverable CopyTo: the notification reaches the sender and the NONDELIVERY copy address', async (t) => {
  const tg = await startRelayTarget(t, { onRcpt: (a) => (a === 'gone@far.test' ? reject550('5.1.1 <gone@far.test>: user unknown') : undefined) });
  const { gw, config } = await gateway(t, tg.port, 'Undeliverable {\n  ReturnToMailFrom YES\n  CopyTo NONDELIVERY@gw.test\n}');
  await submitText(config, batchFile('copyto', 1, ['gone@far.test']).text);
  await tg.waitFor(1);
  const dsn = tg.mails[0]!;
  assert.equal(dsn.from, '', 'null sender');
  assert.deepEqual(dsn.rcpts.map((r) => r.address).sort(), ['NONDELIVERY@gw.test', 'job@corp.test'].sort());
  const text = dsn.data.toString('latin1');
  assert.match(text, /^To: <job@corp\.test>$/m, 'the copy address is an envelope recipient only');
  assert.doesNotMatch(text, /^(To|Cc):.*NONDELIVERY/im);
  assert.match(text, /^Final-Recipient: rfc822; gone@far\.test$/m);
  assert.match(text, /^Action: failed$/m);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  assert.equal(tg.mails.length, 1, 'one notification, both recipients in it');
});
