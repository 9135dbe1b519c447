// The behaviour tests that cannot pass on PostgreSQL YET, each with the part that is missing
// ([P2] #19, docs/cluster.md "What remains"). Under `run-tests.mjs --backend postgresql` they skip
// with this reason (testing/backend-preload.ts); on SQLite they run as always. Remove a line when
// its part lands: the list only shrinks. Never list a test because it is flaky or slow.
//
// file: the test file from the repository root; test: a top-level test's exact name, or '*' for
// every test of the file.

export interface Pending { readonly file: string; readonly test: string; readonly reason: string }


export const PENDING_ON_POSTGRES: readonly Pending[] = [
  { file: 'test/e2e/retention.test.ts', test: 'retention: pruned at start and after each interval; D,CONFIG shows it; REFRESH to 0 keeps; queries work on the rest', reason: 'the test plants its old report of a bad spool file in the local sysout/ directory; with PostgreSQL reports are in the shared held tables since held files moved onto the store (their pruning is tested by the held contract, src/testing/held-contract.ts, "reports are pruned by age"), so the planted file is not what is pruned — planting it through Gateway.held is not done yet' },
  { file: 'test/e2e/queue.test.ts', test: 'queue actions over REST move each message to the expected state (451/550 target)', reason: 'a product gap on PostgreSQL: while a node holds a released file\'s lease again for its next attempt, the messages that wait in long retry are neither in its memory view nor in the shared-queue view, so a bounce in that window answers 404 (seen in CI on 2026-11-27 and in 3 of 4 helper runs; docs/cluster.md "What remains")' },
];

/** Why the test `name` of `file` is skipped on PostgreSQL, or undefined. */
export function pendingReason(file: string | undefined, name: unknown): string | undefined {
  if (file === undefined) return undefined;
  const hit = PENDING_ON_POSTGRES.find((p) => p.file === file && (p.test === '*' || p.test === name));
  return hit === undefined ? undefined : `pending on PostgreSQL: ${hit.reason}`;
}
