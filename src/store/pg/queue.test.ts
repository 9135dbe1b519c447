// The shared work queue on the real PostgreSQL 15 (testing/pg.ts): arrival by file identity,
// byte-exact chunked storage, claiming with SKIP LOCKED from several pools, leases, heartbeat,
// takeover resuming from the checkpoint, fencing of the old holder, LISTEN/NOTIFY wake-ups.
// The child-process cases (several processes, kill -9) are in test/cluster/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { needPostgres, type TestDatabase } from '../../testing/pg.js';
import { arriveSpoolFile, CHUNK_BYTES, LeaseLostError, type ClaimedEntry } from '../queue-store.js';
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

async function readAll(q: PgQueueStore, id: string): Promise<{ bytes: Buffer; pieces: number; largest: number }> {
  const parts: Buffer[] = [];
  let largest = 0;
  for await (const b of q.read(id)) { parts.push(b); largest = Math.max(largest, b.length); }
  return { bytes: Buffer.concat(parts), pieces: parts.length, largest };
}

async function count(db: PgPool, table: string): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r.rows[0]!.n);
}

test('a spool file is stored byte-exact in chunks with its attributes, then removed; the same file twice is stored once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const a = node(tdb, 'a');
  const dir = tempDir(t);
  const path = join(dir, 'JOB00042.spool');
  const data = randomBytes(2 * CHUNK_BYTES + 1234);
  writeFileSync(path, data);
  const attrs = { user: 'PAYROLL', uid: 1001, jobName: 'PAYRUN' };

  // A crash between the commit and the unlink: the file is still there and is stored again.
  const first = await a.storeSpoolFile(W, path, attrs);
  assert.equal(first.stored, true);
  const again = await arriveSpoolFile(a, W, path, attrs);
  assert.deepEqual(again, { stored: false, entryId: first.entryId, reason: 'duplicate' });
  assert.equal(existsSync(path), false, 'the duplicate is removed');
  assert.equal(await count(db, 'queue_entries'), 1);

  const got = await readAll(a, first.entryId);
  assert.ok(got.bytes.equals(data));
  assert.equal(got.pieces, 3);
  assert.ok(got.largest <= CHUNK_BYTES);
  const [c] = await a.claim(W, 10);
  assert.equal(c?.kind, 'spool');
  assert.deepEqual(c?.attributes, attrs);
  assert.equal(c?.size, data.length);
  assert.equal(c?.arrivedNode, 'a');
});

test('a new file at the same path (a job rerun with the same bytes) is new mail, not a duplicate', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const a = node(tdb, 'a');
  const dir = tempDir(t);
  const path = join(dir, 'RERUN.spool');
  writeFileSync(path, 'HELO x\r\n');
  const one = await arriveSpoolFile(a, W, path, {});
  writeFileSync(path, 'HELO x\r\n');
  utimesSync(path, new Date(Date.now() + 5000), new Date(Date.now() + 5000)); // a later write
  const two = await arriveSpoolFile(a, W, path, {});
  assert.equal(one.stored && two.stored, true);
  assert.notEqual(one.entryId, two.entryId);
  assert.equal(await count(db, 'queue_entries'), 2);
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

test('a message entry streams its body in chunks and is claimed like a spool entry', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await setup(tdb);
  const a = node(tdb, 'a');
  const body = randomBytes(CHUNK_BYTES + 10);
  async function* pieces(): AsyncIterable<Buffer> { yield body.subarray(0, 100); yield body.subarray(100); }
  const id = await a.enqueueMessage(W, { from: 'a@example.com', to: ['b@example.org'] }, pieces());
  assert.ok((await readAll(a, id)).bytes.equals(body));
  const [c] = await a.claim(W, 5);
  assert.equal(c?.kind, 'message');
  assert.deepEqual(c?.attributes, { from: 'a@example.com', to: ['b@example.org'] });
  assert.deepEqual(await a.claim('OTHER', 5), [], 'another writer (another logical instance) does not see it');
});

test('claimers on separate pools never claim the same entry, and together claim every entry', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await setup(tdb);
  const a = node(tdb, 'a');
  const total = 150;
  for (let i = 0; i < total; i++) await a.enqueueMessage(W, { i }, Buffer.from(`message ${i}\r\n`));
  const claimers = ['n1', 'n2', 'n3', 'n4'].map((n) => node(tdb, n));
  const got = await Promise.all(claimers.map(async (q) => {
    const mine: ClaimedEntry[] = [];
    for (;;) {
      const batch = await q.claim(W, 3);
      if (batch.length === 0) return mine;
      mine.push(...batch);
    }
  }));
  const ids = got.flat().map((c) => c.id);
  assert.equal(ids.length, total);
  assert.equal(new Set(ids).size, total, 'no entry claimed twice');
  for (const c of got.flat()) assert.equal(c.takenOverFrom, null);
});

test('an expired lease is taken over; the checkpoint keeps finished recipients; the old holder is fenced off', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const a = node(tdb, 'a');
  const b = node(tdb, 'b');
  await a.enqueueMessage(W, { to: ['x@example.org', 'y@example.org', 'z@example.org'] }, Buffer.from('msg\r\n'));
  const [ca] = await a.claim(W, 1);
  assert.ok(ca);
  assert.deepEqual(await b.claim(W, 1), [], 'a live lease is not claimable');

  // a sends to x (accepted) and y (failed for good) and message 1 of 2 is finished, then a stops.
  await a.markRecipient(ca.lease, 2, { address: 'x@example.org', outcome: 'accepted' });
  await a.markRecipient(ca.lease, 2, { address: 'y@example.org', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } });
  await a.markMessage(ca.lease, 1, 'delivered');
  // Time passes without a heartbeat from a: its lease runs out (database time).
  await db.query(`UPDATE queue_entries SET lease_expires = now() - interval '1 second' WHERE id = $1`, [ca.id]);

  const [cb] = await b.claim(W, 1);
  assert.ok(cb);
  assert.equal(cb.id, ca.id);
  assert.equal(cb.takenOverFrom, 'a');
  assert.notEqual(cb.lease.token, ca.lease.token);
  const cp = await b.loadCheckpoint(cb.id);
  assert.deepEqual([...cp.messages], [[1, 'delivered']]);
  assert.deepEqual(cp.recipients.get(2)?.get('x@example.org'), { address: 'x@example.org', outcome: 'accepted' });
  assert.deepEqual(cp.recipients.get(2)?.get('y@example.org'), { address: 'y@example.org', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } });
  assert.equal(cp.recipients.get(2)?.has('z@example.org'), false, 'z is still to send');

  // a comes back (a long pause, a partition): every write about the entry is refused.
  await assert.rejects(a.markRecipient(ca.lease, 2, { address: 'z@example.org', outcome: 'accepted' }), LeaseLostError);
  await assert.rejects(a.markMessage(ca.lease, 2, 'delivered'), LeaseLostError);
  await assert.rejects(a.release(ca.lease), LeaseLostError);
  await assert.rejects(a.complete(ca.lease), LeaseLostError);
  assert.deepEqual((await a.heartbeat()).held, [], 'a no longer holds it');
  assert.equal((await b.loadCheckpoint(cb.id)).recipients.get(2)?.has('z@example.org'), false);

  await b.markRecipient(cb.lease, 2, { address: 'z@example.org', outcome: 'accepted' });
  await b.complete(cb.lease);
  for (const table of ['queue_entries', 'queue_chunks', 'checkpoint_messages', 'checkpoint_recipients']) assert.equal(await count(db, table), 0, table);
});

test('the heartbeat renews the node\'s leases (also one that ran out but was not taken) and records the node', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = await setup(tdb);
  const a = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60, address: '192.0.2.1', version: '0.1.0' });
  const b = node(tdb, 'b');
  await a.enqueueMessage(W, {}, Buffer.from('1\r\n'));
  await a.enqueueMessage(W, {}, Buffer.from('2\r\n'));
  const mine = await a.claim(W, 2);
  await db.query(`UPDATE queue_entries SET lease_expires = now() - interval '1 second'`);
  const hb = await a.heartbeat();
  assert.deepEqual(hb.held.map((l) => [l.entryId, l.token]).sort(), mine.map((c) => [c.id, c.lease.token]).sort());
  const left = await db.query<{ s: number }>('SELECT min(extract(epoch FROM lease_expires - now()))::float AS s FROM queue_entries');
  assert.ok(left.rows[0]!.s > 30, `renewed for the lease time (${left.rows[0]!.s}s left)`);
  assert.deepEqual(await b.claim(W, 5), [], 'renewed leases are not claimable');
  const n = await db.query('SELECT name, address, version FROM nodes');
  assert.deepEqual(n.rows, [{ name: 'a', address: '192.0.2.1', version: '0.1.0' }]);
});

test('release: due now is claimable again (an attempt counted); a later retry is not due yet', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await setup(tdb);
  const a = node(tdb, 'a');
  const b = node(tdb, 'b');
  await a.enqueueMessage(W, { n: 1 }, Buffer.from('1\r\n'));
  await a.enqueueMessage(W, { n: 2 }, Buffer.from('2\r\n'));
  const [one, two] = await a.claim(W, 2);
  assert.ok(one && two);
  await a.release(one.lease, { attempted: true });
  await a.release(two.lease, { retryAt: new Date(Date.now() + 3_600_000), attempted: true });
  const again = await b.claim(W, 5);
  assert.deepEqual(again.map((c) => [c.id, c.attempts, c.takenOverFrom]), [[one.id, 1, null]]);
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
