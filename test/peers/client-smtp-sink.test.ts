// The SMTP client against Postfix smtp-sink (a peer nobody here wrote): pipelined delivery,
// connection reuse with RSET, byte-exact data (dot-stuffing, 8-bit, 998-byte lines, a "." line),
// and injected rejections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpClientSession } from '../../src/smtp/client/index.js';
import { msg, TRICKY_BODY } from './client-fixtures.js';
import { needPeer, tempDir, isRoot } from '../../src/testing/peers.js';
import { startSmtpSink } from '../../src/testing/postfix.js';

test('client → smtp-sink: pipelined, reused connection, byte-exact', async (t) => {
  const bin = needPeer(t, 'smtp-sink');
  if (!bin) return;
  if (!isRoot) { t.skip('smtp-sink with -u needs root'); return; }
  const sink = await startSmtpSink({ bin, dir: tempDir(t) });
  t.after(() => sink.stop());
  const c = await SmtpClientSession.connect({ host: '127.0.0.1', port: sink.port, heloName: 'gw.test', timeouts: { anyCmd: 5000, dataTerm: 5000 } });
  assert.ok(c.ok, c.ok ? '' : c.error.detail);
  const s = c.value;
  assert.equal(s.capabilities.pipelining, true);
  const o1 = await s.send(msg(['a@dest.test', 'b@dest.test']));
  assert.equal(o1.status, 'sent', o1.detail);
  const o2 = await s.send(msg(['c@dest.test'], 'Subject: two\r\n\r\nsecond\r\n'));
  assert.equal(o2.status, 'sent', o2.detail);
  await s.quit();
  const got = await sink.waitFor(2);
  const first = got.find((m) => m.recipients.includes('a@dest.test'));
  assert.ok(first);
  assert.deepEqual(first.recipients, ['a@dest.test', 'b@dest.test']);
  assert.equal(first.from, 'job@host.test');
  // smtp-sink stores LF line ends and ends the dump with one empty line.
  assert.equal(first.body.toString('latin1'), TRICKY_BODY.replace(/\r\n/g, '\n') + '\n');
});

test('client → smtp-sink rejecting RCPT with 5xx: permanent', async (t) => {
  const bin = needPeer(t, 'smtp-sink');
  if (!bin) return;
  if (!isRoot) { t.skip('smtp-sink with -u needs root'); return; }
  const sink = await startSmtpSink({ bin, dir: tempDir(t), extraArgs: ['-f', 'RCPT'] });
  t.after(() => sink.stop());
  const c = await SmtpClientSession.connect({ host: '127.0.0.1', port: sink.port, heloName: 'gw.test', timeouts: { anyCmd: 5000 } });
  assert.ok(c.ok, c.ok ? '' : c.error.detail);
  const o = await c.value.send(msg(['a@dest.test']));
  await c.value.quit();
  assert.equal(o.status, 'permanent', o.detail);
  assert.equal(Math.floor((o.recipients[0]?.reply.code ?? 0) / 100), 5);
});
