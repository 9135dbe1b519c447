// Dependency direction (STYLE.md §2), checked on every `npm test`.
// Each rule lists which role folders a folder may import; node: built-ins are checked separately
// for the leaves (no sockets, files, processes or DNS in core/codepage/protocol code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { tsFiles } from './testing/source-files.js';

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
  'store/pg': ['core', 'store', 'smtp/protocol'],
  notify: ['core', 'config', 'log', 'smtp/protocol', 'store'],
  // dkim: signing of outgoing mail (X1); the forwarder signs each message before it is sent.
  dkim: ['core', 'config'],
  forwarder: ['core', 'config', 'codepage', 'log', 'spool', 'smtp/protocol', 'smtp/client', 'notify', 'store', 'store/sqlite', 'userexit', 'dkim'],
  userexit: ['core', 'log', 'smtp/protocol'],
  receiver: ['core', 'config', 'log', 'spool', 'smtp/protocol', 'smtp/server', 'store', 'notify'],
  // pdf: print files as PDF (X1): the report, pages, sections; mailing them is submit's.
  pdf: ['core', 'codepage'],
  submit: ['core', 'config', 'codepage', 'log', 'spool', 'smtp/protocol', 'pdf'],
  // queue: the queue model over every waiting place (docs/queue.md); nothing below imports it.
  queue: ['core', 'config', 'log', 'spool', 'forwarder', 'notify', 'store', 'smtp/protocol'],
  control: ['core', 'config', 'log', 'forwarder', 'spool', 'store', 'queue'],
  web: ['core', 'config', 'log', 'control', 'store', 'queue'],
  // smtp/server: `sendmail -bs` runs the receiver's engine on standard input (cli/sendmail-smtp.ts);
  // userexit: `doctor` test-loads the exit module as REFRESH does.
  // dkim: `doctor` reads the DKIM key files as the gateway does and shows the TXT records.
  cli: ['core', 'config', 'codepage', 'log', 'spool', 'store', 'store/sqlite', 'store/pg', 'control', 'submit', 'forwarder', 'receiver', 'pop3', 'smtp/server', 'smtp/protocol', 'userexit', 'pdf', 'dkim', '(root)'],
  testing: ['*'],
  '(root)': ['*'],
};

const LEAVES = new Set(['core', 'codepage', 'smtp/protocol', 'pop3/protocol']);
const FORBIDDEN_IN_LEAVES = /^node:(fs|fs\/promises|net|tls|dgram|http|https|http2|child_process|dns|dns\/promises|worker_threads|cluster)$/;
// core/address.ts uses node:net only for the pure isIP() check.
const LEAF_EXCEPTIONS = new Set(['core/address.ts:node:net']);

const walk = (dir: string): string[] => tsFiles(dir);

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

// Roles whose index.ts is their only door (Q1): other roles and the composition root import
// them through it, so the role's header states everything others may rely on.
const INDEX_ONLY = new Set(['forwarder']);

test('the forwarder is imported only through forwarder/index.ts', () => {
  const problems: string[] = [];
  for (const file of walk(SRC)) {
    if (file.endsWith('.test.ts')) continue;
    const role = roleOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const targetRole = roleOf(target);
      if (targetRole === role || !INDEX_ONLY.has(targetRole)) continue;
      if (relative(join(SRC, targetRole), target) !== 'index.ts') problems.push(`${relative(SRC, file)} imports ${spec}: import ${targetRole}/index.js instead`);
    }
  }
  assert.deepEqual(problems, []);
});

// Import cycles (STYLE.md §2: dependencies point one way, also between files of one role). The
// graph has one node per file under src/ and one edge per relative import: static, dynamic
// (`import('./x.js')`, lazy but still a dependency) and type-only imports (`import type`) alike. A
// type-only cycle costs nothing at run time, but it still says that neither file can be understood
// without the other; the shared type belongs in a third file both import.
const SIDE_EFFECT_IMPORT = /(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** file -> the files it imports (relative imports only, resolved to .ts paths under src/). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const src = readFileSync(file, 'utf8');
    const to = new Set<string>();
    for (const m of [...src.matchAll(IMPORT), ...src.matchAll(SIDE_EFFECT_IMPORT)]) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) to.add(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
    graph.set(file, [...to]);
  }
  return graph;
}

/** Every import cycle, one per strongly connected component, as a path a -> b -> ... -> a. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative so a deep import chain cannot overflow the stack.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next); low.set(root, next); next++;
    stack.push(root); onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = (graph.get(top.node) ?? []).filter((n) => graph.has(n));
      if (top.edge < edges.length) {
        const w = edges[top.edge++]!;
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++;
          stack.push(w); onStack.add(w);
          work.push({ node: w, edge: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== top.node);
        if (component.length > 1 || (graph.get(top.node) ?? []).includes(top.node)) components.push(component);
      }
    }
  }
  // One concrete cycle per component: the shortest way back to its first file (breadth-first).
  return components.map((component) => {
    const inside = new Set(component);
    const start = [...component].sort()[0]!;
    const from = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const n = queue.shift()!;
      for (const w of graph.get(n) ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          const path = [start];
          for (let at: string | undefined = n; at !== undefined && at !== start; at = from.get(at)) path.splice(1, 0, at);
          return [...path, start];
        }
        if (!from.has(w)) { from.set(w, n); queue.push(w); }
      }
    }
    return [...component, component[0]!];
  });
}

test('no import cycle between files (type-only and dynamic imports included)', () => {
  const files = walk(SRC).filter((f) => !f.endsWith('.test.ts'));
  const cycles = findCycles(importGraph(files)).map((c) => c.map((f) => relative(SRC, f)).join(' -> '));
  assert.deepEqual(cycles, [], 'move what both files need into a file both import');
});

test('the cycle check finds a cycle (two files, three files, a file importing itself) and passes a tree', () => {
  const g = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));
  assert.deepEqual(findCycles(g({ a: ['b'], b: ['a'] })), [['a', 'b', 'a']]);
  assert.deepEqual(findCycles(g({ a: ['b'], b: ['c'], c: ['a', 'd'], d: [] })), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(findCycles(g({ a: ['a'] })), [['a', 'a']]);
  assert.deepEqual(findCycles(g({ a: ['b', 'c'], b: ['c'], c: [] })), []);
  assert.equal(findCycles(g({ a: ['b'], b: ['a'], c: ['d'], d: ['c'] })).length, 2);
});
