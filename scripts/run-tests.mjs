#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (node:test), TypeScript
// loaded through tsx. Usage: node scripts/run-tests.mjs [--unit] [path-filter ...]
//   --unit  only src/ (the unit tests beside the code: `npm run test:unit`, under a minute);
//           test/ holds the end-to-end, peer and crash tests that `npm test` adds.
// Tests that need a Debian peer skip with a reason when it is missing, and fail when CI=true.
//
// Starting node with the tsx loader costs about a second of CPU per process, more than most unit
// test files take to run. So the src/ files run in a few shards, one process per shard that
// imports its files (their tests then run one after another, as within one file); the test/ files
// (servers, child processes, kill -9) keep a process each. A single file always runs alone.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

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

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const filters = args.filter((a) => a !== '--unit');
const files = (unit ? collect('src', []) : collect('src', collect('test', []))).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
const concurrency = Number(process.env.TEST_CONCURRENCY ?? '3');

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
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...entries],
  { stdio: 'inherit' });
if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
process.exit(r.status ?? 1);
