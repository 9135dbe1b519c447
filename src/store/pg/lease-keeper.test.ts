// The heartbeat of a node's leases (store/lease-keeper.ts) over the real PostgreSQL queue: a lease
// taken over is reported at the next renewal; with the database gone the keeper gives every
// lease up one heartbeat before it could run out. Time is a FakeClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../testing/clock.js';
import { needPostgres } from '../../testing/pg.js';
import { LeaseKeeper, type LeaseLoss } from '../lease-keeper.js';
import type { Lease } from '../queue-store.js';
import { migrate } from './migrations.js';
import { PgQueueStore } from './queue.js';

const W = 'CSSMTP';

test('a renewal reports the lease another node took over, and keeps renewing the others', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const a = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60 });
  const b = new PgQueueStore(tdb.pool(), { node: 'b', leaseSeconds: 60 });
  await a.enqueueMessage(W, {}, Buffer.from('1\r\n'));
  await a.enqueueMessage(W, {}, Buffer.from('2\r\n'));
  const lost: [string, LeaseLoss][] = [];
  const keeper = new LeaseKeeper(a, { heartbeatMs: 10_000, leaseMs: 60_000, clock: new FakeClock(), onLost: (l, why) => lost.push([l.entryId, why]) });
  const [one, two] = await a.claim(W, 2);
  assert.ok(one && two);
  keeper.track(one.lease);
  keeper.track(two.lease);
  await keeper.beat();
  assert.deepEqual(lost, []);

  await db.query(`UPDATE queue_entries SET lease_expires = now() - interval '1 second' WHERE id = $1`, [one.id]);
  const [taken] = await b.claim(W, 1);
  assert.equal(taken?.id, one.id);
  await keeper.beat();
  assert.deepEqual(lost, [[one.id, 'taken-over']]);
  assert.equal(keeper.size, 1);
  await keeper.beat();
  assert.deepEqual(lost, [[one.id, 'taken-over']], 'reported once');
});

test('with the database unreachable the keeper gives every lease up one heartbeat before the lease could run out', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const pool = tdb.pool();
  const a = new PgQueueStore(pool, { node: 'a', leaseSeconds: 30 });
  await a.enqueueMessage(W, {}, Buffer.from('1\r\n'));
  const [c] = await a.claim(W, 1);
  assert.ok(c);
  const clock = new FakeClock();
  const lost: [Lease, LeaseLoss][] = [];
  const errors: unknown[] = [];
  const keeper = new LeaseKeeper(a, { heartbeatMs: 10_000, leaseMs: 30_000, clock, onLost: (l, why) => lost.push([l, why]), onError: (e) => errors.push(e) });
  keeper.track(c.lease);
  keeper.start();
  t.after(() => keeper.stop());
  await pool.close(); // every renewal from now on fails

  clock.advance(10_000);
  await keeper.beat();
  assert.ok(errors.length >= 1, 'the failed renewal is reported');
  clock.advance(9_999);
  assert.equal(lost.length, 0, 'not before leaseMs - heartbeatMs');
  clock.advance(1);
  assert.deepEqual(lost.map(([l, why]) => [l.entryId, why]), [[c.id, 'given-up']]);
  assert.equal(keeper.size, 0);
});

test('a heartbeat more than half the lease is refused', () => {
  assert.throws(() => new LeaseKeeper({ heartbeat: () => Promise.resolve({ held: [] }) }, { heartbeatMs: 20_000, leaseMs: 30_000, onLost: () => undefined }), RangeError);
});
