#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (node:test), TypeScript
// loaded through tsx. Usage: node scripts/run-tests.mjs [--unit] [--backend B] [path-filter ...]
//   --unit  only src/ (the unit tests beside the code: `npm run test:unit`, under a minute);
//           test/ holds the end-to-end, peer and crash tests that `npm test` adds.
//   --backend sqlite|postgresql|both
//           the store the e2e gateways run on (src/testing/backend.ts; default sqlite). With
//           postgresql every configuration the shared helpers write gets a Store statement on a
//           fresh migrated schema of $SPOOLGATE_TEST_PG_URL, and the tests listed in
//           src/testing/pg-pending.ts skip with their reason. `both` = one pass, then the other.
//   --list  print the passes and their files, run nothing.
//   no arguments (`npm test`, what .ci/run runs): the whole suite on SQLite, then the e2e suite
//           (PG_PASS below, the files whose gateways take the Store statement) on PostgreSQL.
// Tests that need a Debian peer skip with a reason when it is missing, and fail when CI=true; so
// does the PostgreSQL pass (skipped with the reason without SPOOLGATE_TEST_PG_URL, failed in CI).
//
// Starting node with the tsx loader costs about a second of CPU per process, more than most unit
// test files take to run. So the src/ files run in a few shards, one process per shard that
// imports its files (their tests then run one after another, as within one file); the test/ files
// (servers, child processes, kill -9) keep a process each. A single file always runs alone.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function collect(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** What the PostgreSQL pass of `npm test` runs: the tests that start gateways through the shared helpers. */
const PG_PASS = ['test/e2e/'];

/**
 * Whether a test file's gateways take the backend's Store statement: it calls writeConfig() or
 * storeStatement() (src/testing/backend.ts), or imports from a local module (e.g.
 * test/e2e/relay-harness.ts) a function that does. The others run on SQLite whatever the backend
 * (`npm start`'s own config, crash children with their own file, memory probes): the PostgreSQL
 * pass of `npm test` leaves them out instead of running them a second time on SQLite.
 */
const USES = /\b(writeConfig|storeStatement)\(/;
function usesBackend(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return false; }
  if (USES.test(text)) return true;
  for (const m of text.matchAll(/import \{([^}]*)\} from '(\.\/[^']+)\.js'/g)) {
    const names = m[1].split(',').map((x) => x.trim().replace(/^type\s+/, '')).filter((x) => x !== '');
    const helpers = backendFunctions(join(dirname(file), `${m[2]}.ts`));
    if (names.some((n) => helpers.has(n))) return true;
  }
  return false;
}

/** The top-level functions of a module that write a configuration, directly or through each other. */
function backendFunctions(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return new Set(); }
  const bodies = new Map();
  const heads = [...text.matchAll(/^(?:export )?(?:async )?function (\w+)/gm)];
  heads.forEach((h, i) => bodies.set(h[1], text.slice(h.index, heads[i + 1]?.index ?? text.length)));
  const found = new Set([...bodies].filter(([, b]) => USES.test(b)).map(([n]) => n));
  for (let grew = true; grew;) {
    grew = false;
    for (const [n, b] of bodies) {
      if (!found.has(n) && [...found].some((f) => new RegExp(`\\b${f}\\(`).test(b))) { found.add(n); grew = true; }
    }
  }
  return found;
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
let backend;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--unit' || args[i] === '--list') continue;
  if (args[i] === '--backend') { backend = args[++i]; continue; }
  if (args[i].startsWith('--backend=')) { backend = args[i].slice('--backend='.length); continue; }
  filters.push(args[i]);
}
if (backend !== undefined && !['sqlite', 'postgresql', 'both'].includes(backend)) {
  console.error(`--backend ${backend}: use sqlite, postgresql or both`);
  process.exit(2);
}
const concurrency = Number(process.env.TEST_CONCURRENCY ?? '3');

function select(list) {
  const all = (unit ? collect('src', []) : collect('src', collect('test', []))).sort();
  return all.filter((f) => list.length === 0 || list.some((x) => f.includes(x)));
}

/** The src/ files in `n` shards of about equal size (largest first into the lightest shard). */
function shards(list, n) {
  const out = Array.from({ length: n }, () => ({ bytes: 0, files: [] }));
  for (const f of [...list].sort((a, b) => statSync(b).size - statSync(a).size)) {
    const lightest = out.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.files.push(f);
    lightest.bytes += statSync(f).size;
  }
  return out.filter((s) => s.files.length > 0).map((s) => s.files.sort());
}

/** Seconds of CPU of this process's waited-for children (Linux: cutime + cstime of /proc/self/stat). */
function childrenCpu() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // fields 16 and 17, in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** One node --test run of `files` on `store`; its exit status. */
function pass(files, store) {
  const srcFiles = files.filter((f) => f.startsWith('src/'));
  let entries = files;
  let tmp;
  if (srcFiles.length > concurrency) {
    tmp = mkdtempSync(join(tmpdir(), 'spoolgate-tests-'));
    entries = shards(srcFiles, concurrency).map((group, i) => {
      const entry = join(tmp, `src-shard-${i + 1}.test.mjs`);
      writeFileSync(entry, group.map((f) => `await import(${JSON.stringify(pathToFileURL(resolve(f)).href)});\n`).join(''));
      return entry;
    }).concat(files.filter((f) => !f.startsWith('src/')));
  }
  const env = { ...process.env, SPOOLGATE_TEST_BACKEND: store };
  const preload = [];
  if (store === 'postgresql') {
    env.SPOOLGATE_TEST_RUN = randomBytes(5).toString('hex');
    preload.push('--import', pathToFileURL(resolve('src/testing/backend-preload.ts')).href);
  }
  const started = Date.now();
  const cpu0 = childrenCpu();
  const report = join(mkdtempSync(join(tmpdir(), 'spoolgate-failures-')), 'failures.jsonl');
  const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout',
    `--test-reporter=${pathToFileURL(resolve('scripts/test-failures-reporter.mjs')).href}`, `--test-reporter-destination=${report}`];
  const r = spawnSync(process.execPath,
    ['--import', 'tsx', ...preload, '--test', ...reporters, `--test-concurrency=${concurrency}`, '--test-timeout=900000', ...entries],
    { stdio: 'inherit', env });
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  failed.push(...readFailures(report, store));
  rmSync(dirname(report), { recursive: true, force: true });
  if (store === 'postgresql') sweep(env.SPOOLGATE_TEST_RUN);
  // CPU of the waited-for children (test processes, the gateways they started): what a pass
  // costs, a better measure than wall time on a loaded machine.
  const cpu = childrenCpu();
  console.error(`run-tests: ${store} pass of ${files.length} file(s): exit ${r.status ?? r.signal}, ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
    `CPU ${cpu === undefined ? '?' : (cpu - cpu0).toFixed(0)} s`);
  return r.status ?? 1;
}

/** The failed tests a pass's reporter wrote (scripts/test-failures-reporter.mjs), as printable lines. */
function readFailures(file, store) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const f = JSON.parse(l);
    const where = typeof f.file === 'string' ? f.file.replace(`${process.cwd()}/`, '') : '?';
    return `[${store}] ${where}: ${'  '.repeat(f.nesting ?? 0)}"${f.name}" (${f.kind ?? 'failed'})\n      ${String(f.error).split('\n').join('\n      ')}`;
  });
}

/** Drops the schemas a killed test process of run `id` left behind (testing/backend.ts names them t_<id>_…). */
function sweep(id) {
  const script = `
    import pg from 'pg';
    const c = new pg.Client({ connectionString: process.env.SPOOLGATE_TEST_PG_URL, connectionTimeoutMillis: 10000 });
    await c.connect();
    const r = await c.query('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', ['t_${id}_']);
    for (const { nspname } of r.rows) await c.query('DROP SCHEMA IF EXISTS "' + nspname + '" CASCADE');
    if (r.rows.length > 0) console.error('run-tests: dropped ' + r.rows.length + ' schema(s) left by killed test processes');
    await c.end();`;
  if (process.env.KEEP_TMP) return;
  spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit', env: process.env, timeout: 60_000 });
}

/** Whether the PostgreSQL pass can run: else skipped with the reason, or failed under CI=true. */
function postgresReady() {
  if ((process.env.SPOOLGATE_TEST_PG_URL ?? '') !== '') return true;
  const reason = 'SPOOLGATE_TEST_PG_URL is not set (run: export SPOOLGATE_TEST_PG_URL="$(sudo bash scripts/start-postgres.sh)")';
  if (process.env.CI === 'true') { console.error(`run-tests: the PostgreSQL pass cannot run: ${reason}; CI=true requires it`); return false; }
  console.error(`run-tests: SKIPPED the PostgreSQL pass: ${reason}`);
  return undefined;
}

const plan = [];
if (backend === undefined && filters.length === 0 && !unit) {
  const pgFiles = select(PG_PASS);
  const own = pgFiles.filter((f) => !usesBackend(f));
  if (own.length > 0) console.error(`run-tests: the PostgreSQL pass leaves out ${own.length} file(s) whose gateways do not take the backend's Store statement: ${own.map((f) => f.replace(/^test\/e2e\//, '')).join(' ')}`);
  plan.push(['sqlite', select([])], ['postgresql', pgFiles.filter((f) => usesBackend(f))]);
}
else if (backend === 'both') plan.push(['sqlite', select(filters)], ['postgresql', select(filters)]);
else plan.push([backend ?? 'sqlite', select(filters)]);
if (plan.some(([, files]) => files.length === 0)) { console.error('no test files matched'); process.exit(1); }

if (args.includes('--list')) {
  for (const [store, files] of plan) console.log(`${store}: ${files.length} file(s)\n  ${files.join('\n  ')}`);
  process.exit(0);
}
let status = 0;
const failed = [];
for (const [store, files] of plan) {
  if (store === 'postgresql') {
    const ready = postgresReady();
    if (ready === false) { status = 1; continue; }
    if (ready === undefined) continue;
  }
  const s = pass(files, store);
  if (s !== 0) status = s;
}
if (failed.length > 0) console.error(`run-tests: ${failed.length} test(s) failed:\n  ${failed.join('\n  ')}`);
else if (status !== 0) console.error('run-tests: a pass failed without a failed test (a file that did not load, or a crashed process): see above');
process.exit(status);
