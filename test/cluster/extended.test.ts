// [P2] Extended retry on the shared store (real PostgreSQL 15): the mail directory's records in
// the database (store/pg/extended.ts through forwarder/mail-directory.ts StoreMailDirectory), used
// by two nodes' ExtendedRetry objects, each with its own pool. Any node serves a record another
// node wrote; a due record is tried by one node at a time; a node that dies while it holds one
// (no update, no remove) leaves it to the others once its claim runs out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/core/index.js';
import { Logger } from '../../src/log/index.js';
import { needPostgres } from '../../src/testing/pg.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { PgExtendedStore } from '../../src/store/pg/extended.js';
import { ExtendedRetry, StoreMailDirectory, extendedQueueId } from '../../src/forwarder/index.js';
import type { WorkItem } from '../../src/forwarder/index.js';

const W = 'CSSMTP';

function item(): WorkItem {
  const rcpt = { mailbox: { local: 'a', domain: 'remote.test' } };
  return {
    origin: { kind: 'spool', entryId: 'db-1', messageNo: 1, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [rcpt], requireTls: false },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'JOB', jobId: 'J1', originUser: 'u' },
    arrival: new Date(Date.now() - 60_000),
    pending: [rcpt], failed: [], attempts: 5,
    lastReply: { code: 451, enhanced: '4.2.0', text: 'try later' },
  };
}

test('extended retry on the shared store: a record written by node a is served by node b; one node tries it at a time; a dead node\'s record is retried by another', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const node = (name: string): ExtendedRetry => new ExtendedRetry(new StoreMailDirectory(new PgExtendedStore(tdb.pool({ applicationName: name }), name), W, `store ${tdb.schema}`), systemClock, Logger.silent());
  const a = node('a');
  const b = node('b');

  const id = await a.put(item(), new Date(Date.now() - 1000));
  // Any node serves it: listing, the queue id, the bytes, the count.
  const [rec] = await b.records();
  assert.equal(rec?.id, id);
  assert.equal(rec?.attempts, 5);
  assert.deepEqual(rec?.lastReply, { code: 451, enhanced: '4.2.0', text: 'try later' });
  assert.equal((await b.find(extendedQueueId(rec!)))?.id, id);
  assert.equal((await b.data(id)).toString(), 'Subject: x\r\n\r\nbody\r\n');
  assert.equal(await b.count(), 1);

  // Due: the first node to look claims it; the other does not try it meanwhile.
  const got = await a.due(new Date());
  assert.deepEqual(got.map((r) => r.item.origin), [{ kind: 'extended', id }]);
  assert.deepEqual(await b.due(new Date()), [], 'a holds it for its attempt');

  // a dies in the middle of its attempt (no update, no remove): once the claim runs out, b takes it.
  await db.query(`UPDATE extended_retry SET claim_expires = now() - interval '1 second'`);
  const again = await b.due(new Date());
  assert.equal(again.length, 1, 'the dead node\'s record is retried by b');
  assert.equal(again[0]!.item.attempts, 5);
  // b's attempt fails again: the record waits for its next attempt, for any node.
  await b.update(id, { pending: again[0]!.item.pending, attempts: 6, nextAttempt: new Date(Date.now() + 3_600_000), lastReply: { code: 452, text: 'full' } });
  assert.deepEqual(await a.due(new Date()), [], 'not due yet');
  assert.equal((await a.records())[0]?.attempts, 6, 'a sees b\'s update at once (nothing cached)');
  // FLUSHRETRY,AGE=0 on node a makes it due; b delivers it and removes it; it is gone for a.
  assert.equal(await a.makeDue(-Infinity, new Date()), 1);
  assert.equal((await b.due(new Date())).length, 1);
  await b.remove(id);
  assert.equal(await a.count(), 0);
  assert.deepEqual(await a.records(), []);
});
