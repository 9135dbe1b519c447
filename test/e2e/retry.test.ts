// F4 acceptance: retry paths end to end with an injected clock (no real minutes):
// transient then success; RetryLimit exhausted → extended retry (spool file released) → success;
// Age expiry → notification to the originator; notification undeliverable → dead letter;
// null sender → dead letter; and the conservation law over the counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { FakeClock } from '../../src/testing/clock.js';
import { FakeSmtpServer, type FakeScript } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';

async function gateway(t: import('node:test').TestContext, script: FakeScript, extra: string) {
  const server = await FakeSmtpServer.start(script);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\n${extra}\nUndeliverable { DeadLetterDirectory ${join(dir, 'dead')} }`);
  const clock = new FakeClock(Date.now());
  const gw: Gateway = await startGateway(config, { clock, log: Logger.silent() });
  await gw.forwarder.start();
  t.after(async () => { await gw.stop(); await server.close(); });
  // CURRENT RETRY: this node's memory on SQLite; on PostgreSQL also the messages released to the
  // shared queue for long retry (docs/cluster.md), which no node holds in memory.
  const waiting = () => until('a message in long retry', () => gw.forwarder.counters.currentRetry > 0, 60_000);
  return { server, dir, config, clock, gw, waiting };
}

function conservation(gw: Gateway, read: number): void {
  const c = gw.forwarder.counters;
  assert.equal(c.delivered + c.currentRetry + c.extended + c.undeliverable, read, `conservation: ${JSON.stringify(c)}`);
}

const reply = (code: number, text: string): string => `${code} ${text}`;

test('transient then success on the next long-retry interval', async (t) => {
  let n = 0;
  const g = await gateway(t, { rcpt: () => (n++ === 0 ? reply(451, '4.3.0 try later') : undefined) }, 'RetryLimit { Count 3 Interval 1 }');
  await submitText(g.config, batchFile('T1', 1).text);
  await g.waiting();
  assert.equal(g.gw.forwarder.counters.currentRetry, 1);
  conservation(g.gw, 1);
  g.clock.advance(60_000);
  await until('delivery', () => g.server.messages.length === 1);
  await until('spool empty', async () => (await g.gw.queue.list()).length === 0);
  await until('out of long retry', () => g.gw.forwarder.counters.currentRetry === 0);
  assert.equal(g.gw.forwarder.counters.totalRetry, 1);
  conservation(g.gw, 1);
});

test('RetryLimit exhausted → extended retry file written and spool file released → delivered on a later interval', async (t) => {
  let n = 0;
  const g = await gateway(t, { rcpt: () => (n++ < 2 ? reply(451, '4.3.0 busy') : undefined) }, 'RetryLimit { Count 1 Interval 1 }\nExtendedRetry { Age 1 Interval 5 }');
  await submitText(g.config, batchFile('T2', 1).text);
  await g.waiting();
  g.clock.advance(60_000);
  await until('extended retry', () => g.gw.forwarder.counters.extendedCurrent === 1);
  await until('spool released', async () => (await g.gw.queue.list()).length === 0);
  // The record through the queue's view: the mail directory, or the shared store's table.
  const ext = await g.gw.queueView.list({ states: ['extended'], limit: 10, offset: 0 });
  assert.equal(ext.total, 1, 'one message in extended retry');
  assert.equal(ext.items[0]!.sender, 'job@corp.test');
  await until('out of long retry', () => g.gw.forwarder.counters.currentRetry === 0);
  conservation(g.gw, 1);
  // Fake minutes pass, one per look, until the extended retry (Interval 5) has delivered: no
  // fixed number of steps that a loaded machine could run through before the gateway moved.
  await until('delivered from extended retry', () => {
    if (g.server.messages.length === 0) g.clock.advance(60_000);
    return g.server.messages.length === 1;
  });
  await until('mail directory empty', () => g.gw.forwarder.counters.extended === 0);
  conservation(g.gw, 1);
  assert.equal(g.gw.forwarder.counters.delivered, 1);
});

test('Age expiry → one notification to the originator; undeliverable notification and null sender → dead letters', async (t) => {
  // slow@ is never accepted; the originator job@corp.test accepts notifications; nobody@ refuses.
  const g = await gateway(t, {
    rcpt: (addr) => (addr.startsWith('slow@') ? reply(451, '4.2.1 mailbox busy') : addr.startsWith('nobody@') ? reply(550, '5.1.1 no such user') : undefined),
  }, 'RetryLimit { Count 0 Interval 1 }\nExtendedRetry { Age 1 Interval 1440 }');
  await submitText(g.config, batchFile('T3', 1, ['slow@remote.test']).text);
  await until('extended retry', () => g.gw.forwarder.counters.extendedCurrent === 1);
  g.clock.advance(86_400_000);
  const notified = () => g.server.messages.some((m) => m.from === '' && m.recipients[0] === 'job@corp.test');
  await until('notification delivered', () => {
    if (!notified()) g.clock.advance(60_000);
    return notified();
  });
  const dsn = g.server.messages.find((m) => m.from === '')!;
  const text = dsn.data.toString('latin1');
  assert.match(text, /multipart\/report; *report-type=delivery-status/);
  assert.match(text, /Final-Recipient: rfc822; *slow@remote\.test/);
  assert.match(text, /Action: failed/);
  assert.equal(g.server.messages.filter((m) => m.from === '').length, 1, 'exactly one notification');

  // A message from nobody@ that fails: its notification to nobody@ fails too → dead letter, no second notification.
  const lines = batchFile('T4', 1, ['gone@remote.test']).text.replace('MAIL FROM:<job@corp.test>', 'MAIL FROM:<nobody@remote.test>').replace('RCPT TO:<gone@remote.test>', 'RCPT TO:<nobody@remote.test>');
  await submitText(g.config, lines);
  // Null sender original that fails → dead letter directly.
  await submitText(g.config, batchFile('T5', 1, ['nobody@remote.test']).text.replace('MAIL FROM:<job@corp.test>', 'MAIL FROM:<>'));
  // Through the gateway's dead letters: the directory, or the shared table.
  await until('two dead letters', async () => (await g.gw.deadLetters.count()) >= 2, 20_000);
  await until('spool empty', async () => (await g.gw.queue.list()).length === 0);
  const c = g.gw.forwarder.counters;
  assert.equal(c.deadLetter, 2);
  assert.equal(g.server.messages.filter((m) => m.from === '').length, 1, 'no notification about a notification');
  // read: T3 + T4 + its notification + T5 + the T3 notification
  conservation(g.gw, 5);
});
