// Dependency direction (STYLE.md §2), checked on every `npm test`.
// Each rule lists which role folders a folder may import; node: built-ins are checked separately
// for the leaves (no sockets, files, processes or DNS in core/codepage/protocol code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname);

/** Role of a file = its folder under src/ (smtp/* and store/* count one level deeper). */
function roleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  if (rel.length === 1) return '(root)';
  if ((rel[0] === 'smtp' || rel[0] === 'store' || rel[0] === 'pop3') && rel.length > 2) return `${rel[0]}/${rel[1]}`;
  return rel[0]!;
}

// Which roles each role may import (itself always allowed). '(root)' = main.ts, cli.ts, index.ts.
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  codepage: ['core'],
  'smtp/protocol': ['core'],
  // RFC 1939 §3 byte-stuffing is SMTP's dot-stuffing: one stuffer, in the smtp/protocol leaf.
  'pop3/protocol': ['core', 'smtp/protocol'],
  config: ['core', 'codepage'],
  log: ['core', 'config'],
  // store: for store/atomic.ts, the one atomic-write helper (STYLE.md §8), here and in notify and web.
  spool: ['core', 'codepage', 'config', 'log', 'smtp/protocol', 'store'],
  'smtp/client': ['core', 'smtp/protocol', 'log'],
  'smtp/server': ['core', 'smtp/protocol', 'log'],
  pop3: ['core', 'pop3/protocol', 'log'],
  // smtp/protocol (a pure leaf) for the one CRLF normaliser of stored messages.
  store: ['core', 'smtp/protocol'],
  'store/sqlite': ['core', 'store', 'smtp/protocol'],
  'store/postgres': ['core', 'store'],
  notify: ['core', 'config', 'log', 'smtp/protocol', 'store'],
  forwarder: ['core', 'config', 'codepage', 'log', 'spool', 'smtp/protocol', 'smtp/client', 'notify', 'store', 'store/sqlite', 'userexit'],
  userexit: ['core', 'log', 'smtp/protocol'],
  receiver: ['core', 'config', 'log', 'spool', 'smtp/protocol', 'smtp/server', 'store', 'notify'],
  submit: ['core', 'config', 'codepage', 'log', 'spool', 'smtp/protocol'],
  control: ['core', 'config', 'log', 'forwarder', 'spool', 'store'],
  web: ['core', 'config', 'log', 'control', 'store'],
  cli: ['core', 'config', 'codepage', 'log', 'spool', 'store', 'store/sqlite', 'control', 'submit', 'forwarder', 'receiver', 'pop3', '(root)'],
  testing: ['*'],
  '(root)': ['*'],
};

const LEAVES = new Set(['core', 'codepage', 'smtp/protocol', 'pop3/protocol']);
const FORBIDDEN_IN_LEAVES = /^node:(fs|fs\/promises|net|tls|dgram|http|https|http2|child_process|dns|dns\/promises|worker_threads|cluster)$/;
// core/address.ts uses node:net only for the pure isIP() check.
const LEAF_EXCEPTIONS = new Set(['core/address.ts:node:net']);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

test('dependencies point one way (STYLE.md §2)', () => {
  const problems: string[] = [];
  for (const file of walk(SRC)) {
    const isTest = file.endsWith('.test.ts');
    const role = roleOf(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      const rel = relative(SRC, file);
      if (spec.startsWith('node:')) {
        if (!isTest && LEAVES.has(role) && FORBIDDEN_IN_LEAVES.test(spec) && !LEAF_EXCEPTIONS.has(`${rel}:${spec}`)) {
          problems.push(`${rel}: leaf role ${role} must not import ${spec}`);
        }
        continue;
      }
      if (!spec.startsWith('.')) continue; // npm packages: allowed anywhere but checked by review
      const target = resolve(dirname(file), spec);
      const targetRole = roleOf(target.replace(/\.js$/, '.ts'));
      if (targetRole === role) continue;
      if (isTest && targetRole === 'testing') continue;
      if (!isTest && targetRole === 'testing') { problems.push(`${rel}: production code imports testing/`); continue; }
      const allowed = ALLOWED[role];
      if (allowed === undefined) { problems.push(`${rel}: role ${role} has no dependency rule; add one in architecture.test.ts`); continue; }
      if (allowed.includes('*') || allowed.includes(targetRole)) continue;
      if (isTest) continue; // tests may reach across to build fixtures
      problems.push(`${rel}: ${role} must not import ${targetRole} (${spec})`);
    }
  }
  assert.deepEqual(problems, []);
});
