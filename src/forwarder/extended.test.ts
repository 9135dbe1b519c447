import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '../log/index.js';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import { ExtendedRetry } from './extended.js';
import { FakeConnector, allWith as fakeAllWith } from '../testing/fake-connector.js';
import { Checkpoint } from './checkpoint.js';
import { Lifecycle, newCounters, type WorkItem } from './lifecycle.js';
import { MailDirectory } from './mail-directory.js';
import { Target } from './pool.js';
import { Router } from './router.js';
import type { TargetServerSpec } from './types.js';

const spec: TargetServerSpec = { targetIp: [], targetName: [], port: 25, connectLimit: 2, maxMsgSent: 0, messageSize: 524288, secure: false, tls: { caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }, auth: null, sourceIp: null };

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

// Issue #16 item 8 (seed, FLUSHRETRY,AGE=): the flushed mail of that age is tried once more, and
// what cannot be sent then is undeliverable; younger mail keeps its schedule.
test('FLUSHRETRY,AGE=: the flushed records are tried once more, then undeliverable; the others are rescheduled', async (t) => {
  const clock = new FakeClock();
  const md = await MailDirectory.open(join(tempDir(t), 'ext'));
  const ext = new ExtendedRetry(md, clock, Logger.silent());
  const day = 86_400_000;
  const old = await ext.put({ ...item(undefined), arrival: new Date(clock.now() - 3 * day) }, new Date(clock.now() + day));
  const young = await ext.put({ ...item(undefined), arrival: new Date(clock.now() - day / 2) }, new Date(clock.now() + day));
  assert.equal(await ext.makeDue(2 * day, new Date(clock.now())), 1);
  const due = await ext.due(new Date(clock.now()));
  assert.deepEqual(due.map((r) => r.item.origin.kind === 'extended' ? r.item.origin.id : ''), [old]);
  assert.equal(due[0]!.item.finalAttempt, true);
  // Through the lifecycle: the target defers; the flushed message becomes undeliverable at once.
  const connector = new FakeConnector();
  connector.scripts.set('192.0.2.1', { send: (m) => fakeAllWith(m, 'transient', 451) });
  const target = new Target({ address: '192.0.2.1', port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 1000, idleMs: 1000 });
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const undeliverable: WorkItem[] = [];
  const lifecycle = new Lifecycle({
    router: new Router([target], clock), checkpoint, clock, log: Logger.silent(), counters: newCounters(),
    undeliverable: { handle: async (i) => { undeliverable.push(i); return 'notified'; } },
    retry: () => ({ count: 5, intervalMs: 60_000 }),
    extended: () => ({ active: true, intervalMs: 1_800_000, ageMs: 5 * day, store: ext }),
  });
  assert.equal(await lifecycle.run(due[0]!.item), 'undeliverable');
  assert.match(undeliverable[0]!.failed[0]!.reply.text, /FLUSHRETRY,AGE=/);
  assert.deepEqual((await md.list()).records.map((r) => r.id), [young], 'the flushed record is gone, the young one stays');
  // The young record, when its time comes, is only rescheduled by the same deferral.
  clock.advance(day);
  const next = await ext.due(new Date(clock.now()));
  assert.equal(next[0]!.item.finalAttempt, undefined);
  assert.equal(await lifecycle.run(next[0]!.item), undefined, 'rescheduled, not final');
  await target.close(true);
});

test('oldestFirstAttempt: the arrival of the oldest record waiting (for the /metrics age gauge); none when empty', async (t) => {
  const clock = new FakeClock();
  const md = await MailDirectory.open(join(tempDir(t), 'ext'));
  const ext = new ExtendedRetry(md, clock, Logger.silent());
  assert.equal(await ext.oldestFirstAttempt(), undefined);
  const older = await ext.put({ ...item(undefined), arrival: new Date(5_000) }, new Date(clock.now()));
  await ext.put({ ...item(undefined), arrival: new Date(9_000) }, new Date(clock.now()));
  assert.deepEqual(await ext.oldestFirstAttempt(), new Date(5_000));
  await ext.remove(older);
  assert.deepEqual(await ext.oldestFirstAttempt(), new Date(9_000));
});
