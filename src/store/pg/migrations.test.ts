// Schema migrations against the real PostgreSQL 15 (testing/pg.ts): a fresh database, a re-run,
// an older version upgraded with its data, concurrent migrators, a newer database refused, and
// no superuser right used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needPostgres } from '../../testing/pg.js';
import { migrate, PG_MIGRATIONS, PG_SCHEMA_VERSION, requireCurrentSchema, schemaStatus, SchemaError } from './migrations.js';

async function tables(db: import('./pool.js').PgPool): Promise<string[]> {
  const r = await db.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1');
  return r.rows.map((x) => x.t);
}

test('the test role is not a superuser and cannot create databases (migrations need neither)', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  const r = await db.query<{ rolsuper: boolean; rolcreatedb: boolean }>('SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user');
  assert.deepEqual(r.rows[0], { rolsuper: false, rolcreatedb: false });
});

test('a fresh database is migrated to the latest version; a re-run changes nothing', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  const before = await schemaStatus(db);
  assert.equal(before.current, 0);
  assert.equal(before.pending.length, PG_MIGRATIONS.length);
  await assert.rejects(requireCurrentSchema(db), /version 0, this spoolgate needs \d+: run `spoolgate db migrate`/);

  assert.deepEqual(await migrate(db), PG_MIGRATIONS.map((m) => m.version));
  const after = await schemaStatus(db);
  assert.equal(after.current, PG_SCHEMA_VERSION);
  assert.deepEqual(after.pending, []);
  // Each version's tables (other versions add their own: a subset check, not the whole list).
  const have = await tables(db);
  for (const name of ['arrivals', 'checkpoint_messages', 'checkpoint_recipients', 'nodes', 'queue_chunks', 'queue_entries', 'spoolgate_schema',
    'mail_users', 'mail_aliases', 'mail_messages', 'mail_chunks', 'journal', 'pop3_locks', 'checkpoint_retries', 'extended_retry', 'node_status', 'control_requests', 'control_replies', 'accounting', 'dead_letter_chunks', 'dead_letters', 'http_tokens']) assert.ok(have.includes(name), `${name} in ${have.join(' ')}`);
  await requireCurrentSchema(db);

  assert.deepEqual(await migrate(db), []);
  assert.equal((await schemaStatus(db)).applied.length, PG_MIGRATIONS.length);
});

test('an older version is upgraded and keeps its rows', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  assert.deepEqual(await migrate(db, { target: 2 }), [1, 2]);
  assert.equal((await schemaStatus(db)).current, 2);
  assert.ok(!(await tables(db)).includes('checkpoint_messages'));
  const e = await db.query<{ id: string }>(`INSERT INTO queue_entries (writer, kind, arrived_node) VALUES ('CSSMTP', 'spool', 'a') RETURNING id`);
  const id = e.rows[0]!.id;

  assert.deepEqual(await migrate(db), PG_MIGRATIONS.filter((m) => m.version > 2).map((m) => m.version));
  const kept = await db.query('SELECT writer FROM queue_entries WHERE id = $1', [id]);
  assert.deepEqual(kept.rows, [{ writer: 'CSSMTP' }]);
  // The new version's tables work with the old rows.
  await db.query(`INSERT INTO checkpoint_messages (entry_id, no, outcome) VALUES ($1, 1, 'delivered')`, [id]);
  await db.query('DELETE FROM queue_entries WHERE id = $1', [id]);
  assert.equal((await db.query('SELECT 1 FROM checkpoint_messages')).rowCount, 0);
});

test('a schema that does not exist yet is created by the first migration (no superuser needed)', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const schema = `${tdb.schema}_new`;
  const db = tdb.pool({ schema });
  try {
    assert.deepEqual(await migrate(db), PG_MIGRATIONS.map((m) => m.version));
    const r = await db.query<{ owner: string; me: string }>(`SELECT pg_get_userbyid(nspowner) AS owner, current_user AS me FROM pg_namespace WHERE nspname = $1`, [schema]);
    assert.equal(r.rows[0]?.owner, r.rows[0]?.me, 'created, and owned by the store\'s own role');
    assert.equal((await schemaStatus(db)).current, PG_SCHEMA_VERSION);
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
});

test('concurrent migrators (two nodes upgraded at once) apply each version once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const [a, b, c] = [tdb.pool(), tdb.pool(), tdb.pool()];
  const runs = await Promise.all([migrate(a), migrate(b), migrate(c)]);
  assert.deepEqual(runs.flat().sort(), PG_MIGRATIONS.map((m) => m.version).sort());
  const r = await a.query<{ n: string }>('SELECT count(*) AS n FROM spoolgate_schema');
  assert.equal(Number(r.rows[0]!.n), PG_MIGRATIONS.length);
});

test('a database newer than this program is refused, not downgraded or used', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  await db.query(`INSERT INTO spoolgate_schema (version, name) VALUES ($1, 'from the future')`, [PG_SCHEMA_VERSION + 1]);
  await assert.rejects(requireCurrentSchema(db), (e: unknown) => e instanceof SchemaError && /newer than this spoolgate's/.test(e.message));
  await assert.rejects(migrate(db), SchemaError);
});

test('a failing migration leaves the database at the last whole version', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  const broken = [...PG_MIGRATIONS, { version: PG_SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT no_such_function();' }];
  await assert.rejects(migrate(db, { migrations: broken }), /no_such_function/);
  assert.equal((await schemaStatus(db)).current, PG_SCHEMA_VERSION);
  assert.ok(!(await tables(db)).includes('half'));
});
