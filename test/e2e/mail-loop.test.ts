// RFC 5321 §6.3 loop detection (MaxReceivedHeaders, default 100): the receiver refuses a message
// that arrives with too many Received fields (554 5.4.6, before any 250), and the forwarder's
// spool task makes such a message undeliverable instead of sending it (one DSN, never sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { enqueueMessage } from '../../src/spool/enqueue.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { runGateway, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import { RawSmtp, startTestReceiver } from './receiver-harness.js';
import { startRelayTarget } from './relay-harness.js';

const hops = (n: number): string =>
  Array.from({ length: n }, (_, i) => `Received: from relay${i}.example.test (relay${i}.example.test [192.0.2.${i % 250}])\r\n\tby relay${i + 1}.example.test with ESMTP id ${i};\r\n\tSun, 22 Nov 2026 12:00:00 +0000\r\n`).join('');

function message(receivedFields: number, bodyLooksLikeHeaders = 0): Buffer {
  return Buffer.from(`${hops(receivedFields)}From: a@remote.test\r\nTo: alice@local.test\r\nSubject: hops\r\n\r\nbody\r\n${hops(bodyLooksLikeHeaders)}`, 'latin1');
}

async function send(port: number, msg: Buffer): Promise<{ rcpt: number; data: { code: number; text: string } }> {
  const { c } = await RawSmtp.open(port);
  try {
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@remote.test>');
    const rcpt = await c.cmd('RCPT TO:<alice@local.test>');
    return { rcpt: rcpt.code, data: await c.data(msg) };
  } finally {
    await c.quit();
  }
}

test('receiver: 101 Received fields get 554 5.4.6 before any 250; 100 pass; body lines do not count', async (t) => {
  const r = await startTestReceiver(t);
  const over = await send(r.port, message(101));
  assert.equal(over.rcpt, 250);
  assert.equal(over.data.code, 554);
  assert.match(over.data.text, /^5\.4\.6 /);
  assert.equal((await r.store.mailboxes.list('alice')).length, 0, 'nothing stored for the refused message');

  const atLimit = await send(r.port, message(100, 300));
  assert.equal(atLimit.data.code, 250, atLimit.data.text);
  assert.equal((await r.store.mailboxes.list('alice')).length, 1);
});

test('receiver: MaxReceivedHeaders is read per message (REFRESH)', async (t) => {
  const r = await startTestReceiver(t);
  assert.equal((await send(r.port, message(30))).data.code, 250);
  r.rx.apply({ ...r.config, maxReceivedHeaders: 20 });
  const refused = await send(r.port, message(21));
  assert.equal(refused.data.code, 554);
  assert.match(refused.data.text, /^5\.4\.6 /);
  assert.equal((await send(r.port, message(20))).data.code, 250);
});

/** Waits for a condition checked at every event the test is told about; bounded. */
class Events {
  private readonly waiters = new Set<{ cond: () => boolean; resolve: () => void }>();
  notify(): void {
    for (const w of [...this.waiters]) if (w.cond()) { this.waiters.delete(w); w.resolve(); }
  }
  wait(what: string, cond: () => boolean, maxMs = 120_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(w); reject(new Error(`timed out waiting for ${what}`)); }, maxMs);
      const w = { cond, resolve: () => { clearTimeout(timer); resolve(); } };
      this.waiters.add(w);
    });
  }
}

test('relay loop: a gateway whose target is its own receiver stops at the limit with exactly one DSN', { timeout: 420_000 }, async (t) => {
  // Before the receiver's port is known the target is a real SMTP server that must never see mail.
  const elsewhere = await startRelayTarget(t);
  const dir = tempDir(t, 'spoolgate-loop-');
  const conf = (port: number): string => `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} ConnectLimit 2 }
    RetryLimit { Count 2 Interval 1 }
    Receiver {
      Listen 127.0.0.1:0
      HostName mx.gw.test
      LocalDomain local.test
      RelayMode AddressList
      RelayAddress 127.0.0.1/32
    }`;
  const { config, path } = writeConfig(dir, conf(elsewhere.port));
  assert.equal(config.maxReceivedHeaders, 100, 'the default limit');
  const events = new Events();
  const logs: LogRecord[] = [];
  const outcomes: string[] = [];
  const services = await startServices(config, {
    log: Logger.create({ sink: { write: (r) => { logs.push(r); events.notify(); } }, instance: 'TEST', level: 7 }),
    onMailFinished: (_item, outcome) => { outcomes.push(outcome); events.notify(); },
  });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  await services.store!.users.addUser('sender', 'secret-sender');
  const rxPort = services.listening.find((l) => l.role === 'smtp')!.port;
  // The loop: TargetServer is this gateway's own receiver, which relays for 127.0.0.1.
  writeConfig(dir, conf(rxPort));
  const r = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(r.code, 0, r.stdout + r.stderr);

  const { c } = await RawSmtp.open(rxPort);
  await c.cmd('EHLO client.test');
  assert.equal((await c.cmd('MAIL FROM:<sender@local.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<someone@far.test>')).code, 250);
  assert.equal((await c.data(Buffer.from('From: sender@local.test\r\nTo: someone@far.test\r\nSubject: round and round\r\n\r\nbody\r\n'))).code, 250);
  await c.quit();

  const count = (event: string): number => logs.filter((l) => l.event === event).length;
  // The undeliverable loop message and its DSN delivered into the sender's mailbox, in either
  // order: the DSN is on the spool (durable) before the original is marked undeliverable, so
  // another task can deliver it before that mark's commit returns (seen in CI under load: the
  // test then waited for a "delivered" after the "undeliverable" that never came).
  // 101 hops of two fsynced stores each: about 10 s here, several times that on a loaded machine;
  // the bound only stops a loop that never ends.
  const loopEnded = (): boolean => outcomes.includes('undeliverable') && outcomes.filter((o) => o === 'delivered').length === 101;
  await events.wait('the loop to end with a delivered DSN', loopEnded, 270_000);
  await until('the spool to be empty', async () => (await services.gateway.queue.list()).length === 0);

  // Hops 1..100 were accepted by the receiver (the message came with 1..100 Received fields);
  // the 101st was refused with 554 5.4.6, which made the message undeliverable: one DSN.
  assert.equal(count('receiver.too-many-hops'), 1);
  const rejected = logs.filter((l) => l.event === 'smtp.message-rejected');
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]!.fields.code, 554);
  // In any order: with two connections, hop k+1 (already queued by the receiver when hop k got
  // its 250) can end before hop k's "delivered" mark is committed (seen in CI: the 101st hop's
  // "undeliverable" came 100th).
  assert.deepEqual([...outcomes].sort(), [...Array<string>(101).fill('delivered'), 'undeliverable'], '100 hops and the DSN delivered, the 101st hop undeliverable, nothing else');
  assert.equal(count('smtp.message-accepted'), 1 + 100 + 1, 'the client\'s message, 100 hops, the DSN');
  assert.equal(count('mail.notification'), 1);
  const box = await services.store!.mailboxes.list('sender');
  assert.equal(box.length, 1, 'exactly one DSN to the sender');
  const dsn = (await services.store!.mailboxes.read('sender', box[0]!.id))!.toString('latin1');
  assert.match(dsn, /Status: 5\.4\.6/);
  assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/i);
  assert.equal(elsewhere.mails.length, 0);
});

test('forwarder: batch and message entries over the limit are never sent; each gets one DSN', async (t) => {
  const target = await FakeSmtpServer.start();
  t.after(() => target.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }\nRetryLimit { Count 2 Interval 1 }\nMaxReceivedHeaders 20`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  // A batch file: the parser adds our Received on top, which does not count. 20 pass, 21 do not.
  const batch = (n: number, tag: string): string =>
    `MAIL FROM:<job@corp.test>\r\nRCPT TO:<rcpt@remote.test>\r\nDATA\r\n${hops(n)}Subject: ${tag}\r\n\r\nbody\r\n.\r\n`;
  await submitText(config, `HELO JOBHOST\r\n${batch(20, 'batch-20')}${batch(21, 'batch-21')}QUIT\r\n`);
  // A message entry (local submission): its data already carries the submission tool's Received.
  const ours = 'Received: by gw.test (spoolgate TEST sendmail)\r\n\tid <x@gw.test>; Sun, 22 Nov 2026 12:00:00 +0000\r\n';
  const entry = (n: number, tag: string): Promise<unknown> => enqueueMessage({
    root: config.spool.directory, writer: config.extWrtName, jobName: 'SENDMAIL', origin: { kind: 'submission', tool: 'sendmail' },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'user', domain: 'corp.test' } }, recipients: [{ mailbox: { local: 'rcpt', domain: 'remote.test' } }], requireTls: false },
    data: Buffer.from(`${ours}${hops(n)}Subject: ${tag}\r\n\r\nbody\r\n`, 'latin1'),
  });
  await entry(20, 'entry-20');
  await entry(21, 'entry-21');
  await until('2 messages and 2 DSNs at the target', () => target.messages.length >= 4);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  const sent = target.messages.filter((m) => m.from !== '').map((m) => /^Subject: (\S+)/m.exec(m.data.toString('latin1'))?.[1]).sort();
  assert.deepEqual(sent, ['batch-20', 'entry-20']);
  const dsns = target.messages.filter((m) => m.from === '');
  assert.deepEqual(dsns.map((m) => m.recipients[0]).sort(), ['job@corp.test', 'user@corp.test']);
  for (const d of dsns) {
    const text = d.data.toString('latin1');
    assert.match(text, /Status: 5\.4\.6/);
    assert.match(text, /too many hops/);
  }
  assert.equal(gw.forwarder.counters.undeliverable, 2);
});
