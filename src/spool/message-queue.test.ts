// The message queue port (message-queue.ts) on the shared queue's SQLite implementation (the same
// QueueStore contract as PostgreSQL's, no server needed): a release's keyed copy is written once
// across a retry, a batch of notifications is one entry with its parts, a store that fails is
// QueueUnavailableError (the receiver's 451), and the local implementation keeps enqueue.ts's protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Envelope } from '../core/envelope.js';
import { tempDir } from '../testing/peers.js';
import { SqliteQueueStore } from '../store/sqlite/queue.js';
import { LocalMessageQueue, QueueUnavailableError, StoreMessageQueue, envelopeOfAttributes } from './message-queue.js';
import { spoolLayout } from './submit.js';

const envelope = (to: string): Envelope => ({ from: { kind: 'mailbox', mailbox: { local: 's', domain: 'x.test' } }, recipients: [{ mailbox: { local: to, domain: 'y.test' } }], requireTls: false });
const origin = { kind: 'receiver', client: '127.0.0.1', helo: 'c.test', auth: null, tls: false, session: 's1' } as const;

test('shared queue: a keyed write (a release retried after a crash) is stored once; beforeRename gets the entry id after the commit', async (t) => {
  const store = new SqliteQueueStore(join(tempDir(t), 'q.db'), { node: 'a', leaseSeconds: 30 });
  t.after(() => store.close());
  const q = new StoreMessageQueue(store, () => ({ writer: 'W', hostName: 'gw.test' }));
  const recorded: string[] = [];
  const mail = { envelope: envelope('r'), data: Buffer.from('Subject: kept\r\n\r\nx\r\n'), origin, jobName: 'RECEIVER', key: 'release:q1', beforeRename: async (id: string) => { recorded.push(id); } };
  const one = await q.enqueue(mail);
  const two = await q.enqueue(mail);
  assert.equal(one.id, two.id);
  assert.deepEqual(recorded, [one.id, one.id]);
  assert.equal(await q.commit(one.id), false, 'visible from its commit on: nothing to publish');
  const claimed = await store.claim('W', 5);
  assert.equal(claimed.length, 1, 'one entry');
  const env = envelopeOfAttributes(claimed[0]!.attributes);
  assert.ok(env.ok);
  assert.equal(env.value.origin.kind, 'receiver');
  assert.equal(claimed[0]!.attributes.jobName, 'RECEIVER');
});

test('shared queue: notifications written together are one entry with their parts; a failing store is QueueUnavailableError', async (t) => {
  const store = new SqliteQueueStore(join(tempDir(t), 'q.db'), { node: 'a', leaseSeconds: 30 });
  const q = new StoreMessageQueue(store, () => ({ writer: 'W', hostName: 'gw.test' }));
  const a = Buffer.from('Subject: dsn a\r\n\r\na\r\n');
  const b = Buffer.from('Subject: dsn b\r\n\r\nbb\r\n');
  const e = await q.enqueueNotifications([{ envelope: envelope('a'), data: a }, { envelope: envelope('b'), data: b }]);
  assert.equal(e.size, a.length + b.length);
  const [c] = await store.claim('W', 5);
  const env = envelopeOfAttributes(c!.attributes);
  assert.ok(env.ok);
  assert.deepEqual(env.value.parts?.map((p) => p.octets), [a.length, b.length]);
  assert.equal(env.value.origin.kind, 'notification');
  await store.close();
  // The database gone: the producer sees one error code, which the receiver answers with 451.
  await assert.rejects(q.enqueue({ envelope: envelope('r'), data: a, origin }), (err: unknown) => err instanceof QueueUnavailableError && err.code === 'ERR_QUEUE_UNAVAILABLE');
});

test('local: an entry in incoming/ with its envelope; commit() of a published entry changes nothing', async (t) => {
  const root = join(tempDir(t), 'spool');
  const q = new LocalMessageQueue(() => ({ root, writer: 'W', hostName: 'gw.test' }));
  const l = spoolLayout(root, 'W');
  const e = await q.enqueue({ envelope: envelope('r'), data: Buffer.from('x\r\n'), origin, jobName: 'RECEIVER' });
  assert.ok(existsSync(join(l.incoming, e.id, 'envelope.json')));
  assert.equal(await q.commit(e.id), false, 'already published');
});
