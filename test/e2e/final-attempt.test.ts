// Issue #16 item 8: the one-try rules of seed 001 and of FLUSHRETRY,AGE=.
//   - an undeliverable notification gets one try, then it is a dead letter (no long or extended
//     retry for a mail whose only purpose is to tell someone something already happened);
//   - FLUSHRETRY,AGE=days tries the extended-retry mail of that age once more; what cannot be
//     sent then is undeliverable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';

const JOB = 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<gone@remote.test>\r\nDATA\r\nSubject: pay\r\n\r\nbody\r\n.\r\nQUIT\r\n';

test('a notification the target defers (4xx) gets one try and becomes a dead letter, not a long retry', async (t) => {
  const server = await FakeSmtpServer.start({
    rcpt: (a) => (a === 'gone@remote.test' ? '550 5.1.1 no such user' : a === 'job@corp.test' ? '451 4.3.0 mailbox busy' : undefined),
  });
  t.after(() => server.close());
  const dir = tempDir(t);
  // A long retry of several minutes: a notification in it would not be a dead letter within the test.
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\nRetryLimit { Count 5 Interval 10 }\nUndeliverable { ReturnToMailFrom YES DeadLetterAction Store DeadLetterDirectory ${join(dir, 'dead')} }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await submitText(config, JOB, 'PAYJOB');
  // The file is written before the counter moves: wait for both.
  // Through the gateway's dead letters (the directory, or the shared table on PostgreSQL).
  await until('the dead letter', async () => (await gw.deadLetters.count()) >= 1 && gw.forwarder.counters.deadLetter >= 1, 20_000);
  assert.equal(gw.forwarder.counters.deadLetter, 1);
  assert.equal(gw.forwarder.counters.currentRetry, 0, 'nothing in long retry');
  // One RCPT for the notification's recipient: one try.
  const tries = server.commands.filter((c) => /^RCPT TO:<job@corp\.test>/i.test(c.line));
  assert.equal(tries.length, 1);
});
