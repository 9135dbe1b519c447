// The real PostgreSQL the [P2] store tests run against: `.ci/run` starts the installed cluster
// and exports SPOOLGATE_TEST_PG_URL (scripts/start-postgres.sh). Without it a test skips with the
// reason on a developer's machine and FAILS when CI=true, as every other peer (peers.ts).
//
// Each test gets a fresh schema of its own in the test database (dropped afterwards unless
// KEEP_TMP is set), so tests can run side by side and each starts from an empty database.
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { PgPool, type PgOptions } from '../store/pg/pool.js';
import { findPeer, inCI } from './peers.js';

export const PG_URL_ENV = 'SPOOLGATE_TEST_PG_URL';

export interface TestDatabase {
  readonly url: string;
  /** The test's own schema (empty at first). */
  readonly schema: string;
  /** A new pool on the test's schema, closed after the test. */
  pool(opts?: Partial<PgOptions>): PgPool;
}

/**
 * The test database with a fresh schema, or undefined after skipping (developer machine) /
 * throws (CI) when PostgreSQL is not set up. Usage: `const db = await needPostgres(t); if (!db) return;`
 */
export async function needPostgres(t: TestContext): Promise<TestDatabase | undefined> {
  const url = process.env[PG_URL_ENV];
  if (url === undefined || url === '') {
    const installed = findPeer('postgres') !== undefined;
    const reason = installed
      ? `PostgreSQL is installed but ${PG_URL_ENV} is not set (run: export ${PG_URL_ENV}="$(sudo bash scripts/start-postgres.sh)")`
      : 'peer postgres is not installed (run: npm run peers; then scripts/start-postgres.sh)';
    if (inCI) throw new Error(`${reason}; CI=true requires it`);
    t.skip(reason);
    return undefined;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.end();
  }
  const pools: PgPool[] = [];
  // node:test runs a test's after hooks in the order they were added, and a hook that throws
  // skips the rest. This one is added first, so when the test failed, gateway nodes it started
  // may still be alive (their kill hooks come later) and hold locks in the schema: the drop must
  // neither wait for them forever nor throw (the kill hooks would not run, and the file would
  // hang until its timeout). See dropSchema.
  t.after(async () => {
    for (const p of pools) await p.close().catch(() => undefined);
    if (process.env.KEEP_TMP) { console.error(`kept schema ${schema}`); return; }
    await dropSchema(url, schema).catch((e: unknown) => {
      t.diagnostic(`schema ${schema} not dropped: ${String(e)}`);
    });
  });
  return {
    url,
    schema,
    pool(opts = {}): PgPool {
      const p = new PgPool({ url, poolSize: 4, statementTimeoutMs: 30_000, schema, applicationName: 'spoolgate-test', ...opts });
      pools.push(p);
      return p;
    },
  };
}

/**
 * Drops a test's schema. A session that still holds a lock in it (a node of a failed test, not yet
 * killed) is ended after `lock_timeout`, then the drop is tried again: bounded, never a hang.
 */
async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    await c.query("SET lock_timeout = '10s'");
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`DROP SCHEMA "${schema}" CASCADE`);
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
        await c.query(`SELECT pg_terminate_backend(l.pid) FROM pg_locks l
          JOIN pg_class k ON k.oid = l.relation JOIN pg_namespace n ON n.oid = k.relnamespace
          WHERE n.nspname = $1 AND l.pid <> pg_backend_pid() GROUP BY l.pid`, [schema]);
      }
    }
  } finally {
    await c.end();
  }
}
