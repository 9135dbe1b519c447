// A node:test reporter that writes one JSON line per failed test (file, name, depth, the first
// lines of the error) to its destination. scripts/run-tests.mjs adds it beside the TAP output and
// prints the list at the end of each pass and of the run, so the tail of a long CI log names what
// failed (CI shows only the tail).
// A file that times out (its process killed after --test-timeout) is one failure, and its TAP
// names only the tests that finished; so the tests it had started and not finished are listed
// too ("did not finish"): with the src/ shards one file is many, and that names the one that hung.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The files a test file stands for: itself, and for a src/ shard (scripts/run-tests.mjs) the files it imports. */
function covered(file) {
  const files = new Set([file]);
  let text;
  try { text = readFileSync(file, 'utf8'); } catch { return files; }
  for (const m of text.matchAll(/^await import\(("file:[^"]+")\);$/gm)) files.add(fileURLToPath(JSON.parse(m[1])));
  return files;
}

export default async function* failures(source) {
  /** file → the tests started in it and not finished: "nesting name" keys. */
  const open = new Map();
  for await (const event of source) {
    const { file, name, nesting } = event.data ?? {};
    if (typeof file === 'string' && name !== file) {
      const key = `${nesting} ${name}`;
      if (event.type === 'test:dequeue') {
        if (!open.has(file)) open.set(file, new Set());
        open.get(file).add(key);
      } else if (event.type === 'test:complete') open.get(file)?.delete(key);
    }
    if (event.type !== 'test:fail') continue;
    const error = event.data.details?.error;
    if (error?.failureType === 'subtestsFailed') continue; // its failing subtest has its own line
    const cause = error?.cause ?? error;
    const text = cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause);
    yield `${JSON.stringify({ file, name, nesting, kind: error?.failureType, error: text.split('\n').slice(0, 6).join('\n').slice(0, 600) })}\n`;
    if (name === file) {
      for (const f of covered(file)) {
        for (const key of open.get(f) ?? []) {
          const space = key.indexOf(' ');
          yield `${JSON.stringify({ file: f, name: key.slice(space + 1), nesting: Number(key.slice(0, space)) + 1, kind: 'did not finish', error: `started, and still running when ${f === file ? 'its file' : file} failed` })}\n`;
        }
        open.delete(f);
      }
    }
  }
}
