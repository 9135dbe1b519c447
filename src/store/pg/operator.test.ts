// PgOperatorStore.commandRetry on a file released for long retry ([P2] #19): a hold of ONE message
// is stored with that message (the others of the file are not held, and keep their time); its
// release clears it and makes the file due now. The node that claims the file reads the hold in
// the checkpoint (FileCheckpoint.commands) and leaves that message waiting (forwarder/task.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { needPostgres } from '../../testing/pg.js';
import { migrate } from './migrations.js';
import { PgOperatorStore } from './operator.js';
import { PgQueueStore } from './queue.js';

const W = 'CSSMTP';

test('PostgreSQL: a hold of one message released for long retry holds that message only; its release makes the file due', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const q = new PgQueueStore(tdb.pool({ applicationName: 'a' }), { node: 'a', leaseSeconds: 60 });
  const op = new PgOperatorStore(db, 'b');
  const path = join(tempDir(t), 'FLOOD.spool');
  writeFileSync(path, 'HELO X\r\n');
  const { entryId } = await q.storeSpoolFile(W, path, {});
  const [c] = await q.claim(W, 1);
  assert.equal(c!.id, entryId);
  // Both messages of the file wait in long retry: released to an hour from now.
  await q.markRetry(c!.lease, 1, 1, { queueId: 'aaaaaaaaaaaa-1' });
  await q.markRetry(c!.lease, 2, 1, { queueId: 'aaaaaaaaaaaa-2' });
  await q.release(c!.lease, { retryInMs: 3_600_000, attempted: true });
  const due = async (): Promise<boolean> => (await db.query<{ due: boolean }>('SELECT next_attempt <= now() AS due FROM queue_entries WHERE id = $1', [entryId])).rows[0]!.due;

  assert.equal(await op.commandRetry(W, entryId, 1, { action: 'hold', operator: 'modify:dave', reason: 'flood', at: '2026-11-27T20:00:00.000Z' }), 'done');
  const rows = await op.retryMessages(W, 10);
  assert.deepEqual(rows.map((r) => [r.no, r.hold?.operator ?? null, r.command]), [[1, 'modify:dave', false], [2, null, false]], 'message 1 held, not as a bounce or delete; message 2 not held');
  assert.equal(rows[0]!.hold?.reason, 'flood');
  assert.equal(await due(), false, 'a hold does not make the file due (its other messages keep their time)');
  assert.deepEqual(await q.loadCheckpoint(entryId).then((cp) => cp.commands?.get(1)?.action), 'hold', 'the claiming node reads the hold');

  assert.equal(await op.commandRetry(W, entryId, 2, null), 'missing', 'message 2 is not held: nothing to release');
  assert.equal(await op.commandRetry(W, entryId, 1, null), 'done');
  assert.deepEqual((await op.retryMessages(W, 10)).map((r) => r.hold ?? null), [null, null]);
  assert.equal(await due(), true, 'a release makes the file due now');
  assert.equal((await q.loadCheckpoint(entryId)).commands, undefined);
});
