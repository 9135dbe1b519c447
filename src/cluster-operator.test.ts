// The operator view's store on the real PostgreSQL 15 (migration 8): actions on a row of the shared
// queue fenced by its lease, requests seen only by the nodes asked, status rows, and what a node
// refuses to carry out for another (anything but REFRESH and well-formed queue operations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needPostgres } from './testing/pg.js';
import { Logger } from './log/index.js';
import { systemClock } from './core/clock.js';
import { migrate } from './store/pg/migrations.js';
import { PgOperatorStore } from './store/pg/operator.js';
import { PgQueueStore } from './store/pg/queue.js';
import { ClusterOperator } from './cluster-operator.js';
import type { QueueApi } from './queue/index.js';

const W = 'CSSMTP';

test('row actions: hold keeps every node from claiming, release makes it due, a live lease refuses, delete removes it', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const qa = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60 });
  const qb = new PgQueueStore(tdb.pool(), { node: 'b', leaseSeconds: 60 });
  const op = new PgOperatorStore(tdb.pool(), 'b');
  const { id } = await qa.enqueueMessage(W, { envelope: { sender: 'x@y.test', recipients: ['r@z.test'] } }, Buffer.from('hello'));

  assert.equal(await op.actOnRow(W, id, 'hold'), 'done');
  assert.deepEqual(await qa.claim(W, 5), [], 'a held row is not claimed');
  const [row] = await op.entries(W, 10);
  assert.equal(row?.state, 'held');
  assert.equal(await op.actOnRow(W, id, 'release'), 'done');
  const [claimed] = await qa.claim(W, 5);
  assert.equal(claimed?.id, id, 'released: due at once');
  assert.equal((await op.entries(W, 10))[0]?.leaseNode, 'a');
  // A live lease: the action must go to its node, not to the row.
  assert.equal(await op.actOnRow(W, id, 'hold'), 'leased');
  assert.equal(await op.actOnRow(W, id, 'delete'), 'leased');
  await qa.release(claimed!.lease);
  assert.equal(await op.actOnRow(W, id, 'delete'), 'done');
  assert.deepEqual(await qb.claim(W, 5), []);
  // Hostile ids: not a number, another writer's, gone.
  assert.equal(await op.actOnRow(W, "1; DROP TABLE nodes", 'delete'), 'missing');
  assert.equal(await op.actOnRow('OTHERW', id, 'delete'), 'missing');
  assert.equal(await op.actOnRow(W, id, 'hold'), 'missing');
});

test('a row released for long retry shows the retry time, the attempts of checkpoint_retries and the node that last tried', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const qa = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60 });
  const op = new PgOperatorStore(tdb.pool(), 'b');
  const { id } = await qa.enqueueMessage(W, { envelope: { sender: 'x@y.test', recipients: ['r@z.test'] } }, Buffer.from('hello'));
  const fresh = (await op.entries(W, 10))[0]!;
  assert.equal(fresh.lastNode, null, 'never tried');
  assert.equal(fresh.retryAttempts, 0);
  // What store-source does after a 451 for messages 1 and 2 (CheckpointPort.deferRetry).
  const [c] = await qa.claim(W, 5);
  await qa.markRetry(c!.lease, 1, 3);
  await qa.markRetry(c!.lease, 2, 1);
  const at = new Date(Date.now() + 3_600_000);
  await qa.release(c!.lease, { retryAt: at, attempted: true });
  const row = (await op.entries(W, 10))[0]!;
  assert.equal(row.id, id);
  assert.equal(row.leaseNode, null, 'no node holds it');
  assert.equal(row.lastNode, 'a');
  assert.equal(row.retryAttempts, 3, 'the most attempts of any message');
  assert.equal(row.nextAttempt.getTime(), at.getTime());
  // An operator's release (not an attempt) keeps the node that last tried.
  assert.equal(await op.actOnRow(W, id, 'retry'), 'done');
  const [again] = await qa.claim(W, 5);
  assert.equal(again?.id, id, 'retry: due at once');
  // Claimed again for the next attempt: its waiting messages are still listed (the queue tools
  // tell them apart by the row's lease: cluster-queue.ts), a finished one is not.
  assert.deepEqual((await op.retryMessages(W, 10)).map((m) => `${m.entryId} ${m.no} ${m.attempts}`), [`${id} 1 3`, `${id} 2 1`]);
  await qa.markMessage(again!.lease, 1, 'delivered');
  assert.deepEqual((await op.retryMessages(W, 10)).map((m) => m.no), [2]);
  await qa.release(again!.lease);
  assert.equal((await op.entries(W, 10))[0]?.lastNode, 'a');
});

test('a request is seen by the nodes asked only; replies and status rows', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const a = new PgOperatorStore(tdb.pool(), 'a');
  const b = new PgOperatorStore(tdb.pool(), 'b');
  const c = new PgOperatorStore(tdb.pool(), 'c');
  const id = await a.request('REFRESH', ['b']);
  assert.equal((await b.requestFor(id))?.command, 'REFRESH');
  assert.equal(await c.requestFor(id), undefined);
  assert.equal(await b.requestFor('x'), undefined);
  await b.answer(id, { ok: true, lines: ['L'], data: { changed: [] } });
  await b.answer(id, { ok: false, lines: [], data: null }); // a second answer changes nothing
  assert.deepEqual(await a.replies(id), [{ node: 'b', ok: true, lines: ['L'], data: { changed: [] } }]);
  await a.publishStatus({ tasks: [], targets: [], counters: {} });
  await a.publishStatus({ tasks: [1], targets: [], counters: {} });
  const rows = await b.statuses();
  assert.equal(rows.length, 1);
  assert.deepEqual((rows[0]!.status as { tasks: number[] }).tasks, [1]);
});

test('a node carries out REFRESH and queue operations for another, refuses anything else, and a silent node is reported after the bound', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const db = tdb.pool();
  for (const n of ['a', 'b', 'ghost']) await db.query('INSERT INTO nodes (name) VALUES ($1)', [n]);
  const log = Logger.silent();
  const mk = (n: string): ClusterOperator => new ClusterOperator(new PgOperatorStore(tdb.pool(), n), { clock: systemClock, log, leaseSeconds: 30, heartbeatMs: 1000 });
  const a = mk('a');
  const b = mk('b');
  const executed: string[] = [];
  const queue = { list: async () => ({ total: 1, items: [{ id: 'x' }] }) } as unknown as QueueApi;
  await b.serve({ execute: async (line) => { executed.push(line); return { ok: true, lines: ['EZD1848I B MODIFY REFRESH COMMAND COMPLETED'], data: { changed: [] } }; }, queue, status: () => ({ tasks: [], targets: [], counters: {} }) });
  t.after(() => b.stop());
  const ask = async (command: string) => (await a.ask(command, 1500)).map((x) => [x.node, x.answered ? x.reply.ok : x.detail, x.answered ? x.reply.data : null]);

  assert.deepEqual(await ask('REFRESH'), [['b', true, { changed: [] }], ['ghost', 'NO ANSWER WITHIN 1.5 SECONDS', null]]);
  assert.deepEqual(executed, ['REFRESH']);
  // Anything but REFRESH and the queue operations: refused, never run.
  for (const bad of ['USEREXIT,LEVEL=/tmp/evil.js', 'D,CONFIG', 'REFRESH,ALL', 'QUEUE {"op":"act","id":"../../etc","action":"delete","who":{"operator":"x","reason":""}}', 'QUEUE not json']) {
    const [rb] = await a.ask(bad, 1500);
    assert.ok(rb?.answered && !rb.reply.ok, bad);
  }
  assert.deepEqual(executed, ['REFRESH']);
  const list = await a.ask('QUEUE {"op":"list","filter":{"limit":10,"offset":0}}', 1500);
  assert.deepEqual(list.find((x) => x.node === 'b')?.answered && (list.find((x) => x.node === 'b') as { reply: { data: unknown } }).reply.data, { total: 1, items: [{ id: 'x' }] });
});
