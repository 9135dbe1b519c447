// A PostgreSQL 15 cluster of the test's own (initdb in a temporary directory, its own port), for
// the fault tests that stop and start the database ([P2] database outage,
// test/cluster/outage.test.ts). The machine's shared cluster (scripts/start-postgres.sh, used by
// every other PostgreSQL test at the same time) is never stopped: a test that stops this one
// affects nobody else, and after() stops it for good and removes its directory, also on failure.
//
// Needs root (initdb and postgres run as the `postgres` user through runuser) and the installed
// server binaries; otherwise the test skips with the reason, and fails under CI=true.
import type { TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { inCI } from './peers.js';

const run = promisify(execFile);
const VERSION = process.env.SPOOLGATE_PG_VERSION ?? '15';
const BIN = `/usr/lib/postgresql/${VERSION}/bin`;

export interface PrivatePostgres {
  /** postgres://spoolgate:<password>@127.0.0.1:<port>/spoolgate (an ordinary role owning its database). */
  readonly url: string;
  readonly port: number;
  /** pg_ctl stop -m fast: every connection is cut, new ones are refused. */
  stop(): Promise<void>;
  /** pg_ctl start, waiting until it accepts connections. */
  start(): Promise<void>;
  running(): boolean;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function asPostgres(cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: 120_000 });
}

/** A fresh cluster of the test's own, started; undefined after skipping (not root, not installed). */
export async function privatePostgres(t: TestContext): Promise<PrivatePostgres | undefined> {
  const why = process.getuid?.() !== 0 ? 'needs root (initdb and postgres run as the postgres user)'
    : !existsSync(join(BIN, 'initdb')) ? `PostgreSQL ${VERSION} server binaries are not installed (${BIN}; run: npm run peers)` : undefined;
  if (why !== undefined) {
    if (inCI) throw new Error(`a private PostgreSQL cluster ${why}; CI=true requires it`);
    t.skip(why);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-pg-'));
  const { uid, gid } = await ids();
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const port = await freePort();
  let up = false;
  const ctl = (args: readonly string[]): Promise<unknown> => asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '120', ...args]);
  const start = async (): Promise<void> => {
    await ctl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
    up = true;
  };
  const stop = async (): Promise<void> => {
    await ctl(['-m', 'fast', 'stop']);
    up = false;
  };
  t.after(async () => {
    if (up) await ctl(['-m', 'immediate', 'stop']).catch(() => undefined);
    if (!process.env.KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  });
  await asPostgres(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  await start();
  const password = randomBytes(12).toString('hex');
  const psql = (sql: string): Promise<unknown> => asPostgres(join(BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-d', 'postgres', '-c', sql]);
  await psql(`CREATE ROLE spoolgate LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`);
  await psql('CREATE DATABASE spoolgate OWNER spoolgate');
  return { url: `postgres://spoolgate:${password}@127.0.0.1:${port}/spoolgate`, port, stop, start, running: () => up };
}

async function ids(): Promise<{ uid: number; gid: number }> {
  const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}
