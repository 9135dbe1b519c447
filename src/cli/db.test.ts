// `spoolgate db migrate|status` against the real PostgreSQL (testing/pg.ts), configured through the
// Store statement with the password outside the file; and `start --once` refusing Backend PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../testing/cli.js';
import { tempDir } from '../testing/peers.js';
import { needPostgres } from '../testing/pg.js';
import { PG_SCHEMA_VERSION, PgQueueStore } from '../store/pg/index.js';
import { run } from './db.js';
import { run as start } from './start.js';

/** The test URL split into a URL without the password (what a Store Url holds) and the password. */
function split(url: string): { url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

function conf(dir: string, store: string): string {
  const path = join(dir, 'spoolgate.conf');
  writeFileSync(path, `Instance DBTEST\nStateDirectory ${join(dir, 'state')}\nSpool { Directory ${join(dir, 'spool')} }\nLogFile ${join(dir, 'log')}\n` +
    `ControlSocket ${join(dir, 'ctl.sock')}\nTargetServer { TargetIP 127.0.0.1 ConnectPort 9 }\n${store}\n`);
  return path;
}

test('db status and migrate: a fresh database, a partial migration, the rest, a re-run; the password never printed', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const dir = tempDir(t);
  const { url, password } = split(tdb.url);
  const file = conf(dir, `Store { Backend PostgreSQL Url ${url} Schema ${tdb.schema} Node n1 }`);
  const env = { ...process.env, SPOOLGATE_STORE_PASSWORD: password };
  const all: string[] = [];
  const cli = async (...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const r = await runCli(run, [...argv, '--config', file], { env });
    all.push(r.stdout, r.stderr);
    return r;
  };

  let r = await cli('status');
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`schema ${tdb.schema}\\): schema at version 0; this spoolgate needs ${PG_SCHEMA_VERSION}`));
  assert.match(r.stdout, /pending +1 nodes/);
  assert.match(r.stdout, /run `spoolgate db migrate`/);

  r = await cli('migrate', '--to', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /applied versions 1, 2; schema at version 2 of \d+/);
  r = await cli('status');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /applied +2 queue entries/);
  assert.match(r.stdout, /pending +3 checkpoint/);

  r = await cli('migrate');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`schema at version ${PG_SCHEMA_VERSION} of ${PG_SCHEMA_VERSION}`));
  r = await cli('migrate');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /nothing to do/);
  r = await cli('status');
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /pending/);
  for (const text of all) assert.ok(!text.includes(password), 'the password is never printed');
});

test('db nodes: the nodes heartbeating on the database, with the entries they hold', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const dir = tempDir(t);
  const { url, password } = split(tdb.url);
  const file = conf(dir, `Store { Backend PostgreSQL Url ${url} Schema ${tdb.schema} Node n1 }`);
  const env = { ...process.env, SPOOLGATE_STORE_PASSWORD: password };
  let r = await runCli(run, ['nodes', '--config', file], { env });
  assert.equal(r.code, 1, 'a database not migrated yet');
  assert.match(r.stderr, /run `spoolgate db migrate`/);
  assert.equal((await runCli(run, ['migrate', '--config', file], { env })).code, 0);
  const q = new PgQueueStore(tdb.pool(), { node: 'gw2', leaseSeconds: 30, address: '192.0.2.7', version: '0.1.0' });
  await q.enqueueMessage('CSSMTP', {}, Buffer.from('x\r\n'));
  const claimed = await q.claim('CSSMTP', 5);
  await q.heartbeat(claimed.map((c) => c.lease));
  r = await runCli(run, ['nodes', '--config', file], { env });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /: 1 node$/);
  assert.match(lines[1]!, /^NODE +ADDRESS +VERSION +HEARTBEAT +CLAIMED$/);
  assert.match(lines[2]!, /^gw2 +192\.0\.2\.7 +0\.1\.0 +\d+s ago +1$/);
});

test('db: the password from PasswordFile (a readable-by-others file is warned about); a wrong one is one line, no secret', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const dir = tempDir(t);
  const { url, password } = split(tdb.url);
  const pwFile = join(dir, 'pg.password');
  writeFileSync(pwFile, `${password}\n`);
  chmodSync(pwFile, 0o644);
  const file = conf(dir, `Store { Backend PostgreSQL Url ${url} Schema ${tdb.schema} PasswordFile pg.password }`);
  const env = { ...process.env, SPOOLGATE_STORE_PASSWORD: '' };
  let r = await runCli(run, ['migrate', '--config', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: Store PasswordFile .*pg\.password can be read by others \(mode 644\): chmod 600 it\n$/);

  writeFileSync(pwFile, 'not-the-password\n');
  chmodSync(pwFile, 0o600);
  r = await runCli(run, ['status', '--config', file], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^spoolgate db status: password authentication failed for user "[^"]+" \(28P01\)\n$/);
  assert.ok(!r.stderr.includes('not-the-password') && !r.stderr.includes(password));
});

test('db with Backend SQLite: nothing to do, exit 0', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(run, ['migrate', '--config', conf(dir, '')]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Store Backend is SQLite: nothing to do here/);
});

test('start --once with Store Backend PostgreSQL and no database to reach: not started, in one line', async (t) => {
  // --once runs on the shared queue (docs/cluster.md); without the database there is nothing to drain.
  const dir = tempDir(t);
  const file = conf(dir, 'Store { Backend PostgreSQL Url postgres://sg@127.0.0.1:1/sg Node n1 ConnectTimeout 2 }');
  const r = await runCli(start, ['--config', file, '--once'], { env: { ...process.env, SPOOLGATE_STORE_PASSWORD: 'x' } });
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^spoolgate: DBTEST: not started: .*ECONNREFUSED/);
  assert.equal(r.stdout, '', 'no --once line before the store is open');
});
