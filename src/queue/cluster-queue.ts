// The queue tools over a cluster ([P2] item 4, docs/queue.md "On a cluster"): the same QueueApi,
// answered from every node. Over 600 lines: three views meet here (the nodes' answers, the shared
// queue's rows, the released long-retry messages) and every action is decided over all three; the
// natural split — the row and retry-message items and their actions into a module of their own —
// is left for the next round. Decided as follows:
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
//   When a node claims such a file again for its next attempt, a waiting message is in that
//   node's memory only while it is read and tried in that pass (not before it is read, and not
//   after it is settled in long retry again until the file is released): meanwhile it is listed
//   from its stored view under that node (the nodes' answers are taken first, then the store, so
//   a message is in one view or both, and listed once: memory wins). An action on it looks again,
//   bounded, until that node has it in memory (carried out there) or has released the file (then
//   as above): never a 404 for a message that waits (actOnClaimed).
// - by filter (actMatching): this node's own matches, every other live node's (each acts in its
//   own queue), and the rows of the shared queue nobody answering holds that match, acted on in
//   the row as by id (a hold records who, why and when in the row). The counts add up, with a
//   breakdown per node.
// - summary and shape: every node's items (asked as a compact list: id, state, arrival, target,
//   the domains still to deliver), the rows nobody answering holds, merged by queue id (an item
//   on the store — extended retry, dead letters — that every node lists is counted once), with a
//   breakdown per node.
// - A row no node has read yet (never claimed or tried: e.g. every node SUSPENDed) is an unread
//   spool file as in the local case: state processing, place spool:<its spool entry>, `show`
//   parses its first PREVIEW_BYTES read from the store chunk by chunk (preview.ts), hold keeps it
//   in the row unread (place held:<entry>, the hold's reason), delete removes it; retry, bounce
//   and release are 409s that say what to do.
// - dead letters: this node's view. Held spool files are in the shared tables
//   (spool/held-files.ts): this node lists, shows, releases and purges every node's, and the other
//   nodes' lists leave theirs out (the same rows).
import { formatMailbox, isQueueId, queueIdFor, err, ok, type Clock, type Result } from '../core/index.js';
import type { Config } from '../config/index.js';
import { envelopeOfAttributes, storeJobId } from '../spool/message-queue.js';
import type { JsonValue, RetryCommand } from '../store/queue-store.js';
import type { NodeAnswer, RetryMessageRow, RowActionOutcome, RowHold, StoreEntryRow } from '../store/operator-store.js';
import type { SpoolRecordFormat } from '../spool/attributes.js';
import { domainOf, matches, shape, MAX_LIMIT, QUEUE_STATES, type QueueFilter, type QueueItem, type QueueAction, type QueueState, type Shape } from './model.js';
import { previewHead, PREVIEW_BYTES } from './preview.js';
import type { Actor, ActionItem, HistoryItem, QueueApi, QueueDetail, QueueError } from './service.js';

/** Requests of the cluster-wide queue tools start with this (cluster-operator.ts dispatches them). */
export const QUEUE_OP_PREFIX = 'QUEUE ';

/** What one node asks another to do in its own queue. */
export type QueueOp =
  | { readonly op: 'list'; readonly filter: QueueFilter }
  /** The items of the filter, compact (summary and shape): at most BRIEF_LIMIT. */
  | { readonly op: 'brief'; readonly filter: QueueFilter }
  /** One action on every match in the node's own queue (actMatching). */
  | { readonly op: 'match'; readonly filter: QueueFilter; readonly action: QueueAction; readonly who: Actor }
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
  actOnRow(id: string, action: 'hold' | 'release' | 'retry' | 'delete', note?: RowHold): Promise<RowActionOutcome>;
  /** Logs and journals an action carried out on the shared queue (QueueService.recordAction). */
  record?(action: string, id: string, who: Actor, detail: string): Promise<void>;
  /** The first `max` bytes of a row's data (read chunk by chunk), undefined when it is gone. */
  readHead?(id: string, max: number): Promise<{ data: Buffer; truncated: boolean } | undefined>;
  now(): number;
  /** Long retry: the messages of released entries with their views (OperatorStore.retryMessages). */
  retryMessages?(limit: number): Promise<RetryMessageRow[]>;
  /** Long retry: a bounce or delete for the node that claims the entry, a hold of the message, null its release (OperatorStore.commandRetry). */
  commandRetry?(id: string, no: number, command: RetryCommand | null): Promise<RowActionOutcome>;
  /** Logs and journals an action carried out on the shared queue (QueueService.recordAction). */
  record?(action: string, id: string, who: Actor, detail: string): Promise<void>;
  /** An entry's bytes, or undefined when it is gone or larger than `max` (show --body of a released message). */
  entryBytes?(id: string, max: number): Promise<Buffer | undefined>;
  /** The data of message `no` of an entry's bytes (a message entry: the bytes; a batch file: parsed, queue/preview.ts). */
  messageData?(row: StoreEntryRow, bytes: Buffer, no: number): Buffer | undefined;
  /** The journal's history and actions of a message by queue id and key (QueueService.pastOfKey). */
  past?(id: string, key: string): Promise<{ history: HistoryItem[]; actions: ActionItem[] } | undefined>;
}

/** What this node adds to the rows' view: its SUSPEND (why an unread row waits), the configuration a preview parses with. */
export interface ClusterQueueLocal {
  readonly suspendMode?: () => 'none' | 'immediate' | 'delay';
  readonly config?: () => Config;
  readonly clock?: Clock;
}

/** The most items one node sends for summary and shape (about 80 bytes each, within a reply's bound). */
export const BRIEF_LIMIT = 50_000;

/** An item as summary and shape need it: id, state, arrival (ISO), target, the domains still to deliver, a held spool file. */
type Brief = readonly [id: string, state: QueueState, arrival: string, target: string | null, domains: readonly string[], heldFile: 0 | 1];

function briefOf(x: QueueItem): Brief {
  const domains = [...new Set(x.recipients.filter((r) => r.state === 'pending' || r.state === 'deferred').map((r) => domainOf(r.address)).filter((d) => d !== ''))];
  return [x.id, x.state, x.arrival, x.target, domains, x.place.startsWith('held:') ? 1 : 0];
}

function isBrief(v: unknown): v is Brief {
  return Array.isArray(v) && v.length === 6 && typeof v[0] === 'string' && (QUEUE_STATES as readonly unknown[]).includes(v[1])
    && typeof v[2] === 'string' && (v[3] === null || typeof v[3] === 'string') && Array.isArray(v[4]) && (v[5] === 0 || v[5] === 1);
}

/** A brief as the model's shape() reads an item. */
function itemOfBrief(b: Brief): QueueItem {
  return {
    id: b[0], state: b[1], arrival: b[2], nextAttempt: null, attempts: 0, size: 0, jobName: '', jobId: '', user: '', sender: '',
    recipients: b[4].map((d) => ({ address: `@${d}`, state: 'pending', lastReply: null })), target: b[3], place: b[5] === 1 ? 'held:' : '', why: null,
  };
}

function checkFilter(v: unknown, limit: number): QueueFilter | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const f = v as QueueFilter;
  if (typeof f.limit !== 'number' || typeof f.offset !== 'number' || f.limit < 0 || f.limit > limit || f.offset !== 0) return undefined;
  if (f.states !== undefined && (!Array.isArray(f.states) || !f.states.every((x) => (QUEUE_STATES as readonly unknown[]).includes(x)))) return undefined;
  for (const k of ['job', 'sender', 'recipient', 'target', 'domain'] as const) if (f[k] !== undefined && typeof f[k] !== 'string') return undefined;
  if (f.minAge !== undefined && typeof f.minAge !== 'number') return undefined;
  return f;
}

function checkWho(v: unknown): Actor | undefined {
  const who = v as Actor | undefined;
  if (typeof who?.operator !== 'string' || typeof who.reason !== 'string') return undefined;
  return { operator: who.operator.slice(0, 200), reason: who.reason.slice(0, 500) };
}

const isAction = (a: unknown): a is QueueAction => typeof a === 'string' && ['hold', 'release', 'retry', 'bounce', 'delete'].includes(a);
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
  if (o.op === 'list' || o.op === 'brief') {
    const f = checkFilter(o.filter, o.op === 'list' ? MAX_LIMIT * 10 : BRIEF_LIMIT);
    return f === undefined ? undefined : { op: o.op, filter: f };
  }
  if (o.op === 'match') {
    const f = checkFilter(o.filter, MAX_LIMIT * 10);
    const who = checkWho(o.who);
    return f === undefined || who === undefined || !isAction(o.action) ? undefined : { op: 'match', filter: f, action: o.action, who };
  }
  if (typeof o.id !== 'string' || !isQueueId(o.id)) return undefined;
  if (o.op === 'show') return { op: 'show', id: o.id, body: o.body === true };
  const who = checkWho(o.who);
  if (o.op === 'act' && isAction(o.action) && who !== undefined) return { op: 'act', id: o.id, action: o.action, who };
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
    case 'brief': {
      const r = await queue.list(op.filter);
      return { ok: true, lines: [], data: { total: r.total, items: r.items.map(briefOf) } };
    }
    case 'match': {
      const r = await queue.actMatching(op.filter, op.action, op.who);
      return r.ok ? { ok: true, lines: [], data: r.value } : { ok: false, lines: [], data: r.error };
    }
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

/**
 * The queue id of a row: what its claiming node's tasks name it (the entry's name, its job id). A
 * message entry of one message is that message, 1 (the id the receiver's 250 and the journal's
 * "queued" event give it); any other row is the whole file, message 0.
 */
export function rowQueueId(r: StoreEntryRow): string {
  const env = r.kind === 'message' ? envelopeOfAttributes(r.attributes) : undefined;
  const one = env?.ok === true && env.value.parts === undefined;
  return queueIdFor(r.name, text(r.attributes, 'jobId') || storeJobId(r.id), one ? 1 : 0);
}

/** The spool entry a row was stored from (its `file` attribute), else its row name. */
function rowFile(r: StoreEntryRow): string {
  return r.name;
}

/**
 * A row no node has read: never claimed to an attempt (no attempts, no long retry, no node tried
 * it) and not leased now; a held one that was held so (its hold says unread).
 */
export function rowUnread(r: StoreEntryRow): boolean {
  if (r.state === 'held') return r.hold?.unread === true;
  return r.leaseNode === null && r.attempts === 0 && r.retryAttempts === 0 && r.lastNode === null;
}

type Suspend = 'none' | 'immediate' | 'delay';

function rowItem(r: StoreEntryRow, nowMs: number, suspend: Suspend = 'none'): ClusterQueueItem {
  const held = r.state === 'held';
  const unread = rowUnread(r);
  const later = r.nextAttempt.getTime() > nowMs;
  const tried = r.lastNode === null ? '' : `; last tried by node ${r.lastNode}`;
  const why = held ? (r.hold !== null ? `held by ${r.hold.operator}${r.hold.unread ? ' before it was read' : ''}: ${r.hold.reason}${tried}` : `held in the shared queue (release to send it)${tried}`)
    : r.leaseNode !== null ? `claimed by node ${r.leaseNode}, which did not answer`
      : unread ? (suspend !== 'none'
        ? `spool file not read yet: SUSPEND ${suspend.toUpperCase()} on this node (RESUME); in the shared queue, any node not suspended claims it`
        : 'spool file not read yet: in the shared queue, waiting for a node to claim it')
        : later ? `long retry in the shared queue: any node tries it again at ${r.nextAttempt.toISOString()}${tried}`
          : `waiting in the shared queue for a node to claim it${tried}`;
  const env = r.attributes.envelope as { sender?: JsonValue; recipients?: JsonValue } | undefined;
  const rcpts = Array.isArray(env?.recipients) ? env.recipients.filter((x): x is string => typeof x === 'string') : [];
  const fromEntry = r.kind === 'message' ? envelopeOfAttributes(r.attributes) : undefined;
  const sender = typeof env?.sender === 'string' ? env.sender : fromEntry?.ok === true && fromEntry.value.envelope.from.kind === 'mailbox' ? formatMailbox(fromEntry.value.envelope.from.mailbox) : '';
  const recipients = rcpts.length > 0 || fromEntry?.ok !== true ? rcpts : fromEntry.value.envelope.recipients.map((x) => formatMailbox(x.mailbox));
  return {
    id: rowQueueId(r), state: held ? 'held' : later && !unread ? 'retry' : 'processing', arrival: r.arrivedAt.toISOString(),
    nextAttempt: later && !held && !unread ? r.nextAttempt.toISOString() : null, attempts: Math.max(r.retryAttempts, r.attempts), size: r.size,
    jobName: text(r.attributes, 'jobName'), jobId: text(r.attributes, 'jobId'), user: text(r.attributes, 'originUser'),
    sender, recipients: recipients.map((a) => ({ address: a, state: 'pending', lastReply: null })),
    target: null, place: unread ? `${held ? 'held' : 'spool'}:${rowFile(r)}` : `db:${r.id}`, why, node: r.leaseNode ?? '-',
    ...(r.lastNode === null ? {} : { lastNode: r.lastNode }),
    ...(r.hold === null || !held ? {} : { hold: { operator: r.hold.operator, reason: r.hold.reason, at: r.hold.at } }),
  };
}

/** A filter action's outcome with the nodes it was done on. */
export interface MatchOutcome {
  readonly done: number;
  readonly refused: number;
  readonly ids: string[];
  /** Per node ('-': rows of the shared queue no node holds). */
  readonly nodes: readonly { readonly node: string; readonly done: number; readonly refused: number }[];
  /** Nodes that did not answer in time (their matches were not acted on). */
  readonly silent: readonly string[];
}

/** summary() with the per-node counts. */
export interface ClusterSummary {
  readonly counts: Record<QueueState, number>;
  readonly oldestAgeSeconds: number | null;
  readonly nodes: readonly { readonly node: string; readonly total: number; readonly counts: Record<QueueState, number> }[];
  readonly silent: readonly string[];
  /** Some node had more items than it sends (BRIEF_LIMIT): the counts are at least these. */
  readonly partial: boolean;
}

/** shape() with the total per node. */
export type ClusterShape = Shape & { readonly nodes: readonly { readonly node: string; readonly total: number }[]; readonly silent: readonly string[]; readonly partial: boolean };

const zeroCounts = (): Record<QueueState, number> => Object.fromEntries(QUEUE_STATES.map((x) => [x, 0])) as Record<QueueState, number>;

const str = (v: JsonValue | undefined, d = ''): string => (typeof v === 'string' ? v : d);

/** A message released for long retry, as its node showed it (RetryView), with the row's state and next attempt. */
function retryItem(r: StoreEntryRow, m: RetryMessageRow, nowMs: number): ClusterQueueItem | undefined {
  const v = m.view;
  if (v === null || typeof v.queueId !== 'string' || !isQueueId(v.queueId)) return undefined;
  const held = r.state === 'held' || m.hold !== undefined;
  const tried = r.lastNode === null ? '' : `; last tried by node ${r.lastNode}`;
  const last = typeof v.why === 'string' ? v.why : null;
  // Claimed again by a node: the row's next attempt is the one being made; the message's own
  // (its view, stored when it was settled last) is later once it waits again, else now.
  const own = r.leaseNode !== null && typeof v.nextAttempt === 'string' ? Date.parse(v.nextAttempt) : NaN;
  const due = r.leaseNode === null && r.nextAttempt.getTime() > nowMs ? r.nextAttempt.toISOString()
    : own > nowMs ? new Date(own).toISOString() : new Date(nowMs).toISOString();
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
      // A stored command is named first: while a node holds the file it is still to be carried out.
      : m.command ? (r.leaseNode !== null ? `an operator's bounce or delete waits: node ${r.leaseNode} has claimed its file and carries it out${tried}`
        : `an operator's bounce or delete waits for a node to claim it${tried}`)
      : r.leaseNode !== null ? `${last ?? 'long retry'}; node ${r.leaseNode} has claimed its file for the next attempt${tried}`
        : `${last ?? 'long retry'}; long retry in the shared queue: any node tries it again at ${due}${tried}`,
    node: r.leaseNode ?? '-', ...(r.lastNode === null ? {} : { lastNode: r.lastNode }),
    // Who held it, as for a message held in memory: this message's own hold, else the row's note (a file held whole).
    ...(m.hold !== undefined ? { hold: m.hold } : r.hold === null || !held ? {} : { hold: { operator: r.hold.operator, reason: r.hold.reason, at: r.hold.at } }),
  };
}

/** The whole cluster's queue: `inner` is this node's own (queue/service.ts). */
export class ClusterQueue implements QueueApi {
  constructor(private readonly inner: QueueApi, private readonly port: ClusterQueuePort, private readonly local: ClusterQueueLocal = {}) {}

  private tag<T extends QueueItem>(x: T, node: string): T & { node: string } {
    return { ...x, node };
  }

  private suspend(): Suspend {
    return this.local.suspendMode?.() ?? 'none';
  }

  private item(r: StoreEntryRow): ClusterQueueItem {
    return rowItem(r, this.port.now(), this.suspend());
  }

  private async retryMessages(): Promise<RetryMessageRow[]> {
    return (await this.port.retryMessages?.(MAX_LIMIT)) ?? [];
  }

  private retryItems(r: StoreEntryRow, waiting: readonly RetryMessageRow[], now: number): ClusterQueueItem[] {
    return waiting.filter((m) => m.entryId === r.id).map((m) => retryItem(r, m, now)).filter((x): x is ClusterQueueItem => x !== undefined);
  }

  /**
   * What the shared queue adds for row `r` to the nodes' answers (list and briefs): a file released
   * for long retry, its waiting messages, each as its node showed it; a file claimed again by an
   * answering node, those of its waiting messages that node does not have in memory (the caller
   * keeps each id once, the node's own item first); any other row not held by an answering node,
   * one item for the file.
   */
  private storeItems(r: StoreEntryRow, waiting: readonly RetryMessageRow[], answered: ReadonlySet<string>, now: number): ClusterQueueItem[] {
    const claimed = r.leaseNode !== null && answered.has(r.leaseNode);
    const msgs = r.leaseNode === null || claimed ? this.retryItems(r, waiting, now) : [];
    return msgs.length > 0 || claimed ? msgs : [this.item(r)];
  }

  /**
   * A message waiting in long retry by its queue id: the row, the message and its item; the row
   * may be claimed again by a node for its next attempt (leaseNode: the caller looks at it).
   */
  private async retryMessage(id: string): Promise<{ row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem } | undefined> {
    const waiting = await this.retryMessages();
    const hit = waiting.find((m) => m.view?.queueId === id);
    if (hit === undefined) return undefined;
    const row = (await this.port.entries(MAX_LIMIT)).find((r) => r.id === hit.entryId);
    if (row === undefined) return undefined;
    const item = retryItem(row, hit, this.port.now());
    return item === undefined ? undefined : { row, msg: hit, item };
  }

  /** hold, release, retry on the row of a released message; bounce and delete by the node that claims it. */
  private async actOnRetry(id: string, action: QueueAction, who: Actor, rm: { row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }): Promise<Result<QueueItem | null, QueueError>> {
    const { row, msg } = rm;
    const held = row.state === 'held' || msg.hold !== undefined;
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
      // The message first, then the row: a message not listed (its row leased, or it is finished)
      // and a row free afterwards is done. The other order could read the row free just before a
      // node claimed it and the message hidden by that claim, and answer before it was carried out.
      for (let look = 0; look < RETRY_COMMAND_WAIT_MS / RETRY_COMMAND_LOOK_MS; look++) {
        const listed = (await this.retryMessages()).some((m) => m.entryId === row.id && m.no === msg.no);
        const r = listed ? row : (await this.port.entries(MAX_LIMIT)).find((x) => x.id === row.id);
        if (r === undefined || (!listed && r.leaseNode === null)) return ok(null);
        await new Promise((res) => setTimeout(res, RETRY_COMMAND_LOOK_MS));
      }
      return err({ status: 503, error: `${id}: the ${action} is stored with the message, but no node has carried it out within ${RETRY_COMMAND_WAIT_MS / 1000} s; the node that claims it next does` });
    }
    // A hold, and the release of a message held so, act on this message only (stored with it: the
    // nodes that claim its file leave it waiting and send the others); a held row is released whole.
    // Without commandRetry a hold notes who, why and when in the row (the item's `hold`, as for a message held in memory).
    const one = this.port.commandRetry !== undefined && (action === 'hold' || (action === 'release' && msg.hold !== undefined));
    const at = new Date(this.port.now()).toISOString();
    const note: RowHold | undefined = action === 'hold' ? { operator: who.operator, reason: who.reason, at, unread: false } : undefined;
    const out = one
      ? await this.port.commandRetry!(row.id, msg.no, action === 'hold' ? { action: 'hold', operator: who.operator, reason: who.reason, at } : null)
      : await this.port.actOnRow(row.id, action, note);
    const bad = lost(out);
    if (bad !== undefined) return bad;
    await this.port.record?.(action, id, who, action === 'hold' ? `held (was ${rm.item.state}; in the shared queue)` : action === 'release' ? 'released: tried now' : `retried now (was ${rm.item.state})`);
    const after = await this.retryMessage(id);
    return ok(after?.item ?? null);
  }

  /**
   * A message waiting in long retry whose file node `rm.row.leaseNode` has claimed again for its
   * next attempt, and which no node had in memory when asked: not read yet in that pass, or
   * settled in long retry again until the pass ends. Looks again (bounded by looks, as
   * actOnRetry) until that node has it in memory (the action is carried out there, as by id) or
   * has released the file (then as any released message); 404 only when it left the queue.
   */
  private async actOnClaimed(id: string, action: QueueAction, who: Actor, first: { row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }): Promise<Result<QueueItem | null, QueueError>> {
    return (await this.actOnClaimedHow(id, action, who, first)).out;
  }

  /** actOnClaimed, and whether it was carried out on the released row (hold, release and retry act on all its waiting messages then). */
  private async actOnClaimedHow(id: string, action: QueueAction, who: Actor, first: { row: StoreEntryRow; msg: RetryMessageRow; item: ClusterQueueItem }): Promise<{ out: Result<QueueItem | null, QueueError>; onRow: boolean }> {
    const notOnRow = (out: Result<QueueItem | null, QueueError>): { out: Result<QueueItem | null, QueueError>; onRow: boolean } => ({ out, onRow: false });
    let rm = first;
    for (let look = 0; look < RETRY_COMMAND_WAIT_MS / RETRY_COMMAND_LOOK_MS; look++) {
      await new Promise((res) => setTimeout(res, RETRY_COMMAND_LOOK_MS));
      const own = await this.inner.act(id, action, who);
      if (own.ok || own.error.status !== 404) return notOnRow(own.ok && own.value !== null ? ok(this.tag(own.value, this.port.node)) : own);
      if (rm.row.leaseNode !== this.port.node) {
        const r = await this.routed({ op: 'act', id, action, who });
        if ('node' in r) {
          if (!r.ok) return notOnRow(err(queueErrorOf(r.data) ?? { status: 503, error: 'bad answer' }));
          const item = (r.data as { item?: QueueItem | null } | null)?.item ?? null;
          return notOnRow(ok(item === null ? null : this.tag(item, r.node)));
        }
      }
      const next = await this.retryMessage(id);
      if (next === undefined) return notOnRow(err({ status: 404, error: `message ${id} left the queue meanwhile` }));
      if (next.row.leaseNode === null) return { out: await this.actOnRetry(id, action, who, next), onRow: true };
      rm = next;
    }
    return notOnRow(err({ status: 409, error: `${id} waits in long retry; node ${rm.row.leaseNode ?? '?'} claimed its file for the next attempt and has not released it within ${RETRY_COMMAND_WAIT_MS / 1000} s: try again` }));
  }

  async list(filter: QueueFilter): Promise<{ total: number; items: ClusterQueueItem[] }> {
    const want = { ...filter, offset: 0, limit: Math.min(MAX_LIMIT * 10, filter.offset + filter.limit) };
    const [own, answers] = await Promise.all([
      this.inner.list(want),
      this.port.ask(QUEUE_OP_PREFIX + JSON.stringify({ op: 'list', filter: want })),
    ]);
    // The store after the nodes: a message leaves a node's memory only once stored (markRetry).
    const [rows, waiting] = await Promise.all([this.port.entries(MAX_LIMIT), this.retryMessages()]);
    let total = own.total;
    const items: ClusterQueueItem[] = own.items.map((x) => this.tag(x, this.port.node));
    // An item on the shared store (extended retry, dead letters) is listed by every node: once here.
    const seen = new Set(items.map((x) => x.id));
    const answered = new Set([this.port.node]);
    for (const a of answers) {
      if (!a.answered || !a.reply.ok) continue;
      const d = a.reply.data as { total?: unknown; items?: unknown } | null;
      if (typeof d?.total !== 'number' || !Array.isArray(d.items)) continue;
      answered.add(a.node);
      total += d.total;
      // Held spool files are in the shared tables: every node lists all of them, this one included.
      for (const x of d.items as QueueItem[]) {
        if (x.place.startsWith('held:')) { total--; continue; }
        if (seen.has(x.id)) { total--; continue; }
        seen.add(x.id);
        items.push(this.tag(x, a.node));
      }
    }
    const now = this.port.now();
    for (const r of rows) {
      for (const item of this.storeItems(r, waiting, answered, now)) {
        if (seen.has(item.id) || !matches(item, filter, now)) continue;
        seen.add(item.id);
        total++;
        items.push(item);
      }
    }
    items.sort((a, b) => a.arrival.localeCompare(b.arrival) || a.id.localeCompare(b.id));
    return { total, items: items.slice(filter.offset, filter.offset + filter.limit) };
  }

  /**
   * Every node's items of the filter, compact, merged by queue id (this node's first), with the
   * node each is on; the rows no answering node holds as node '-' (or the node that did not answer).
   */
  private async briefs(filter: QueueFilter): Promise<{ items: { node: string; b: Brief }[]; silent: string[]; partial: boolean }> {
    const want: QueueFilter = { ...filter, offset: 0, limit: BRIEF_LIMIT };
    const [own, answers] = await Promise.all([
      this.inner.list(want),
      this.port.ask(QUEUE_OP_PREFIX + JSON.stringify({ op: 'brief', filter: want })),
    ]);
    // The store after the nodes (as list).
    const [rows, waiting] = await Promise.all([this.port.entries(MAX_LIMIT), this.retryMessages()]);
    const seen = new Set<string>();
    const items: { node: string; b: Brief }[] = [];
    const add = (node: string, b: Brief): void => { if (!seen.has(b[0])) { seen.add(b[0]); items.push({ node, b }); } };
    let partial = own.total > own.items.length;
    for (const x of own.items) add(this.port.node, briefOf(x));
    const answered = new Set([this.port.node]);
    const silent: string[] = [];
    for (const a of answers) {
      const d = a.answered && a.reply.ok ? a.reply.data as { total?: unknown; items?: unknown } | null : null;
      if (typeof d?.total !== 'number' || !Array.isArray(d.items)) { silent.push(a.node); continue; }
      answered.add(a.node);
      if (d.total > d.items.length) partial = true;
      for (const b of d.items) if (isBrief(b)) add(a.node, b);
    }
    const now = this.port.now();
    for (const r of rows) {
      // add: once by id (a claiming node's own items came first).
      for (const item of this.storeItems(r, waiting, answered, now)) {
        if (filter.states !== undefined && !filter.states.includes(item.state)) continue;
        if (matches(item, filter, now)) add(r.leaseNode ?? '-', briefOf(item));
      }
    }
    return { items, silent, partial };
  }

  async summary(): Promise<ClusterSummary> {
    const { items, silent, partial } = await this.briefs({ limit: BRIEF_LIMIT, offset: 0 });
    const counts = zeroCounts();
    const nodes = new Map<string, Record<QueueState, number>>();
    let oldest: number | undefined;
    for (const { node, b } of items) {
      counts[b[1]]++;
      let n = nodes.get(node);
      if (n === undefined) nodes.set(node, (n = zeroCounts()));
      n[b[1]]++;
      const at = Date.parse(b[2]);
      if (b[1] !== 'dead' && b[1] !== 'quarantined' && (oldest === undefined || at < oldest)) oldest = at;
    }
    return {
      counts, oldestAgeSeconds: oldest === undefined ? null : Math.max(0, Math.round((this.port.now() - oldest) / 1000)),
      nodes: [...nodes].sort(([a], [b]) => a.localeCompare(b)).map(([node, c]) => ({ node, total: Object.values(c).reduce((x, y) => x + y, 0), counts: c })),
      silent, partial,
    };
  }

  async shape(by: 'target' | 'domain', filter?: QueueFilter): Promise<ClusterShape> {
    // qshape looks at mail that waits to be delivered: not dead letters, held files or the quarantine (as service.ts).
    const states = filter?.states ?? ['processing', 'retry', 'extended', 'held'];
    const { items, silent, partial } = await this.briefs({ ...(filter ?? { limit: BRIEF_LIMIT, offset: 0 }), states });
    const kept = items.filter((x) => x.b[5] === 0);
    const perNode = new Map<string, number>();
    for (const x of kept) perNode.set(x.node, (perNode.get(x.node) ?? 0) + 1);
    return {
      ...shape(kept.map((x) => itemOfBrief(x.b)), by, this.port.now()),
      nodes: [...perNode].sort(([a], [b]) => a.localeCompare(b)).map(([node, total]) => ({ node, total })), silent, partial,
    };
  }

  async actMatching(filter: QueueFilter, action: QueueAction, who: Actor): Promise<Result<MatchOutcome, QueueError>> {
    const [own, answers] = await Promise.all([
      this.inner.actMatching(filter, action, who),
      this.port.ask(QUEUE_OP_PREFIX + JSON.stringify({ op: 'match', filter: { ...filter, offset: 0 }, action, who })),
    ]);
    if (!own.ok) return own;
    const ids = new Set(own.value.ids);
    let refused = own.value.refused;
    const nodes: { node: string; done: number; refused: number }[] = [{ node: this.port.node, done: own.value.done, refused: own.value.refused }];
    const answered = new Set([this.port.node]);
    const silent: string[] = [];
    for (const a of answers) {
      const d = a.answered && a.reply.ok ? a.reply.data as { done?: unknown; refused?: unknown; ids?: unknown } | null : null;
      if (typeof d?.done !== 'number' || typeof d.refused !== 'number' || !Array.isArray(d.ids)) { silent.push(a.node); continue; }
      answered.add(a.node);
      for (const id of d.ids) if (typeof id === 'string') ids.add(id);
      refused += d.refused;
      nodes.push({ node: a.node, done: d.done, refused: d.refused });
    }
    // The rows of the shared queue no answering node holds (read or not), as by id.
    const now = this.port.now();
    const all = await this.port.entries(MAX_LIMIT);
    const rows = all.filter((r) => !(r.leaseNode !== null && answered.has(r.leaseNode)));
    const row = { node: '-', done: 0, refused: 0 };
    // A file released for long retry: its waiting messages, each acted on as by id (bounce and
    // delete by the node that claims it, hold and release stored with the message; retry, and the
    // release of a held row, act on the row: once per row).
    const waiting = await this.retryMessages();
    const rowsDone = new Set<string>();
    for (const r of rows) {
      const msgs = r.leaseNode === null ? waiting.filter((m) => m.entryId === r.id).map((m) => ({ msg: m, item: retryItem(r, m, now) })) : [];
      const rel = msgs.filter((x): x is { msg: RetryMessageRow; item: ClusterQueueItem } => x.item !== undefined);
      if (rel.length > 0) {
        for (const x of rel) {
          if (ids.has(x.item.id) || !matches(x.item, filter, now) || (filter.states !== undefined && !filter.states.includes(x.item.state))) continue;
          if (action !== 'hold' && row.done + row.refused >= filter.limit) break;
          const perMessage = action === 'bounce' || action === 'delete' || action === 'hold' || (action === 'release' && x.msg.hold !== undefined);
          if (!perMessage && rowsDone.has(r.id)) { row.done++; ids.add(x.item.id); continue; }
          const out = await this.actOnRetry(x.item.id, action, who, { row: r, msg: x.msg, item: x.item });
          if (out.ok) { row.done++; ids.add(x.item.id); rowsDone.add(r.id); } else row.refused++;
        }
        continue;
      }
      const item = this.item(r);
      if (ids.has(item.id) || !matches(item, filter, now) || (filter.states !== undefined && !filter.states.includes(item.state))) continue;
      if (action !== 'hold' && row.done + row.refused >= filter.limit) break;
      const out = await this.actOnRow(r, item, action, who, true);
      if (out.ok) { row.done++; ids.add(item.id); } else row.refused++;
    }
    // Files an answering node claimed again for their next attempt: their waiting messages that
    // node did not act on (not in its memory when asked), each as by id (actOnClaimed).
    for (const r of all) {
      if (r.leaseNode === null || !answered.has(r.leaseNode)) continue;
      for (const m of waiting) {
        const item = m.entryId === r.id ? retryItem(r, m, now) : undefined;
        if (item === undefined || ids.has(item.id) || !matches(item, filter, now)) continue;
        if (action !== 'hold' && row.done + row.refused >= filter.limit) break;
        if (action !== 'bounce' && action !== 'delete' && rowsDone.has(r.id)) { row.done++; ids.add(item.id); continue; }
        const { out, onRow } = await this.actOnClaimedHow(item.id, action, who, { row: r, msg: m, item });
        if (out.ok) { row.done++; ids.add(item.id); if (onRow) rowsDone.add(r.id); } else row.refused++;
      }
    }
    if (row.done + row.refused > 0) { nodes.push(row); refused += row.refused; }
    return ok({ done: ids.size, refused, ids: [...ids], nodes, silent });
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
    if (!id.endsWith('-0') && !id.endsWith('-1')) return undefined;
    return (await this.port.entries(MAX_LIMIT)).find((r) => rowQueueId(r) === id);
  }

  /** An unread row's messages, parsed from its first bytes read from the store (preview.ts); undefined without a store reader or configuration. */
  private async preview(r: StoreEntryRow): Promise<Pick<QueueDetail, 'file' | 'headers'> | undefined> {
    const { config, clock } = this.local;
    if (this.port.readHead === undefined || config === undefined || clock === undefined) return undefined;
    const head = await this.port.readHead(r.id, PREVIEW_BYTES);
    if (head === undefined) return undefined;
    const env = r.kind === 'message' ? envelopeOfAttributes(r.attributes) : undefined;
    const attrs = {
      jobName: text(r.attributes, 'jobName'), jobId: text(r.attributes, 'jobId'), originUser: text(r.attributes, 'originUser'),
      ...(text(r.attributes, 'recordFormat') === '' ? {} : { recordFormat: text(r.attributes, 'recordFormat') as SpoolRecordFormat }),
      ...(text(r.attributes, 'encoding') === '' ? {} : { encoding: text(r.attributes, 'encoding') }),
    };
    const p = previewHead(head, { attrs, ...(env?.ok === true ? { envelope: env.value.envelope } : {}) }, config(), clock);
    return {
      file: {
        messages: p.messages.map((m) => ({ messageNo: m.messageNo, sender: m.envelope.from.kind === 'null' ? '' : formatMailbox(m.envelope.from.mailbox), recipients: m.envelope.recipients.map((x) => formatMailbox(x.mailbox)), headers: m.headers })),
        problems: p.problems, truncated: p.truncated,
      },
      ...(p.messages[0] === undefined ? {} : { headers: p.messages[0].headers }),
    };
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
    if (row === undefined) return err(notFound(id, own.error.error, r.silent));
    let parsed: Pick<QueueDetail, 'file' | 'headers'> | undefined;
    try {
      parsed = rowUnread(row) ? await this.preview(row) : undefined;
    } catch (e) {
      return err({ status: 503, error: `${id} cannot be read from the shared queue: ${e instanceof Error ? e.message : String(e)}` });
    }
    return ok({ ...this.item(row), history: [], actions: [], ...(parsed ?? {}) });
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
    if (rm !== undefined) return rm.row.leaseNode === null ? this.actOnRetry(id, action, who, rm) : this.actOnClaimed(id, action, who, rm);
    const row = await this.row(id);
    if (row === undefined) return err(notFound(id, own.error.error, r.silent));
    return this.actOnRow(row, this.item(row), action, who, false);
  }

  /**
   * An action on a row no answering node holds, under its row lock (store/pg/operator.ts): an
   * unread one as local unread spool files (service.ts spoolFileNow), a read one as before. Journaled.
   */
  private async actOnRow(row: StoreEntryRow, item: ClusterQueueItem, action: QueueAction, who: Actor, byFilter: boolean): Promise<Result<QueueItem | null, QueueError>> {
    const id = item.id;
    const unread = rowUnread(row);
    const file = rowFile(row);
    const conflict = (why: string): Result<never, QueueError> => err({ status: 409, error: `${id} is ${item.state}: ${why}` });
    if (unread && row.state !== 'held') {
      const resume = this.suspend() !== 'none' ? ' (RESUME ends the SUSPEND on this node)' : '';
      if (action === 'release') return conflict(`not held (a spool file not read yet is read as soon as a node claims it${resume})`);
      if (action === 'retry') return conflict(`not read yet, so it has no messages to retry: it is read as soon as a node claims it${resume}; hold or delete work on the file now`);
      if (action === 'bounce') return conflict('not read yet, so it has no messages to bounce: hold it (then release it when its messages should go) or delete it; once read, its messages can be bounced');
    } else {
      if (action === 'retry' && row.state === 'held') return err({ status: 409, error: `${id} is held in the shared queue: release it (a release sends it at once)` });
      if (action === 'bounce') return err({ status: 409, error: `${id} is a file in the shared queue that no node has read yet: bounce works on its messages; hold, release, retry or delete it, or wait until a node reads it` });
      if (action === 'release' && row.state !== 'held') return conflict('not held');
    }
    if (action === 'hold' && row.state === 'held') return err({ status: 409, error: `${id} is already held in the shared queue` });
    const note: RowHold | undefined = action === 'hold' ? { operator: who.operator, reason: who.reason, at: new Date(this.port.now()).toISOString(), unread } : undefined;
    const out = await this.port.actOnRow(row.id, action, note);
    if (out === 'missing') return err({ status: 404, error: `${id} left the shared queue meanwhile` });
    if (out === 'leased') return err({ status: 409, error: `${id} was claimed by node ${row.leaseNode ?? 'another node'} meanwhile: try again` });
    const how = byFilter ? ' (by filter)' : '';
    const detail = unread
      ? action === 'hold' ? `spool file ${file} held unread in the shared queue${how}`
        : action === 'delete' ? `spool file ${file} deleted unread: nobody is notified`
          : `spool file ${file} released: read by the next node that claims it`
      : action === 'hold' ? `held in the shared queue${how} (was ${item.state})`
        : action === 'delete' ? `deleted from the shared queue: nobody is notified`
          : action === 'release' ? 'released: tried now' : `retried now (was ${item.state})`;
    await this.port.record?.(action, id, who, detail);
    if (action === 'delete') return ok(null);
    const after = (await this.port.entries(MAX_LIMIT)).find((x) => x.id === row.id);
    return ok(after === undefined ? null : this.item(after));
  }
}

function notFound(id: string, here: string, silent: readonly string[]): QueueError {
  const also = silent.length === 0 ? '' : `; node${silent.length === 1 ? '' : 's'} ${silent.join(', ')} did not answer`;
  return { status: 404, error: `${here || `no message ${id}`}; not on any other node of the cluster either${also}`.slice(0, 600) };
}
