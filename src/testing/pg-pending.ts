// The behaviour tests that cannot pass on PostgreSQL YET, each with the part that is missing
// ([P2] #19, docs/cluster.md "What remains"). Under `run-tests.mjs --backend postgresql` they skip
// with this reason (testing/backend-preload.ts); on SQLite they run as always. Remove a line when
// its part lands: the list only shrinks. Never list a test because it is flaky or slow.
//
// file: the test file from the repository root; test: a top-level test's exact name, or '*' for
// every test of the file.

export interface Pending { readonly file: string; readonly test: string; readonly reason: string }


export const PENDING_ON_POSTGRES: readonly Pending[] = [
];

/** Why the test `name` of `file` is skipped on PostgreSQL, or undefined. */
export function pendingReason(file: string | undefined, name: unknown): string | undefined {
  if (file === undefined) return undefined;
  const hit = PENDING_ON_POSTGRES.find((p) => p.file === file && (p.test === '*' || p.test === name));
  return hit === undefined ? undefined : `pending on PostgreSQL: ${hit.reason}`;
}
