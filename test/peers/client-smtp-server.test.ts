// The SMTP client against nodemailer's smtp-server, an independent implementation: STARTTLS
// with a verified certificate, SIZE, AUTH PLAIN over TLS, pipelining, byte-exact data. This server
// forgets the EHLO after STARTTLS (as RFC 3207 §4.2 allows), so it is also a real instance of the
// seed's "503 after TLS" symptom when TLSEhlo is NO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { SmtpClientSession, type ClientOptions } from '../../src/smtp/client/index.js';
import { testCerts } from '../../src/testing/certs.js';
import { msg, TRICKY_BODY } from './client-fixtures.js';

interface Got { from: string; to: string[]; data: Buffer; secure: boolean; user: string | undefined }

async function startServer(t: import('node:test').TestContext, size = 1_000_000): Promise<{ port: number; got: Got[] }> {
  const certs = testCerts();
  const got: Got[] = [];
  const srv = new SMTPServer({
    key: certs.key, cert: certs.cert, size, authMethods: ['PLAIN', 'LOGIN'], logger: false, hideSTARTTLS: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'u' && auth.password === 'p') cb(null, { user: 'u' });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        got.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(parts), secure: session.secure, user: session.user as string | undefined,
        });
        cb(null);
      });
    },
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  const a = srv.server.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, got };
}

function opts(port: number, extra: Partial<ClientOptions> = {}): ClientOptions {
  return { host: '127.0.0.1', port, heloName: 'gw.test', tls: { caFile: testCerts().caFile }, timeouts: { anyCmd: 5000, dataTerm: 5000 }, ...extra };
}

test('client → smtp-server: STARTTLS + TLSEhlo + AUTH PLAIN + pipelining, byte-exact', async (t) => {
  const { port, got } = await startServer(t);
  const c = await SmtpClientSession.connect(opts(port, { tlsEhlo: true, auth: { user: 'u', password: 'p' }, secure: true }));
  assert.ok(c.ok, c.ok ? '' : c.error.detail);
  const s = c.value;
  assert.equal(s.tls, true);
  assert.equal(s.capabilities.pipelining, true);
  assert.ok(s.capabilities.size !== undefined && s.capabilities.size > 0);
  const o1 = await s.send(msg(['a@dest.test', 'b@dest.test'], TRICKY_BODY, true));
  assert.equal(o1.status, 'sent', o1.detail);
  const o2 = await s.send(msg(['c@dest.test'], 'Subject: 2\r\n\r\nsecond\r\n'));
  assert.equal(o2.status, 'sent', o2.detail);
  await s.quit();
  assert.equal(got.length, 2);
  assert.deepEqual(got[0]?.to, ['a@dest.test', 'b@dest.test']);
  assert.equal(got[0]?.secure, true);
  assert.equal(got[0]?.user, 'u');
  assert.equal(got[0]?.data.toString('latin1'), TRICKY_BODY);
});

test('client → smtp-server: SIZE limit refuses an over-size message before sending', async (t) => {
  const { port, got } = await startServer(t, 100);
  const c = await SmtpClientSession.connect(opts(port, { tlsEhlo: true }));
  assert.ok(c.ok, c.ok ? '' : c.error.detail);
  const o = await c.value.send(msg(['a@dest.test']));
  await c.value.quit();
  assert.equal(o.status, 'permanent');
  assert.match(o.detail, /size \d+ exceeds .*limit 100/);
  assert.equal(got.length, 0);
});

test('client → smtp-server with TLSEhlo NO: the 503 after TLS is reported clearly', async (t) => {
  const { port, got } = await startServer(t);
  const c = await SmtpClientSession.connect(opts(port));
  assert.ok(c.ok, c.ok ? '' : c.error.detail);
  const o = await c.value.send(msg(['a@dest.test']));
  await c.value.quit();
  assert.equal(got.length, 0);
  assert.equal(o.reply?.code, 503, o.detail);
  assert.match(o.detail, /TLSEhlo YES/);
});

test('client → smtp-server: wrong password is a permanent AUTH failure', async (t) => {
  const { port } = await startServer(t);
  const c = await SmtpClientSession.connect(opts(port, { tlsEhlo: true, auth: { user: 'u', password: 'wrong' } }));
  assert.ok(!c.ok);
  assert.equal(c.error.stage, 'auth');
  assert.equal(c.error.permanent, true);
});
