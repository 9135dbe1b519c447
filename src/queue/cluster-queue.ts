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
// - long retry (docs/cluster.md "Long retry in the operator's view"): a file whose messages wait
//   in long retry is released to the shared queue, and each of those messages keeps the item its
//   node showed (RetryView, stored with its attempts). They are listed one item per message, under
//   the queue id they had in memory, with sender, recipients and their states, last reply, target,
//   attempts (the cluster's count) and the row's next attempt, instead of the row's file item.
//   Their actions: hold, release and retry act on the row (every waiting message of that file);
//   bounce and delete are stored with the message and the row made due now: the node that claims
//   it carries them out as for a message in its memory (DSN, accounting, checkpoint), and the
//   answer waits (bounded) until it is done. Each is logged and journaled here.
// - by filter, summary, shape, dead letters, held files: this node only (documented).
import { isQueueId, queueIdFor, err, ok, type Result } from '../core/index.js';
import type { JsonValue } from '../store/queue-store.js';
import type { NodeAnswer, RetryMessageRow, RowActionOutcome, StoreEntryRow } from '../store/operator-store.js';
import { matches, MAX_LIMIT, shape, type QueueFilter, type QueueItem, type QueueAction } from './model.js';
import type { Actor, ActionItem, HistoryItem, QueueApi, QueueDetail, QueueError } from './service.js';

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
  /** Long retry: the messages of released entries with their views (OperatorStore.retryMessages). */
  retryMessages?(limit: number): Promise<RetryMessageRow[]>;
  /** Long retry: a bounce or delete for the node that claims the entry (OperatorStore.commandRetry). */
  commandRetry?(id: string, no: number, command: { readonly action: 'bounce' | 'delete'; readonly operator: string; readonly reason: string }): Promise<RowActionOutcome>;
  /** Logs and journals an action carried out on the shared queue (QueueService.recordAction). */
  record?(action: string, id: string, who: Actor, detail: string): Promise<void>;
  /** An entry's bytes, or undefined when it is gone or larger than `max` (show --body of a released message). */
  entryBytes?(id: string, max: number): Promise<Buffer | undefined>;
  /** The data of message `no` of an entry's bytes (a message entry: the bytes; a batch file: parsed, queue/preview.ts). */
  messageData?(row: StoreEntryRow, bytes: Buffer, no: number): Buffer | undefined;
  /** The journal's history and actions of a message by queue id and key (QueueService.pastOfKey). */
  past?(id: string, key: string): Promise<{ history: HistoryItem[]; actions: ActionItem[] } | undefined>;
}

/** How long a bounce or delete of a released message waits for the node that claims it. */
export const RETRY_COMMAND_WAIT_MS = 10_000;
const RETRY_COMMAND_LOOK_MS = 100;
/** show --body of a released message reads its entry when at most this large (then parses it). */
export const MAX_SHOW_BYTES = 16 * 1024 * 1024;
/** As this node's show: at most 1 MiB of the message. */
const MAX_BODY_CHARS = 1024 * 1024;

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

const str = (v: JsonValue | undefined, d = ''): string => (typeof v === 'string' ? v : d);

/** A message released for long retry, as its node showed it (RetryView), with the row's state and next attempt. */
function retryItem(r: StoreEntryRow, m: RetryMessageRow, nowMs: number): ClusterQueueItem | undefined {
  const v = m.view;
  if (v === null || typeof v.queueId !== 'string' || !isQueueId(v.queueId)) return undefined;
  const held = r.state === 'held';
  const tried = r.lastNode === null ? '' : `; last tried by node ${r.lastNode}`;
  const last = typeof v.why === 'string' ? v.why : null;
  const due = r.nextAttempt.getTime() > nowMs ? r.nextAttempt.toISOString() : new Date(nowMs).toISOString();
  const rcpts = Array.isArray(v.recipients) ? v.recipients : [];
  return {
    id: v.queueId, state: held ? 'held' : 'retry', arrival: str(v.arrival, r.arrivedAt.toISOString()), nextAttempt: held ? null : due,
    attempts: m.attempts, size: typeof v.size === 'number' ? v.size : 0, jobName: str(v.jobName), jobId: str(v.jobId), user: str(v.user), sender: str(v.sender),
    recipients: rcpts.flatMap((x) => {
      const o = x as { address?: JsonValue; state?: JsonValue; lastReply?: JsonValue } | null;
      if (o === null || typeof o !== 'object' || typeof o.address !== 'string') return [];
      const state = o.state === 'failed' || o.state === 'delivered' || o.state === 'pending' || o.state === 'done' ? o.state : 'deferred';
      return [{ address: o.address, state, lastReply: typeof o.lastReply === 'string' ? o.lastReply : null }];
    }),
    target: typeof v.target === 'string' ? v.target : null, place: str(v.place, `db:${r.id}#${m.no}`),
    why: held ? `held in the shared queue (release to send it)${tried}`
      : m.command ? `an operator's bounce or delete waits for a node to claim it${tried}`
        : `${last ?? 'long retry'}; long retry in the shared queue: any node tries it again at ${due}${tried}`,
    node: r.leaseNode ?? '-', ...(r.lastNode === null ? {} : { lastNode: r.lastNode }),
  };
}

/** The whole cluster's queue: `inner` is this node's own (queue/service.ts). */
export class ClusterQueue implements QueueApi {
  constructor(private readonly inner: QueueApi, private readonly port: ClusterQueuePort) {}

  private tag<T extends QueueItem>(x: T, node: string): T & { node: string } {
    return { ...x, node };
  }

  private async retryMessages(): Promise<RetryMessageRow[]> {
    return (await this.port.retryMessages?.(MAX_LIMIT)) ?? [];
  }

  private retryItems(r: StoreEntryRow, waiting: readonly RetryMessageRow[], now: number): ClusterQueueItem[] {
    return waiting.filter((m) => m.entryId === r.id).map((m) => retryItem(r, m, now)).filter((x): x is ClusterQueueItem => x !== undefined);
  }

  /** A message released for long retry by its queue id: the row, the message and its item. */
  private async retryMessage(id: string): Promise<{ row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem } | undefined> {
    const waiting = await this.retryMessages();
    const hit = waiting.find((m) => m.view?.queueId === id);
    if (hit === undefined) return undefined;
    const row = (await this.port.entries(MAX_LIMIT)).find((r) => r.id === hit.entryId);
    if (row === undefined || row.leaseNode !== null) return undefined;
    const item = retryItem(row, hit, this.port.now());
    return item === undefined ? undefined : { row, msg: hit, item };
  }

  /** hold, release, retry on the row of a released message; bounce and delete by the node that claims it. */
  private async actOnRetry(id: string, action: QueueAction, who: Actor, rm: { row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }): Promise<Result<QueueItem | null, QueueError>> {
    const { row, msg } = rm;
    const held = row.state === 'held';
    if (action === 'hold' && held) return err({ status: 409, error: `${id} is held: already held (in the shared queue)` });
    if (action === 'retry' && held) return err({ status: 409, error: `${id} is held: release it (a release tries it at once)` });
    if (action === 'release' && !held) return err({ status: 409, error: `${id} is ${rm.item.state}: not held` });
    const lost = (out: RowActionOutcome): Result<never, QueueError> | undefined =>
      out === 'missing' ? err({ status: 404, error: `message ${id} left the queue meanwhile` })
        : out === 'leased' ? err({ status: 409, error: `${id} was claimed by a node meanwhile: try again` }) : undefined;
    if (action === 'bounce' || action === 'delete') {
      if (this.port.commandRetry === undefined) return err({ status: 409, error: `${id} waits in the shared queue: ${action} needs a node to claim it` });
      const out = await this.port.commandRetry(row.id, msg.no, { action, operator: who.operator, reason: who.reason });
      const bad = lost(out);
      if (bad !== undefined) return bad;
      await this.port.record?.(action, id, who, action === 'bounce' ? 'made undeliverable: the sender is notified' : 'deleted: nobody is notified');
      // Carried out by the node that claims the entry (at once: it was made due and the nodes woken).
      // Bounded by looks, not by the clock: a test's clock may stand still.
      for (let look = 0; look < RETRY_COMMAND_WAIT_MS / RETRY_COMMAND_LOOK_MS; look++) {
        const rows = await this.port.entries(MAX_LIMIT);
        const r = rows.find((x) => x.id === row.id);
        if (r === undefined || (r.leaseNode === null && !(await this.retryMessages()).some((m) => m.entryId === row.id && m.no === msg.no))) return ok(null);
        await new Promise((res) => setTimeout(res, RETRY_COMMAND_LOOK_MS));
      }
      return err({ status: 503, error: `${id}: the ${action} is stored with the message, but no node has carried it out within ${RETRY_COMMAND_WAIT_MS / 1000} s; the node that claims it next does` });
    }
    const out = await this.port.actOnRow(row.id, action);
    const bad = lost(out);
    if (bad !== undefined) return bad;
    await this.port.record?.(action, id, who, action === 'hold' ? `held (was ${rm.item.state}; in the shared queue)` : action === 'release' ? 'released: tried now' : `retried now (was ${rm.item.state})`);
    const after = await this.retryMessage(id);
    return ok(after?.item ?? null);
  }

  async list(filter: QueueFilter): Promise<{ total: number; items: ClusterQueueItem[] }> {
    const want = { ...filter, offset: 0, limit: Math.min(MAX_LIMIT * 10, filter.offset + filter.limit) };
    const [own, answers, rows, waiting] = await Promise.all([
      this.inner.list(want),
      this.port.ask(QUEUE_OP_PREFIX + JSON.stringify({ op: 'list', filter: want })),
      this.port.entries(MAX_LIMIT),
      this.retryMessages(),
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
      for (const x of d.items as QueueItem[]) items.push(this.tag(x, a.node));
    }
    const now = this.port.now();
    for (const r of rows) {
      if (r.leaseNode !== null && answered.has(r.leaseNode)) continue;
      // A file released for long retry: its waiting messages, each as its node showed it.
      const msgs = r.leaseNode === null ? this.retryItems(r, waiting, now) : [];
      for (const item of msgs.length > 0 ? msgs : [rowItem(r, now)]) {
        if (!matches(item, filter, now)) continue;
        total++;
        items.push(item);
      }
    }
    items.sort((a, b) => a.arrival.localeCompare(b.arrival) || a.id.localeCompare(b.id));
    return { total, items: items.slice(filter.offset, filter.offset + filter.limit) };
  }

  /** This node's summary, plus the messages released for long retry on the shared queue (by the row's state). */
  async summary(): ReturnType<QueueApi['summary']> {
    const [own, waiting, rows] = await Promise.all([this.inner.summary(), this.retryMessages(), this.port.retryMessages === undefined ? [] : this.port.entries(MAX_LIMIT)]);
    if (waiting.length === 0) return own;
    const counts = { ...own.counts };
    const now = this.port.now();
    let oldest = own.oldestAgeSeconds;
    for (const r of rows) {
      if (r.leaseNode !== null) continue;
      for (const item of this.retryItems(r, waiting, now)) {
        counts[item.state]++;
        const age = Math.max(0, Math.round((now - Date.parse(item.arrival)) / 1000));
        if (oldest === null || age > oldest) oldest = age;
      }
    }
    return { counts, oldestAgeSeconds: oldest };
  }
  /** The released long-retry messages that no node holds, as items (with their row and message). */
  private async released(filter?: QueueFilter): Promise<{ row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }[]> {
    const waiting = await this.retryMessages();
    if (waiting.length === 0) return [];
    const now = this.port.now();
    const out: { row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }[] = [];
    for (const row of await this.port.entries(MAX_LIMIT)) {
      if (row.leaseNode !== null) continue;
      for (const msg of waiting.filter((m) => m.entryId === row.id)) {
        const item = retryItem(row, msg, now);
        if (item !== undefined && (filter === undefined || matches(item, filter, now))) out.push({ row, msg, item });
      }
    }
    return out;
  }

  /** This node's shape, plus the messages released for long retry on the shared queue. */
  async shape(by: 'target' | 'domain', filter?: QueueFilter): ReturnType<QueueApi['shape']> {
    const [own, rel] = await Promise.all([this.inner.shape(by, filter), this.released(filter)]);
    const states = filter?.states ?? ['processing', 'retry', 'extended', 'held'];
    const add = shape(rel.map((x) => x.item).filter((i) => states.includes(i.state)), by, this.port.now());
    if (add.rows[0]!.total === 0) return own;
    const rows = new Map(own.rows.map((r) => [r.key, [...r.counts]]));
    for (const r of add.rows) {
      const have = rows.get(r.key);
      if (have === undefined) rows.set(r.key, [...r.counts]);
      else r.counts.forEach((c, i) => { have[i] = (have[i] ?? 0) + c; });
    }
    const out = [...rows].map(([key, counts]) => ({ key, total: counts.reduce((a, c) => a + c, 0), counts }));
    const total = out.find((r) => r.key === 'TOTAL')!;
    const rest = out.filter((r) => r.key !== 'TOTAL').sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
    return { buckets: own.buckets, rows: [total, ...rest] };
  }

  /** This node's matching messages, then the released long-retry ones that match (hold, release, retry on their rows). */
  async actMatching(filter: QueueFilter, action: QueueAction, who: Actor): ReturnType<QueueApi['actMatching']> {
    const own = await this.inner.actMatching(filter, action, who);
    if (!own.ok) return own;
    let { done, refused } = own.value;
    const ids = [...own.value.ids];
    const rows = new Set<string>();
    for (const x of (await this.released(filter)).slice(0, filter.limit)) {
      // hold/release/retry act on the row: once per row, every message of it counts.
      if (action !== 'bounce' && action !== 'delete' && rows.has(x.row.id)) { done++; ids.push(x.item.id); continue; }
      const r = await this.actOnRetry(x.item.id, action, who, x);
      if (r.ok) { done++; ids.push(x.item.id); rows.add(x.row.id); } else refused++;
    }
    return ok({ done, refused, ids });
  }
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
    const rm = await this.retryMessage(id);
    if (rm !== undefined) {
      const past = await this.port.past?.(id, rm.item.place);
      const headers = rm.msg.view?.headers;
      let body: string | undefined;
      if (opts.body) {
        const bytes = await this.port.entryBytes?.(rm.row.id, MAX_SHOW_BYTES);
        const data = bytes === undefined ? undefined : this.port.messageData?.(rm.row, bytes, rm.msg.no);
        if (data !== undefined) body = data.subarray(0, MAX_BODY_CHARS).toString('utf8');
      }
      return ok({ ...rm.item, history: past?.history ?? [], actions: past?.actions ?? [], ...(typeof headers === 'string' ? { headers } : {}), ...(body === undefined ? {} : { body }) });
    }
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
    const rm = await this.retryMessage(id);
    if (rm !== undefined) return this.actOnRetry(id, action, who, rm);
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
