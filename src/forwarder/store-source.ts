// The forwarder on the shared queue of a cluster ([P2], docs/cluster.md): with Store Backend
// PostgreSQL, the spool source and the checkpoint the tasks use (forwarder.ts SpoolSource,
// checkpoint.ts CheckpointPort) are these, and the tasks and the lifecycle do not know it.
//
// - Arrival: a complete batch file the node's spool scanner finds is stored in the queue (one
//   transaction keyed by the file's identity) and then removed from the spool (arriveSpoolFile);
//   it is not handed to a local task. A store that fails is tried again with back-off; the file
//   waits in the spool. A local `message` entry (written by a submission tool, a print report's
//   section, an admin report) arrives the same way, its envelope.json text in the attributes; the
//   gateway's own producers write theirs straight to the queue (spool/message-queue.ts). Bad
//   entries stay on the local path.
// - Names: an entry keeps the spool entry id its file had (stored as its name; qualified as
//   `<id>@<node>` when another entry of the store has it: queue-store.ts entryNames), and its task
//   is that name, so the journal, the logs, accounting, the reports, held files, the queue tools
//   and D,SPOOL name it on every node as they would on the node whose job wrote it.
// - Claiming: when the forwarder has free tasks (wantMore), as many due entries are claimed
//   (SKIP LOCKED, under a lease the LeaseKeeper renews), copied to `<writer>/claimed/` on this
//   node's spool file system (the same parser then reads them, and a held one is moved from
//   there), and handed to the tasks with the entry's checkpoint from the store; a `message` entry
//   with its envelope, so the task reads it as a local message entry. Idle nodes wake
//   on NOTIFY and poll every `pollMs` (a dead node's expired leases announce nothing).
// - Checkpoint: marks of a claimed entry go to the store, fenced by the lease's token; the
//   lifecycle does not retry a LeaseLostError, and the task reads no further message of an
//   entry whose lease is lost (TaskEntry.abandoned). Marks of local entries go to the SQLite
//   checkpoint as before.
// - End: a finished entry is completed (removed with its chunks and checkpoint); a held one is
//   moved to held/ here and completed; an unfinished one is released (due again after
//   `retryMs`, or at once when the node stops, so another node takes it now).
//
// Long retry (RetryLimit Count × Interval) is the entry's next_attempt: a message that gets a
// transient reply has its attempts recorded with the checkpoint (markRetry, deferRetry here), leaves
// this node's memory, and once the file's other messages are settled the entry is released to the
// retry time; any node claims it then, skips what is finished and goes on counting. A lost lease
// stops the file's messages waiting here at once (onLost → Lifecycle.abandon).
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock, Timer } from '../core/index.js';
import { describeError } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { deleteEntry, reportBadEntry, validEntryId, type BadEntryPolicy } from '../spool/disposition.js';
import type { HeldFiles } from '../spool/held-files.js';
import type { SpoolEntry, SpoolLayout } from '../spool/submit.js';
import type { SpoolAttributes } from '../spool/attributes.js';
import { envelopeOfAttributes, storeJobId } from '../spool/message-queue.js';
import { arriveSpoolFile, LeaseLostError, type ClaimedEntry, type EntryAttributes, type EntryCheckpoint, type Lease, type QueueStore, type RetrySummary } from '../store/queue-store.js';
import { LeaseKeeper } from '../store/lease-keeper.js';
import { CHECKPOINT_FAULT_HINT, type CheckpointPort, type FileCheckpoint } from './checkpoint.js';
import type { SpoolSource } from './forwarder.js';
import { attributesOf, type QueueSource } from './spool-source.js';

import type { TaskEntry } from './task.js';

/** Files released for long retry that D,SPOOL lists (the count is of all). */
export const RELEASED_SHOWN = 50;

/** Retry-time timers one node keeps for the entries it released (beyond: the others' polls). */
export const MAX_RETRY_TIMERS = 10_000;

/** The operator's hint when a claimed entry's checkpoint cannot be written (it is in the Store database). */
export const STORE_CHECKPOINT_FAULT_HINT = 'Store database full, read-only or unreachable?';

export interface StoreSourceOptions {
  readonly store: QueueStore;
  readonly writer: string;
  readonly layout: SpoolLayout;
  readonly clock: Clock;
  readonly log: Logger;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  /** How often a node with free tasks asks for due entries without a wake-up. */
  readonly pollMs: number;
  /** An unfinished entry is due again after this (a transient problem: unreadable, a store error). */
  readonly retryMs?: number;
  readonly policy: () => BadEntryPolicy;
  /**
   * `start -f` (cold start): before the first claim, the checkpoint of every entry of the writer
   * no other live node holds is forgotten (QueueStore.restart), so those are read from the start.
   */
  readonly cold?: boolean;
  /** Where a claimed entry is held and reports are written: the cluster's tables (spool/held-files.ts). */
  readonly held: HeldFiles;
}

interface Held {
  readonly claim: ClaimedEntry;
  readonly path: string;
  readonly attrs: SpoolAttributes;
  readonly cp: FileCheckpoint;
  lost: boolean;
  /** Long retry: the latest next attempt of the file's messages deferred in this pass (deferRetry). */
  retryAt?: Date;
  /** The messages deferred in this pass: in long retry, this node's own until the entry is released (CURRENT RETRY). */
  deferred?: Set<number>;
  /** A message held by the operator was left waiting (keepWaiting): the file is released, not finished. */
  heldWaiting?: boolean;
  /** The earliest own retry time (this node's clock, ms) of the messages left waiting untried, not due yet (keepWaiting). */
  keptUntil?: number;
  /** FLUSHRETRY came while this node held the file with messages in long retry: its release makes them due at once. */
  flush?: boolean;
}

/** A file whose only waiting messages are held by the operator is looked at again this often (a release makes it due at once). */
export const HELD_RECHECK_MS = 3_600_000;

/**
 * A message in long retry whose own retry time is at most this far off when its file is claimed
 * is tried with the others (the file is released to the latest retry time of a pass's messages;
 * this absorbs timer and clock jitter); one further off is left untried to its time (keepWaiting).
 */
export const DUE_SLACK_MS = 1_000;

/** The checkpoint of a claimed entry, with the messages not due yet by their own retry time (FileCheckpoint.waitUntil). */
function withWaits(cp: EntryCheckpoint, nowMs: number): FileCheckpoint {
  if (cp.retryInMs === undefined) return cp;
  const waitUntil = new Map<number, number>();
  for (const [no, ms] of cp.retryInMs) if (ms > DUE_SLACK_MS && cp.commands?.get(no) === undefined) waitUntil.set(no, nowMs + ms);
  return waitUntil.size === 0 ? cp : { ...cp, waitUntil };
}

export interface StoreSource {
  /** For spoolSource's `divert`: batch files go to the shared queue. */
  divert(e: SpoolEntry): boolean;
  /** The source and checkpoint the forwarder uses: the store's entries, and the local ones. */
  wrap(local: QueueSource, checkpoint: CheckpointPort): { source: SpoolSource; checkpoint: CheckpointPort };
  /** Subscribes to wake-ups and starts the heartbeat (writes this node's row for D,NODES). */
  start(): Promise<void>;
  /** After the forwarder stopped: releases what is still claimed, stops the heartbeat. */
  stop(): Promise<void>;
  /** Entries this node holds now. */
  claimed(): number;
  /** The writer's entries in the shared queue now, in any state (`start --once` counts them). */
  queued(): Promise<number>;

  /**
   * Runs `fn` (the operator's hold or delete of an unread file in incoming/: queue/service.ts)
   * with the arrival of spool entry `id` excluded: an arrival under way ends first (then the file
   * is in the shared queue and gone from incoming/), one not started yet is skipped (a rescan
   * offers the file again if it is still there).
   */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T>;
}

function text(a: EntryAttributes, k: string, d = ''): string {
  const v = a[k];
  return typeof v === 'string' ? v : d;
}


function spoolAttributes(a: EntryAttributes, entryId: string): SpoolAttributes {
  const uid = a.originUid;
  const rf = text(a, 'recordFormat');
  const enc = text(a, 'encoding');
  return {
    // An entry the gateway wrote straight to the queue has no job id of its own: one from its entry id.
    jobName: text(a, 'jobName'), jobId: text(a, 'jobId', storeJobId(entryId)), originUser: text(a, 'originUser'), originUid: typeof uid === 'number' ? uid : -1,
    originNode: text(a, 'originNode'), taskType: text(a, 'taskType') === 'DEST' ? 'DEST' : 'WRITER', created: new Date(text(a, 'created', new Date(0).toISOString())),
    ...(rf === '' ? {} : { recordFormat: rf as NonNullable<SpoolAttributes['recordFormat']> }), ...(enc === '' ? {} : { encoding: enc }),
  };
}

export function storeSource(o: StoreSourceOptions): StoreSource {
  const { store, writer, layout, log, clock, held: heldFiles } = o;
  const claimedDir = join(layout.writerDir, 'claimed');
  const retryMs = o.retryMs ?? 30_000;
  /** Claimed entries by task id (the entry's name). */
  const held = new Map<string, Held>();
  /** Task id of a claimed entry by its row id (the LeaseKeeper names leases by row). */
  const names = new Map<string, string>();
  /** Store entries finished here whose checkpoint forget() is still to come (a no-op for them). */
  const finished = new Set<string>();
  let stopped = false;
  /**
   * `start --once` (SpoolSource.once): claims are made by the run itself, bounded by the highest
   * entry id when it began, and long retry waits in this node's memory under the renewed lease.
   */
  let onceMode = false;
  /** Releases under way (stop() waits for them before the pool closes). */
  const releasing = new Set<Promise<void>>();

  /** The forwarder's hook (SpoolSource.onLost): its messages of an entry whose lease is lost stop at once. */
  let onLost: ((id: string) => void) | undefined;
  const keeper = new LeaseKeeper(store, {
    heartbeatMs: o.heartbeatMs, leaseMs: o.leaseMs, clock,
    onLost: (lease, why) => {
      const id = names.get(lease.entryId) ?? `db-${lease.entryId}`;
      const h = held.get(id);
      if (h !== undefined) h.lost = true;
      log.warn('spool.lease-lost', { id, row: lease.entryId, why, detail: 'another node may take the entry over: no further message of it is sent here' });
      onLost?.(id);
    },
    onError: (e) => log.warn('store.heartbeat', { error: describeError(e) }),
  });

  // --- arrival ---------------------------------------------------------------------------------
  const arriving = new Map<string, SpoolEntry>();
  let arrivals: Promise<void> = Promise.resolve();
  /** Spool entries an operator's action works on now: not stored meanwhile (exclusive). */
  const excluded = new Set<string>();
  const arrive = async (e: SpoolEntry, delay: number): Promise<void> => {
    if (stopped) return;
    if (excluded.has(e.id)) { arriving.delete(e.id); return; }
    try {
      // The entry keeps the file's spool entry id as its name (qualified if another entry has it).
      const out = await arriveSpoolFile(store, writer, e.path, attributesOf(e), () => deleteEntry(layout, e.id), { kind: e.kind === 'message' ? 'message' : 'spool', name: e.id });
      arriving.delete(e.id);
      log.event('spool.stored', { id: e.id, ...(out.name === e.id ? {} : { entry: out.name }), row: out.entryId, ...(out.stored ? { size: out.size } : { duplicate: true }) });
      if (out.stored && out.name !== e.id) log.warn('spool.renamed', { id: e.id, entry: out.name, detail: 'another entry of the shared queue has this spool entry id: this file is known by the qualified name' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') { arriving.delete(e.id); return; }
      log.error('spool.store-failed', { id: e.id, error: describeError(err), action: `the file stays in the spool; tried again in ${Math.round(delay / 1000)} s` });
      const t = clock.setTimer(delay, () => { arrivals = arrivals.then(() => arrive(e, Math.min(delay * 2, 60_000))); });
      retryTimers.add(t);
    }
  };
  const retryTimers = new Set<Timer>();

  // --- claiming ----------------------------------------------------------------------------------
  let onArrival: ((e: TaskEntry) => void) | undefined;
  let want = 0;
  /** SUSPEND,DELAY: only entries already in process are claimed (QueueStore.claim inProcess). */
  let wantInProcess = false;
  let claiming = false;
  let poll: Timer | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  const take = async (c: ClaimedEntry): Promise<TaskEntry> => {
    // A name unusable as a file name (not one this program stores) falls back to the row's.
    const id = validEntryId(c.name) ? c.name : `db-${c.id}`;
    names.set(c.id, id);
    keeper.track(c.lease);
    if (c.takenOverFrom !== null) log.event('spool.taken-over', { id, row: c.id, from: c.takenOverFrom });
    const path = join(claimedDir, id);
    let disposed = false;
    try {
      // A message entry's envelope, checked by envelope.json's parser (the gateway wrote it; a
      // broken one is a bug or a tampered row: held here for the operator, never retried in a loop).
      const envelope = c.kind === 'message' ? envelopeOfAttributes(c.attributes) : undefined;
      const cp = withWaits(await store.loadCheckpoint(c.id), clock.now());
      await pipeline(Readable.from(store.read(c.id)), createWriteStream(path, { mode: 0o600 }));
      const attrs = spoolAttributes(c.attributes, c.id);
      const h: Held = { claim: c, path, attrs, cp, lost: false };
      held.set(id, h);
      if (envelope !== undefined && !envelope.ok) {
        log.error('spool.bad-entry', { id, problem: envelope.error, action: 'held' });
        await heldFiles.hold({ entry: { id, attrs }, kind: c.kind, attributes: c.attributes, from: path }, `message entry ${id}: ${envelope.error}`, new Date(clock.now()));
        await done(h, id, () => store.complete(c.lease));
        disposed = true;
        throw new Error(`message entry ${id}: ${envelope.error} (held)`);
      }
      return {
        id, path,
        attrs: { jobName: attrs.jobName, jobId: attrs.jobId, originUser: attrs.originUser, originUid: attrs.originUid, taskType: attrs.taskType,
          ...(attrs.recordFormat === undefined ? {} : { recordFormat: attrs.recordFormat }), ...(attrs.encoding === undefined ? {} : { encoding: attrs.encoding }) },
        ...(envelope?.ok === true ? { message: envelope.value } : {}),
        ...(c.attempts > 0 ? { inProcess: true } : {}),
        abandoned: () => h.lost,
      };
    } catch (e) {
      keeper.untrack(c.id);
      names.delete(c.id);
      await rm(path, { force: true });
      if (!disposed) await store.release(c.lease, { retryAt: new Date(clock.now() + retryMs), attempted: true }).catch(() => undefined);
      throw e;
    }
  };

  const armPoll = (): void => {
    if (stopped || poll !== undefined) return;
    poll = clock.setTimer(o.pollMs, () => { poll = undefined; kick(); });
  };

  const kick = (): void => {
    if (claiming || stopped || onArrival === undefined || want <= 0) return;
    claiming = true;
    let got = 0;
    const asked = want;
    store.claim(writer, asked, wantInProcess ? { inProcess: true } : {}).then(async (entries) => {
      got = entries.length;
      if (got > 0) refreshRetry();
      want = Math.max(0, want - got);
      for (const c of entries) {
        // A claim asked before SUSPEND,DELAY may bring a file no node has read: given back at
        // once, unread and due now, for a node not suspended (it starts no new file here).
        if (wantInProcess && c.attempts === 0) {
          await store.release(c.lease, {}).catch((err: unknown) => log.warn('spool.release', { id: c.name, error: describeError(err) }));
          want += 1; // the task it was counted for is still free
          continue;
        }
        try {
          const e = await take(c);
          if (stopped) { await giveUp(e.id, true); continue; }
          onArrival?.(e);
        } catch (err) {
          log.error('spool.claim', { id: c.name, row: c.id, error: describeError(err) });
        }
      }
    }, (err: unknown) => log.warn('spool.claim', { error: describeError(err), action: `asked again in ${o.pollMs} ms` })).finally(() => {
      claiming = false;
      // A full claim: there may be more at once. Fewer: a wake-up or the poll brings the next.
      if (got === asked && want > 0) kick();
      else if (want > 0) armPoll();
    });
  };

  /** --once: a claim within the run's bound; a database that does not answer is asked again, for at most one lease time. */
  const claimOnce = async (max: number, upTo: string): Promise<ClaimedEntry[]> => {
    for (let waited = 0; ; waited += o.pollMs) {
      try {
        return await store.claim(writer, max, { upTo });
      } catch (err) {
        if (waited >= o.leaseMs) throw err;
        log.warn('spool.claim', { error: describeError(err), action: `asked again in ${o.pollMs} ms` });
        await new Promise<void>((resume) => { clock.setTimer(o.pollMs, resume); });
      }
    }
  };

  /** Lets go of a claimed entry: released for any node (at once when stopping), unless its lease is lost. */
  const giveUp = async (id: string, now: boolean): Promise<void> => {
    const h = held.get(id);
    if (h === undefined) return;
    held.delete(id);
    keeper.untrack(h.claim.id);
    names.delete(h.claim.id);
    await rm(h.path, { force: true });
    if (h.lost) return;
    // Long retry: due at its messages' next attempt (also when stopping: not sooner for any node),
    // counted on the store's clock; this node's timer wakes the cluster then (retryTimer).
    // A pass that left messages waiting untried (not due, or held): released no later than the
    // earliest of their own retry times; only held ones: looked at again after HELD_RECHECK_MS.
    const kept = h.keptUntil === undefined ? undefined : new Date(h.keptUntil);
    const retryAt = h.retryAt !== undefined && kept !== undefined ? (kept < h.retryAt ? kept : h.retryAt)
      : h.retryAt ?? kept ?? (h.heldWaiting === true && !now ? new Date(clock.now() + HELD_RECHECK_MS) : undefined);
    if (retryAt !== undefined) {
      const inMs = Math.max(0, retryAt.getTime() - clock.now());
      await store.release(h.claim.lease, { retryInMs: inMs, attempted: true });
      if (h.flush === true) {
        // The entry and every message of it due now (also those left waiting to a later time).
        if (await store.retryNow(writer, { entryId: h.claim.id, attempts: h.claim.attempts + 1, flush: true }) > 0) kick();
      } else retryTimer(h.claim.id, h.claim.attempts + 1, inMs);
      refreshRetry();
    } else await store.release(h.claim.lease, now ? {} : { retryAt: new Date(clock.now() + retryMs), attempted: true });
  };

  // --- long retry in the cluster's view ---------------------------------------------------------
  /**
   * An entry this node released for long retry is made due by this node's timer at its retry
   * time (QueueStore.retryNow, guarded by the release's attempt count) and idle nodes are woken:
   * the next attempt starts then instead of at a node's next poll, and the node's clock (the
   * injected Clock) is the one the retry time was taken on. The store's next_attempt stays the
   * bound: a node that stops (or dies) leaves it to the others' polls. At most MAX_RETRY_TIMERS.
   */
  const dueTimers = new Map<string, Timer>();
  const retryTimer = (entryId: string, attempts: number, inMs: number): void => {
    if (stopped || dueTimers.size >= MAX_RETRY_TIMERS) return;
    dueTimers.get(entryId)?.cancel();
    dueTimers.set(entryId, clock.setTimer(inMs, () => {
      dueTimers.delete(entryId);
      if (stopped) return;
      store.retryNow(writer, { entryId, attempts }).then((n) => { if (n > 0) kick(); },
        (e: unknown) => log.warn('spool.retry-due', { id: entryId, error: describeError(e), detail: 'the entry is due by the store\'s clock all the same' }));
    }));
  };
  /**
   * Messages of the writer waiting in long retry on entries no live node holds (CURRENT RETRY
   * counts them on every node): read again after this node's own claims and releases and at every
   * poll; one query at a time, and one more when asked meanwhile (the last answer is the newest).
   */
  let retryShared: RetrySummary = { messages: 0, files: [] };
  let retryReading = false;
  let retryAgain = false;
  const refreshRetry = (): void => {
    if (stopped) return;
    if (retryReading) { retryAgain = true; return; }
    retryReading = true;
    store.retrySummary(writer, RELEASED_SHOWN).then((r) => { retryShared = r; }, (e: unknown) => log.warn('spool.retry-count', { error: describeError(e) })).finally(() => {
      retryReading = false;
      if (retryAgain) { retryAgain = false; refreshRetry(); }
    });
  };
  let retryPoll: Timer | undefined;
  const armRetryPoll = (): void => {
    if (stopped) return;
    retryPoll = clock.setTimer(o.pollMs, () => { refreshRetry(); armRetryPoll(); });
  };

  const done = async (h: Held, id: string, what: () => Promise<void>): Promise<void> => {
    try {
      await what();
    } catch (e) {
      // Another node took the entry over: it finds every message recorded and completes it.
      if (!(e instanceof LeaseLostError)) throw e;
      log.warn('spool.lease-lost', { id, detail: describeError(e) });
    }
    held.delete(id);
    keeper.untrack(h.claim.id);
    names.delete(h.claim.id);
    await rm(h.path, { force: true });
  };

  return {
    divert: (e) => {
      if (!arriving.has(e.id)) {
        arriving.set(e.id, e);
        arrivals = arrivals.then(() => arrive(e, 5_000));
      }
      return true;
    },
    wrap: (local, cp) => {
      const lease = (id: string, what: string): Lease | undefined => {
        const h = held.get(id);
        if (h === undefined) return undefined;
        if (h.lost) throw new LeaseLostError(h.claim.lease, what);
        return h.claim.lease;
      };
      const checkpoint: CheckpointPort = {
        load: (id) => held.get(id)?.cp ?? cp.load(id),
        markRecipient: async (id, no, mark) => {
          const l = lease(id, `checkpoint of message ${no} recipient ${mark.address}`);
          return l === undefined ? cp.markRecipient(id, no, mark) : store.markRecipient(l, no, mark);
        },
        markMessage: async (id, no, outcome) => {
          const l = lease(id, `checkpoint of message ${no}`);
          return l === undefined ? cp.markMessage(id, no, outcome) : store.markMessage(l, no, outcome);
        },
        deferRetry: async (id, no, attempts, retryAt, view) => {
          const h = held.get(id);
          if (h === undefined) return (await cp.deferRetry?.(id, no, attempts, retryAt, view)) ?? false;
          const l = lease(id, `long retry of message ${no}`);
          await store.markRetry(l!, no, attempts, view, retryAt.getTime() - clock.now());
          // The file is released once all its messages are settled: at the latest of their retry
          // times, so none is tried before its Interval (one pass's spread later for the others).
          if (h.retryAt === undefined || h.retryAt < retryAt) h.retryAt = retryAt;
          // --once: the run ends with its mail settled, as on one node: the message waits here
          // (the attempts are counted in the store all the same; a stop releases to retryAt).
          if (!onceMode) (h.deferred ??= new Set()).add(no);
          return !onceMode;
        },
        keepWaiting: (id, _no, until) => {
          const h = held.get(id);
          if (h === undefined) return;
          if (until === undefined) h.heldWaiting = true;
          else if (h.keptUntil === undefined || until < h.keptUntil) h.keptUntil = until;
        },
        forget: (id) => (finished.delete(id) ? Promise.resolve() : cp.forget(id)),
        flush: () => cp.flush(),
        // A claimed entry's checkpoint is in the database (a failing write: full, unreachable, read-only).
        faultHint: (id) => (held.has(id) ? STORE_CHECKPOINT_FAULT_HINT : cp.faultHint?.(id) ?? CHECKPOINT_FAULT_HINT),
      };
      const source: SpoolSource = {
        list: () => local.source.list(),
        watch: (cb) => { onArrival = cb; local.source.watch(cb); kick(); },
        wantMore: (free, inProcess = false) => { want = free; wantInProcess = inProcess; kick(); },
        once: async () => {
          onceMode = true;
          // The files this node's spool held at the start are stored first (list() diverted them).
          for (let a: Promise<void> | undefined; a !== arrivals;) { a = arrivals; await a; }
          // A previous life's leases are this run's work; the bound: what the queue holds now.
          const r = await store.restart(writer, { cold: false });
          log.event('spool.once', { upTo: r.upTo, released: r.released, detail: 'claims the writer\'s due entries up to this id; later ones are left to other nodes or the next run' });
          return async (max) => {
            const claimed = await claimOnce(max, r.upTo);
            const out: TaskEntry[] = [];
            for (const c of claimed) {
              try { out.push(await take(c)); } catch (err) { log.error('spool.claim', { id: c.name, row: c.id, error: describeError(err) }); }
            }
            return out;
          };
        },
        onLost: (cb) => { onLost = cb; },
        flushShared: async () => {
          // Messages deferred on files this node still holds (their pass goes on) are released
          // due at once (giveUp); releases already under way are waited for, then made due here.
          let marked = 0;
          for (const h of held.values()) if ((h.deferred?.size ?? 0) > 0 || h.keptUntil !== undefined) { h.flush = true; marked++; }
          await Promise.allSettled([...releasing]);
          const n = marked + await store.retryNow(writer);
          if (n > 0) kick();
          refreshRetry();
          return n;
        },
        retryShared: () => retryShared.messages,
        retryHeld: () => { let n = 0; for (const h of held.values()) n += h.deferred?.size ?? 0; return n; },
        releasedFiles: () => retryShared.files,
        giveBack: (e, stopping) => {
          if (!held.has(e.id) && !finished.has(e.id)) return false;
          const p = giveUp(e.id, stopping).catch((err: unknown) => log.warn('spool.release', { id: e.id, error: describeError(err) })).finally(() => releasing.delete(p));
          releasing.add(p);
          return true;
        },
        finish: async (e) => {
          const h = held.get(e.id);
          if (h === undefined) return local.source.finish(e);
          await done(h, e.id, () => store.complete(h.claim.lease));
          finished.add(e.id);
        },
        hold: async (e, reason) => {
          const h = held.get(e.id);
          if (h === undefined) return local.source.hold(e, reason);
          await heldFiles.hold({ entry: { id: e.id, attrs: h.attrs }, kind: h.claim.kind, attributes: h.claim.attributes, from: h.path }, reason, new Date(clock.now()));
          await done(h, e.id, () => store.complete(h.claim.lease));
        },
        report: async (e, problems, summary) => {
          const h = held.get(e.id);
          if (h === undefined) return local.source.report(e, problems, summary);
          const out = await reportBadEntry({
            layout, held: heldFiles, entry: { id: e.id, attrs: h.attrs }, summary, now: new Date(clock.now()),
            problems: problems.map((p) => ({ code: p.code, enhanced: p.enhanced, text: p.text, recordNo: p.recordNo, messageNo: p.messageNo })),
            policy: o.policy(),
          });
          for (const w of out.warnings) log.warn('spool.report', { id: e.id, detail: w });
          log.event('spool.reported', { id: e.id, report: out.report.kind });
        },
      };
      return { source, checkpoint };
    },
    start: async () => {
      // Copies left by an earlier life of this node: their leases ran out or were taken over.
      await mkdir(claimedDir, { recursive: true, mode: 0o700 });
      for (const f of await readdir(claimedDir)) await rm(join(claimedDir, f), { force: true });
      if (o.cold === true) {
        // Before anything is claimed: what no other live node is sending is read from the start.
        const r = await store.restart(writer, { cold: true });
        log.event('spool.cold-start', { shared: r.reset, released: r.released, detail: 'entries of the shared queue no other live node holds are read again from their first message' });
      }
      unsubscribe = await store.subscribe(writer, () => kick());
      await keeper.beat();
      keeper.start();
      refreshRetry();
      armRetryPoll();
    },
    stop: async () => {
      stopped = true;
      poll?.cancel();
      retryPoll?.cancel();
      for (const t of dueTimers.values()) t.cancel();
      dueTimers.clear();
      for (const t of retryTimers) t.cancel();
      await arrivals;
      await Promise.all([...releasing]);
      // Claimed and never started (the forwarder stopped first): due again at once, for any node.
      for (const id of [...held.keys()]) await giveUp(id, true).catch((e: unknown) => log.warn('spool.release', { id, error: describeError(e) }));
      await keeper.stop();
      await unsubscribe?.();
    },
    claimed: () => held.size,
    queued: () => store.count(writer),

    exclusive: async (id, fn) => {
      excluded.add(id);
      try {
        await arrivals;
        return await fn();
      } finally {
        excluded.delete(id);
      }
    },
  };
}
