// The SMTP client against a real Postfix smtpd with STARTTLS (own config dir, loopback port),
// relaying to an smtp-sink so delivery is verified end to end (PEERS.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpClientSession } from '../../src/smtp/client/index.js';
import { needPeer, tempDir, isRoot } from '../../src/testing/peers.js';
import { startSmtpSink, startPostfix } from '../../src/testing/postfix.js';
import { testCerts } from '../../src/testing/certs.js';
import { msg, TRICKY_BODY } from './client-fixtures.js';

test('client → Postfix smtpd (STARTTLS, verified) → smtp-sink: byte-exact', async (t) => {
  const sinkBin = needPeer(t, 'smtp-sink');
  if (!sinkBin) return;
  if (!needPeer(t, 'postfix')) return;
  if (!isRoot) { t.skip('starting Postfix needs root'); return; }
  const dir = tempDir(t);
  const sink = await startSmtpSink({ bin: sinkBin, dir });
  // Stopped here, not in t.after: tempDir's own after-hook would remove the config dir first.
  const pf = await startPostfix({ dir, relayPort: sink.port }).catch(async (e: unknown) => { await sink.stop(); throw e; });
  try {
  const c = await SmtpClientSession.connect({
    host: '127.0.0.1', port: pf.port, heloName: 'gw.test', secure: true,
    tls: { caFile: testCerts().caFile, minVersion: 'TLSv1.2' }, timeouts: { anyCmd: 10_000, dataTerm: 10_000 },
  });
  assert.ok(c.ok, c.ok ? '' : `${c.error.detail}\n${pf.log()}`);
  const s = c.value;
  assert.equal(s.tls, true);
  assert.equal(s.capabilities.starttls, true);
  assert.equal(s.capabilities.size, 10240000);
  const o = await s.send(msg(['a@dest.test', 'b@dest.test']));
  assert.equal(o.status, 'sent', `${o.detail}\n${pf.log()}`);
  const o2 = await s.send(msg(['c@dest.test'], 'Subject: 2\r\n\r\nsecond\r\n'));
  assert.equal(o2.status, 'sent', o2.detail);
  await s.quit();
  const got = await sink.waitFor(2, 30_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${pf.log()}`); });
  const first = got.find((m) => m.recipients.includes('a@dest.test'));
  assert.ok(first, 'relayed message reached the sink');
  // Postfix adds its own Received header on top; the rest must be the message, byte for byte.
  // Postfix adds Received, Message-Id, Date and From headers; the body must arrive byte for byte.
  const text = first.body.toString('latin1');
  const want = TRICKY_BODY.replace(/\r\n/g, '\n');
  assert.equal(text.slice(text.indexOf('\n\n')), want.slice(want.indexOf('\n\n')) + '\n');
  assert.match(text, /^Received: from .*\(.*127\.0\.0\.1\]\)\n\tby postfix\.test \(Postfix\) with ESMTPS/);
  assert.match(text, /\nSubject: peer test\n/);
  } finally {
    await pf.stop();
    await sink.stop();
  }
});
