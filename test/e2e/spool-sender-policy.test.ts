// [S2] #15 item 5: SenderPolicy Own (the default) on spool files the gateway did not write, judged
// by the file's owner (SPEC.md §7): a file owned by uid 65534 (nobody) may send as
// nobody@<DefaultDomain or HostName> only. A message with another sender is never sent; it is a
// problem of the file — reported (Report Sysout) and held (BadSpoolDisp Hold) — while the
// file's other messages are delivered. Target: nodemailer's smtp-server, which records what it
// got. Before this change the forwarder sent the message as ceo@example.test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, readdirSync, renameSync } from 'node:fs';
import { chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { enqueueMessage } from '../../src/spool/enqueue.js';
import { submitToSpool } from '../../src/spool/submit.js';
import { dotStuff } from '../../src/smtp/protocol/dot-stuff.js';
import { needRoot, tempDir } from '../../src/testing/peers.js';
import { disposedJob, runGateway, until, writeConfig } from '../../src/testing/gateway.js';
import { startRelayTarget } from './relay-harness.js';

const NOBODY = 65534;

function batch(messages: readonly { from: string; tag: string }[]): Buffer {
  let text = 'HELO JOBHOST\r\n';
  for (const m of messages) {
    text += `MAIL FROM:<${m.from}>\r\nRCPT TO:<rcpt@remote.test>\r\nDATA\r\n`;
    text += dotStuff(Buffer.from(`From: ${m.from || 'nobody'}\r\nSubject: ${m.tag}\r\n\r\nbody of ${m.tag}\r\n`, 'latin1')).toString('latin1');
  }
  return Buffer.from(text + 'QUIT\r\n', 'latin1');
}

/** Builds an entry under a staging root, gives it (directory and files) to `uid`, then renames it into the live queue. */
async function arriveAs(uid: number, staging: string, incoming: string, build: (root: string) => Promise<{ id: string }>): Promise<string> {
  const { id } = await build(staging);
  const dir = join(staging, 'TESTW', 'incoming', id);
  for (const f of await readdir(dir)) await chown(join(dir, f), uid, uid);
  chownSync(dir, uid, uid);
  renameSync(dir, join(incoming, id));
  return id;
}

test('SenderPolicy Own: a spool file owned by uid 65534 cannot send as ceo@example.test; the message is reported and the file held, its own mail is sent', async (t) => {
  if (!needRoot(t, 'give spool files to uid 65534')) return;
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }\nBadSpoolDisp Hold\nReport Sysout\nSMF119 { SPOOL YES }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const writerDir = join(config.spool.directory, config.extWrtName);
  const incoming = join(writerDir, 'incoming');
  const staging = join(dir, 'staging');

  // A batch file (what `spoolgate submit` writes) and a message entry (what `sendmail` writes,
  // envelope.json included), both owned by nobody.
  await arriveAs(NOBODY, staging, incoming, (root) => submitToSpool({
    root, writer: 'TESTW', attrs: { jobName: 'NOBODYJB', recordFormat: 'text', encoding: 'ISO8859-1' },
    data: batch([{ from: 'ceo@example.test', tag: 'forged-1' }, { from: 'nobody@gw.test', tag: 'own-2' }, { from: '', tag: 'null-3' }, { from: 'NOBODY@gw.test', tag: 'forged-4' }]),
  }));
  await arriveAs(NOBODY, staging, incoming, (root) => enqueueMessage({
    root, writer: 'TESTW', origin: { kind: 'submission', tool: 'sendmail' }, jobName: 'NOBODYSM',
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'ceo', domain: 'example.test' } }, recipients: [{ mailbox: { local: 'rcpt', domain: 'remote.test' } }], requireTls: false },
    data: Buffer.from('From: ceo@example.test\r\nSubject: forged-5\r\n\r\nbody\r\n'),
  }));

  // The end of each entry through the gateway (its SPOOL record, the held files and their reports).
  const b = await disposedJob(gw, 'NOBODYJB');
  const m = await disposedJob(gw, 'NOBODYSM');
  assert.deepEqual([b.held, m.held], [true, true], 'both entries held');
  await target.waitFor(2);
  const subjects = target.mails.map((x) => /Subject: (\S+)/.exec(x.data.toString('latin1'))?.[1]).sort();
  assert.deepEqual(subjects, ['null-3', 'own-2'], 'only the owner\'s own sender and <> were sent');
  assert.deepEqual(target.mails.map((x) => x.from).sort(), ['', 'nobody@gw.test']);
  assert.match(b.report, /553 5\.7\.1 sender <ceo@example\.test> not allowed for spool file owner nobody \(uid 65534\): SenderPolicy Own allows only nobody@gw\.test/);
  assert.match(b.report, /553 5\.7\.1 sender <NOBODY@gw\.test> not allowed/);
  assert.match(m.report, /553 5\.7\.1 sender <ceo@example\.test> not allowed for spool file owner nobody/);
});

test('SenderPolicy Any: a spool file owned by uid 65534 may name any sender', async (t) => {
  if (!needRoot(t, 'give spool files to uid 65534')) return;
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }\nUsers { SenderPolicy Any }`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  const incoming = join(config.spool.directory, config.extWrtName, 'incoming');
  await arriveAs(NOBODY, join(dir, 'staging'), incoming, (root) => submitToSpool({
    root, writer: 'TESTW', attrs: { recordFormat: 'text', encoding: 'ISO8859-1' }, data: batch([{ from: 'ceo@example.test', tag: 'any-1' }]),
  }));
  await target.waitFor(1);
  assert.equal(target.mails[0]!.from, 'ceo@example.test');
  await until('file finished', () => readdirSync(incoming).length === 0, 30_000);
});
