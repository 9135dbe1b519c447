// F4 acceptance: end to end through real sockets — spool files → forwarder → SMTP targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, submitText, until, withoutTrace, writeConfig } from '../../src/testing/gateway.js';

test('1,000 messages in 100 spool files, two targets: all delivered byte-exact, spool empty, counters right', async (t) => {
  const a = await FakeSmtpServer.start();
  const b = await FakeSmtpServer.start();
  t.after(async () => { await a.close(); await b.close(); });
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${a.port} ConnectLimit 3 }
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${b.port} ConnectLimit 3 }
    RetryLimit { Count 2 Interval 1 }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const expected = new Map<string, string>();
  for (let f = 0; f < 100; f++) {
    const { text, bodies } = batchFile(`F${f}`, 10);
    bodies.forEach((body, i) => expected.set(`F${f} message ${i + 1}`, body));
    await submitText(config, text, `JOB${f}`);
  }
  await until('1000 messages at the targets', () => a.messages.length + b.messages.length >= 1000);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  const all = [...a.messages, ...b.messages];
  assert.equal(all.length, 1000, 'no duplicates');
  assert.ok(a.messages.length > 100 && b.messages.length > 100, `work spread: ${a.messages.length}/${b.messages.length}`);
  for (const m of all) {
    const text = withoutTrace(m.data);
    const subject = /Subject: (F\d+ message \d+)/.exec(text)?.[1];
    assert.ok(subject, 'subject present');
    assert.equal(text, expected.get(subject), `byte-exact ${subject}`);
    assert.deepEqual(m.recipients, ['rcpt@remote.test']);
    assert.equal(m.from, 'job@corp.test');
  }
  const c = gw.forwarder.counters;
  assert.equal(c.mailSent, 1000);
  assert.equal(c.delivered, 1000);
  assert.equal(c.undeliverable + c.extended + c.currentRetry, 0);
  const targets = gw.forwarder.listTargets();
  assert.equal(targets.reduce((s, x) => s + x.counters.mailSent, 0), 1000);
  assert.ok(targets.every((x) => x.state === 'ACTIVE'));
});
