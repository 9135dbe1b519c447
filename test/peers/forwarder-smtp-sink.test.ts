// F4 acceptance against real Postfix peers: the forwarder relays spool files to Postfix's
// smtp-sink (200 messages in 20 files, every one arrives, spool empty) and to a real Postfix
// smtpd with STARTTLS, where a job that issued STARTTLS is delivered over TLS only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needPeer, tempDir, isRoot } from '../../src/testing/peers.js';
import { startSmtpSink, startPostfix } from '../../src/testing/postfix.js';
import { testCerts } from '../../src/testing/certs.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';

test('forwarder → smtp-sink: 200 messages in 20 spool files all arrive, spool empty', async (t) => {
  const bin = needPeer(t, 'smtp-sink');
  if (!bin) return;
  if (!isRoot) { t.skip('smtp-sink -u needs root'); return; }
  const dir = tempDir(t);
  const sink = await startSmtpSink({ bin, dir });
  try {
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 4 }\nRetryLimit { Count 2 Interval 1 }`);
    const gw = await runGateway(config);
    try {
      for (let f = 0; f < 20; f++) await submitText(config, batchFile(`S${f}`, 10).text, `SINK${f}`);
      await sink.waitFor(200, 60_000);
      await until('spool empty', async () => (await gw.queue.list()).length === 0);
      // smtp-sink creates a dump file when a transaction starts and fills it as data arrives:
      // read the files again once every message was answered 250 (spool empty), not when the
      // 200th file appeared (that file could still be half written).
      const got = sink.messages();
      const subjects = new Set(got.map((m) => /\nSubject: (S\d+ message \d+)\n/.exec(m.body.toString('latin1'))?.[1]));
      for (let f = 0; f < 20; f++) for (let i = 1; i <= 10; i++) assert.ok(subjects.has(`S${f} message ${i}`), `S${f} message ${i} missing`);
      assert.equal(got.length, 200, 'no duplicates');
      assert.ok(got.every((m) => m.from === 'job@corp.test' && m.recipients.join() === 'rcpt@remote.test'));
      const c = gw.forwarder.counters;
      assert.equal(c.delivered, 200);
      assert.equal(c.undeliverable + c.currentRetry + c.extended, 0);
    } finally {
      await gw.stop();
    }
  } finally {
    await sink.stop();
  }
});

test('forwarder → Postfix smtpd (STARTTLS, verified) → smtp-sink: a STARTTLS job goes over TLS', async (t) => {
  const bin = needPeer(t, 'smtp-sink');
  if (!bin) return;
  if (!needPeer(t, 'postfix')) return;
  if (!isRoot) { t.skip('starting Postfix needs root'); return; }
  const dir = tempDir(t);
  const sink = await startSmtpSink({ bin, dir });
  // Stopped in finally, not t.after: tempDir's after-hook would remove the config dir first.
  const pf = await startPostfix({ dir, relayPort: sink.port, extraMain: ['smtpd_tls_loglevel = 1'] }).catch(async (e: unknown) => { await sink.stop(); throw e; });
  try {
    const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${pf.port} ConnectLimit 2 TlsCaFile ${testCerts().caFile} TlsServerName localhost }\nRetryLimit { Count 2 Interval 1 }`);
    const gw = await runGateway(config);
    try {
      const { text } = batchFile('TLSJOB', 3);
      await submitText(config, text.replace('HELO JOBHOST\r\n', 'HELO JOBHOST\r\nSTARTTLS\r\n'), 'TLSJOB');
      await sink.waitFor(3, 60_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${pf.log()}`); });
      await until('spool empty', async () => (await gw.queue.list()).length === 0);
      // Read the dumps once every message was answered (a file appears when its transaction starts).
      const got = sink.messages();
      assert.equal(gw.forwarder.counters.delivered, 3);
      for (const m of got) {
        // Postfix's Received header says how its smtpd got the mail: ESMTPS = over TLS.
        assert.match(m.body.toString('latin1'), /^Received: from [^\n]*\n\tby postfix\.test \(Postfix\) with ESMTPS/, 'received over TLS');
      }
      assert.match(pf.log(), /TLS connection established from localhost\[127\.0\.0\.1\]/);
      const [target] = gw.forwarder.listTargets();
      assert.equal(target?.capabilities?.startTls, true);
      assert.equal(target?.state, 'ACTIVE');
    } finally {
      await gw.stop();
    }
  } finally {
    await pf.stop();
    await sink.stop();
  }
});
