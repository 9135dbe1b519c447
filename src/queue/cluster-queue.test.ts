// The cluster-wide queue tools (cluster-queue.ts) over a port whose "other node" answers with
// serveQueueOp on a queue of its own, and rows of the shared queue in memory: filter actions,
// summary and shape count every node once, and unread rows act as local unread spool files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { err, ok, type Result } from '../core/index.js';
import type { NodeAnswer, RetryMessageRow, RowHold, StoreEntryRow } from '../store/operator-store.js';
import type { RetryCommand } from '../store/queue-store.js';
import { ClusterQueue, QUEUE_OP_PREFIX, rowQueueId, serveQueueOp, type ClusterQueuePort } from './cluster-queue.js';
import { matches, shape, QUEUE_STATES, type QueueAction, type QueueFilter, type QueueItem, type QueueState } from './model.js';
import type { Actor, QueueApi, QueueError } from './service.js';

const NOW = Date.parse('2026-11-27T19:00:00Z');

function item(id: string, o: Partial<QueueItem> = {}): QueueItem {
  return {
    id, state: 'retry', arrival: new Date(NOW - 60_000).toISOString(), nextAttempt: null, attempts: 1, size: 10, jobName: 'J', jobId: 'JOB1',
    user: 'u', sender: 'flood@spam.test', recipients: [{ address: 'a@x.test', state: 'deferred', lastReply: null }], target: '127.0.0.1:25',
    place: `e#${id}`, why: null, ...o,
  };
}

/** One node's own queue: items in memory; a hold by filter marks them held. */
class FakeQueue implements QueueApi {
  readonly notes: string[] = [];
  constructor(readonly items: QueueItem[]) {}
  async list(f: QueueFilter): Promise<{ total: number; items: QueueItem[] }> {
    const all = this.items.filter((x) => (f.states === undefined || f.states.includes(x.state)) && matches(x, f, NOW));
    return { total: all.length, items: all.slice(f.offset, f.offset + f.limit) };
  }
  async summary(): Promise<{ counts: Record<QueueState, number>; oldestAgeSeconds: number | null }> {
    throw new Error('not asked on a cluster');
  }
  async shape(by: 'target' | 'domain'): Promise<ReturnType<typeof shape>> { return shape(this.items, by, NOW); }
  async show(id: string): Promise<Result<never, QueueError>> { return err({ status: 404, error: `no message ${id} in the queue` }); }
  async act(id: string): Promise<Result<QueueItem | null, QueueError>> { return err({ status: 404, error: `no message ${id} in the queue` }); }
  async actMatching(f: QueueFilter, action: QueueAction): Promise<Result<{ done: number; refused: number; ids: string[] }, QueueError>> {
    const hit = this.items.filter((x) => matches(x, f, NOW) && x.state !== 'dead');
    const ids: string[] = [];
    for (const x of hit) {
      if (action === 'hold' && x.state !== 'held') { this.items[this.items.indexOf(x)] = { ...x, state: 'held' }; ids.push(x.id); }
    }
    return ok({ done: ids.length, refused: hit.length - ids.length, ids });
  }
  async deadLetters(): Promise<QueueItem[]> { return []; }
  async requeue(): Promise<never> { throw new Error('unused'); }
  async purgeDead(): Promise<never> { throw new Error('unused'); }
  async heldFiles(): Promise<never[]> { return []; }
  async heldFile(): Promise<never> { throw new Error('unused'); }
  async heldFileAction(): Promise<never> { throw new Error('unused'); }
  async recordAction(action: string, id: string, who: Actor, detail: string): Promise<void> { this.notes.push(`${action} ${id} ${detail}; by ${who.operator}: ${who.reason}`); }
}

/** A row; `name` is the entry's spool entry id where the store keeps it (p2-entryid), the `file` attribute here. */
function row(id: string, o: Partial<StoreEntryRow> = {}): StoreEntryRow {
  const file = typeof o.attributes?.file === 'string' ? o.attributes.file : `E${id}`;
  return {
    id, name: file, kind: 'spool', state: 'ready', attributes: { file: `E${id}`, jobName: 'UNREAD', jobId: `JOB${id}`, originUser: 'u' }, size: 100,
    arrivedNode: 'a', arrivedAt: new Date(NOW - 30_000), nextAttempt: new Date(NOW - 30_000), attempts: 0, leaseNode: null, lastNode: null,
    retryAttempts: 0, hold: null, ...o,
  } as StoreEntryRow;
}

function cluster(own: FakeQueue, other: FakeQueue, rows: StoreEntryRow[], suspend: 'none' | 'delay' = 'none', extra: Partial<ClusterQueuePort> = {}): { q: ClusterQueue; rows: StoreEntryRow[]; acted: string[] } {
  const acted: string[] = [];
  const port: ClusterQueuePort = {
    node: 'b', writer: 'W', now: () => NOW,
    ask: async (command): Promise<NodeAnswer[]> => {
      assert.ok(command.startsWith(QUEUE_OP_PREFIX));
      const reply = await serveQueueOp(other, command);
      return [{ node: 'a', answered: true, reply: { node: 'a', ...reply } }];
    },
    entries: async () => rows.map((r) => ({ ...r })),
    record: (action, id, who, detail) => own.recordAction(action, id, who, detail),
    actOnRow: async (id, action, note?: RowHold) => {
      const i = rows.findIndex((r) => r.id === id);
      if (i < 0) return 'missing';
      acted.push(`${action} ${id}`);
      const r = rows[i]!;
      if (action === 'delete') rows.splice(i, 1);
      else if (action === 'hold') rows[i] = { ...r, state: 'held', hold: note ?? null };
      else if (action === 'release') rows[i] = { ...r, state: 'ready', hold: null };
      return 'done';
    },
    ...extra,
  };
  return { q: new ClusterQueue(own, port, { suspendMode: () => suspend }), rows, acted };
}

const who: Actor = { operator: 'modify:ops', reason: 'flood' };

test('a hold by sender on node b holds b\'s match, node a\'s match and a matching row of the shared queue; counts per node', async () => {
  const own = new FakeQueue([item('b00000000001-1'), item('b00000000002-1', { sender: 'ok@corp.test' })]);
  const other = new FakeQueue([item('a00000000001-1'), item('a00000000002-1')]);
  const message = row('7', { kind: 'message', attributes: { file: 'M7', jobName: 'RECEIVER', jobId: 'J7', envelope: { sender: 'flood@spam.test', recipients: ['z@y.test'] } } });
  const unrelated = row('8', { kind: 'message', attributes: { file: 'M8', jobName: 'RECEIVER', jobId: 'J8', envelope: { sender: 'ok@corp.test', recipients: ['z@y.test'] } } });
  const claimedByA = row('9', { leaseNode: 'a', kind: 'message', attributes: { file: 'M9', jobId: 'J9', envelope: { sender: 'flood@spam.test', recipients: ['z@y.test'] } } });
  const { q, rows, acted } = cluster(own, other, [message, unrelated, claimedByA]);
  const r = await q.actMatching({ sender: 'flood@spam.test', limit: 100, offset: 0 }, 'hold', who);
  assert.ok(r.ok);
  assert.equal(r.value.done, 4, JSON.stringify(r.value));
  assert.deepEqual(r.value.nodes, [{ node: 'b', done: 1, refused: 0 }, { node: 'a', done: 2, refused: 0 }, { node: '-', done: 1, refused: 0 }]);
  assert.deepEqual(other.items.map((x) => x.state), ['held', 'held'], 'node a held its own');
  assert.deepEqual(acted, ['hold 7'], 'the row a holds is left to a, the other sender\'s row untouched');
  assert.equal(rows[0]!.state, 'held');
  assert.deepEqual(rows[0]!.hold, { operator: 'modify:ops', reason: 'flood', at: new Date(NOW).toISOString(), unread: true });
  assert.match(own.notes[0] ?? '', new RegExp(`^hold ${rowQueueId(message)} spool file M7 held unread in the shared queue \\(by filter\\); by modify:ops: flood$`));
  // Nothing matches twice: a second hold refuses none of the held ones as new.
  const again = await q.actMatching({ sender: 'flood@spam.test', limit: 100, offset: 0 }, 'hold', who);
  assert.ok(again.ok);
  assert.equal(again.value.done, 0);
});

test('summary and shape count every node once (an item on the shared store is listed by both), the rows nobody holds, and break it down per node', async () => {
  const shared = item('cccccccccccc-1', { state: 'extended', place: 'x:1' });
  const own = new FakeQueue([item('b00000000001-1'), shared]);
  const other = new FakeQueue([item('a00000000001-1', { state: 'processing' }), item('a00000000002-1', { state: 'held' }), shared]);
  const { q } = cluster(own, other, [row('5'), row('6', { leaseNode: 'a' })]);
  const s = await q.summary();
  const want = Object.fromEntries(QUEUE_STATES.map((x) => [x, 0])) as Record<QueueState, number>;
  assert.deepEqual(s.counts, { ...want, retry: 1, extended: 1, processing: 2, held: 1 });
  assert.deepEqual(s.nodes.map((n) => [n.node, n.total]), [['-', 1], ['a', 2], ['b', 2]]);
  assert.equal(s.oldestAgeSeconds, 60);
  assert.deepEqual(s.silent, []);
  const byTarget = await q.shape('target');
  assert.equal(byTarget.rows[0]!.key, 'TOTAL');
  assert.equal(byTarget.rows[0]!.total, 5);
  assert.deepEqual(byTarget.nodes, [{ node: '-', total: 1 }, { node: 'a', total: 2 }, { node: 'b', total: 2 }]);
  const byDomain = await q.shape('domain');
  assert.equal(byDomain.rows.find((x) => x.key === 'x.test')?.total, 4);
});

test('a row no node has read: listed as an unread spool file, retry/bounce/release are 409s, hold keeps it unread with the reason, delete is journaled', async () => {
  const own = new FakeQueue([]);
  const { q, rows } = cluster(own, new FakeQueue([]), [row('11'), row('12', { attempts: 1, lastNode: 'a', nextAttempt: new Date(NOW + 60_000) })], 'delay');
  const list = await q.list({ states: ['processing'], limit: 10, offset: 0 });
  assert.equal(list.total, 1);
  const unread = list.items[0]!;
  assert.equal(unread.place, 'spool:E11');
  assert.match(unread.why ?? '', /^spool file not read yet: SUSPEND DELAY on this node \(RESUME\)/);
  const retry = await q.act(unread.id, 'retry', who);
  assert.ok(!retry.ok && retry.error.status === 409);
  assert.match(retry.error.error, /not read yet, so it has no messages to retry: .*RESUME.*hold or delete work on the file now/);
  const bounce = await q.act(unread.id, 'bounce', who);
  assert.ok(!bounce.ok && bounce.error.status === 409 && /hold it .* or delete it/.test(bounce.error.error));
  const release = await q.act(unread.id, 'release', who);
  assert.ok(!release.ok && release.error.status === 409);
  const held = await q.act(unread.id, 'hold', { operator: 'http:dora', reason: 'check first' });
  assert.ok(held.ok && held.value !== null);
  assert.equal(held.value.state, 'held');
  assert.equal(held.value.id, unread.id);
  assert.equal(held.value.place, 'held:E11');
  assert.match(held.value.why ?? '', /^held by http:dora before it was read: check first$/);
  // The row read once (long retry) keeps its place in the shared queue.
  const read = (await q.list({ limit: 10, offset: 0 })).items.find((x) => x.id === rowQueueId(rows[1]!))!;
  assert.equal(read.place, 'db:12');
  assert.equal(read.state, 'retry');
  const gone = await q.act(rowQueueId(rows[1]!), 'delete', who);
  assert.ok(gone.ok && gone.value === null);
  assert.deepEqual(own.notes, [
    `hold ${unread.id} spool file E11 held unread in the shared queue; by http:dora: check first`,
    `delete ${read.id} deleted from the shared queue: nobody is notified; by modify:ops: flood`,
  ]);
});

test('a message released for long retry, held by id: the row notes who held it and the item names that operator, as in memory', async () => {
  const own = new FakeQueue([]);
  const other = new FakeQueue([]);
  const r = row('21', { kind: 'message', name: 'M21', attempts: 1, retryAttempts: 1, nextAttempt: new Date(NOW + 600_000), lastNode: 'a' });
  const view = { queueId: '4368bb5d10e6-1', arrival: new Date(NOW - 60_000).toISOString(), attempts: 1, size: 10, jobName: 'J', jobId: 'JOB21', user: 'u', sender: 's@x.test', recipients: [{ address: 'slow@remote.test', state: 'deferred', lastReply: '451 4.3.0 later' }], target: null, place: '21#1', why: '451 4.3.0 later' };
  // The message as its node showed it when it released the file (RetryView).
  const { q, rows } = cluster(own, other, [r], 'none', { retryMessages: async () => [{ entryId: '21', no: 1, attempts: 1, view, command: false }] });
  const console: Actor = { operator: 'http:console', reason: 'look first' };
  const held = await q.act('4368bb5d10e6-1', 'hold', console);
  assert.ok(held.ok, JSON.stringify(held));
  assert.equal(rows[0]!.state, 'held');
  assert.deepEqual(rows[0]!.hold, { operator: 'http:console', reason: 'look first', at: new Date(NOW).toISOString(), unread: false });
  assert.deepEqual(held.value?.hold, { operator: 'http:console', reason: 'look first', at: new Date(NOW).toISOString() });
  const listed = (await q.list({ limit: 10, offset: 0 })).items.find((x) => x.id === '4368bb5d10e6-1');
  assert.equal(listed?.state, 'held');
  assert.equal(listed?.hold?.operator, 'http:console');
  assert.match(own.notes[0] ?? '', /^hold 4368bb5d10e6-1 held \(was retry; in the shared queue\); by http:console: look first$/);
});

test('a file claimed again for its next attempt: its waiting messages stay listed and actionable until the claiming node has them in memory or releases the file (no 404 window)', async () => {
  /** This node's queue: a message it has in memory answers actions (as queue/service.ts). */
  class LiveQueue extends FakeQueue {
    override async act(id: string, action?: QueueAction): Promise<Result<QueueItem | null, QueueError>> {
      const i = this.items.findIndex((x) => x.id === id);
      if (i < 0) return err({ status: 404, error: `no message ${id} in the queue` });
      if (action !== 'hold') throw new Error(`unexpected ${action}`);
      this.items[i] = { ...this.items[i]!, state: 'held' };
      return ok(this.items[i]!);
    }
  }
  const own = new LiveQueue([item('5c0000000031-3', { state: 'processing', why: 'being tried' })]);
  const other = new FakeQueue([]);
  // Node b (this one) claimed the file again: its lease is live, its row's next attempt is the one being made.
  const r = row('31', { attempts: 2, retryAttempts: 2, leaseNode: 'b', lastNode: 'b', nextAttempt: new Date(NOW - 1000) });
  const view = (no: number, next: number): Record<string, string | number | null | { address: string; state: string; lastReply: string }[]> => ({
    queueId: `5c0000000031-${no}`, arrival: new Date(NOW - 60_000).toISOString(), nextAttempt: new Date(next).toISOString(), attempts: 2, size: 10, jobName: 'J', jobId: 'JOB31', user: 'u',
    sender: 's@x.test', recipients: [{ address: `m${no}@remote.test`, state: 'deferred', lastReply: '451 4.2.0 busy' }], target: '127.0.0.1', place: `31#${no}`, why: '451 4.2.0 busy',
  });
  // 1: settled in long retry again in this pass (due in 10 min); 2: not read yet in this pass;
  // 3: read and being tried now (in b's memory, its stored view from the last pass still there).
  const waiting = [
    { entryId: '31', no: 1, attempts: 2, view: view(1, NOW + 600_000), command: false },
    { entryId: '31', no: 2, attempts: 2, view: view(2, NOW - 1000), command: false },
    { entryId: '31', no: 3, attempts: 2, view: view(3, NOW - 1000), command: false },
  ];
  const commands: string[] = [];
  // The claim is held open by the test: each look of an action at the rows is an event.
  let looked: (() => void) | undefined;
  const look = (): Promise<void> => new Promise((res) => { looked = res; });
  const { q, rows, acted } = cluster(own, other, [r], 'none', {
    entries: async () => { looked?.(); looked = undefined; return rows.map((x) => ({ ...x })); },
    retryMessages: async () => waiting.map((m) => ({ ...m })),
    commandRetry: async (id, no, c) => {
      commands.push(`${id} ${no} ${c?.action ?? "release"}`);
      // The node that claims it carries it out (store-source.ts): the message is finished.
      waiting.splice(waiting.findIndex((m) => m.entryId === id && m.no === no), 1);
      return 'done';
    },
  });

  // Listed once each: 1 and 2 from their stored views under the claiming node, 3 from its memory.
  const list = (await q.list({ limit: 10, offset: 0 })).items;
  assert.deepEqual(list.map((x) => `${x.id} ${x.state} ${x.node ?? ''}`), ['5c0000000031-1 retry b', '5c0000000031-2 retry b', '5c0000000031-3 processing b']);
  assert.equal(list[0]!.nextAttempt, new Date(NOW + 600_000).toISOString(), 'the message\'s own next attempt, not the row\'s');
  assert.match(list[1]!.why ?? '', /node b has claimed its file for the next attempt/);
  const sum = await q.summary();
  assert.equal(sum.counts.retry, 2);
  assert.equal(sum.counts.processing, 1);
  const shown = await q.show('5c0000000031-1', { body: false });
  assert.ok(shown.ok, JSON.stringify(shown));

  // hold of 2 while b has not read it: answered once b has it in memory, carried out there.
  let looking = look();
  const hold = q.act('5c0000000031-2', 'hold', who);
  await looking;
  own.items.push(item('5c0000000031-2', { state: 'processing' }));
  const held = await hold;
  assert.ok(held.ok, JSON.stringify(held));
  assert.equal(held.value?.state, 'held');
  assert.deepEqual(acted, [], 'the row is left alone');

  // bounce of 1 while b still holds the file: stored with the message once b released it.
  looking = look();
  let answered = false;
  const bounce = q.act('5c0000000031-1', 'bounce', who).finally(() => { answered = true; });
  await looking;
  assert.equal(answered, false);
  assert.deepEqual(commands, [], 'nothing stored while the file is claimed');
  rows[0] = { ...rows[0]!, leaseNode: null, nextAttempt: new Date(NOW + 600_000) };
  const bounced = await bounce;
  assert.ok(bounced.ok, JSON.stringify(bounced));
  assert.deepEqual(commands, ['31 1 bounce']);
  assert.match(own.notes.join('\n'), /^bounce 5c0000000031-1 made undeliverable: the sender is notified; by modify:ops: flood$/m);
});

test('a hold by filter reaches a waiting message of a file another node claimed again and did not have in memory: held on the row once that node released it', async () => {
  const own = new FakeQueue([]);
  const other = new FakeQueue([]);
  const r = row('41', { attempts: 1, retryAttempts: 1, leaseNode: 'a', lastNode: 'a', nextAttempt: new Date(NOW - 1000) });
  const view = {
    queueId: '5c0000000041-1', arrival: new Date(NOW - 60_000).toISOString(), nextAttempt: new Date(NOW + 600_000).toISOString(), attempts: 1, size: 10, jobName: 'J', jobId: 'JOB41', user: 'u',
    sender: 'flood@spam.test', recipients: [{ address: 'z@remote.test', state: 'deferred', lastReply: '451 4.2.0 busy' }], target: '127.0.0.1', place: '41#1', why: '451 4.2.0 busy',
  };
  let looked: (() => void) | undefined;
  let looks = 0;
  const { q, rows, acted } = cluster(own, other, [r], 'none', {
    entries: async () => { looks++; looked?.(); looked = undefined; return rows.map((x) => ({ ...x })); },
    retryMessages: async () => [{ entryId: '41', no: 1, attempts: 1, view, command: false }],
  });
  const seen = new Promise<void>((res) => { looked = res; });
  const hold = q.actMatching({ sender: 'flood@spam.test', limit: 100, offset: 0 }, 'hold', who);
  await seen;
  // Node a still holds the file (the first look found it claimed); now a's pass ends.
  const first = looks;
  const next = new Promise<void>((res) => { looked = res; });
  const firstDone = await Promise.race([next.then(() => 'looked again'), hold.then(() => 'answered')]);
  assert.equal(firstDone, 'looked again', 'the action waits for the claiming node');
  assert.ok(looks > first);
  assert.deepEqual(acted, [], 'nothing done on the row while a holds it');
  rows[0] = { ...rows[0]!, leaseNode: null, nextAttempt: new Date(NOW + 600_000) };
  const out = await hold;
  assert.ok(out.ok, JSON.stringify(out));
  assert.equal(out.value.done, 1);
  assert.deepEqual(out.value.ids, ['5c0000000041-1']);
  assert.deepEqual(acted, ['hold 41']);
  assert.equal(rows[0]!.state, 'held');
});

test('with the store\'s per-message commands, a hold of a released message is stored with that message (the row and its other messages untouched), and its release clears it', async () => {
  const r = row('22', { kind: 'message', name: 'M22', attempts: 1, retryAttempts: 1, nextAttempt: new Date(NOW + 600_000), lastNode: 'a' });
  const view = (n: number): RetryMessageRow['view'] => ({ queueId: `4368bb5d10e7-${n}`, arrival: new Date(NOW - 60_000).toISOString(), attempts: 1, size: 10, jobName: 'J', jobId: 'JOB22', user: 'u', sender: 's@x.test', recipients: [], target: null, place: `22#${n}`, why: '451 later' });
  const stored = new Map<number, RetryCommand | null>();
  const msgs = (): RetryMessageRow[] => [1, 2].map((no) => {
    const c = stored.get(no);
    return { entryId: '22', no, attempts: 1, view: view(no), command: false, ...(c?.action === 'hold' ? { hold: { operator: c.operator, reason: c.reason, at: c.at ?? '' } } : {}) };
  });
  const { q, rows, acted } = cluster(new FakeQueue([]), new FakeQueue([]), [r], 'none', {
    retryMessages: async () => msgs(),
    commandRetry: async (_id, no, command) => { stored.set(no, command); return 'done'; },
  });
  const held = await q.act('4368bb5d10e7-1', 'hold', { operator: 'http:console', reason: 'look first' });
  assert.ok(held.ok, JSON.stringify(held));
  assert.deepEqual(stored.get(1), { action: 'hold', operator: 'http:console', reason: 'look first', at: new Date(NOW).toISOString() });
  assert.equal(rows[0]!.state, 'ready', 'the row is not held: its other message goes on');
  assert.deepEqual(acted, []);
  const listed = (await q.list({ limit: 10, offset: 0 })).items;
  assert.deepEqual(listed.map((x) => [x.id, x.state, x.hold?.operator ?? null]), [['4368bb5d10e7-1', 'held', 'http:console'], ['4368bb5d10e7-2', 'retry', null]]);
  const rel = await q.act('4368bb5d10e7-1', 'release', who);
  assert.ok(rel.ok, JSON.stringify(rel));
  assert.equal(stored.get(1), null, 'the hold cleared (and the message made due) by the store');
});
