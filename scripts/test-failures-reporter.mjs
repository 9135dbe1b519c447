// A node:test reporter that writes one JSON line per failed test (file, name, depth, the first
// lines of the error) to its destination. scripts/run-tests.mjs adds it beside the TAP output and
// prints the list at the end of each pass and of the run, so the tail of a long CI log names what
// failed (CI shows only the tail).
export default async function* failures(source) {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const error = event.data.details?.error;
    if (error?.failureType === 'subtestsFailed') continue; // its failing subtest has its own line
    const cause = error?.cause ?? error;
    const text = cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause);
    yield `${JSON.stringify({
      file: event.data.file,
      name: event.data.name,
      nesting: event.data.nesting,
      kind: error?.failureType,
      error: text.split('\n').slice(0, 6).join('\n').slice(0, 600),
    })}\n`;
  }
}
