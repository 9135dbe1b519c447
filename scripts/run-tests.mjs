#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (node:test), TypeScript
// loaded through tsx. Usage: node scripts/run-tests.mjs [--unit] [path-filter ...]
//   --unit  only src/ (the unit tests beside the code: `npm run test:unit`, under a minute);
//           test/ holds the end-to-end, peer and crash tests that `npm test` adds.
// Tests that need a Debian peer skip with a reason when it is missing, and fail when CI=true.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
  { stdio: 'inherit' });
process.exit(r.status ?? 1);
