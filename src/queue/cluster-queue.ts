// The queue tools over a cluster ([P2] item 4, docs/queue.md "On a cluster"): the same QueueApi,
// answered from every node. Decided as follows:
//
// - list: this node's own items, every other live node's items (asked through the store: each
//   node answers with its own list, its messages in memory, holds...), and the rows
//   of the shared queue that no answering node holds (not claimed yet, claimed by a node that did
//   not answer, released for a later attempt = long retry, held in the row) as one item per
//   file, message number 0 (`place` db:<id>; attempts: the most any of its messages had; why and
//   `lastNode`: the node that last tried). Every item names its node (`node`; '-' for a row
//   nobody holds).
//   The lists are merged oldest first; offset and limit apply to the merged list.
// - show and the actions by id: this node first; an id it does not know is routed to the other
//   live nodes (the one that has the message carries the action out in its own queue, with its
//   own hold list and journal: a message in another node's memory can only be stopped there).
//   An id no node knows that names a row of the shared queue is acted on in the row, under its
//   row lock. That is also how a file whose messages wait in long retry is reached: its node
//   released it (next_attempt = the retry time, the attempts in checkpoint_retries, last_node),
//   so no node has it in memory and any node makes the next attempt. hold (state held: no node
//   claims it; 409 if held already), release (ready, due now), retry (due now; 409 if held),
//   delete (the row, its bytes and checkpoint); bounce needs the messages, which nobody has read
//   yet: 409. A row leased by a live node that did not answer: 409 (try again; its lease runs out
//   if it is dead).
// - by filter, summary, shape, dead letters: this node only (documented). Held spool files are
//   in the shared tables (spool/held-files.ts): this node lists, shows, releases and purges every
//   node's, and the other nodes' lists leave theirs out (the same rows).
import { isQueueId, queueIdFor, err, ok, type Result } from '../core/index.js';
import type { JsonValue } from '../store/queue-store.js';
import type { NodeAnswer, RowActionOutcome, StoreEntryRow } from '../store/operator-store.js';
import { matches, MAX_LIMIT, type QueueFilter, type QueueItem, type QueueAction } from './model.js';
import type { Actor, QueueApi, QueueDetail, QueueError } from './service.js';

/** Requests of the cluster-wide queue tools start with this (cluster-operator.ts dispatches them). */
export const QUEUE_OP_PREFIX = 'QUEUE ';

/** What one node asks another to do in its own queue. */
export type QueueOp =
  | { readonly op: 'list'; readonly filter: QueueFilter }
  | { readonly op: 'show'; readonly id: string; readonly body: boolean }
  | { readonly op: 'act'; readonly id: string; readonly action: QueueAction; readonly who: Actor };

/** A queue item with the node it is on (ext: absent with one node). */
export type ClusterQueueItem = QueueItem & {
  readonly node?: string;
  /** A row of the shared queue: the node that made its last attempt (released it for long retry). */
  readonly lastNode?: string;
};

/** What the cluster-wide queue needs of the store and the other nodes (src/cluster-operator.ts). */
export interface ClusterQueuePort {
  readonly node: string;
  readonly writer: string;
  /** Asks every other live node to run a queue operation in its own queue; bounded. */
  ask(command: string): Promise<readonly NodeAnswer[]>;
  entries(limit: number): Promise<StoreEntryRow[]>;
  actOnRow(id: string, action: 'hold' | 'release' | 'retry' | 'delete'): Promise<RowActionOutcome>;
  now(): number;
}

function checkOp(v: unknown): QueueOp | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.op === 'list' && typeof o.filter === 'object' && o.filter !== null) {
    const f = o.filter as QueueFilter;
    if (typeof f.limit !== 'number' || typeof f.offset !== 'number' || f.limit < 0 || f.limit > MAX_LIMIT * 10 || f.offset !== 0) return undefined;
    return { op: 'list', filter: f };
  }
  if (typeof o.id !== 'string' || !isQueueId(o.id)) return undefined;
  if (o.op === 'show') return { op: 'show', id: o.id, body: o.body === true };
  const who = o.who as Actor | undefined;
  if (o.op === 'act' && typeof o.action === 'string' && ['hold', 'release', 'retry', 'bounce', 'delete'].includes(o.action)
    && typeof who?.operator === 'string' && typeof who.reason === 'string') {
    return { op: 'act', id: o.id, action: o.action as QueueAction, who: { operator: who.operator.slice(0, 200), reason: who.reason.slice(0, 500) } };
  }
  return undefined;
}

/** On the node asked: carries one queue operation out in its own queue. */
export async function serveQueueOp(queue: QueueApi, command: string): Promise<{ ok: boolean; lines: string[]; data: unknown }> {
  let op: QueueOp | undefined;
  try {
    op = checkOp(JSON.parse(command.slice(QUEUE_OP_PREFIX.length)));
  } catch {
    op = undefined;
  }
  if (op === undefined) return { ok: false, lines: [], data: { status: 400, error: 'not a queue operation this node accepts' } };
  switch (op.op) {
    case 'list': return { ok: true, lines: [], data: await queue.list(op.filter) };
    case 'show': {
      const r = await queue.show(op.id, { body: op.body });
      return r.ok ? { ok: true, lines: [], data: r.value } : { ok: false, lines: [], data: r.error };
    }
    case 'act': {
      const r = await queue.act(op.id, op.action, op.who);
      return r.ok ? { ok: true, lines: [], data: { item: r.value } } : { ok: false, lines: [], data: r.error };
    }
  }
}

function queueErrorOf(data: unknown): QueueError | undefined {
  const d = data as { status?: unknown; error?: unknown } | null;
  if (d === null || typeof d !== 'object' || typeof d.error !== 'string') return undefined;
  const status = d.status === 400 || d.status === 404 || d.status === 409 || d.status === 503 ? d.status : 503;
  return { status, error: d.error };
}

function text(a: StoreEntryRow['attributes'], k: string): string {
  const v = a[k];
  return typeof v === 'string' ? v : '';
}

/** The queue id of a row's file: what its claiming node's tasks name it (`db-<id>`), message 0. */
export function rowQueueId(r: StoreEntryRow): string {
  return queueIdFor(`db-${r.id}`, text(r.attributes, 'jobId'), 0);
}

function rowItem(r: StoreEntryRow, nowMs: number): ClusterQueueItem {
  const held = r.state === 'held';
  const later = r.nextAttempt.getTime() > nowMs;
  const tried = r.lastNode === null ? '' : `; last tried by node ${r.lastNode}`;
  const why = held ? `held in the shared queue (release to send it)${tried}`
    : r.leaseNode !== null ? `claimed by node ${r.leaseNode}, which did not answer`
      : later ? `long retry in the shared queue: any node tries it again at ${r.nextAttempt.toISOString()}${tried}`
        : `waiting in the shared queue for a node to claim it${tried}`;
  const env = r.attributes.envelope as { sender?: JsonValue; recipients?: JsonValue } | undefined;
  const rcpts = Array.isArray(env?.recipients) ? env.recipients.filter((x): x is string => typeof x === 'string') : [];
  return {
    id: rowQueueId(r), state: held ? 'held' : later ? 'retry' : 'processing', arrival: r.arrivedAt.toISOString(),
    nextAttempt: later ? r.nextAttempt.toISOString() : null, attempts: Math.max(r.retryAttempts, r.attempts), size: r.size,
    jobName: text(r.attributes, 'jobName'), jobId: text(r.attributes, 'jobId'), user: text(r.attributes, 'originUser'),
    sender: typeof env?.sender === 'string' ? env.sender : '', recipients: rcpts.map((a) => ({ address: a, state: 'pending', lastReply: null })),
    target: null, place: `db:${r.id}`, why, node: r.leaseNode ?? '-', ...(r.lastNode === null ? {} : { lastNode: r.lastNode }),
  };
}

/** The whole cluster's queue: `inner` is this node's own (queue/service.ts). */
export class ClusterQueue implements QueueApi {
  constructor(private readonly inner: QueueApi, private readonly port: ClusterQueuePort) {}

  private tag<T extends QueueItem>(x: T, node: string): T & { node: string } {
    return { ...x, node };
  }

  async list(filter: QueueFilter): Promise<{ total: number; items: ClusterQueueItem[] }> {
    const want = { ...filter, offset: 0, limit: Math.min(MAX_LIMIT * 10, filter.offset + filter.limit) };
    const [own, answers, rows] = await Promise.all([
      this.inner.list(want),
      this.port.ask(QUEUE_OP_PREFIX + JSON.stringify({ op: 'list', filter: want })),
      this.port.entries(MAX_LIMIT),
    ]);
    let total = own.total;
    const items: ClusterQueueItem[] = own.items.map((x) => this.tag(x, this.port.node));
    const answered = new Set([this.port.node]);
    for (const a of answers) {
      if (!a.answered || !a.reply.ok) continue;
      const d = a.reply.data as { total?: unknown; items?: unknown } | null;
      if (typeof d?.total !== 'number' || !Array.isArray(d.items)) continue;
      answered.add(a.node);
      total += d.total;
      // Held spool files are in the shared tables: every node lists all of them, this one included.
      for (const x of d.items as QueueItem[]) {
        if (x.place.startsWith('held:')) total--;
        else items.push(this.tag(x, a.node));
      }
    }
    const now = this.port.now();
    for (const r of rows) {
      if (r.leaseNode !== null && answered.has(r.leaseNode)) continue;
      const item = rowItem(r, now);
      if (!matches(item, filter, now)) continue;
      total++;
      items.push(item);
    }
    items.sort((a, b) => a.arrival.localeCompare(b.arrival) || a.id.localeCompare(b.id));
    return { total, items: items.slice(filter.offset, filter.offset + filter.limit) };
  }

  summary(): ReturnType<QueueApi['summary']> { return this.inner.summary(); }
  shape(by: 'target' | 'domain', filter?: QueueFilter): ReturnType<QueueApi['shape']> { return this.inner.shape(by, filter); }
  actMatching(filter: QueueFilter, action: QueueAction, who: Actor): ReturnType<QueueApi['actMatching']> { return this.inner.actMatching(filter, action, who); }
  deadLetters(): ReturnType<QueueApi['deadLetters']> { return this.inner.deadLetters(); }
  requeue(id: string, who: Actor): ReturnType<QueueApi['requeue']> { return this.inner.requeue(id, who); }
  purgeDead(days: number, who: Actor): ReturnType<QueueApi['purgeDead']> { return this.inner.purgeDead(days, who); }
  heldFiles(): ReturnType<QueueApi['heldFiles']> { return this.inner.heldFiles(); }
  heldFile(id: string): ReturnType<QueueApi['heldFile']> { return this.inner.heldFile(id); }
  heldFileAction(id: string, action: 'release' | 'purge', who: Actor): ReturnType<QueueApi['heldFileAction']> { return this.inner.heldFileAction(id, action, who); }

  /** The first other node's answer that is not "no such id", or the 404s' summary. */
  private async routed(op: QueueOp): Promise<{ node: string; ok: boolean; data: unknown } | { silent: string[] }> {
    const answers = await this.port.ask(QUEUE_OP_PREFIX + JSON.stringify(op));
    const silent: string[] = [];
    for (const a of answers) {
      if (!a.answered) { silent.push(a.node); continue; }
      if (a.reply.ok) return { node: a.node, ok: true, data: a.reply.data };
      const e = queueErrorOf(a.reply.data);
      if (e?.status !== 404) return { node: a.node, ok: false, data: a.reply.data };
    }
    return { silent };
  }

  private async row(id: string): Promise<StoreEntryRow | undefined> {
    if (!id.endsWith('-0')) return undefined;
    return (await this.port.entries(MAX_LIMIT)).find((r) => rowQueueId(r) === id);
  }

  async show(id: string, opts: { body: boolean }): Promise<Result<QueueDetail, QueueError>> {
    const own = await this.inner.show(id, opts);
    if (own.ok) return ok(this.tag(own.value, this.port.node));
    if (own.error.status !== 404) return own;
    const r = await this.routed({ op: 'show', id, body: opts.body });
    if ('node' in r) return r.ok ? ok(this.tag(r.data as QueueDetail, r.node)) : err(queueErrorOf(r.data) ?? { status: 503, error: 'bad answer' });
    const row = await this.row(id);
    if (row !== undefined) return ok({ ...rowItem(row, this.port.now()), history: [], actions: [] });
    return err(notFound(id, own.error.error, r.silent));
  }

  async act(id: string, action: QueueAction, who: Actor): Promise<Result<QueueItem | null, QueueError>> {
    const own = await this.inner.act(id, action, who);
    if (own.ok || own.error.status !== 404) return own.ok && own.value !== null ? ok(this.tag(own.value, this.port.node)) : own;
    const r = await this.routed({ op: 'act', id, action, who });
    if ('node' in r) {
      if (!r.ok) return err(queueErrorOf(r.data) ?? { status: 503, error: 'bad answer' });
      const item = (r.data as { item?: QueueItem | null } | null)?.item ?? null;
      return ok(item === null ? null : this.tag(item, r.node));
    }
    const row = await this.row(id);
    if (row === undefined) return err(notFound(id, own.error.error, r.silent));
    if (action === 'retry' && row.state === 'held') return err({ status: 409, error: `${id} is held in the shared queue: release it (a release sends it at once)` });
    if (action === 'hold' && row.state === 'held') return err({ status: 409, error: `${id} is already held in the shared queue` });
    if (action === 'bounce') return err({ status: 409, error: `${id} is a file in the shared queue that no node has read yet: bounce works on its messages; hold, release, retry or delete it, or wait until a node reads it` });
    const out = await this.port.actOnRow(row.id, action);
    if (out === 'missing') return err({ status: 404, error: `${id} left the shared queue meanwhile` });
    if (out === 'leased') return err({ status: 409, error: `${id} was claimed by node ${row.leaseNode ?? 'another node'} meanwhile: try again` });
    const after = (await this.port.entries(MAX_LIMIT)).find((x) => x.id === row.id);
    return ok(after === undefined ? null : rowItem(after, this.port.now()));
  }
}

function notFound(id: string, here: string, silent: readonly string[]): QueueError {
  const also = silent.length === 0 ? '' : `; node${silent.length === 1 ? '' : 's'} ${silent.join(', ')} did not answer`;
  return { status: 404, error: `${here || `no message ${id}`}; not on any other node of the cluster either${also}`.slice(0, 600) };
}
