// POP3 maildrop locks across nodes (maildrop-locks.ts) on the real PostgreSQL: one hold per
// mailbox over every node, released at the session's end, run out after the lease when the
// holding node stops renewing (killed), forgotten at once when the same node restarts, and a
// holder that can no longer renew gives its holds up before anyone else can take them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../testing/clock.js';
import { needPostgres, type TestDatabase } from '../../testing/pg.js';
import { PgMaildropLocks } from './maildrop-locks.js';
import { migrate } from './migrations.js';

async function setup(tdb: TestDatabase): Promise<(node: string, clock?: FakeClock) => PgMaildropLocks> {
  await migrate(tdb.pool());
  return (node, clock = new FakeClock()) => new PgMaildropLocks(tdb.pool({ applicationName: node }), { node, leaseSeconds: 30, heartbeatMs: 10_000, clock });
}

test('one hold per mailbox across nodes; released at the end of the session; other mailboxes are free', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const make = await setup(tdb);
  const a = make('a');
  const b = make('b');
  await a.start();
  await b.start();
  const lostA: string[] = [];
  const ha = await a.acquire('alice', () => lostA.push('alice'));
  assert.ok(ha !== undefined);
  assert.equal(await b.acquire('alice', () => undefined), undefined, 'held on node a');
  assert.equal(await a.acquire('alice', () => undefined), undefined, 'and for a second session on a');
  const hb = await b.acquire('bob', () => undefined);
  assert.ok(hb !== undefined, 'another mailbox is free');
  assert.equal(await ha.held(), true);
  await ha.release();
  const again = await b.acquire('alice', () => undefined);
  assert.ok(again !== undefined, 'free once released');
  assert.equal(await ha.held(), false, 'the old hold is not the new one');
  assert.deepEqual(lostA, []);
  assert.deepEqual(b.heldMailboxes().sort(), ['alice', 'bob']);
});

test('a killed node\'s hold runs out after the lease and is taken; its renewal then reports it lost; a restart forgets its own rows at once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const make = await setup(tdb);
  const db = tdb.pool();
  const a = make('a');
  const b = make('b');
  await a.start();
  await b.start();
  const lost: string[] = [];
  const ha = await a.acquire('carol', () => lost.push('carol'));
  assert.ok(ha);
  assert.equal(await b.acquire('carol', () => undefined), undefined);
  // The lease runs out (no heartbeat from a, as after kill -9): database time moves past it.
  await db.query(`UPDATE pop3_locks SET expires_at = now() - interval '1 second' WHERE mailbox = 'carol'`);
  const hb = await b.acquire('carol', () => undefined);
  assert.ok(hb !== undefined, 'taken over after the lease');
  await a.renew();
  assert.deepEqual(lost, ['carol'], 'the old holder learns at its next heartbeat and ends its session');
  assert.equal(await ha.held(), false, 'and its commit is refused');

  // Node a restarts (same name): rows of its previous life go at once, not after the lease.
  const dHold = await a.acquire('dave', () => undefined);
  assert.ok(dHold);
  const a2 = make('a');
  await a2.start();
  assert.ok(await b.acquire('dave', () => undefined), 'a restarted node releases what its previous life held');
});

test('a node that cannot renew gives its holds up at LeaseTime − Heartbeat, before another node can take them', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const clock = new FakeClock();
  const pool = tdb.pool({ applicationName: 'a' });
  const errors: unknown[] = [];
  const a = new PgMaildropLocks(pool, { node: 'a', leaseSeconds: 30, heartbeatMs: 10_000, clock, onError: (e) => errors.push(e) });
  await a.start();
  const lost: string[] = [];
  assert.ok(await a.acquire('erin', () => lost.push('erin')));
  await pool.close(); // the database is gone for this node: every renewal fails
  await a.renew();
  assert.equal(errors.length, 1);
  assert.deepEqual(lost, [], 'one failed renewal loses nothing');
  clock.advance(19_999);
  assert.deepEqual(lost, []);
  clock.advance(1);
  assert.deepEqual(lost, ['erin'], 'given up at 30 − 10 s without a renewal');
  await a.stop();
});
