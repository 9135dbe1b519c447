// The OpenAPI document against the route table as http.ts serves it (HttpService.routes, so a
// route another module adds to the table is caught here until its path is described), against
// docs/openapi.json, and against an independent validator (Python openapi-spec-validator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { err } from '../core/result.js';
import { Logger } from '../log/logger.js';
import type { ForwarderView } from '../control/index.js';
import { tempDir } from '../testing/peers.js';
import { startHttp } from './http.js';
import { OPENAPI, OPENAPI_JSON } from './openapi.js';

const ROOT = resolve(import.meta.dirname, '../..');
const idleForwarder: ForwarderView = {
  counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
  tasks: [], suspendMode: 'none', listTargets: () => [],
  suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
};

interface Operation { readonly security?: readonly Record<string, readonly string[]>[]; readonly parameters?: readonly { name: string; in: string; schema?: { enum?: readonly string[] } }[] }
type PathItem = Record<string, Operation>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Concrete paths for a template: each {param} by its enum values, or a sample segment. */
function samples(template: string, item: PathItem): string[] {
  let out = [template];
  for (const m of template.matchAll(/\{([^}]+)\}/g)) {
    const name = m[1]!;
    const param = Object.values(item).flatMap((op) => op.parameters ?? []).find((p) => p.in === 'path' && p.name === name);
    const values = param?.schema?.enum ?? ['x1'];
    out = out.flatMap((p) => values.map((v) => p.replace(`{${name}}`, v)));
  }
  return out;
}

test('OpenAPI: every route of the table is described with its methods and its token, and every described path is served', async (t) => {
  const dir = tempDir(t);
  const svc = await startHttp({
    listen: { host: '127.0.0.1', port: 0 }, tokenFile: join(dir, 'http.token'), log: Logger.silent(),
    target: {
      execute: async () => err('not used'), metrics: { forwarder: idleForwarder, now: () => 0 },
      send: { tokenFile: join(dir, 'http-send.token'), submit: async () => err({ code: 'X', message: 'not used' }) },
    },
  });
  t.after(() => svc.close());
  const paths = OPENAPI.paths as unknown as Record<string, PathItem>;
  const problems: string[] = [];
  const described = new Set<string>();
  for (const route of svc.routes) {
    const matching = Object.entries(paths).filter(([tpl, item]) => samples(tpl, item).some((p) => route.pattern.test(p)));
    if (matching.length === 0) { problems.push(`route ${route.pattern.source} (${route.methods.join(', ')}) is not in src/web/openapi.ts paths`); continue; }
    for (const [tpl, item] of matching) {
      described.add(tpl);
      const ops = Object.keys(item).filter((k) => METHODS.includes(k)).map((k) => k.toUpperCase()).sort();
      if (ops.join() !== [...route.methods].sort().join()) problems.push(`${tpl}: described methods ${ops.join(', ')}, served ${route.methods.join(', ')}`);
      for (const op of ops) {
        const schemes = (item[op.toLowerCase()]!.security ?? [{ inherited: [] }]).flatMap((s) => Object.keys(s)).sort().join(',');
        const want = route.auth === 'none' ? '' : route.auth === 'operator' ? 'operatorToken' : 'operatorToken,sendToken';
        if (schemes !== want) problems.push(`${op} ${tpl}: security [${schemes}], the route takes [${want}]`);
      }
    }
  }
  for (const tpl of Object.keys(paths)) if (!described.has(tpl)) problems.push(`${tpl} is described but no route serves it`);
  assert.deepEqual(problems, []);
  assert.ok(svc.routes.length >= 10);

  // Served without a token, as the same bytes as the docs copy.
  const r = await fetch(`http://127.0.0.1:${svc.port}/api/v1/openapi.json`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(await r.text(), OPENAPI_JSON);
});

test('OpenAPI: docs/openapi.json is the served document (else: node --import tsx scripts/gen-openapi.mjs)', () => {
  assert.equal(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8'), OPENAPI_JSON);
});

test('OpenAPI: every $ref resolves', () => {
  const refs = [...OPENAPI_JSON.matchAll(/"\$ref": "#\/([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 5);
  for (const ref of refs) {
    let node: unknown = OPENAPI;
    for (const part of ref.split('/')) node = (node as Record<string, unknown> | undefined)?.[part];
    assert.ok(node !== undefined, `#/${ref} does not resolve`);
  }
});

test('OpenAPI: a valid 3.1 document for an independent validator (Python openapi-spec-validator)', (t) => {
  const python = ['python3', 'python3.11', 'python3.12', 'python3.13'].find((p) => spawnSync(p, ['-c', 'import openapi_spec_validator'], { stdio: 'ignore' }).status === 0);
  if (python === undefined) { t.skip('no Python with openapi-spec-validator (pip install openapi-spec-validator)'); return; }
  const r = spawnSync(python, ['-c', 'import json,sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint("valid")'], { input: OPENAPI_JSON, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'valid');
});
