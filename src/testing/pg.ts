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
  t.after(async () => {
    for (const p of pools) await p.close().catch(() => undefined);
    if (process.env.KEEP_TMP) { console.error(`kept schema ${schema}`); return; }
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA "${schema}" CASCADE`);
    } finally {
      await c.end();
    }
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
