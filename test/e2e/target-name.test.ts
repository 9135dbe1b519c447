// Issue #16 item 12: TargetName resolves through the system resolver, so a name that only
// /etc/hosts knows (here "localhost", which DNS does not answer) is a usable target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { systemResolver } from '../../src/gateway.js';

test('TargetName localhost (from /etc/hosts) resolves and receives the mail', async (t) => {
  const addrs = await systemResolver.resolveAddresses('localhost');
  assert.ok(addrs.includes('127.0.0.1') || addrs.includes('::1'), addrs.join(', '));
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  // FakeSmtpServer listens on 127.0.0.1; an ::1 first in the list is tried and found unusable.
  const { config } = writeConfig(dir, `TargetServer { TargetName localhost ConnectPort ${server.port} }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitText(config, batchFile('HOSTS', 1).text);
  await until('the mail', () => server.messages.length === 1, 20_000);
  assert.ok(gw.forwarder.listTargets().some((x) => x.addr.address === '127.0.0.1'));
});
