// The pool's limits on the real PostgreSQL: a statement running past StatementTimeout is cancelled
// by the server; the schema option keeps each pool in its schema; URLs are shown without their
// password; and a LISTEN connection cut by the server comes back by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needPostgres } from '../../testing/pg.js';
import { migrate } from './migrations.js';
import { redactUrl } from './pool.js';
import { PgQueueStore } from './queue.js';

test('a statement longer than the statement timeout is cancelled by the server (57014), and the pool stays usable', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool({ statementTimeoutMs: 200, poolSize: 1 });
  await assert.rejects(db.query('SELECT pg_sleep(30)'), (e: unknown) => (e as { code?: string }).code === '57014');
  const r = await db.query<{ one: number }>('SELECT 1 AS one');
  assert.equal(r.rows[0]?.one, 1);
  const inTx = db.transaction(async (c) => { await c.query('SELECT pg_sleep(30)'); });
  await assert.rejects(inTx, (e: unknown) => (e as { code?: string }).code === '57014');
  assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the rolled-back connection is usable or replaced');
});

test('the pool works in its own schema', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  const r = await db.query<{ s: string }>('SELECT current_schema() AS s');
  assert.equal(r.rows[0]?.s, tdb.schema);
});

test('redactUrl hides the password and keeps the rest', () => {
  assert.equal(redactUrl('postgres://sg:s3cr%2Ft@db.example.test:5433/mail?sslmode=require'), 'postgres://sg:***@db.example.test:5433/mail?sslmode=require');
  assert.equal(redactUrl('postgres://sg@db.example.test/mail'), 'postgres://sg@db.example.test/mail');
  assert.equal(redactUrl('not a url'), '(unparsable URL)');
});

test('a LISTEN connection the server cuts reconnects by itself and wakes the node once it is back', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const b = new PgQueueStore(tdb.pool({ applicationName: 'listener-b' }), { node: 'b', leaseSeconds: 60, reconnectMs: 50 });
  const a = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60 });
  const waiters: (() => void)[] = [];
  const nextWake = (): Promise<void> => new Promise((r) => { waiters.push(r); });
  const stop = await b.subscribe('CSSMTP', () => { waiters.shift()?.(); });
  t.after(stop);

  const back = nextWake();
  // The same role may end its own sessions (no superuser needed): cut the LISTEN connection.
  const cut = await db.query<{ ok: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'listener-b' AND query LIKE 'LISTEN%'`,
  );
  assert.deepEqual(cut.rows.map((r) => r.ok), [true]);
  await back; // the wake-up after reconnecting (notifications may have been missed meanwhile)

  const woke = nextWake();
  await a.enqueueMessage('CSSMTP', {}, Buffer.from('x\r\n'));
  await woke;
});

test('a transaction whose connection the server cuts between two statements rejects, and the process does not crash', async (t) => {
  // Seen in the database outage test (test/cluster/outage.test.ts): a checked-out connection
  // has no 'error' listener of the pool's, so the server's "terminating connection" (57P01)
  // arriving while the transaction awaited something else was an uncaught 'error' event.
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool({ poolSize: 1 });
  const killer = tdb.pool({ poolSize: 1 });
  const inTx = db.transaction(async (c) => {
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const gone = new Promise<void>((r) => c.once('end', () => r()));
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    await gone; // the connection is closed while no statement of it runs
    await c.query('SELECT 1');
  });
  await assert.rejects(inTx);
  assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the pool replaced the connection');
});

test('a checked-out connection the server cuts outside any statement does not crash the process', async (t) => {
  // CI: a node of the outage test ended on an uncaught 'error' (57P01) of a pg Client whose
  // connection was checked out with no statement running and no listener of pg-pool's (it has
  // one only while a client is idle or inside pool.query). Every client of PgPool now keeps an
  // 'error' listener for life. Fault injection: the raw pg-pool client, outside transaction().
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool({ poolSize: 1 });
  const killer = tdb.pool({ poolSize: 1 });
  const raw = (db as unknown as { pool: { connect(): Promise<import('pg').PoolClient> } }).pool;
  const c = await raw.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const gone = new Promise<void>((r) => c.once('end', () => r()));
  await killer.query('SELECT pg_terminate_backend($1)', [pid]);
  await gone; // without the listener, the 'error' before this 'end' is uncaught and ends the test process
  c.release(new Error('cut'));
  assert.ok(db.lastError !== undefined, 'the error is kept for the health report');
  assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the pool opens a new connection');
});
