// Benchmark 9 — the cluster line ([P2] #19): forwarding throughput of the spool path with Store
// Backend SQLite on one node against Backend PostgreSQL with 1, 2 and 3 nodes on THIS machine.
// N messages of 4 KB in N/10 spool files (bench/forwarding.ts spoolFile), spread round-robin over
// the nodes' spool directories before they start, to a counting smtp-sink; each node one
// TargetServer with ConnectLimit 10 (so 3 nodes open up to 30 connections). Timed from the start
// of the node processes (`spoolgate start`, compiled) until the sink counted all N — start-up,
// arrival (with PostgreSQL: stored in the database, then unlinked), claims, sending and the
// checkpoint included. CAVEAT: the nodes, PostgreSQL, the sink and this harness share the
// machine's 2 cores: more nodes here measure contention, not scale-out; on separate machines each
// node brings its own cores. Contenders alternate (sqlite-1 pg-1 pg-2 pg-3, RUNS rounds).
//
// PostgreSQL: BENCH_PG_URL or SPOOLGATE_TEST_PG_URL (as root, scripts/start-postgres.sh is run to
// get one); each run works in a fresh schema, migrated, dropped afterwards. Without a database the
// PostgreSQL rows are left out (said on stderr). Writes bench/out/cluster.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { submitToSpool } from '../src/spool/submit.js';
import { PgPool } from '../src/store/pg/pool.js';
import { migrate } from '../src/store/pg/migrations.js';
import { splitUrl } from '../src/testing/cluster-nodes.js';
import { spoolFile } from './forwarding.js';
import { alternate, COMPILED, machine, printSeries, SCALE, startCountingSink, startSpoolgate, writeResult, type CountingSink, type Series, type Usage } from './lib.js';

export const N = Math.max(200, Math.round(5_000 * SCALE));
const PER_FILE = 10;
const BODY_BYTES = 4096;
const CONNECT_LIMIT = 10;
const WRITER = 'BENCHW';

interface Row { readonly seconds: number; readonly usage: Usage }

function pgUrl(): string | undefined {
  const u = process.env.BENCH_PG_URL ?? process.env.SPOOLGATE_TEST_PG_URL;
  if (u !== undefined && u !== '') return u;
  if (process.getuid?.() !== 0) return undefined;
  try {
    return execFileSync('bash', [join(import.meta.dirname, '..', 'scripts', 'start-postgres.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** One run: `nodes` node processes on the backend, N messages spread over their spools. */
async function runCluster(sink: CountingSink, dir: string, nodes: number, db: { url: string; schema: string } | undefined): Promise<Row> {
  const configs: string[] = [];
  const usages: (Usage | undefined)[] = [];
  const { url, password } = db === undefined ? { url: '', password: '' } : splitUrl(db.url);
  for (let k = 1; k <= nodes; k++) {
    const d = join(dir, `n${k}`);
    mkdirSync(d, { recursive: true });
    const path = join(d, 'spoolgate.conf');
    writeFileSync(path, [
      `Instance BENCH${k}`, `ExtWrtName ${WRITER}`, `StateDirectory ${join(d, 'state')}`, `HostName n${k}.bench`,
      `Spool { Directory ${join(d, 'spool')} RecordFormat Text }`, 'Translate ISO8859-1',
      `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit ${CONNECT_LIMIT} }`, 'RetryLimit { Count 2 Interval 1 }',
      ...(db === undefined ? [] : [`Store { Backend PostgreSQL Url ${url} Schema ${db.schema} Node n${k} }`]), '',
    ].join('\n'));
    configs.push(path);
  }
  for (let f = 0; f < N / PER_FILE; f++) {
    await submitToSpool({ root: join(dir, `n${(f % nodes) + 1}`, 'spool'), writer: WRITER, data: Buffer.from(spoolFile(f, BODY_BYTES, PER_FILE), 'latin1'), attrs: { jobName: `BENCH${f}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
  }
  // The nodes read the password from the environment (the Url may not hold one); startSpoolgate passes ours on.
  if (db !== undefined) process.env.SPOOLGATE_STORE_PASSWORD = password;
  const before = sink.count();
  const t0 = Date.now();
  const running = await Promise.all(configs.map((c, i) => startSpoolgate(['start', '--config', c], `cluster-n${i + 1}`)));
  let seconds: number;
  try {
    await sink.waitFor(before + N, 600_000);
    seconds = (Date.now() - t0) / 1000;
  } finally {
    const stopped = await Promise.all(running.map((r) => r.stop()));
    usages.push(...stopped.map((x) => x.usage));
  }
  const sum = usages.reduce<Usage>((a, u) => ({ maxRssMB: a.maxRssMB + (u?.maxRssMB ?? NaN), cpuUserS: a.cpuUserS + (u?.cpuUserS ?? NaN), cpuSysS: a.cpuSysS + (u?.cpuSysS ?? NaN) }), { maxRssMB: 0, cpuUserS: 0, cpuSysS: 0 });
  return { seconds, usage: sum };
}

async function withSchema<T>(url: string, fn: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new PgPool({ url, poolSize: 1, statementTimeoutMs: 60_000, applicationName: 'spoolgate-bench' });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const db = new PgPool({ url, poolSize: 1, statementTimeoutMs: 60_000, schema, applicationName: 'spoolgate-bench' });
    try { await migrate(db); } finally { await db.close(); }
    try {
      return await fn(schema);
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  } finally {
    await admin.close();
  }
}

export async function main(): Promise<void> {
  const url = pgUrl();
  if (url === undefined) process.stderr.write('cluster: no PostgreSQL (BENCH_PG_URL, SPOOLGATE_TEST_PG_URL, or run as root for scripts/start-postgres.sh): only the SQLite row\n');
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-cluster-'));
  const sink = await startCountingSink();
  let runs: Map<string, { round: number; value: Row }[]>;
  try {
    const contender = (key: string, nodes: number, pg: boolean) => ({
      key,
      run: async (round: number): Promise<Row> => {
        const d = join(dir, `${key}-${round}`);
        try {
          return pg ? await withSchema(url!, (schema) => runCluster(sink, d, nodes, { url: url!, schema })) : await runCluster(sink, d, nodes, undefined);
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      },
    });
    runs = await alternate<Row>([
      contender('sqlite-1', 1, false),
      ...(url === undefined ? [] : [contender('pg-1', 1, true), contender('pg-2', 2, true), contender('pg-3', 3, true)]),
    ]);
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const names: Record<string, string> = { 'sqlite-1': 'SQLite, 1 node', 'pg-1': 'PostgreSQL, 1 node', 'pg-2': 'PostgreSQL, 2 nodes', 'pg-3': 'PostgreSQL, 3 nodes' };
  const series: Series[] = [...runs].filter(([, r]) => r.length > 0).map(([key, r]) => ({
    key, name: names[key] ?? key, system: 'spoolgate', unit: 'msg',
    note: 'node processes summed (CPU; peak RSS is the sum of each node\'s peak)',
    runs: r.map(({ round, value }) => ({ round, seconds: value.seconds, count: N, usage: { spoolgate: value.usage } })),
  }));
  printSeries(series);
  writeResult('cluster', { scale: SCALE, n: N, perFile: PER_FILE, bodyBytes: BODY_BYTES, connectLimit: CONNECT_LIMIT, compiled: COMPILED, postgres: url !== undefined, machine: machine(), series });
}

if (process.argv[1] === import.meta.filename) await main();
