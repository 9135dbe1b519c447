// The lifecycle of one message and its recipients (SPEC.md §2.2). Over 600 lines: one state
// machine (run) and the steps it owns (marks, retry, extended step, operator ends, notices); the
// pieces that stand alone are already beside it (rate.ts, dkim.ts, status-notices.ts, journal.ts).
//   delivered; transient → long retry (RetryLimit Count × Interval, spool file held) →
//   extended retry (ExtendedRetry: written durably to the mail directory, spool file released) →
//   undeliverable; permanent → undeliverable. Undeliverable → one notification or a dead letter
//   (undeliverable.ts). Every recipient's final state is checkpointed right after the target's
//   final reply, before anything depends on it — and before the connection is handed back, so
//   each connection carries at most one message whose outcome is not yet on disk (what a crash
//   can resend). What follows a recorded refusal — the DSN and the message's own mark — happens
//   after the release (a crash in between re-reads the marks; R3 item 7).
//   A checkpoint that cannot be written stops sending (task WAIT, operator message
//   checkpoint.failed) until a write succeeds again: no delivery without a record.
// Waits are timers (monotonic); a wall-clock step neither stalls nor hurries them.
import type { Clock, Envelope, Health, Recipient } from '../core/index.js';
import { describeError, formatMailbox, monotonic, queueIdFor } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import { CHECKPOINT_FAULT_HINT, type CheckpointPort, type MessageFinal } from './checkpoint.js';
import { LeaseLostError } from '../store/queue-store.js';
import type { DkimStage } from './dkim.js';
import { logDelivery, type DeliveryAttempt } from './delivery-log.js';
import type { Router } from './router.js';
import { replyText, retryViewOf } from './retry-view.js';
import type { ReplyInfo } from './types.js';

export interface FailedRecipient {
  /** The address as written (also for recipients whose address could not be parsed). */
  readonly address: string;
  readonly recipient?: Recipient;
  readonly reply: ReplyInfo;
  readonly remoteMta?: string;
  /** The client's explanation beyond the reply (e.g. "set Options TLSEhlo YES"), for logs and dead letters. */
  readonly detail?: string;
}

export interface JobInfo {
  readonly jobName: string;
  readonly jobId: string;
  readonly originUser: string;
}

export type Origin = { readonly kind: 'spool'; readonly entryId: string; readonly messageNo: number; readonly tkid: number } | { readonly kind: 'extended'; readonly id: string };

export interface WorkItem {
  readonly origin: Origin;
  readonly envelope: Envelope;
  readonly data: Buffer;
  readonly job: JobInfo;
  readonly arrival: Date;
  pending: Recipient[];
  readonly failed: FailedRecipient[];
  attempts: number;
  lastReply?: ReplyInfo;
  lastTarget?: string;
  /**
   * One try only: a transient failure makes the recipients undeliverable, with no long or
   * extended retry. Set for the gateway's notifications (seed 001: one that cannot be returned
   * becomes a dead letter) and for extended-retry mail flushed by FLUSHRETRY,AGE= (seed).
   */
  readonly finalAttempt?: boolean;
  /** Times the message was sent to a target (each target of a failover counts), for accounting. */
  deliveryAttempts?: number;
  /** The stable queue id (core/ids.ts queueIdFor); derived from the origin when not set (queueIdOf). */
  readonly queueId?: string;
  /** What the operator did to it (bounce, delete), for the accounting MAIL record. */
  operatorAction?: OperatorCommand;
  /** The last outcomes per recipient while in memory (bounded: HISTORY_MAX), for `queue show`. */
  history?: HistoryEntry[];
  /** A NOTIFY=DELAY notice was sent for this message while it was in memory. */
  delayNoticed?: boolean;
  /**
   * Set when run() ended because the message went to long retry on the shared queue
   * (CheckpointPort.deferRetry): its file is released to this time for any node. run() then
   * resolves undefined, like a stop: the message has no final outcome yet.
   */
  deferredUntil?: Date;
  /**
   * A message of a shared-queue entry: true once the entry's lease is lost (another node took it
   * over, or this node gave it up). The message is then not tried again here (abandon()).
   */
  readonly abandoned?: () => boolean;
}

export interface HistoryEntry {
  /** Wall-clock ms. */
  readonly at: number;
  readonly recipient: string;
  readonly status: 'sent' | 'deferred' | 'bounced';
  readonly reply: string;
  readonly target: string | null;
}

export const HISTORY_MAX = 100;

/** An operator's end for a message (src/queue): bounce = undeliverable with a notification; delete = none. */
export interface OperatorCommand {
  readonly action: 'bounce' | 'delete';
  readonly operator: string;
  readonly reason: string;
}

/** Where a message the lifecycle holds in memory is now (src/queue shows it). */
export type LivePhase = 'sending' | 'target-wait' | 'retry' | 'held';

export interface LiveEntry {
  readonly item: WorkItem;
  readonly phase: LivePhase;
  /** Wall-clock ms of the next attempt while in long retry; undefined otherwise. */
  readonly nextAttempt: number | undefined;
}

interface Live {
  readonly item: WorkItem;
  phase: LivePhase;
  nextAttempt: number | undefined;
  wake: (() => void) | undefined;
  command: OperatorCommand | undefined;
  /** Resolves with run()'s result when the message leaves memory. */
  readonly ended: Promise<FinalOutcome | undefined>;
}

/** Holds set by the operator (src/queue/holds.ts): a held message is not tried until released. */
export interface HoldCheck {
  isHeld(queueId: string): boolean;
}

/** The queue id of an item: its own, or the one its origin gives (items built before ids existed). */
export function queueIdOf(item: Pick<WorkItem, 'origin' | 'job' | 'queueId'>): string {
  if (item.queueId !== undefined) return item.queueId;
  const o = item.origin;
  return o.kind === 'spool' ? queueIdFor(o.entryId, item.job.jobId, o.messageNo) : queueIdFor(`x:${o.id}`, item.job.jobId, 1);
}

export type FinalOutcome = 'delivered' | 'undeliverable' | 'extended';

/**
 * One forwarder event for the journal ("where is my mail?", SPEC.md §8): what the delivery log
 * line says, kept whatever the LogLevel. `key` is the message's key (keyOf). Never decides anything.
 */
export interface ForwarderEvent {
  readonly type: 'attempt' | 'delivered' | 'deferred' | 'undeliverable' | 'notified' | 'dead-letter' | 'dropped' | 'extended' | 'delay-notice' | 'relayed-notice';
  readonly key: string;
  readonly item: WorkItem;
  readonly to?: string;
  readonly detail: string;
}

/**
 * RFC 3461 §4.1 NOTIFY=SUCCESS and NOTIFY=DELAY: the notices the forwarder owes a sender beside
 * the failure notification. Each resolves after the notice is durable: true, or false when
 * none was due (no recipient's NOTIFY asked for it, or the message is a notification itself).
 */
export interface StatusNotices {
  /** Recipients accepted by a target that does not offer DSN (RFC 3461 §5.2.2: "relayed"). */
  relayed(item: WorkItem, accepted: readonly { readonly recipient: Recipient; readonly reply: ReplyInfo }[], target: string): Promise<boolean>;
  /** The message is still not delivered to `item.pending` (RFC 3464 action "delayed"). */
  delayed(item: WorkItem, willRetryUntil: Date | undefined): Promise<boolean>;
  /** Ms after arrival when a delay notice is due; 0 = never (ext Undeliverable DelayNotice). */
  delayAfterMs(): number;
}

export interface UndeliverableHandler {
  /** Notify the sender once, or store a dead letter; resolves after the result is durable. */
  handle(item: WorkItem): Promise<'notified' | 'dead-letter' | 'dropped'>;
}

export interface ExtendedRetryStore {
  /** Durably stores the message with its pending recipients; resolves after fsync. */
  put(item: WorkItem, nextAttempt: Date): Promise<string>;
  update(id: string, patch: { pending: readonly Recipient[]; attempts: number; nextAttempt: Date; lastReply?: ReplyInfo; deliveryAttempts?: number }): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface GlobalCounters {
  mailSent: number;
  totalRetry: number;
  currentRetry: number;
  deadLetter: number;
  undeliver: number;
  extendedCurrent: number;
  extendedTotal: number;
  /** Conservation bookkeeping: messages by final outcome. */
  delivered: number;
  undeliverable: number;
  extended: number;
}

export function newCounters(): GlobalCounters {
  return { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0, delivered: 0, undeliverable: 0, extended: 0 };
}

export interface RetryPolicy {
  readonly count: number;
  readonly intervalMs: number;
}

export interface ExtendedPolicy {
  readonly active: boolean;
  readonly intervalMs: number;
  readonly ageMs: number;
  readonly store?: ExtendedRetryStore;
}

interface Waiting {
  readonly tkid: number;
  readonly wake: () => void;
}

/** First wait before a failed checkpoint write is tried again; doubles up to the maximum. */
export const CHECKPOINT_RETRY_MS = 1_000;
export const CHECKPOINT_RETRY_MAX_MS = 60_000;

export class Lifecycle {
  private readonly waiting = new Set<Waiting>();
  /** Every message in run() now, by queue id (the queue model's view of memory). */
  private readonly live = new Map<string, Live>();
  private stopping = false;
  /** Why the checkpoint cannot be written, while it cannot; nothing is sent meanwhile. */
  private cpProblem: string | undefined;
  /** Checkpoint writes being retried now (each probes whether the checkpoint works again). */
  private cpRetrying = 0;
  /** Attempts held back while the checkpoint is down, and checkpoint writes waiting to be retried. */
  private readonly cpWaiters = new Set<() => void>();

  constructor(
    private readonly deps: {
      router: Router;
      checkpoint: CheckpointPort;
      clock: Clock;
      /**
       * Wall-clock ms for extended-retry dates and the Age limit (steady-time.ts: follows the
       * monotonic clock, so a clock step does not expire or stall mail). Default clock.now().
       */
      wallNow?: () => number;
      log: Logger;
      counters: GlobalCounters;
      undeliverable: UndeliverableHandler;
      retry: () => RetryPolicy;
      extended: () => ExtendedPolicy;
      /** Called while the item waits for a usable target (task state WAIT); by origin, so the file's own task and counters are found. */
      onWait?: (origin: Origin, waiting: boolean) => void;
      /**
       * `start --once`: no usable target counts as a failed attempt (a 451 for every pending
       * recipient), so the run ends after RetryLimit. The daemon waits for a target instead.
       */
      noTargetIsAttempt?: () => boolean;
      /** Called when an item enters (+1) or leaves (-1) long retry (its file's LRT counter). */
      onRetry?: (origin: Origin, delta: number) => void;
      /**
       * Called when an item's target outcomes are all recorded and it only writes its DSN and
       * final mark (+1), and when that is done (-1): it holds no connection and a crash cannot
       * resend it, so its file may read on (the read-ahead counts it like long retry).
       */
      onFinishing?: (origin: Origin, delta: number) => void;
      /** Called once per message when it leaves the forwarder's hands (accounting MAIL records). */
      onFinished?: (item: WorkItem, outcome: FinalOutcome) => void;
      /** Where a checkpoint that cannot be written is marked (component `checkpoint`, disabling). */
      health?: Health;
      /** Operator holds (src/queue); none without. */
      holds?: HoldCheck;
      /** Forwarder events for the journal; a failing journal is the listener's problem. */
      journal?: (e: ForwarderEvent) => void;
      /** NOTIFY=SUCCESS / NOTIFY=DELAY notices; absent = none are sent. */
      notices?: StatusNotices;
      /** DKIM signing of each message as it is sent (absent: nothing is signed). */
      dkim?: DkimStage;
    },
  ) {}

  private journal(type: ForwarderEvent['type'], item: WorkItem, detail: string, to?: string): void {
    this.deps.journal?.({ type, key: keyOf(item), item, detail, ...(to === undefined ? {} : { to }) });
  }

  /**
   * RFC 3461 §4.1 NOTIFY=DELAY: one notice once the message has waited DelayNotice since it
   * arrived. `stepMs`: how long before this check the previous one was; a message rebuilt from
   * the mail directory (no memory of an earlier notice) gets it only in the step that crosses the
   * threshold.
   */
  private async maybeDelayNotice(item: WorkItem, stepMs: number | undefined, willRetryUntil: Date | undefined): Promise<void> {
    const n = this.deps.notices;
    if (n === undefined || item.delayNoticed === true || item.pending.length === 0) return;
    const after = n.delayAfterMs();
    if (after <= 0) return;
    const age = this.wallNow() - item.arrival.getTime();
    if (age < after || (stepMs !== undefined && age - stepMs >= after)) return;
    item.delayNoticed = true;
    try {
      if (await n.delayed(item, willRetryUntil)) this.journal('delay-notice', item, `delay notice for ${item.pending.length} recipient(s) after ${Math.round(age / 60000)} minutes`);
    } catch (e) {
      this.deps.log.error('mail.delay-notice', { key: keyOf(item), error: describeError(e) });
    }
  }

  /** The messages in memory now: being sent, waiting for a target, in long retry, held. */
  liveEntries(): LiveEntry[] {
    return [...this.live.values()].map((l) => ({ item: l.item, phase: l.phase, nextAttempt: l.nextAttempt }));
  }

  liveEntry(queueId: string): LiveEntry | undefined {
    const l = this.live.get(queueId);
    return l === undefined ? undefined : { item: l.item, phase: l.phase, nextAttempt: l.nextAttempt };
  }

  /**
   * An operator's request for a message in memory: 'wake' ends its wait now (retry now, release);
   * bounce/delete end it at its next step (at once when it waits; after the attempt in flight
   * when it is being sent). false when no such message is in memory.
   */
  operator(queueId: string, request: 'wake' | OperatorCommand): Promise<FinalOutcome | undefined> | undefined {
    const l = this.live.get(queueId);
    if (l === undefined) return undefined;
    if (request !== 'wake') l.command = request;
    l.wake?.();
    return l.ended;
  }

  private wallNow(): number {
    return this.deps.wallNow !== undefined ? this.deps.wallNow() : this.deps.clock.now();
  }

  /** While the checkpoint cannot be written: the reason (the task shows WAIT). */
  get checkpointProblem(): string | undefined {
    return this.cpProblem;
  }

  /** Items parked in a long-retry or target wait right now. */
  waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * The lease of spool entry `entryId` is lost (docs/cluster.md): its messages waiting here — for
   * a target, in long retry, held — end their wait at once and are not tried again (each checks
   * item.abandoned at its next step); an attempt already on the wire ends, and its marks are
   * refused. Returns how many were woken.
   */
  abandon(entryId: string): number {
    let n = 0;
    for (const l of this.live.values()) {
      if (l.item.origin.kind !== 'spool' || l.item.origin.entryId !== entryId || l.wake === undefined) continue;
      l.wake();
      n++;
    }
    return n;
  }

  /** FLUSHRETRY,TKID=n (0 = all): items in long retry are tried now. Returns how many. */
  flushRetry(tkid: number): number {
    let n = 0;
    for (const w of [...this.waiting]) {
      if (tkid === 0 || w.tkid === tkid) { w.wake(); n++; }
    }
    return n;
  }

  /** Shutdown: waits end at once; items stop after their current attempt (checkpoint keeps progress). */
  stop(): void {
    this.stopping = true;
    this.deps.router.stop();
    for (const w of [...this.waiting]) w.wake();
    for (const w of [...this.cpWaiters]) w();
  }

  /** Resolves after ms, or at once on stop() or when the checkpoint recovers. */
  private cpPause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => { timer.cancel(); this.cpWaiters.delete(wake); resolve(); };
      const timer = this.deps.clock.setTimer(ms, wake);
      this.cpWaiters.add(wake);
    });
  }

  /**
   * One checkpoint write, retried with back-off until it succeeds. The first failure stops all
   * sending (checkpointProblem, logged once); the first success after it resumes. On stop the
   * failure is thrown: the message stays in the spool and is sent again after a restart (it is
   * mail in flight).
   */
  private async record(origin: Origin, write: () => Promise<void>): Promise<void> {
    let delay = CHECKPOINT_RETRY_MS;
    let waiting = false;
    try {
      for (;;) {
        try {
          await write();
          if (this.cpProblem !== undefined) this.cpLifted();
          return;
        } catch (e) {
          // The shared store refused the write: another node holds the entry now. Not a fault
          // of the checkpoint, and never retried: this message stops here (docs/cluster.md).
          if (e instanceof LeaseLostError) {
            // If this write was the last one retrying, nothing would probe the checkpoint any
            // more and the fault would hold every message in WAIT for ever (a database outage
            // long enough for the lease to be given up): lift it, the next write finds out.
            if (this.cpProblem !== undefined && this.cpRetrying === (waiting ? 1 : 0)) this.cpLifted();
            throw e;
          }
          // Where to look: the local file, or the Store database for a file of the shared queue.
          const hint = (origin.kind === 'spool' ? this.deps.checkpoint.faultHint?.(origin.entryId) : undefined) ?? CHECKPOINT_FAULT_HINT;
          if (this.cpProblem === undefined) {
            this.cpProblem = describeError(e);
            this.deps.log.error('checkpoint.failed', { detail: this.cpProblem, action: `sending stopped until the checkpoint can be written (${hint})` });
          }
          // A contained fault that stops the forwarder's sending: /readyz 503, spoolgate_fault 1.
          this.deps.health?.fail('checkpoint', `checkpoint cannot be written: ${this.cpProblem}; sending stopped until it can (${hint})`, this.deps.clock.now(), { disabling: true });
          if (this.stopping) throw e;
          // The task whose outcome waits for its record shows WAIT too (D,SPOOL, with the reason).
          if (!waiting) { waiting = true; this.cpRetrying++; this.deps.onWait?.(origin, true); }
          await this.cpPause(delay);
          delay = Math.min(delay * 2, CHECKPOINT_RETRY_MAX_MS);
        }
      }
    } finally {
      if (waiting) { this.cpRetrying--; this.deps.onWait?.(origin, false); }
    }
  }

  /** The checkpoint fault ends: logged, cleared in health, waiting messages resume. */
  private cpLifted(): void {
    this.deps.log.event('checkpoint.recovered', { detail: this.cpProblem });
    this.cpProblem = undefined;
    this.deps.health?.ok('checkpoint', this.deps.clock.now());
    for (const w of [...this.cpWaiters]) w();
  }

  private wait(tkid: number, ms: number, live?: Live, phase?: LivePhase): Promise<void> {
    // A wait that begins after stop() (an attempt that ended during the drain) ends at once.
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiting = {
        tkid,
        wake: () => {
          timer.cancel();
          this.waiting.delete(w);
          if (live !== undefined) { live.wake = undefined; live.phase = 'sending'; live.nextAttempt = undefined; }
          resolve();
        },
      };
      const timer = this.deps.clock.setTimer(ms, w.wake);
      this.waiting.add(w);
      if (live !== undefined) {
        live.wake = w.wake;
        live.phase = phase ?? 'retry';
        live.nextAttempt = phase === 'retry' ? this.wallNow() + ms : undefined;
      }
    });
  }

  /** A held message waits here until released (woken), an operator command, or stop(). */
  private park(live: Live): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      live.phase = 'held';
      live.nextAttempt = undefined;
      const wake = (): void => { this.cpWaiters.delete(wake); live.wake = undefined; live.phase = 'sending'; resolve(); };
      live.wake = wake;
      // stop() wakes the cpWaiters: a held message ends its run at shutdown like any other.
      this.cpWaiters.add(wake);
    });
  }

  /**
   * Drives one message from the spool to its final outcome. Returns undefined when stopped
   * (shutdown) before the message was finished: the spool file and checkpoint keep it.
   */
  async run(item: WorkItem, command?: OperatorCommand): Promise<FinalOutcome | undefined> {
    const qid = queueIdOf(item);
    let ended: (o: FinalOutcome | undefined) => void = () => undefined;
    const live: Live = { item, phase: 'sending', nextAttempt: undefined, wake: undefined, command, ended: new Promise((r) => { ended = r; }) };
    this.live.set(qid, live);
    let outcome: FinalOutcome | undefined;
    try {
      outcome = await this.drive(item, live, qid);
      return outcome;
    } finally {
      if (this.live.get(qid) === live) this.live.delete(qid);
      ended(outcome);
    }
  }

  private async drive(item: WorkItem, live: Live, qid: string): Promise<FinalOutcome | undefined> {
    const tkid = item.origin.kind === 'spool' ? item.origin.tkid : 0;
    const { log, counters } = this.deps;
    let inRetry = false;
    // Recipients deferred in this round: a target's MaxRcptPerMsg splits the pending recipients
    // into several transactions sent one after the other; those deferred by one of them wait for
    // the next round (long retry) with the rest, not for the next transaction.
    const deferred = new Set<Recipient>();
    const leaveRetry = (): void => {
      if (inRetry) { counters.currentRetry--; inRetry = false; this.deps.onRetry?.(item.origin, -1); }
    };
    try {
      for (;;) {
        if (this.stopping) return undefined;
        // Its entry's lease is lost: another node has the file now (or will), with the checkpoint.
        if (item.abandoned?.() === true) {
          log.warn('mail.abandoned', { key: keyOf(item), qid, detail: 'the lease of its spool entry is lost: not tried again on this node' });
          return undefined;
        }
        // The operator's end for it (src/queue): taken at the first step after the request.
        const cmd = live.command;
        if (cmd !== undefined) {
          live.command = undefined;
          leaveRetry();
          return await this.operatorEnd(item, cmd);
        }
        if (this.deps.holds?.isHeld(qid) === true && item.pending.length > 0) {
          // Held by the operator: no attempt until released (the hold is durable, src/queue/holds.ts).
          // Like a message in long retry it frees its place in the task's read-ahead (LRT counts it).
          const free = !inRetry;
          if (free) this.deps.onRetry?.(item.origin, 1);
          try {
            await this.park(live);
          } finally {
            if (free) this.deps.onRetry?.(item.origin, -1);
          }
          continue;
        }
        if (this.cpProblem !== undefined && item.pending.length > 0) {
          // Nothing is sent while its outcome could not be recorded.
          this.deps.onWait?.(item.origin, true);
          await this.cpPause(CHECKPOINT_RETRY_MAX_MS);
          this.deps.onWait?.(item.origin, false);
          continue;
        }
        const todo = deferred.size === 0 ? item.pending : item.pending.filter((x) => !deferred.has(x));
        if (todo.length > 0) {
          // DKIM (dkim.ts): signed here, after the user exit and the gateway's own header fields.
          const prefix = this.deps.dkim?.prefixFor(item.data, keyOf(item));
          const r = await this.deps.router.attempt({
            envelope: { ...item.envelope, recipients: todo }, data: item.data, ...(prefix === undefined ? {} : { prefix }), size: item.data.length + (prefix?.length ?? 0),
          });
          item.deliveryAttempts = (item.deliveryAttempts ?? 0) + r.tries;
          if (r.kind === 'stopped') return undefined;
          if (r.kind === 'no-target' && this.deps.noTargetIsAttempt?.() === true) {
            item.lastReply = localReply(Codes.C451ConnectionFailed, `no target server usable: ${r.detail}`);
            for (const recipient of item.pending) this.logAttempt(item, { recipient, status: 'deferred', reply: item.lastReply });
          } else if (r.kind === 'no-target') {
            this.deps.onWait?.(item.origin, true);
            const at = this.deps.router.nextRetryAt();
            const now = monotonic(this.deps.clock);
            await this.wait(tkid, Math.max(50, (at ?? now + 1000) - now), live, 'target-wait');
            this.deps.onWait?.(item.origin, false);
            continue; // waiting for a target is not a retry attempt
          } else if (r.kind === 'impossible') {
            for (const recipient of todo) {
              this.logAttempt(item, { recipient, status: 'bounced', reply: r.reply });
              await this.fail(item, recipient, r.reply);
            }
            item.pending = item.pending.filter((x) => deferred.has(x));
            deferred.clear();
          } else {
            // The connection stays leased until the outcome is recorded (see the header).
            let done: FinalOutcome | undefined;
            try {
              item.lastTarget = r.target;
              if (r.target !== '') this.journal('attempt', item, `attempt to ${r.target}:${r.port ?? 25}${r.tls === true ? ' with TLS' : ''} for ${item.pending.length} recipient(s)`);
              const relayed: { recipient: Recipient; reply: ReplyInfo }[] = [];
              const still: Recipient[] = [];
              let failed = 0;
              // When every pending recipient was in this transaction and accepted, the message
              // is finished below, and its one markMessage commit is the record; recipient marks
              // matter only for a message that stays unfinished (partial, retry, or more
              // transactions to come). The marks of one attempt share a commit.
              const rest = r.rest ?? [];
              const allAccepted = rest.length === 0 && todo.length === item.pending.length && r.outcomes.every((o) => o.status === 'accepted');
              const marks: Promise<void>[] = [];
              for (const o of r.outcomes) {
                const status = o.status === 'accepted' ? 'sent' : o.status === 'permanent' ? 'bounced' : 'deferred';
                this.logAttempt(item, { recipient: o.recipient, status, reply: o.reply, address: r.target, port: r.port, tls: r.tls });
                // RFC 3461 §5.2.2: a target that offers DSN was given NOTIFY and reports itself;
                // one that does not gets the mail without it, and we tell the sender "relayed".
                if (o.status === 'accepted' && r.dsn !== true && o.recipient.notify?.kind === 'on' && o.recipient.notify.success) relayed.push({ recipient: o.recipient, reply: o.reply });
                if (o.status === 'accepted') { if (!allAccepted) marks.push(this.accept(item, o.recipient)); }
                else if (o.status === 'permanent') { failed++; marks.push(this.fail(item, o.recipient, o.reply, r.target, r.detail)); }
                else { still.push(o.recipient); item.lastReply = o.reply; }
              }
              await Promise.all(marks);
              if (relayed.length > 0 && this.deps.notices !== undefined) {
                try {
                  if (await this.deps.notices.relayed(item, relayed, r.target)) this.journal('relayed-notice', item, `relayed notice (NOTIFY=SUCCESS, ${r.target} offers no DSN) for ${relayed.length} recipient(s)`);
                } catch (e) {
                  log.error('mail.relayed-notice', { key: keyOf(item), error: describeError(e) });
                }
              }
              if (rest.length === 0 && todo === item.pending) {
                item.pending = still; // the whole envelope in one transaction: the common case
              } else {
                // Pending keeps its order: the deferred ones and those not yet sent (rest).
                const decided = new Set(r.outcomes.filter((o) => o.status !== 'transient').map((o) => o.recipient));
                item.pending = item.pending.filter((x) => !decided.has(x));
              }
              if (rest.length > 0) for (const x of still) deferred.add(x);
              else deferred.clear();
              if (failed > 0) log.warn('mail.failed', { key: keyOf(item), qid: queueIdOf(item), recipients: failed, target: r.target, detail: r.detail });
              if (still.length > 0) log.info('mail.deferred', { key: keyOf(item), qid: queueIdOf(item), recipients: still.length, reply: replyText(item.lastReply), target: r.target, detail: r.detail });
              // All accepted: the message's one mark is the record, so it is written before the
              // release. Otherwise every outcome of this attempt is marked by now, and the rest
              // (the DSN written to the spool, then the message mark) happens after the release:
              // a crash in between re-reads the marks and sends nothing again, and the
              // connection is not held through the DSN's fsyncs, so DSNs of several connections
              // are written together (notify-batch.ts; R3 item 7).
              if (item.pending.length === 0 && allAccepted) done = await this.finish(item);
            } finally {
              r.release();
            }
            if (done !== undefined) return done;
            if (item.pending.length === 0) {
              this.deps.onFinishing?.(item.origin, 1);
              try {
                return await this.finish(item);
              } finally {
                this.deps.onFinishing?.(item.origin, -1);
              }
            }
            if ((r.rest ?? []).length > 0) continue; // the next transaction of this round, now
          }
        }
        deferred.clear();
        if (item.pending.length === 0) return await this.finish(item);
        if (item.origin.kind === 'extended') return await this.extendedStep(item);
        // Long retry: Count attempts Interval apart while the spool file stays held.
        const retry = this.deps.retry();
        if (item.finalAttempt !== true && item.attempts < retry.count && retry.intervalMs > 0) {
          item.attempts++;
          counters.totalRetry++;
          // On the shared queue the wait is the entry's next_attempt, not this node's memory: any
          // node makes the next attempt and goes on counting (docs/cluster.md).
          const o = item.origin;
          const defer = this.deps.checkpoint.deferRetry;
          if (o.kind === 'spool' && defer !== undefined) {
            const at = new Date(this.wallNow() + retry.intervalMs);
            let deferred = false;
            // What the operator's tools show of it meanwhile, on any node (retry-view.ts).
            const view = retryViewOf(item, qid, item.attempts, at);
            await this.record(o, async () => { deferred = await defer.call(this.deps.checkpoint, o.entryId, o.messageNo, item.attempts, at, view); });
            if (deferred) {
              leaveRetry();
              // The notice is sent in the pass that crosses DelayNotice (no memory of an earlier one).
              await this.maybeDelayNotice(item, retry.intervalMs, undefined);
              item.deferredUntil = at;
              log.info('mail.retry-released', { key: keyOf(item), qid, attempts: item.attempts, of: retry.count, next: at.toISOString() });
              return undefined;
            }
          }
          if (!inRetry) { counters.currentRetry++; inRetry = true; this.deps.onRetry?.(item.origin, 1); }
          await this.maybeDelayNotice(item, undefined, undefined);
          await this.wait(tkid, retry.intervalMs, live, 'retry');
          continue;
        }
        leaveRetry();
        const ext = this.deps.extended();
        if (item.finalAttempt !== true && ext.active && ext.intervalMs > 0 && ext.store !== undefined) {
          const next = new Date(this.wallNow() + ext.intervalMs);
          // Recipients that already failed are reported now: the mail directory keeps only
          // the pending ones, and the spool file (with the checkpoint) is about to be released.
          if (item.failed.length > 0) {
            await this.deps.undeliverable.handle(item);
            item.failed.splice(0);
          }
          await this.maybeDelayNotice(item, undefined, new Date(item.arrival.getTime() + ext.ageMs));
          const id = await ext.store.put(item, next);
          await this.markMessage(item, 'extended');
          this.journal('extended', item, `in extended retry as x:${id} for ${item.pending.length} recipient(s), next attempt ${next.toISOString()}`);
          counters.extendedCurrent++;
          counters.extendedTotal++;
          counters.extended++;
          log.event('mail.extended-retry', { key: keyOf(item), qid: queueIdOf(item), id, pending: item.pending.length });
          this.deps.onFinished?.(item, 'extended');
          return 'extended';
        }
        for (const recipient of item.pending) {
          const reply = item.lastReply ?? localReply(Codes.C451RetryLimitReached, 'retry limit reached');
          this.logAttempt(item, { recipient, status: 'bounced', reply });
          await this.fail(item, recipient, reply);
        }
        item.pending = [];
        return await this.finish(item);
      }
    } finally {
      leaveRetry();
    }
  }

  /**
   * The operator ends a message (src/queue): bounce makes every pending recipient undeliverable
   * and the sender is notified as for any undeliverable mail; delete finishes it with no
   * notification at all (recipients that failed earlier are not reported either).
   */
  private async operatorEnd(item: WorkItem, cmd: OperatorCommand): Promise<FinalOutcome> {
    item.operatorAction = cmd;
    const qid = queueIdOf(item);
    const fields = { key: keyOf(item), qid, operator: cmd.operator, reason: cmd.reason, pending: item.pending.length };
    if (cmd.action === 'bounce') {
      const reply = localReply(Codes.C554TransactionFailed, `returned by the operator (${cmd.operator}): ${cmd.reason}`);
      for (const recipient of item.pending) {
        this.logAttempt(item, { recipient, status: 'bounced', reply });
        await this.fail(item, recipient, reply);
      }
      item.pending = [];
      this.deps.log.event('mail.operator-bounced', fields);
      return this.finish(item);
    }
    this.deps.log.event('mail.operator-deleted', fields);
    item.pending = [];
    return this.finish(item, true);
  }

  /** One extended-retry attempt already made: decide expiry or reschedule. */
  private async extendedStep(item: WorkItem): Promise<FinalOutcome | undefined> {
    const ext = this.deps.extended();
    const id = (item.origin as { id: string }).id;
    item.attempts++;
    const now = this.wallNow();
    if (item.finalAttempt === true || now - item.arrival.getTime() >= ext.ageMs) {
      const why = item.finalAttempt === true ? 'last attempt after FLUSHRETRY,AGE= failed' : `message expired after ${Math.round(ext.ageMs / 86400000)} days`;
      for (const recipient of item.pending) {
        const reply = localReply(Codes.C554DeliveryTimeExpired, `${why}: ${replyText(item.lastReply)}`);
        this.logAttempt(item, { recipient, status: 'bounced', reply });
        await this.fail(item, recipient, reply);
      }
      item.pending = [];
      return this.finish(item);
    }
    await this.maybeDelayNotice(item, ext.intervalMs, new Date(item.arrival.getTime() + ext.ageMs));
    await ext.store?.update(id, { pending: item.pending, attempts: item.attempts, nextAttempt: new Date(now + ext.intervalMs), lastReply: item.lastReply, deliveryAttempts: item.deliveryAttempts });
    return undefined;
  }

  /** The delivery log line of one recipient's outcome (delivery-log.ts). */
  private logAttempt(item: WorkItem, a: DeliveryAttempt): void {
    const h = (item.history ??= []);
    if (h.length >= HISTORY_MAX) h.shift();
    h.push({
      at: this.wallNow(), recipient: typeof a.recipient === 'string' ? a.recipient : formatMailbox(a.recipient.mailbox), status: a.status,
      reply: replyText(a.reply), target: a.address === undefined || a.address === '' ? null : `${a.address}:${a.port ?? 25}`,
    });
    logDelivery(this.deps.log, item, a, this.wallNow(), keyOf(item), queueIdOf(item));
    if (this.deps.journal === undefined) return;
    const to = typeof a.recipient === 'string' ? a.recipient : formatMailbox(a.recipient.mailbox);
    const via = a.address === undefined || a.address === '' ? '' : ` by ${a.address}:${a.port ?? 25}`;
    const type = a.status === 'sent' ? 'delivered' : a.status === 'deferred' ? 'deferred' : 'undeliverable';
    this.journal(type, item, `${a.status}${via}: ${replyText(a.reply)}`.slice(0, 1200), to);
  }

  private async accept(item: WorkItem, recipient: Recipient): Promise<void> {
    const o = item.origin;
    if (o.kind === 'spool') {
      await this.record(o, () => this.deps.checkpoint.markRecipient(o.entryId, o.messageNo, { address: formatMailbox(recipient.mailbox), outcome: 'accepted' }));
    }
  }

  private async fail(item: WorkItem, recipient: Recipient, reply: ReplyInfo, remoteMta?: string, detail?: string): Promise<void> {
    item.failed.push({ address: formatMailbox(recipient.mailbox), recipient, reply, remoteMta, detail });
    const o = item.origin;
    if (o.kind === 'spool') {
      await this.record(o, () => this.deps.checkpoint.markRecipient(o.entryId, o.messageNo, { address: formatMailbox(recipient.mailbox), outcome: 'failed', reply }));
    }
  }

  private async markMessage(item: WorkItem, outcome: MessageFinal): Promise<void> {
    const o = item.origin;
    if (o.kind === 'spool') await this.record(o, () => this.deps.checkpoint.markMessage(o.entryId, o.messageNo, outcome));
  }

  private async finish(item: WorkItem, deleted = false): Promise<FinalOutcome> {
    const { counters, log } = this.deps;
    let outcome: FinalOutcome = 'delivered';
    if (deleted) {
      // Deleted by the operator: undeliverable for the counters and the record, nobody is told.
      counters.undeliver++;
      counters.undeliverable++;
      outcome = 'undeliverable';
    } else if (item.failed.length > 0) {
      const how = await this.deps.undeliverable.handle(item);
      counters.undeliver++;
      counters.undeliverable++;
      if (how === 'dead-letter') counters.deadLetter++;
      log.event('mail.undeliverable', { key: keyOf(item), qid: queueIdOf(item), failed: item.failed.length, handled: how });
      this.journal(how, item, how === 'notified' ? `notification to the sender for ${item.failed.length} recipient(s)`
        : how === 'dead-letter' ? `dead letter for ${item.failed.length} recipient(s)` : `undeliverable, logged only (${item.failed.length} recipient(s))`);
      outcome = 'undeliverable';
    } else {
      counters.mailSent++;
      counters.delivered++;
      log.info('mail.delivered', { key: keyOf(item), qid: queueIdOf(item), target: item.lastTarget });
    }
    await this.markMessage(item, outcome);
    this.deps.onFinished?.(item, outcome);
    if (item.origin.kind === 'extended') {
      await this.deps.extended().store?.remove(item.origin.id);
      counters.extendedCurrent--;
      counters.extended--; // the message moves from "extended retry" to its final outcome
    }
    return outcome;
  }
}

export function keyOf(item: WorkItem): string {
  return item.origin.kind === 'spool' ? `${item.origin.entryId}#${item.origin.messageNo}` : `x:${item.origin.id}`;
}

export { replyText } from './retry-view.js';
