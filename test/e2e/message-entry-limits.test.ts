// A message entry the forwarder will not read whole: over the message entry limit (only a broken
// or hostile local producer writes one; the receiver and the submission tools refuse bigger mail
// before they queue). It is reported and held like a bad batch file, never sent, never lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { disposedJob, runGateway, writeConfig } from '../../src/testing/gateway.js';
import { enqueueMessage } from '../../src/spool/enqueue.js';

test('a message entry over the limit is reported (552 5.3.4) and held; a message entry at the limit is sent', async (t) => {
  const srv = await FakeSmtpServer.start();
  t.after(() => srv.close());
  const dir = tempDir(t);
  // JESMsgSize 1 (KB) and no receiver: the message entry limit is 1,024 octets.
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }\nJESMsgSize 1\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const envelope = { from: { kind: 'mailbox' as const, mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [{ mailbox: { local: 'a', domain: 'far.test' } }], requireTls: false };
  const head = Buffer.from('Subject: limit\r\n\r\n');
  const fits = Buffer.concat([head, Buffer.alloc(1024 - head.length - 2, 0x61), Buffer.from('\r\n')]);
  assert.equal(fits.length, 1024);
  await enqueueMessage({ root: config.spool.directory, writer: config.extWrtName, envelope, data: Buffer.concat([fits, Buffer.from('x')]), origin: { kind: 'submission', tool: 'sendmail' }, jobName: 'BIGJOB' });
  await enqueueMessage({ root: config.spool.directory, writer: config.extWrtName, envelope, data: fits, origin: { kind: 'submission', tool: 'sendmail' }, jobName: 'FITJOB' });
  // The end of each entry through the gateway (its SPOOL record, the held files and their reports).
  assert.deepEqual(await disposedJob(gw, 'FITJOB'), { disposition: 'finished', held: false, report: '' }, 'the entry at the limit is sent and finished');
  const big = await disposedJob(gw, 'BIGJOB');
  assert.equal(big.held, true, 'the big entry is held');
  assert.match(big.report, /552 5\.3\.4 message entry is 1025 octets, over the limit of 1024/);
  assert.equal(srv.messages.length, 1);
  assert.ok(srv.messages[0]!.data.equals(fits), 'sent byte-exact');
});
