// Real SMTP clients nobody here wrote, against our server with a recording sink: swaks, curl,
// Python smtplib, nodemailer (all with STARTTLS verified against the test CA) and Postfix
// smtp-source for load. Each stored message must equal what the client sent, byte for byte,
// once our Received: header is removed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { RecordingSink, serverOptions, stripReceived } from '../../src/testing/dialog.js';
import { testCerts } from '../../src/testing/certs.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { SmtpServer } from '../../src/smtp/server/listener.js';
import type { ServerEvent } from '../../src/smtp/server/types.js';

const run = promisify(execFile);

// A message with a dot-leading line, an empty line, 8-bit UTF-8 text and a long-ish body.
const MESSAGE = Buffer.from(
  'From: a@x.test\r\nTo: b@y.test\r\nSubject: peer test\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
  'Gr\u00fc\u00dfe from a real client.\r\n.leading dot\r\n..two dots\r\n\r\n' +
  Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\r\n') + '\r\n',
  'utf8',
);

async function startServer(t: TestContext) {
  const sink = new RecordingSink();
  // The server's connect and disconnect events: allGone() waits until every session has ended.
  let connects = 0;
  let disconnects = 0;
  let wake = (): void => {};
  const onEvent = (e: ServerEvent): void => {
    if (e.kind === 'connect') connects++;
    if (e.kind === 'disconnect') { disconnects++; wake(); }
  };
  const server = new SmtpServer(serverOptions({ tls: 'on', auth: 'on', hostName: 'localhost', maxConnectionsPerIp: '50' }, sink, { onEvent }));
  const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  t.after(() => server.close());
  const allGone = (): Promise<void> => new Promise((resolve) => { wake = () => { if (disconnects >= connects) resolve(); }; wake(); });
  return { sink, server, port: addr!.port, allGone };
}

function assertDelivered(sink: RecordingSink, want: { tls: boolean; auth?: string }) {
  assert.equal(sink.messages.length, 1);
  const m = sink.messages[0]!;
  assert.equal(stripReceived(m.data).toString('latin1'), MESSAGE.toString('latin1'));
  assert.equal(m.tls, want.tls);
  assert.equal(m.authUser, want.auth);
  assert.deepEqual(m.envelope.recipients.map((r) => `${r.mailbox.local}@${r.mailbox.domain}`), ['b@y.test']);
}

test('swaks: STARTTLS (verified), AUTH PLAIN, PIPELINING', async (t) => {
  const swaks = needPeer(t, 'swaks');
  if (!swaks) return;
  const { sink, port } = await startServer(t);
  const dir = tempDir(t);
  const file = join(dir, 'msg.eml');
  // swaks always sends CRLF before the final dot itself, so it gets the message without its last CRLF.
  writeFileSync(file, MESSAGE.subarray(0, -2));
  const { stdout } = await run(swaks, [
    '--server', `127.0.0.1:${port}`, '--from', 'a@x.test', '--to', 'b@y.test',
    '--tls', '--tls-verify', '--tls-ca-path', testCerts().caFile,
    '--auth', 'PLAIN', '--auth-user', 'u', '--auth-password', 'p', '--pipeline', '--data', file,
  ]);
  assert.match(stdout, /250 2\.0\.0 ok, queued as M1/);
  assertDelivered(sink, { tls: true, auth: 'u' });
});

test('curl: --ssl-reqd with the test CA', async (t) => {
  const curl = needPeer(t, 'curl');
  if (!curl) return;
  const { sink, port } = await startServer(t);
  const file = join(tempDir(t), 'msg.eml');
  writeFileSync(file, MESSAGE);
  await run(curl, [
    '-sS', '--ssl-reqd', '--cacert', testCerts().caFile, '--connect-to', `localhost:${port}:127.0.0.1:${port}`,
    `smtp://localhost:${port}/client.test`, '--mail-from', 'a@x.test', '--mail-rcpt', 'b@y.test',
    '--user', 'u:p', '--upload-file', file,
  ]);
  assertDelivered(sink, { tls: true, auth: 'u' });
});

test('Python smtplib: starttls with a CA context, login, sendmail', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const { sink, port } = await startServer(t);
  const file = join(tempDir(t), 'msg.eml');
  writeFileSync(file, MESSAGE);
  const script = [
    'import smtplib, ssl, sys',
    `ctx = ssl.create_default_context(cafile=${JSON.stringify(testCerts().caFile)})`,
    `s = smtplib.SMTP('localhost', ${port}, local_hostname='py.test')`,
    's.starttls(context=ctx)',
    "s.login('u', 'p')",
    `s.sendmail('a@x.test', ['b@y.test'], open(${JSON.stringify(file)}, 'rb').read())`,
    's.quit()',
  ].join('\n');
  await run(py, ['-c', script]);
  assertDelivered(sink, { tls: true, auth: 'u' });
});

test('nodemailer: requireTLS with the test CA', async (t) => {
  const { sink, port } = await startServer(t);
  const transport = nodemailer.createTransport({
    host: 'localhost', port, secure: false, requireTLS: true, tls: { ca: testCerts().ca },
    auth: { user: 'u', pass: 'p' },
  });
  try {
    const info = await transport.sendMail({ envelope: { from: 'a@x.test', to: ['b@y.test'] }, raw: MESSAGE });
    assert.match(info.response, /^250 2\.0\.0 ok, queued as M1/);
  } finally {
    transport.close();
  }
  assertDelivered(sink, { tls: true, auth: 'u' });
});

test('Postfix smtp-source: 5 sessions, 200 messages', async (t) => {
  const source = needPeer(t, 'smtp-source');
  if (!source) return;
  const { sink, server, port, allGone } = await startServer(t);
  await run(source, ['-s', '5', '-m', '200', '-l', '2000', '-f', 'load@x.test', '-t', 'sink@y.test', `127.0.0.1:${port}`]);
  assert.equal(sink.messages.length, 200);
  for (const m of sink.messages) {
    const body = stripReceived(m.data);
    assert.ok(body.length >= 2000, `message of ${body.length} octets`);
    assert.ok(body.subarray(-2).equals(Buffer.from('\r\n')));
    assert.equal(m.envelope.recipients.length, 1);
  }
  await allGone();
  assert.equal(server.connectionCount, 0);
});
