// Loaded before each test file by `run-tests.mjs --backend postgresql` (node --import): the tests
// listed in testing/pg-pending.ts skip with their reason, every other test runs unchanged. The
// list is matched by file and top-level test name, so no test file names the backend.
//
// node:test's `test`/`it` are wrapped on the CommonJS module object and then pushed to the ESM
// named exports (module.syncBuiltinESMExports), which is what `import { test } from 'node:test'`
// reads; nested t.test() subtests belong to their listed or unlisted parent.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PENDING_ON_POSTGRES, pendingReason } from './pg-pending.js';
import { TEST_BACKEND } from './backend.js';

type TestFn = (...args: unknown[]) => unknown;

const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const nodeTest = require('node:test') as Record<string, TestFn> & { test: TestFn };

/** The test file that called test(): the first stack frame outside node:test and this file. */
function callerFile(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = /(file:\/\/[^\s)]+?):\d+:\d+\)?$/.exec(line) ?? /\((\/[^\s)]+?):\d+:\d+\)$/.exec(line) ?? /at (\/[^\s)]+?):\d+:\d+$/.exec(line);
    if (m === null) continue;
    const path = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (path === here) continue;
    return relative(ROOT, path);
  }
  return undefined;
}

function wrap(orig: TestFn): TestFn {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const reason = pendingReason(callerFile(), typeof args[0] === 'string' ? args[0] : (args[0] as { name?: string } | undefined)?.name);
    if (reason === undefined) return orig.apply(this, args);
    // test(name?, options?, fn?): keep the name and fn, add skip to the options.
    const name = typeof args[0] === 'string' ? args.shift() : undefined;
    const opts = typeof args[0] === 'object' && args[0] !== null ? { ...(args.shift() as object) } : {};
    return orig.call(this, ...(name === undefined ? [] : [name]), { ...opts, skip: reason }, ...args);
  };
  Object.assign(wrapped, orig);
  return wrapped;
}

// Only a file with listed tests is wrapped (node:test reports a test's location as its caller's,
// which the wrapper would become); a runner's shard of several src/ files (outside the
// repository) is wrapped whole.
const main = process.argv[1] === undefined ? undefined : relative(ROOT, resolve(process.argv[1]));
if (TEST_BACKEND === 'postgresql' && (main === undefined || main.startsWith('..') || PENDING_ON_POSTGRES.some((p) => p.file === main))) {
  nodeTest.test = wrap(nodeTest.test);
  if (typeof nodeTest.it === 'function') nodeTest.it = wrap(nodeTest.it);
  syncBuiltinESMExports();
}
