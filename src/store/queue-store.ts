// The shared work queue of a cluster ([P2], docs/cluster.md): queue entries of both kinds, claimed
// by the nodes of one logical instance (one ExtWrtName) under leases, with the checkpoint per
// message and recipient that lets a node taking over an entry skip what is finished.
//
// One interface, implemented by store/pg (PostgreSQL: FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY).
// The forwarder's spool path uses it (forwarder/store-source.ts); docs/cluster.md lists what remains.
//
// Semantics every implementation keeps:
// - A lease is (node, expiry, token). The expiry is the database's clock, never a node's, so
//   nodes with skewed clocks agree. The token is new at every claim (a fencing token): a node whose
//   lease was taken over gets LeaseLostError from every write about the entry, and stops.
// - A claim never hands one entry to two live leases; an entry whose lease expired (its node
//   stopped heartbeating) is claimable again, and the claim says from whom it was taken over.
// - Arrival of a spool file is one transaction keyed by the file's identity (FileIdentity), so
//   storing the same file twice (a crash between the commit and the unlink) stores it once.
// - Bytes move in chunks of at most CHUNK_BYTES, never whole in memory.
// - Every entry has a name, unique in the store: the spool entry id its file had (or a message
//   entry's id), the name the journal, logs, reports and queue tools know it by on every node.
//   A name another entry has already is qualified with the storing node (entryNames()).
import { rm } from 'node:fs/promises';
import { SpoolgateError } from '../core/errors.js';
import { newId } from '../core/ids.js';

export type EntryKind = 'spool' | 'message';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };
/** spool: the owner's attributes (user, uid, job name…); message: the envelope. */
export type EntryAttributes = { readonly [k: string]: JsonValue };

/** Bytes per stored chunk (and the most either side holds of one entry at a time). */
export const CHUNK_BYTES = 256 * 1024;

export interface Lease {
  readonly entryId: string;
  readonly node: string;
  /** Fencing token: new at every claim. */
  readonly token: string;
  /** Database time the lease runs out unless renewed. */
  readonly expires: Date;
}

export interface ClaimedEntry {
  readonly id: string;
  /** The entry's name (entryNames()): the spool entry id the tasks, journal and logs use. */
  readonly name: string;
  readonly writer: string;
  readonly kind: EntryKind;
  readonly attributes: EntryAttributes;
  readonly size: number;
  readonly attempts: number;
  readonly arrivedAt: Date;
  readonly arrivedNode: string;
  readonly lease: Lease;
  /** The node whose expired lease this claim took over; null for a first claim. */
  readonly takenOverFrom: string | null;
}

/**
 * What makes a spool file the same file on its node: the path, the inode, the modification time
 * in nanoseconds and the size. Not a content hash: a job may legitimately write the same bytes
 * twice (a rerun), and both are mail to send. Not the device number: it may change at a reboot,
 * which is exactly when the crash-between-commit-and-unlink file is found again.
 */
export interface FileIdentity {
  readonly path: string;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly size: bigint;
}

export function identityKey(id: FileIdentity): string {
  return `${id.ino}:${id.mtimeNs}:${id.size}:${id.path}`;
}

export type ArrivalOutcome =
  | { readonly stored: true; readonly entryId: string; readonly name: string; readonly size: number }
  /** The same file (same identity on the same node) was stored before: only remove it. `name`: that entry's. */
  | { readonly stored: false; readonly entryId: string; readonly name: string; readonly reason: 'duplicate' };

/** A message entry as stored: its row id and its name. */
export interface StoredEntry {
  readonly id: string;
  readonly name: string;
}

/** The name of a row stored before names existed (PG migration 12, SQLite queue version 3). */
export function entryName(id: string, name: string | null | undefined): string {
  return name ?? `db-${id}`;
}

/**
 * The names an entry asked to be called `wanted` tries, in order, on node `node` (docs/cluster.md
 * "Spool entry ids on the shared queue"): the id itself; taken by another entry of the store (two
 * nodes' spools are separate directories: a job on each may write the same name) the id
 * qualified with the node, `<id>@<node>` (`@` is in no node name); taken as well (the same node
 * wrote the name again while its first entry still waits), `<id>@<node>.<row>` with the row's id
 * (unique), which the caller sets once it knows the row. No `wanted`: a new id (core/ids.ts).
 */
export function entryNames(wanted: string | undefined, node: string, now: number): { readonly first: string; readonly second: string | undefined; last(row: string): string } {
  if (wanted === undefined) {
    const id = newId(now);
    return { first: id, second: undefined, last: (row) => `${id}@${node}.${row}` };
  }
  return { first: wanted, second: `${wanted}@${node}`, last: (row) => `${wanted}@${node}.${row}` };
}

export type MessageFinal = 'delivered' | 'undeliverable' | 'extended' | 'rejected';

export interface StoredReply {
  readonly code: number;
  readonly enhanced?: string;
  readonly text: string;
}

export type RecipientMark =
  | { readonly address: string; readonly outcome: 'accepted' }
  | { readonly address: string; readonly outcome: 'failed'; readonly reply: StoredReply };

export interface EntryCheckpoint {
  readonly messages: ReadonlyMap<number, MessageFinal>;
  readonly recipients: ReadonlyMap<number, ReadonlyMap<string, RecipientMark>>;
  /**
   * Long retry on the shared queue: message number → attempts made so far, counted over every
   * node (markRetry). A message not finished and absent here has not been tried yet.
   */
  readonly attempts: ReadonlyMap<number, number>;
  /**
   * An operator's end for a message released for long retry (bounce or delete, asked on any node:
   * OperatorStore.commandRetry): the node that claims the entry carries it out; or its hold (the
   * message is not tried until released). Message number → command.
   */
  readonly commands?: ReadonlyMap<number, RetryCommand>;
  /**
   * Long retry: how long each waiting message still waits for its own retry time (ms when the
   * checkpoint was loaded, on the store's clock; ≤ 0 or absent: due). A node that claims the entry
   * before — for an operator's command on another message — leaves it to that time, untried.
   */
  readonly retryInMs?: ReadonlyMap<number, number>;
}

/**
 * What the operator sees of a message released for long retry (docs/cluster.md "Long retry in
 * the operator's view"): stored with its attempts (markRetry), so any node lists it with its
 * envelope after no node holds it in memory. The queue tools' item of the message as its node
 * showed it (queue/model.ts QueueItem's fields), JSON; bounded by the writer (headers cut).
 */
export type RetryView = { readonly [k: string]: JsonValue };

/** The entries released for long retry and their waiting messages (QueueStore.retrySummary). */
export interface RetrySummary {
  readonly messages: number;
  readonly files: readonly {
    readonly entryId: string;
    readonly jobName: string;
    readonly jobId: string;
    /** Its messages waiting in long retry. */
    readonly messages: number;
    readonly nextAttempt: Date;
    readonly held: boolean;
    readonly lastNode: string | null;
  }[];
}

/** A RetrySummary from its rows (one per entry), for either backend. */
export function retrySummaryOf(rows: readonly { entry_id: string; attributes: EntryAttributes; n: number; next_attempt: number; state: string; last_node: string | null }[], limit: number): RetrySummary {
  const text = (a: EntryAttributes, k: string): string => (typeof a[k] === 'string' ? a[k] : '');
  return {
    messages: rows.reduce((m, r) => m + r.n, 0),
    files: rows.slice(0, limit).map((r) => ({
      entryId: r.entry_id, jobName: text(r.attributes, 'jobName'), jobId: text(r.attributes, 'jobId'), messages: r.n,
      nextAttempt: new Date(r.next_attempt), held: r.state === 'held', lastNode: r.last_node,
    })),
  };
}

/**
 * An operator's bounce or delete of a message released for long retry, or a hold of that one
 * message (the others of its file go on): the node that claims the entry leaves a held message
 * waiting in the shared queue (CheckpointPort.keepHeld) until a release clears the command.
 */
export interface RetryCommand {
  readonly action: 'bounce' | 'delete' | 'hold';
  readonly operator: string;
  readonly reason: string;
  /** ISO 8601 time of a hold. */
  readonly at?: string;
}

/** The command stored with a message, or undefined when the JSON is not one (a hand-made row). */
export function retryCommandOf(v: unknown): RetryCommand | undefined {
  const o = (typeof v === 'string' ? (() => { try { return JSON.parse(v) as unknown; } catch { return undefined; } })() : v) as Record<string, unknown> | null | undefined;
  if (o === null || typeof o !== 'object') return undefined;
  if ((o.action !== 'bounce' && o.action !== 'delete' && o.action !== 'hold') || typeof o.operator !== 'string' || typeof o.reason !== 'string') return undefined;
  return { action: o.action, operator: o.operator.slice(0, 200), reason: o.reason.slice(0, 500), ...(typeof o.at === 'string' ? { at: o.at.slice(0, 40) } : {}) };
}

/** A row of checkpoint_recipients, as both backends store it. */
export interface CheckpointRecipientRow {
  readonly no: number;
  readonly address: string;
  readonly outcome: 'accepted' | 'failed';
  readonly code: number | null;
  readonly enhanced: string | null;
  readonly reply: string | null;
}

/** The checkpoint of one entry from its rows (checkpoint_messages, checkpoint_recipients), for either backend. */
export function checkpointFromRows(
  messageRows: readonly { readonly no: number; readonly outcome: MessageFinal }[],
  recipientRows: readonly CheckpointRecipientRow[],
  retryRows: readonly { readonly no: number; readonly attempts: number; readonly command?: unknown; readonly wait_ms?: number | null }[] = [],
): EntryCheckpoint {
  const messages = new Map<number, MessageFinal>();
  for (const r of messageRows) messages.set(r.no, r.outcome);
  const attempts = new Map<number, number>();
  const commands = new Map<number, RetryCommand>();
  const retryInMs = new Map<number, number>();
  for (const r of retryRows) {
    if (messages.has(r.no)) continue;
    attempts.set(r.no, r.attempts);
    if (typeof r.wait_ms === 'number' && Number.isFinite(r.wait_ms)) retryInMs.set(r.no, r.wait_ms);
    const c = r.command === null || r.command === undefined ? undefined : retryCommandOf(r.command);
    if (c !== undefined) commands.set(r.no, c);
  }
  const recipients = new Map<number, Map<string, RecipientMark>>();
  for (const r of recipientRows) {
    let per = recipients.get(r.no);
    if (per === undefined) recipients.set(r.no, (per = new Map()));
    if (r.outcome === 'accepted') { per.set(r.address, { address: r.address, outcome: 'accepted' }); continue; }
    const reply: StoredReply = { code: r.code ?? 554, ...(r.enhanced !== null ? { enhanced: r.enhanced } : {}), text: r.reply ?? '' };
    per.set(r.address, { address: r.address, outcome: 'failed', reply });
  }
  return { messages, recipients, attempts, ...(commands.size === 0 ? {} : { commands }), ...(retryInMs.size === 0 ? {} : { retryInMs }) };
}

/** The node no longer holds the lease (it expired and was taken over, or the entry is gone). */
export class LeaseLostError extends SpoolgateError {
  constructor(readonly lease: Lease, what: string) {
    super('ERR_LEASE_LOST', `${what}: entry ${lease.entryId} is no longer leased to node ${lease.node} (token ${lease.token}): another node took it over`);
  }
}

export interface HeartbeatResult {
  /** The leases this node still holds, renewed until the returned expiry. */
  readonly held: readonly Lease[];
}

/** One row of D,NODES: a node that heartbeated on this store. */
export interface NodeInfo {
  readonly name: string;
  readonly address: string | null;
  readonly version: string | null;
  /** Seconds since its last heartbeat (the store's clock). */
  readonly heartbeatAge: number;
  /** Entries it holds an unexpired lease on. */
  readonly claimed: number;
}

/** retryNow's one entry: the release counted `attempts`; `flush`: every message of it due now, not shifted with the entry. */
export interface RetryOnly {
  readonly entryId: string;
  readonly attempts: number;
  readonly flush?: boolean;
}

export interface QueueStore {
  /** This node's name (Store Node): the lease holder. */
  readonly node: string;
  /**
   * Stores a spool file (bytes in chunks, attributes) in one transaction keyed by its identity,
   * and wakes idle nodes. Does not remove the file: the caller unlinks it after this resolves,
   * also when the outcome is a duplicate (arriveSpoolFile does both). `kind`: 'spool' (a batch
   * file, the default) or 'message' (a local message entry's data file, its envelope in the attributes).
   * `name`: the spool entry id the file had, kept as the entry's name (entryNames(): qualified when
   * another entry has it); without one, a new id.
   */
  storeSpoolFile(writer: string, path: string, attributes: EntryAttributes, opts?: { readonly kind?: EntryKind; readonly name?: string }): Promise<ArrivalOutcome>;
  /**
   * Stores a `message` entry (envelope in attributes, the message streamed in chunks) in one
   * transaction and wakes idle nodes; resolves with its id once committed. With `key`, the
   * entry is stored at most once per (node, key) — the same arrivals row a spool file's identity
   * takes: a second call with the key (a producer retrying after a crash) stores nothing and
   * resolves with the first entry's id and name. `name`: as for storeSpoolFile (a new id without one).
   */
  enqueueMessage(writer: string, attributes: EntryAttributes, body: AsyncIterable<Buffer> | Buffer, opts?: { readonly key?: string; readonly name?: string }): Promise<StoredEntry>;
  /**
   * Claims up to `max` due entries of the writer not leased to a live node (SKIP LOCKED). `upTo`:
   * only entries whose id is at most this (the bound of a `start --once` run: restart's upTo).
   * `inProcess`: only entries a node has read and released after an attempt (long retry): the
   * files already in process, which a node under SUSPEND,DELAY still finishes.
   */
  claim(writer: string, max: number, opts?: { readonly upTo?: string; readonly inProcess?: boolean }): Promise<ClaimedEntry[]>;
  /**
   * A starting node takes back what a previous life of it left, before it claims anything (a
   * `Store Node` name is one node, and a starting node holds no lease yet, so every lease under
   * its name is a previous life's):
   * - every lease of the writer's entries under this node's name is given back, the entry due now
   *   (its checkpoint kept): `start --once` finishes that work in this run instead of waiting out
   *   the lease;
   * - `cold` (`start -f`): besides, the checkpoint (messages, recipients, long-retry attempts) of
   *   every entry of the writer that no OTHER live node holds — unclaimed, in long retry, held by
   *   the operator, or under an expired lease — is forgotten and the entry is due now, so it is
   *   read again from its first message. An entry another node holds under a live lease keeps its
   *   checkpoint and its lease: that node is sending it.
   * Returns how many leases were given back, how many entries were reset (cold), and the highest
   * entry id of the writer now ('0' when none).
   */
  restart(writer: string, opts: { readonly cold: boolean }): Promise<{ readonly released: number; readonly reset: number; readonly upTo: string }>;
  /** How many entries of the writer are in the queue now, in any state (claimed, due later, held). */
  count(writer: string): Promise<number>;
  /**
   * Renews the given leases (those the node is still working on) and its row in the node table;
   * returns the ones it still holds. Only the named leases: one the node no longer works on — given
   * up, or left by a previous life of the same node that crashed and restarted within the lease
   * time — must run out and be taken over, not be kept alive for ever by the new heartbeat.
   */
  heartbeat(leases: readonly Lease[]): Promise<HeartbeatResult>;
  /** The entry's bytes in order, one chunk at a time. */
  read(entryId: string): AsyncIterable<Buffer>;
  loadCheckpoint(entryId: string): Promise<EntryCheckpoint>;
  /** Fenced by the lease: LeaseLostError when the node no longer holds it. */
  markRecipient(lease: Lease, no: number, mark: RecipientMark): Promise<void>;
  markMessage(lease: Lease, no: number, outcome: MessageFinal): Promise<void>;
  /**
   * Long retry on the shared queue: message `no` has now been tried `attempts` times (over every
   * node) and waits for its next attempt, which any node may make after the entry is released with
   * `retryAt` (RetryLimit is counted cluster-wide: a takeover does not restart the count). Kept
   * with the checkpoint until the message is finished or the entry completed. Fenced. `view`:
   * what the operator's tools show of the message while no node holds it (RetryView).
   * `retryInMs`: the message's own next attempt, from now on the store's clock (loadCheckpoint's
   * retryInMs; absent: due whenever the entry is claimed). FLUSHRETRY (retryNow without `only`),
   * and an operator's retry or release of the message, make it due.
   */
  markRetry(lease: Lease, no: number, attempts: number, view?: RetryView, retryInMs?: number): Promise<void>;
  /** The entry is finished: it, its chunks and its checkpoint are removed. Fenced. */
  complete(lease: Lease): Promise<void>;
  /**
   * Gives the entry back: claimable again at `retryAt` (now when omitted), or `retryInMs` from now
   * on the store's clock (long retry: a node's skew does not shift it); counts an attempt. Fenced.
   */
  release(lease: Lease, opts?: { retryAt?: Date; retryInMs?: number; attempted?: boolean }): Promise<void>;
  /**
   * FLUSHRETRY on the shared queue: the writer's entries released for long retry (messages in
   * checkpoint_retries, not held, no live lease, due later) are due now, and idle nodes are woken.
   * `only`: that entry alone, and only while it is still the release counted `attempts` (its
   * releasing node's timer: a later release by another node is left alone); its messages' own
   * retry times move with it, or with `flush` (a FLUSHRETRY that came while the node still held
   * the entry) all are due now. Returns how many.
   */
  retryNow(writer: string, only?: RetryOnly): Promise<number>;
  /**
   * Long retry of the cluster (CURRENT RETRY, D,SPOOL): the writer's messages waiting in long
   * retry on entries no live node holds, and those entries (at most `limit`, oldest first).
   */
  retrySummary(writer: string, limit: number): Promise<RetrySummary>;
  /**
   * Calls onWake when new work may be due for the writer (another node stored or released an
   * entry). A hint only: an idle node still polls, so a lost wake-up delays, never loses. Resolves
   * to a stop function.
   */
  subscribe(writer: string, onWake: () => void): Promise<() => Promise<void>>;
  /**
   * Forgets this node's arrival identities stored before `before`, at most `limit` of them; returns
   * how many. An identity is needed only until the node has scanned its spool once after a crash:
   * prune with an age far beyond any restart (days), never below the spool's rescan interval.
   */
  pruneArrivals(before: Date, limit: number): Promise<number>;
  /** Every node that heartbeated on this store, by name (the data of D,NODES). */
  nodes(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}

/**
 * Arrival of one spool file: store it (one transaction), then remove the local file. A file whose
 * identity was stored before — the node crashed between the commit and the unlink — is only
 * removed, so it is never queued twice. `remove`: how the file leaves the spool when it is more
 * than the data file (an entry directory with its attrs.json: the spool's deleteEntry).
 */
export async function arriveSpoolFile(
  queue: QueueStore, writer: string, path: string, attributes: EntryAttributes, remove?: () => Promise<void>, opts: { readonly kind?: EntryKind; readonly name?: string } = {},
): Promise<ArrivalOutcome> {
  const out = await queue.storeSpoolFile(writer, path, attributes, opts);
  await (remove ?? (() => rm(path, { force: true })))();
  return out;
}
