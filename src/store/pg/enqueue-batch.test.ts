// Group commit of message entries on the real PostgreSQL (enqueue-batch.ts): concurrent
// enqueueMessage calls share transactions — counted by the database itself, the distinct xmin
// (inserting transaction) of the stored rows — every caller resolves only with its entry stored,
// and a fault in a batch refuses all of its messages and stores none of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { needPostgres, type TestDatabase } from '../../testing/pg.js';
import { failQueueEntries, QUEUE_FAULT_REASON } from '../../testing/queue-fault.js';
import { CHUNK_BYTES, type StoredEntry } from '../queue-store.js';
import { migrate } from './migrations.js';
import type { PgPool } from './pool.js';
import { PgQueueStore } from './queue.js';

const W = 'CSSMTP';
const N = 20;

async function setup(tdb: TestDatabase): Promise<{ db: PgPool; store: PgQueueStore }> {
  const db = tdb.pool();
  await migrate(db);
  return { db, store: new PgQueueStore(tdb.pool({ applicationName: 'a' }), { node: 'a', leaseSeconds: 60 }) };
}

async function read(store: PgQueueStore, id: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of store.read(id)) parts.push(b);
  return Buffer.concat(parts);
}

test(`${N} concurrent message entries commit in fewer than ${N} transactions, each stored whole before its caller hears of it`, async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const { db, store } = await setup(tdb);
  // One of them spans chunks (CHUNK_BYTES + 1), to check the batch's chunk rows.
  const bodies = Array.from({ length: N }, (_, i) => randomBytes(i === 7 ? CHUNK_BYTES + 1 : 100 + i));
  const stored = await Promise.all(bodies.map((b, i) => store.enqueueMessage(W, { no: i }, b)));
  assert.equal(new Set(stored.map((s) => s.id)).size, N);
  for (const [i, s] of stored.entries()) assert.deepEqual(await read(store, s.id), bodies[i], `entry ${i}: the bytes as handed in`);
  const r = await db.query<{ n: number; x: number }>(`SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS x FROM queue_entries`);
  assert.equal(r.rows[0]!.n, N);
  assert.ok(r.rows[0]!.x < N, `${r.rows[0]!.x} transactions for ${N} concurrent messages: no group commit`);
  assert.equal(store.enqueueBatch.stats.batches, r.rows[0]!.x);
  assert.equal(store.enqueueBatch.stats.entries, N);
  // The batch's rows carry their own attributes and sizes.
  const rows = await db.query<{ no: number; size: string; chunks: number }>(`SELECT (attributes->>'no')::int AS no, size, chunks FROM queue_entries ORDER BY id`);
  for (const row of rows.rows) {
    assert.equal(Number(row.size), bodies[row.no]!.length);
    assert.equal(row.chunks, Math.ceil(bodies[row.no]!.length / CHUNK_BYTES));
  }
});

test('a batch is bounded: at most maxEntries messages and maxBytes of their bytes per transaction', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const store = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60, enqueueBatch: { maxEntries: 4, maxBytes: 1000 } });
  // 12 of 300 bytes: 3 fit in 1000 bytes; one of 2000 bytes goes alone, outside the batch.
  const all = [...Array.from({ length: 12 }, () => randomBytes(300)), randomBytes(2000)];
  await Promise.all(all.map((b, i) => store.enqueueMessage(W, { no: i }, b)));
  const r = await db.query<{ x: string; n: number; bytes: string }>(`SELECT xmin::text AS x, count(*)::int AS n, sum(size) AS bytes FROM queue_entries GROUP BY xmin::text`);
  assert.equal(r.rows.reduce((a, x) => a + x.n, 0), all.length);
  for (const g of r.rows) assert.ok(g.n <= 4 && (g.n === 1 || Number(g.bytes) <= 1000), `a transaction held ${g.n} entries of ${g.bytes} bytes`);
  assert.ok(store.enqueueBatch.stats.largest > 1, 'no batch at all');
});

test('a fault in a batch refuses every message of that batch and stores none of them; the next batches go on', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const { db, store } = await setup(tdb);
  // Every entry fails: all N refused, none stored, none acknowledged.
  const fault = await failQueueEntries(db, { all: true });
  const outs = await Promise.allSettled(Array.from({ length: N }, (_, i) => store.enqueueMessage(W, { no: i }, randomBytes(64))));
  assert.deepEqual(outs.map((o) => o.status), Array<string>(N).fill('rejected'));
  for (const o of outs) assert.match(String((o as PromiseRejectedResult).reason), /No space left on device/);
  assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries')).rows[0]!.n, 0);
  await fault.clear();

  // One poisoned message among N: the transaction holding it fails as a whole (its other
  // messages refused too, none of them stored), every other message is stored.
  const poison = await failQueueEntries(db);
  const poisoned = 10;
  const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => store.enqueueMessage(W, { no: i, poison: i === poisoned }, randomBytes(64))));
  await poison.clear();
  const refused = results.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
  const accepted = results.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [] as StoredEntry[]));
  assert.ok(refused.includes(poisoned));
  assert.ok(refused.length > 1, `only the poisoned message was refused (${refused.join(',')}): it did not share a transaction`);
  for (const i of refused) assert.match(String((results[i] as PromiseRejectedResult).reason), new RegExp(QUEUE_FAULT_REASON.slice(0, 20)));
  const rows = await db.query<{ id: string; no: number }>(`SELECT id::text AS id, (attributes->>'no')::int AS no FROM queue_entries`);
  assert.deepEqual(rows.rows.map((r) => r.no).sort((a, b) => a - b), results.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : [])), 'stored = acknowledged');
  assert.deepEqual(new Set(rows.rows.map((r) => r.id)), new Set(accepted.map((s) => s.id)));
  assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_chunks')).rows[0]!.n, accepted.length, 'no chunk of a refused message');
  // The group commit is not stuck after a failed batch.
  const after = await store.enqueueMessage(W, { no: 99 }, randomBytes(64));
  assert.ok(after.id);
});
