// The store backend the behaviour tests run on ([P2] #19, docs/cluster.md "What is tested"): ONE
// place that says it, so the e2e tests are parametrised, never copied.
//
//   SPOOLGATE_TEST_BACKEND=sqlite       (default) the embedded store, as a user's `npm start`;
//   SPOOLGATE_TEST_BACKEND=postgresql   every configuration written by writeConfig()
//                                       (testing/gateway.ts) gets a `Store { Backend PostgreSQL … }`
//                                       statement on a fresh schema of the test database, migrated
//                                       to this program's version, as an operator would
//                                       (`spoolgate db migrate`) before the first start.
//
// `node scripts/run-tests.mjs --backend postgresql <filters>` sets it (with the preload
// testing/backend-preload.ts that skips the tests of testing/pg-pending.ts with their reason);
// `npm test` runs the suite on SQLite and the e2e suite again on PostgreSQL.
//
// writeConfig() is synchronous (and called by dozens of tests), creating a schema is not: a worker
// thread does it (testing/pg-schema-worker.ts) while this thread waits on a shared flag, bounded.
// The same directory gets the same schema (a test restarting a gateway on its directory finds its
// queue again). Schemas are dropped when the test process ends, and the runner drops whatever a
// killed process left (every schema of one run starts with `t_<run>_`).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import pg from 'pg';
import { inCI } from './peers.js';
import { PG_URL_ENV } from './pg.js';

export type TestBackend = 'sqlite' | 'postgresql';

export const BACKEND_ENV = 'SPOOLGATE_TEST_BACKEND';
/** Set by scripts/run-tests.mjs: the prefix of this run's schemas (the runner sweeps them). */
export const RUN_ENV = 'SPOOLGATE_TEST_RUN';

function backendOf(v: string | undefined): TestBackend {
  if (v === undefined || v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'postgresql') return 'postgresql';
  throw new Error(`${BACKEND_ENV}=${v}: use sqlite or postgresql`);
}

/** The backend of this test process. */
export const TEST_BACKEND: TestBackend = backendOf(process.env[BACKEND_ENV]);

/** Lease settings of the test nodes: short, so a restarted node's own old leases run out soon. */
const LEASE_TIME = 10;
const HEARTBEAT = 2;
/** How long writeConfig() waits for a schema to be created and migrated. */
const SCHEMA_WAIT_MS = 60_000;

interface SchemaWorker { readonly worker: Worker; readonly port: import('node:worker_threads').MessagePort; readonly flag: Int32Array }

let schemaWorker: SchemaWorker | undefined;
const schemas = new Map<string, string>();
let passwordFile: string | undefined;
let cleanupHooked = false;

function testUrl(): { url: string; password: string } {
  const url = process.env[PG_URL_ENV];
  if (url === undefined || url === '') {
    // Unlike needPostgres(t) there is no test to skip here: a PostgreSQL pass without the
    // database is a set-up error, on a developer's machine as under CI=true.
    throw new Error(`${BACKEND_ENV}=postgresql needs ${PG_URL_ENV} (run: export ${PG_URL_ENV}="$(sudo bash scripts/start-postgres.sh)")${inCI ? '; CI=true requires it' : ''}`);
  }
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

function worker(): SchemaWorker {
  if (schemaWorker !== undefined) return schemaWorker;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  // The worker is TypeScript (it runs the real migrations): it registers tsx first.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./pg-schema-worker.ts', import.meta.url).href)}); });`;
  const w = new Worker(boot, { eval: true, workerData: { port: port2, flag }, transferList: [port2] });
  w.unref();
  port1.unref();
  schemaWorker = { worker: w, port: port1, flag };
  return schemaWorker;
}

/** Creates and migrates `schema`, waiting (bounded) for the worker. */
function createSchemaSync(url: string, schema: string): void {
  const w = worker();
  Atomics.store(w.flag, 0, 0);
  w.port.postMessage({ url: process.env[PG_URL_ENV], schema });
  const waited = Atomics.wait(w.flag, 0, 0, SCHEMA_WAIT_MS);
  const reply = receiveMessageOnPort(w.port)?.message as { ok: boolean; error?: string } | undefined;
  if (waited === 'timed-out' || reply === undefined) throw new Error(`creating test schema ${schema} on ${url}: no answer within ${SCHEMA_WAIT_MS / 1000} s`);
  if (!reply.ok) throw new Error(`creating test schema ${schema} on ${url}: ${reply.error}`);
}

/** This process's schemas are dropped when it ends (KEEP_TMP keeps them, as tempDir keeps dirs). */
function hookCleanup(): void {
  if (cleanupHooked) return;
  cleanupHooked = true;
  let done = false;
  process.on('beforeExit', () => {
    if (done) return;
    done = true;
    if (passwordFile !== undefined) rmSync(resolve(passwordFile, '..'), { recursive: true, force: true });
    if (process.env.KEEP_TMP) { console.error(`kept schemas ${[...schemas.values()].join(' ')}`); return; }
    void dropSchemas(process.env[PG_URL_ENV]!, [...schemas.values()]).catch((e: unknown) => console.error(`test schemas left: ${String(e)}`));
  });
}

/** Drops the named schemas (each with everything in it). */
export async function dropSchemas(url: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    for (const n of names) await c.query(`DROP SCHEMA IF EXISTS "${n}" CASCADE`);
  } finally {
    await c.end();
  }
}

function schemaPrefix(): string {
  const run = (process.env[RUN_ENV] ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  return `t_${run === '' ? 'x' : run.slice(0, 16)}_`;
}

/**
 * The Store statement of a test gateway whose files live in `dir`: '' on SQLite; on PostgreSQL a
 * migrated schema of its own (the same one for the same dir), the machine's host name as the node's
 * name, and the password from a file (the Url may not hold it).
 */
export function storeStatement(dir: string): string {
  if (TEST_BACKEND === 'sqlite') return '';
  const { url, password } = testUrl();
  const key = resolve(dir);
  let schema = schemas.get(key);
  if (schema === undefined) {
    schema = `${schemaPrefix()}${randomBytes(6).toString('hex')}`;
    hookCleanup();
    createSchemaSync(url, schema);
    schemas.set(key, schema);
  }
  if (passwordFile === undefined) {
    const d = mkdtempSync(join(tmpdir(), 'spoolgate-test-pg-'));
    passwordFile = join(d, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
  }
  // The node is named after the machine, as an operator names a node (status shows it).
  const node = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(hostname()) ? ` Node ${hostname()}` : '';
  return `Store { Backend PostgreSQL Url ${url} PasswordFile ${passwordFile} Schema ${schema}${node} LeaseTime ${LEASE_TIME} Heartbeat ${HEARTBEAT} PoolSize 4 }`;
}
