// RFC 5321 §6.3 loop detection (MaxReceivedHeaders, default 100): the receiver refuses a message
// that arrives with too many Received fields (554 5.4.6, before any 250), and the forwarder's
// spool task makes such a message undeliverable instead of sending it (one DSN, never sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawSmtp, startTestReceiver } from './receiver-harness.js';

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
