// Issue #15 item 10 through a configured receiver on a real socket: LocalDomain address literals
// (documented, once refused by the configuration), EHLO arguments with control characters, and
// the early-talker check with Receiver GreetPause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { RawSmtp, sendOne, startTestReceiver } from './receiver-harness.js';

const MSG = Buffer.from('Subject: literal\r\n\r\nhello\r\n');

test('LocalDomain [127.0.0.1] and [IPv6:::1]: mail to user@[literal] is delivered; another literal is relay (refused)', async (t) => {
  const r = await startTestReceiver(t, 'LocalDomain [127.0.0.1]\n LocalDomain [IPv6:0::1]');
  const res = await sendOne(r.port, 'a@ok.test', ['alice@[127.0.0.1]', 'alice@[IPv6:::1]', 'bob@[192.0.2.9]'], MSG);
  assert.deepEqual(res.rcpts.map((x) => x.code), [250, 250, 550]);
  assert.equal(res.data?.code, 250);
  assert.equal((await r.store.mailboxes.list('alice')).length, 1);
});

test('EHLO with a NUL is refused with 501 and not echoed', async (t) => {
  const r = await startTestReceiver(t);
  const { c } = await RawSmtp.open(r.port);
  const bad = await c.send(Buffer.from('EHLO evil\0name\r\n', 'latin1'));
  assert.equal(bad.code, 501);
  assert.ok(!bad.text.includes('\0') && !bad.text.includes('evil'), bad.text);
  const good = await c.cmd('EHLO [127.0.0.1]');
  assert.equal(good.code, 250);
  await c.quit();
});

test('Receiver GreetPause: a client that talks before the greeting gets 554 and is disconnected', async (t) => {
  const r = await startTestReceiver(t, 'GreetPause 30000');
  const sock = connect({ port: r.port, host: '127.0.0.1' });
  let got = '';
  sock.setEncoding('latin1').on('data', (d: string) => { got += d; });
  await new Promise<void>((res) => sock.once('connect', res));
  sock.write('EHLO eager.client\r\n');
  await new Promise<void>((res) => sock.once('close', () => res()));
  assert.equal(got, '554 5.5.0 protocol error: client sent data before the greeting\r\n');
});
