import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '../log/index.js';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import { ExtendedRetry } from './extended.js';
import type { WorkItem } from './lifecycle.js';
import { MailDirectory } from './mail-directory.js';

function item(lastReply: WorkItem['lastReply']): WorkItem {
  const rcpt = { mailbox: { local: 'a', domain: 'x.test' } };
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: 1, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [rcpt], requireTls: false },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'JOB', jobId: 'J1', originUser: 'u' },
    arrival: new Date(0),
    pending: [rcpt],
    failed: [],
    attempts: 3,
    ...(lastReply === undefined ? {} : { lastReply }),
  };
}

test('the last reply travels structured through the mail directory (no text parsed back)', async (t) => {
  const clock = new FakeClock();
  const md = await MailDirectory.open(join(tempDir(t), 'ext'));
  const ext = new ExtendedRetry(md, clock, Logger.silent());
  const reply = { code: 452, enhanced: '4.3.1', text: 'insufficient system storage' };
  const id = await ext.put(item(reply), new Date(clock.now()));
  const none = await ext.put(item(undefined), new Date(clock.now()));
  const due = Object.fromEntries((await ext.due(new Date(clock.now()))).map((r) => [r.item.origin.kind === 'extended' ? r.item.origin.id : '', r.item]));
  assert.deepEqual(due[id]!.lastReply, reply);
  assert.equal(due[none]!.lastReply, undefined);
  await ext.update(id, { pending: due[id]!.pending, attempts: 4, nextAttempt: new Date(clock.now()), lastReply: { code: 421, text: 'bye' } });
  const again = (await ext.due(new Date(clock.now()))).find((r) => r.item.origin.kind === 'extended' && r.item.origin.id === id);
  assert.deepEqual(again?.item.lastReply, { code: 421, text: 'bye' });
  assert.equal(again?.item.attempts, 4);
  // A record written by 0.1 (version 1, reply as text) comes back with the same structure.
  const path = join(md.dir, `${id}.json`);
  const ctl = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify({ ...ctl, version: 1, lastReply: '550 5.1.1 no such user' }));
  const old = (await ext.due(new Date(clock.now()))).find((r) => r.item.origin.kind === 'extended' && r.item.origin.id === id);
  assert.deepEqual(old?.item.lastReply, { code: 550, enhanced: '5.1.1', text: 'no such user' });
});
