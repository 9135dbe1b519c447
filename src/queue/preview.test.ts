// previewSpoolFile(): what `queue show` says of a spool file no task has read yet — a batch file
// parsed as a task would, bounded; a message entry's envelope and headers. Read-only: the file is
// unchanged afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { systemClock } from '../core/index.js';
import { parseMailbox } from '../core/address.js';
import { enqueueMessage } from '../spool/enqueue.js';
import { submitToSpool } from '../spool/submit.js';
import { tempDir } from '../testing/peers.js';
import { writeConfig } from '../testing/gateway.js';
import { PREVIEW_BYTES, PREVIEW_MESSAGES, previewSpoolFile } from './preview.js';

function batch(n: number, bodyLines = 1): string {
  let text = 'HELO JOBHOST\r\n';
  for (let i = 1; i <= n; i++) {
    text += `MAIL FROM:<job@corp.test>\r\nRCPT TO:<r${i}@remote.test>\r\nRCPT TO:<bad address>\r\nDATA\r\nSubject: P ${i}\r\n\r\n${'body line\r\n'.repeat(bodyLines)}.\r\n`;
  }
  return text + 'QUIT\r\n';
}

test('a batch file: each message\'s envelope and headers, the problems, nothing changed', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const e = await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(batch(2), 'latin1'), attrs: { jobName: 'PJOB' } });
  const before = readFileSync(e.path);
  const p = await previewSpoolFile(e, config, systemClock);
  assert.deepEqual(p.messages.map((m) => [m.messageNo, m.envelope.recipients.map((r) => r.mailbox.local)]), [[1, ['r1']], [2, ['r2']]]);
  assert.match(p.messages[1]!.headers, /^Subject: P 2\r$/m);
  assert.equal(p.problems.length, 2, 'the refused recipient of each message');
  assert.match(p.problems[0]!, /^record \d+: 5\d\d /);
  assert.equal(p.truncated, false);
  assert.deepEqual(readFileSync(e.path), before, 'read-only');
});

test('bounded: a file longer than PREVIEW_BYTES is read only that far, at most PREVIEW_MESSAGES shown', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const big = batch(PREVIEW_MESSAGES * 3, Math.ceil(PREVIEW_BYTES / (PREVIEW_MESSAGES * 20)));
  assert.ok(big.length > PREVIEW_BYTES);
  const e = await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(big, 'latin1'), attrs: { jobName: 'PJOB' } });
  const p = await previewSpoolFile(e, config, systemClock);
  assert.equal(p.truncated, true);
  assert.ok(p.messages.length <= PREVIEW_MESSAGES && p.messages.length > 0);
});

test('a message entry: its envelope and the header section of its data', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const mb = parseMailbox('x@remote.test');
  assert.ok(mb.ok);
  const e = await enqueueMessage({
    root: config.spool.directory, writer: config.extWrtName, envelope: { from: { kind: 'null' }, recipients: [{ mailbox: mb.value }], requireTls: false },
    data: Buffer.from('Subject: M\r\nX: 1\r\n\r\nbody\r\n'), origin: { kind: 'notification' }, jobName: 'SGNOTIFY',
  });
  const p = await previewSpoolFile(e, config, systemClock);
  assert.equal(p.messages.length, 1);
  assert.equal(p.messages[0]!.headers, 'Subject: M\r\nX: 1\r\n');
  assert.equal(p.messages[0]!.envelope.from.kind, 'null');
});
