// Store Tls against the real PostgreSQL, which scripts/start-postgres.sh makes serve a certificate
// of its own test CA: TLS with the CA verifies and connects; verifying without the CA refuses;
// TlsVerify NO connects unverified; Tls NO stays in plain text. Also: the password from
// PasswordFile (first line) or the environment, and an unreadable file named in the error.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inCI, tempDir } from '../../testing/peers.js';
import { needPostgres } from '../../testing/pg.js';
import { pgOptions, PASSWORD_ENV, type PgStoreSettings } from './index.js';
import { PgPool } from './pool.js';

const CA = process.env.SPOOLGATE_TEST_PG_CA ?? '/var/lib/postgresql/spoolgate-test/tls/ca.pem';

function needCa(t: TestContext): boolean {
  if (existsSync(CA)) return true;
  const reason = `the test database CA ${CA} is missing or unreadable (scripts/start-postgres.sh makes it)`;
  if (inCI) throw new Error(`${reason}; CI=true requires it`);
  t.skip(reason);
  return false;
}

function settings(url: string, schema: string, over: Partial<PgStoreSettings>): PgStoreSettings {
  return { url, passwordFile: null, node: 'n1', schema, poolSize: 1, statementTimeout: 10, connectTimeout: 10, tls: false, tlsVerify: true, tlsCaFile: null, ...over };
}

function split(url: string): { url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

async function sslInUse(s: PgStoreSettings, env: NodeJS.ProcessEnv): Promise<boolean> {
  const db = new PgPool((await pgOptions(s, env)).options);
  try {
    const r = await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return r.rows[0]?.ssl === true;
  } finally {
    await db.close();
  }
}

test('Store Tls: verified with TlsCaFile; refused when the CA is not trusted; TlsVerify NO unverified; Tls NO plain', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb || !needCa(t)) return;
  const { url, password } = split(tdb.url);
  const env = { [PASSWORD_ENV]: password };
  assert.equal(await sslInUse(settings(url, tdb.schema, { tls: true, tlsCaFile: CA }), env), true);
  await assert.rejects(sslInUse(settings(url, tdb.schema, { tls: true }), env), (e: unknown) => /self[- ]signed|unable to verify|certificate/i.test(String((e as Error).message)));
  assert.equal(await sslInUse(settings(url, tdb.schema, { tls: true, tlsVerify: false }), env), true);
  assert.equal(await sslInUse(settings(url, tdb.schema, {}), env), false);
});

test('Store password: the first line of PasswordFile wins over the environment; an unreadable file is named', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const { url, password } = split(tdb.url);
  const file = join(tempDir(t), 'pw');
  writeFileSync(file, `${password}\nsecond line ignored\n`, { mode: 0o600 });
  const { options, warnings } = await pgOptions(settings(url, tdb.schema, { passwordFile: file }), { [PASSWORD_ENV]: 'wrong' });
  assert.deepEqual(warnings, []);
  const db = new PgPool(options);
  try {
    assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
  } finally {
    await db.close();
  }
  await assert.rejects(pgOptions(settings(url, tdb.schema, { passwordFile: join(tempDir(t), 'missing') }), {}), /Store PasswordFile .*missing: ENOENT/);
});
