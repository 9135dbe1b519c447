// The behaviour tests that cannot pass on PostgreSQL YET, each with the part that is missing
// ([P2] #19, docs/cluster.md "What remains"). Under `run-tests.mjs --backend postgresql` they skip
// with this reason (testing/backend-preload.ts); on SQLite they run as always. Remove a line when
// its part lands: the list only shrinks. Never list a test because it is flaky or slow.
//
// file: the test file from the repository root; test: a top-level test's exact name, or '*' for
// every test of the file.

export interface Pending { readonly file: string; readonly test: string; readonly reason: string }


export const PENDING_ON_POSTGRES: readonly Pending[] = [
  { file: 'test/e2e/queue-crash.test.ts', test: 'kill -9 during a bulk bounce and a bulk hold: every message is notified or still queued, holds are all or nothing', reason: 'on PostgreSQL the messages wait in long retry released to the shared queue, where a bounce is stored with the message and carried out by the node that claims the entry; the test\'s bulk bounce times out waiting for the first bounces (first PostgreSQL run after the long-retry view landed, 2026-11-27): not diagnosed yet' },
  { file: 'test/e2e/console-browser.test.ts', test: 'console in chromium: a message in retry is held, released, retried and leaves; a dead letter is requeued; a held file is shown and purged', reason: 'on PostgreSQL a journaled action on a released long-retry message is recorded without the console as its operator (the test expects http:console; first PostgreSQL run after the long-retry view landed, 2026-11-27): not diagnosed yet' },
  { file: 'test/e2e/queue-history.test.ts', test: 'queue show after a restart: the operator\'s actions and the attempts before it, from the journal', reason: 'diagnosed (p2-direct): it fails before the restart already. After the first 451 the file is released to the shared queue for long retry, and the queue shows it as its row (queue id 4368bb5d10e6-0, place db:1, sender "", recipients [], history [], actions []): the journal has both attempts, but under the message id db-1#1 (the db-<id> naming), which is not the id the queue shows, so show finds neither the attempts nor the hold/release; and the released row carries no envelope. Both parts are p2-entryid (the entry id kept through arrival) and p2-retryview (a released entry keeps its envelope in the queue tools)' },
  { file: 'test/e2e/queue.test.ts', test: 'CLI and MODIFY: list --json, show, hold a flood by sender, clear a dead target, and a stopped instance is named', reason: 'a hold of a message released to the shared queue for long retry holds its row, so every waiting message of that file (HOLD,SENDER= holds the third message of the flood file too); a per-message hold on the store is not built (docs/cluster.md "What remains")' },
];

/** Why the test `name` of `file` is skipped on PostgreSQL, or undefined. */
export function pendingReason(file: string | undefined, name: unknown): string | undefined {
  if (file === undefined) return undefined;
  const hit = PENDING_ON_POSTGRES.find((p) => p.file === file && (p.test === '*' || p.test === name));
  return hit === undefined ? undefined : `pending on PostgreSQL: ${hit.reason}`;
}
