// The record decoder keeps its memory flat on a 256 MB stream (moved here from
// src/spool/records.test.ts: a quarter gigabyte through a child process is too slow for
// `npm run test:unit`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

test('memory stays flat while decoding a 256 MB FB80 EBCDIC stream', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'src', 'spool', 'records.memcheck.ts'), '256'], {
    cwd: ROOT, encoding: 'utf8', timeout: 240_000,
  });
  assert.equal(r.status, 0, `memcheck failed: ${r.stderr}`);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bytes: number; records: number; errors: number; heapGrowthMB: number; rssMB: number };
  assert.ok(report.bytes >= 200 * 1024 * 1024, `decoded ${report.bytes} bytes`);
  assert.equal(report.errors, 0);
  assert.ok(report.records > 2_000_000, `${report.records} records`);
  assert.ok(report.heapGrowthMB < 64, `heap grew by ${report.heapGrowthMB} MB`);
});
