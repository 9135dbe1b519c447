// FakeSmtpServer's own behaviour, driven by raw sockets (so it does not depend on our client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { FakeSmtpServer } from './fake-smtp-server.js';

/** Sends the whole dialog at once (pipelined) and returns everything the server said. */
function talk(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    s.on('error', reject);
    s.on('close', () => resolve(out));
    s.write(input, 'latin1');
  });
}

test('FakeSmtpServer records envelope and un-stuffed bytes; per-connection scripts', async () => {
  const srv = await FakeSmtpServer.start((n) => (n === 1 ? {} : { greeting: '554 5.7.1 no' }));
  try {
    const out = await talk(srv.port, 'EHLO c\r\nMAIL FROM:<a@b> SIZE=5\r\nRCPT TO:<x@y>\r\nDATA\r\n..dot\r\n\xe9\r\n.\r\nQUIT\r\n');
    assert.match(out, /^220 .*\r\n250-fake\.test[\s\S]*250 2\.1\.0[\s\S]*354 [\s\S]*250 2\.0\.0 queued as 1\r\n221 /);
    assert.deepEqual(srv.messages.map((m) => ({ from: m.from, params: m.mailParams, to: m.recipients, data: m.data.toString('latin1') })),
      [{ from: 'a@b', params: 'SIZE=5', to: ['x@y'], data: '.dot\r\n\xe9\r\n' }]);
    assert.deepEqual(srv.commands.map((c) => c.verb), ['EHLO', 'MAIL', 'RCPT', 'DATA', '.', 'QUIT']);
    const second = await talk(srv.port, 'QUIT\r\n');
    assert.match(second, /^554 5\.7\.1 no\r\n/);
    assert.equal(srv.connections, 2);
  } finally {
    await srv.close();
  }
});

test('FakeSmtpServer: reply lists are used in turn, last one repeats', async () => {
  const srv = await FakeSmtpServer.start({ replies: { NOOP: ['250 one', '250 two'] } });
  try {
    const out = await talk(srv.port, 'NOOP\r\nNOOP\r\nNOOP\r\nQUIT\r\n');
    assert.deepEqual(out.split('\r\n').filter((l) => l.startsWith('250')), ['250 one', '250 two', '250 two']);
  } finally {
    await srv.close();
  }
});

test('FakeSmtpServer: disconnect action closes the connection', async () => {
  const srv = await FakeSmtpServer.start({ replies: { MAIL: { disconnect: true } } });
  try {
    const out = await talk(srv.port, 'EHLO c\r\nMAIL FROM:<a@b>\r\n');
    assert.doesNotMatch(out, /250 2\.1\.0/);
    assert.equal(srv.messages.length, 0);
  } finally {
    await srv.close();
  }
});
