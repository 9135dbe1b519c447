// F4 acceptance: TLS and failover end to end with FakeSmtpServer.
// Seed table 2: TLS is required when the job issued STARTTLS or the target is Secure YES
// (job STARTTLS yes/no × Secure YES/NO → required yes/yes/yes/no). Mail that needs TLS only
// travels over STARTTLS; with no target offering it, it is undeliverable (never sent in plain).
// Options TLSEhlo NO/YES against a server that wants EHLO after TLS. Failover to a live target
// when the other's port is closed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeSmtpServer, type FakeMessage, type FakeScript } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { testCerts } from '../../src/testing/certs.js';
import { freePort } from '../../src/testing/postfix.js';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';

function batch(tag: string, n: number, starttls: boolean): string {
  const { text } = batchFile(tag, n);
  return starttls ? text.replace('HELO JOBHOST\r\n', 'HELO JOBHOST\r\nSTARTTLS\r\n') : text;
}

const isNotification = (m: FakeMessage): boolean => m.from === '' && /multipart\/report/i.test(m.data.toString('latin1'));
const ofTag = (ms: readonly FakeMessage[], tag: string): FakeMessage[] => ms.filter((m) => m.data.toString('latin1').includes(`Subject: ${tag} message`));

async function gateway(t: TestContext, script: FakeScript, targetExtra: string, extra = ''): Promise<{ server: FakeSmtpServer; gw: Gateway; dir: string; config: ReturnType<typeof writeConfig>['config']; logs: LogRecord[] }> {
  const server = await FakeSmtpServer.start(script);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit 2 TlsCaFile ${testCerts().caFile} TlsServerName localhost ${targetExtra} }
    RetryLimit { Count 0 Interval 0 }
    Undeliverable { DeadLetterDirectory ${join(dir, 'dead')} }
    LogLevel 255
    ${extra}`);
  const logs: LogRecord[] = [];
  const gw = await startGateway(config, { log: Logger.create({ sink: { write: (r) => { logs.push(r); } }, instance: 'TEST', level: 255 }) });
  await gw.forwarder.start();
  t.after(async () => { await gw.stop(); await server.close(); });
  return { server, gw, dir, config, logs };
}

const TABLE: readonly { starttls: boolean; secure: boolean; required: boolean }[] = [
  { starttls: true, secure: true, required: true },
  { starttls: true, secure: false, required: true },
  { starttls: false, secure: true, required: true },
  { starttls: false, secure: false, required: false },
];

for (const row of TABLE) {
  const name = `job STARTTLS ${row.starttls ? 'yes' : 'no'} × Secure ${row.secure ? 'YES' : 'NO'} → TLS required ${row.required ? 'yes' : 'no'}`;

  test(`${name}: server offering STARTTLS gets the mail with tls=${row.required}`, async (t) => {
    const g = await gateway(t, { tls: true }, `Secure ${row.secure ? 'YES' : 'NO'}`);
    await submitText(g.config, batch('T', 5, row.starttls));
    await until('5 messages', () => g.server.messages.length >= 5);
    await until('spool empty', async () => (await g.gw.queue.list()).length === 0);
    assert.equal(g.server.messages.length, 5);
    for (const m of g.server.messages) assert.equal(m.tls, row.required, 'TLS used exactly when required');
    assert.equal(g.gw.forwarder.counters.delivered, 5);
    // Issue #16 item 9 (seed): a Secure YES target that negotiated TLS is announced, once.
    const announced = g.logs.filter((r) => r.event === 'target.tls').map((r) => r.fields?.['message']);
    assert.deepEqual(announced, row.secure ? [`EZD1821I ${g.config.instance.toUpperCase()} ABLE TO USE TARGET SERVER 127.0.0.1`] : []);
  });

  test(`${name}: server without STARTTLS → ${row.required ? 'undeliverable, never sent in plain' : 'delivered in plain'}`, async (t) => {
    const g = await gateway(t, { tls: false }, `Secure ${row.secure ? 'YES' : 'NO'}`);
    await submitText(g.config, batch('P', 3, row.starttls));
    if (!row.required) {
      await until('3 messages', () => g.server.messages.length >= 3);
      assert.ok(g.server.messages.every((m) => !m.tls));
      return;
    }
    await until('3 undeliverable', () => g.gw.forwarder.counters.undeliverable >= 3);
    await until('spool empty', async () => (await g.gw.queue.list()).length === 0);
    assert.equal(ofTag(g.server.messages, 'P').filter((m) => !isNotification(m)).length, 0, 'TLS-required mail never sent in plain');
    assert.equal(g.server.commandsOf('MAIL').filter((c) => !c.line.includes('<>')).length, 0, 'no MAIL for the original mail');
    assert.equal(g.gw.forwarder.counters.delivered, 0);
    // The notification carries the original content, so it keeps the TLS requirement (notify/dsn.ts):
    // it cannot go either and becomes a dead letter, never a plain-text copy.
    // Through the gateway's dead letters (the directory, or the shared table on PostgreSQL).
    await until('dead letters', async () => (await g.gw.deadLetters.count()) >= 3);
    assert.equal(g.server.messages.length, 0, 'nothing at all sent in plain');
    const { letters } = await g.gw.deadLetters.list();
    assert.match(letters[0]!.reason, /TLS is required for this mail and no target server supports STARTTLS/);
  });
}

test('Options TLSEhlo NO against a server that wants EHLO after TLS: not delivered', async (t) => {
  const g = await gateway(t, { tls: true, requireEhloAfterTls: true }, 'Secure YES', 'Options { TLSEhlo NO }');
  await submitText(g.config, batch('E', 1, false));
  await until('undeliverable', () => g.gw.forwarder.counters.undeliverable >= 1);
  assert.equal(ofTag(g.server.messages, 'E').length, 0);
  assert.equal(g.gw.forwarder.counters.delivered, 0);
  assert.ok(g.server.commandsOf('MAIL').every((c) => c.tls), 'MAIL only over TLS');
  // The notification needs TLS too (Secure YES), fails the same way, and is kept as a dead letter.
  // Through the gateway's dead letters (the directory, or the shared table on PostgreSQL): only
  // stored ones are counted.
  await until('dead letter', async () => (await g.gw.deadLetters.count()) >= 1);
  assert.match((await g.gw.deadLetters.list()).letters[0]!.reason, /503 5\.5\.1 Error: send EHLO after STARTTLS/);
});

test('Options TLSEhlo NO: the operator is told to set TLSEhlo (seed diagnosis guide)', async (t) => {
  const g = await gateway(t, { tls: true, requireEhloAfterTls: true }, 'Secure YES', 'Options { TLSEhlo NO }');
  await submitText(g.config, batch('E', 1, false));
  await until('undeliverable', () => g.gw.forwarder.counters.undeliverable >= 1);
  await until('dead letter logged', () => g.logs.some((r) => /dead|undeliverable|failed/.test(r.event)), 10_000);
  const everything = g.logs.map((r) => JSON.stringify(r)).join('\n');
  assert.match(everything, /TLSEhlo/, 'the reason mentions TLSEhlo');
});

test('Options TLSEhlo YES against a server that wants EHLO after TLS: delivered over TLS', async (t) => {
  const g = await gateway(t, { tls: true, requireEhloAfterTls: true }, 'Secure YES', 'Options { TLSEhlo YES }');
  await submitText(g.config, batch('Y', 3, false));
  await until('3 messages', () => g.server.messages.length >= 3);
  assert.ok(g.server.messages.every((m) => m.tls));
  assert.equal(g.server.commandsOf('EHLO').filter((c) => c.tls).length >= 1, true, 'EHLO repeated after TLS');
  await until('counters', () => g.gw.forwarder.counters.delivered === 3);
});

test('failover: one target is a closed port → everything through the other; the dead one is NOT USABLE', async (t) => {
  const live = await FakeSmtpServer.start();
  const deadPort = await freePort(); // nothing listens here
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${deadPort} ConnectLimit 2 }
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${live.port} ConnectLimit 2 }
    RetryLimit { Count 2 Interval 1 }`);
  const gw = await startGateway(config, { log: Logger.silent() });
  await gw.forwarder.start();
  t.after(async () => { await gw.stop(); await live.close(); });
  for (let f = 0; f < 5; f++) await submitText(config, batchFile(`FO${f}`, 10).text, `FO${f}`);
  await until('50 delivered', () => live.messages.length >= 50);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  assert.equal(live.messages.length, 50, 'no duplicates');
  assert.equal(gw.forwarder.counters.delivered, 50);
  const dead = gw.forwarder.listTargets().find((x) => x.addr.port === deadPort);
  const alive = gw.forwarder.listTargets().find((x) => x.addr.port === live.port);
  assert.equal(dead?.state, 'NOT USABLE');
  assert.ok((dead?.counters.connectFail ?? 0) >= 1, `connectFail ${dead?.counters.connectFail}`);
  assert.equal(dead?.counters.mailSent, 0);
  assert.equal(alive?.state, 'ACTIVE');
  assert.equal(alive?.counters.mailSent, 50);
});
