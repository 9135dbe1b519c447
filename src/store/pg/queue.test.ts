// The shared work queue on the real PostgreSQL 15 (testing/pg.ts): the QueueStore contract that
// store/sqlite also keeps (testing/queue-contract.ts), and what only PostgreSQL does — concurrent
// arrivals on separate connections, leases on the database's clock, LISTEN/NOTIFY across nodes.
// The child-process cases (several processes, kill -9) are in test/cluster/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { needPostgres, type TestDatabase } from '../../testing/pg.js';
import { queueContract } from '../../testing/queue-contract.js';
import { CHUNK_BYTES } from '../queue-store.js';
import { migrate } from './migrations.js';
import type { PgPool } from './pool.js';
import { PgQueueStore } from './queue.js';

const W = 'CSSMTP';

async function setup(tdb: TestDatabase): Promise<PgPool> {
  const db = tdb.pool();
  await migrate(db);
  return db;
}

function node(tdb: TestDatabase, name: string, leaseSeconds = 60): PgQueueStore {
  return new PgQueueStore(tdb.pool({ applicationName: name }), { node: name, leaseSeconds });
}

async function count(db: PgPool, table: string): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r.rows[0]!.n);
}

queueContract({
  name: 'PostgreSQL',
  async setup(t) {
    const tdb = await needPostgres(t);
    if (!tdb) return undefined;
    const db = await setup(tdb);
    return {
      node: (name, leaseSeconds = 60) => node(tdb, name, leaseSeconds),
      // The lease runs out on the database's clock: set it into the past.
      expire: async (id) => { await db.query(`UPDATE queue_entries SET lease_expires = now() - interval '1 second' WHERE id = $1`, [id]); },
      due: async (id) => { await db.query(`UPDATE queue_entries SET next_attempt = now() - interval '1 second' WHERE id = $1`, [id]); },
      count: (table) => count(db, table),
    };
  },
});

test('concurrent arrivals of one file (two pools, same node) store it once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const dir = tempDir(t);
  const path = join(dir, 'RACE.spool');
  writeFileSync(path, randomBytes(CHUNK_BYTES * 2));
  const outs = await Promise.all([node(tdb, 'a').storeSpoolFile(W, path, {}), node(tdb, 'a').storeSpoolFile(W, path, {}), node(tdb, 'a').storeSpoolFile(W, path, {})]);
  assert.equal(outs.filter((o) => o.stored).length, 1);
  assert.equal(new Set(outs.map((o) => o.entryId)).size, 1);
  assert.equal(await count(db, 'queue_entries'), 1);
  assert.equal(await count(db, 'queue_chunks'), 2);
});

test('PostgreSQL: a renewal extends the lease by the lease time on the database clock; the node row carries address and version', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const a = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60, address: '192.0.2.1', version: '0.1.0' });
  const b = node(tdb, 'b');
  await a.enqueueMessage(W, {}, Buffer.from('1\r\n'));
  await a.enqueueMessage(W, {}, Buffer.from('2\r\n'));
  const mine = await a.claim(W, 2);
  await db.query(`UPDATE queue_entries SET lease_expires = now() - interval '1 second'`);
  const hb = await a.heartbeat(mine.map((c) => c.lease));
  assert.deepEqual(hb.held.map((l) => [l.entryId, l.token]).sort(), mine.map((c) => [c.id, c.lease.token]).sort());
  const left = await db.query<{ s: number }>('SELECT min(extract(epoch FROM lease_expires - now()))::float AS s FROM queue_entries');
  assert.ok(left.rows[0]!.s > 30, `renewed for the lease time (${left.rows[0]!.s}s left)`);
  assert.deepEqual(await b.claim(W, 5), [], 'renewed leases are not claimable');
  const n = await db.query('SELECT name, address, version FROM nodes');
  assert.deepEqual(n.rows, [{ name: 'a', address: '192.0.2.1', version: '0.1.0' }]);
});

test('LISTEN/NOTIFY wakes an idle node when another node stores work for its writer', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await setup(tdb);
  const a = node(tdb, 'a');
  const b = node(tdb, 'b');
  let wakes = 0;
  let woke!: () => void;
  const wake = new Promise<void>((r) => { woke = r; });
  const stop = await b.subscribe(W, () => { wakes++; woke(); });
  t.after(stop);
  // Notifications arrive in commit order: one for another writer first, which must not count.
  await a.enqueueMessage('OTHER', {}, Buffer.from('x\r\n'));
  await a.enqueueMessage(W, {}, Buffer.from('y\r\n'));
  await wake;
  assert.equal(wakes, 1);
  const [c] = await b.claim(W, 1);
  assert.ok(c);
});
