// The operator view of a cluster ([P2] item 4, docs/cluster.md "The operator view"): what one
// node needs from the shared store to show and act on every node.
//
// - Status: each node publishes its targets, tasks and counters (a JSON picture, the same data
//   as its displays) every Heartbeat; D,TARGETS and D,SPOOL on any node read every node's row,
//   a dead node's as stale (its age).
// - Control requests: a command one node asks others to carry out (REFRESH,ALL; a queue action
//   routed to the node holding the message; a queue listing). One request row, a wake-up
//   (NOTIFY), one reply row per node; the asking node waits a bounded time and reports each node
//   as answered, failed (its lines) or silent.
// - The shared queue's rows as the operator sees them (state, lease node, next attempt), and the
//   actions that are done on the row when no live node holds the entry.
// One interface, implemented by store/pg (the only backend with several nodes).
import type { JsonValue, RetryCommand } from './queue-store.js';

export interface NodeStatusRow {
  readonly node: string;
  /** Seconds since the node wrote it (the store's clock). */
  readonly age: number;
  readonly status: JsonValue;
}

export interface ControlReply {
  readonly node: string;
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly data: unknown;
}

export interface ControlRequest {
  readonly id: string;
  readonly origin: string;
  readonly command: string;
  readonly nodes: readonly string[];
}

/** A row of queue_entries as the operator sees it. */
export interface StoreEntryRow {
  readonly id: string;
  /** The entry's name: the spool entry id its tasks, the journal and the logs know it by (queue-store.ts entryName). */
  readonly name: string;
  readonly kind: 'spool' | 'message';
  readonly state: 'ready' | 'held';
  readonly attributes: { readonly [k: string]: JsonValue };
  readonly size: number;
  readonly arrivedNode: string;
  readonly arrivedAt: Date;
  readonly nextAttempt: Date;
  readonly attempts: number;
  /** The node whose lease is unexpired, else null (free, or its node stopped heartbeating). */
  readonly leaseNode: string | null;
  /** The node that made the last attempt (released it for a later one), else null. */
  readonly lastNode: string | null;
  /** Long retry (checkpoint_retries): the most attempts any of its messages has had, else 0. */
  readonly retryAttempts: number;
  /** The operator's hold (state held by the queue tools), else null. */
  readonly hold: RowHold | null;
}

/** Who held a row, why, when; `unread`: held before any node read it (migration 13). */
export interface RowHold {
  readonly operator: string;
  readonly reason: string;
  readonly at: string;
  readonly unread: boolean;
}

/** A message of an entry released for long retry, with what the operator sees of it (RetryView). */
export interface RetryMessageRow {
  readonly entryId: string;
  readonly no: number;
  /** Long-retry attempts so far (over every node). */
  readonly attempts: number;
  readonly view: { readonly [k: string]: JsonValue } | null;
  /** An operator's bounce or delete waits for the node that claims the entry. */
  readonly command: boolean;
  /** Held by the operator, this message only (commandRetry with a hold): not tried until released. */
  readonly hold?: { readonly operator: string; readonly reason: string; readonly at: string };
}

/** What an action on a row found: done, or why not. */
export type RowActionOutcome = 'done' | 'missing' | 'leased';

export interface OperatorStore {
  readonly node: string;
  /** Writes this node's status row (replaces the previous one). */
  publishStatus(status: JsonValue): Promise<void>;
  /** Every node's status row, by name. */
  statuses(): Promise<NodeStatusRow[]>;
  /** Nodes other than this one whose heartbeat is at most `withinSeconds` old. */
  liveNodes(withinSeconds: number): Promise<string[]>;
  /** Records a request for `nodes` and wakes them; returns its id. Prunes requests older than an hour. */
  request(command: string, nodes: readonly string[]): Promise<string>;
  /** The request, when it exists and names this node. */
  requestFor(id: string): Promise<ControlRequest | undefined>;
  answer(id: string, reply: Omit<ControlReply, 'node'>): Promise<void>;
  replies(id: string): Promise<ControlReply[]>;
  /**
   * LISTENs for requests to this node and replies to this node's requests (a hint: the asking
   * node also polls). Resolves to a stop function.
   */
  listen(handlers: { onRequest(id: string): void; onReply(id: string): void }): Promise<() => Promise<void>>;
  /** The writer's entries, oldest first, at most `limit`. */
  entries(writer: string, limit: number): Promise<StoreEntryRow[]>;
  /** hold / release / retry-now / delete of an entry no live node holds (fenced: 'leased' otherwise); a hold records `note`. */
  actOnRow(writer: string, id: string, action: 'hold' | 'release' | 'retry' | 'delete', note?: RowHold): Promise<RowActionOutcome>;
  /** The first `max` bytes of an entry's data (its chunks, read one at a time), and whether there is more. */
  readHead(writer: string, id: string, max: number): Promise<{ data: Buffer; truncated: boolean } | undefined>;
  /**
   * Long retry in the operator's view: the unfinished messages of the writer's entries that wait
   * with attempts in checkpoint_retries, at most `limit`; also those of an entry a node has
   * claimed again for its next attempt (told apart by the entry's lease: cluster-queue.ts lists
   * such a message from here while that node does not have it in memory).
   */
  retryMessages(writer: string, limit: number): Promise<RetryMessageRow[]>;
  /**
   * An operator's bounce or delete of message `no` of an entry no live node holds: stored with
   * the message, and the entry made ready and due now (any node claims it and carries it out).
   * A hold is stored the same way and changes nothing else (the nodes that claim the entry leave
   * that message waiting); null releases a held message ('missing' when it is not held) and makes
   * the entry due now.
   */
  commandRetry(writer: string, id: string, no: number, command: RetryCommand | null): Promise<RowActionOutcome>;
}

/** One node's answer to a request, or why there is none. */
export type NodeAnswer =
  | { readonly node: string; readonly answered: true; readonly reply: ControlReply }
  | { readonly node: string; readonly answered: false; readonly detail: string };

/**
 * Asks `nodes` to carry out `command` and waits until each answered or `boundMs` passed (a node
 * that died after its last heartbeat never answers: reported, never waited for beyond the bound).
 * `wake` resolves early when a reply may have arrived; the replies are polled every `pollMs` too.
 */
export async function askNodes(store: OperatorStore, command: string, nodes: readonly string[], o: {
  readonly boundMs: number; readonly pollMs?: number; readonly waitReply: (id: string, ms: number) => Promise<void>;
  /** Monotonic milliseconds (the injected Clock). */
  readonly now: () => number;
}): Promise<NodeAnswer[]> {
  if (nodes.length === 0) return [];
  const id = await store.request(command, nodes);
  const deadline = o.now() + o.boundMs;
  let got: ControlReply[] = [];
  for (;;) {
    got = await store.replies(id);
    if (nodes.every((n) => got.some((r) => r.node === n))) break;
    const left = deadline - o.now();
    if (left <= 0) break;
    await o.waitReply(id, Math.min(left, o.pollMs ?? 500));
  }
  const secs = Math.round(o.boundMs / 100) / 10;
  return nodes.map((n) => {
    const r = got.find((x) => x.node === n);
    return r === undefined ? { node: n, answered: false, detail: `NO ANSWER WITHIN ${secs} SECONDS` } : { node: n, answered: true, reply: r };
  });
}
