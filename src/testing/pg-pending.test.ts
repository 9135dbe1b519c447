// The list of tests pending on PostgreSQL stays true to the suite: every entry names a test file
// that exists and a top-level test it has, with a reason (a renamed test would otherwise run
// again unnoticed, or a stale line hide nothing while it claims to). And the preload matches by
// file and exact name only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PENDING_ON_POSTGRES, pendingReason } from './pg-pending.js';

const ROOT = resolve(import.meta.dirname, '../..');

test('every test pending on PostgreSQL exists, once, with a reason', () => {
  const seen = new Set<string>();
  for (const p of PENDING_ON_POSTGRES) {
    const path = join(ROOT, p.file);
    assert.ok(existsSync(path), `${p.file}: no such test file`);
    const text = readFileSync(path, 'utf8');
    const forms = [p.test, p.test.replace(/'/g, "\\'")];
    // A test named by a template in a loop (`... ${sender} ...`) matches with its ${} parts as wildcards.
    const templates = [...text.matchAll(/test\(`([^`]*)`/g)].map((m) => new RegExp(`^${m[1]!.split(/\$\{[^}]*\}/).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`));
    assert.ok(p.test === '*' || forms.some((f) => text.includes(`test('${f}'`) || text.includes(`test("${p.test}"`) || text.includes(`test(\`${p.test}\``)) || templates.some((r) => r.test(p.test)), `${p.file}: no top-level test named ${JSON.stringify(p.test)}`);
    assert.ok(p.reason.length > 20, `${p.file} ${p.test}: say what is missing`);
    const key = `${p.file}\n${p.test}`;
    assert.ok(!seen.has(key), `${p.file} ${p.test}: listed twice`);
    seen.add(key);
  }
});

test('a listed test is matched by its file and exact name; others are not', () => {
  const p = PENDING_ON_POSTGRES[0];
  if (p === undefined) return; // nothing pending any more
  assert.match(pendingReason(p.file, p.test) ?? '', /^pending on PostgreSQL: /);
  assert.equal(pendingReason(p.file, `${p.test} `), undefined);
  assert.equal(pendingReason('test/e2e/no-such.test.ts', p.test), undefined);
  assert.equal(pendingReason(undefined, p.test), undefined);
});
