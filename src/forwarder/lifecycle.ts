// The lifecycle of one message and its recipients (SPEC.md §2.2):
//   delivered; transient → long retry (RetryLimit Count × Interval, spool file held) →
//   extended retry (ExtendedRetry: written durably to the mail directory, spool file released) →
//   undeliverable; permanent → undeliverable. Undeliverable → one notification or a dead letter
//   (undeliverable.ts). Every recipient's final state is checkpointed right after the target's
//   final reply, before anything depends on it.
import type { Clock, Envelope, Recipient } from '../core/index.js';
import { formatMailbox } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import type { Checkpoint, MessageFinal } from './checkpoint.js';
import type { Router } from './router.js';
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
}

export type FinalOutcome = 'delivered' | 'undeliverable' | 'extended';

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

export class Lifecycle {
  private readonly waiting = new Set<Waiting>();
  private stopping = false;

  constructor(
    private readonly deps: {
      router: Router;
      checkpoint: Checkpoint;
      clock: Clock;
      log: Logger;
      counters: GlobalCounters;
      undeliverable: UndeliverableHandler;
      retry: () => RetryPolicy;
      extended: () => ExtendedPolicy;
      /** Called while the item waits for a usable target (task state WAIT). */
      onWait?: (tkid: number, waiting: boolean) => void;
      /** Called when an item enters (+1) or leaves (-1) long retry (task LRT counter). */
      onRetry?: (tkid: number, delta: number) => void;
      /** Called once per message when it leaves the forwarder's hands (accounting MAIL records). */
      onFinished?: (item: WorkItem, outcome: FinalOutcome) => void;
    },
  ) {}

  /** Items parked in a long-retry or target wait right now. */
  waitingCount(): number {
    return this.waiting.size;
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
    for (const w of [...this.waiting]) w.wake();
  }

  private wait(tkid: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const w: Waiting = { tkid, wake: () => { timer.cancel(); this.waiting.delete(w); resolve(); } };
      const timer = this.deps.clock.setTimer(ms, w.wake);
      this.waiting.add(w);
    });
  }

  /**
   * Drives one message from the spool to its final outcome. Returns undefined when stopped
   * (shutdown) before the message was finished: the spool file and checkpoint keep it.
   */
  async run(item: WorkItem): Promise<FinalOutcome | undefined> {
    const tkid = item.origin.kind === 'spool' ? item.origin.tkid : 0;
    const { log, counters } = this.deps;
    let inRetry = false;
    const leaveRetry = (): void => {
      if (inRetry) { counters.currentRetry--; inRetry = false; this.deps.onRetry?.(tkid, -1); }
    };
    try {
      for (;;) {
        if (this.stopping) return undefined;
        if (item.pending.length > 0) {
          const r = await this.deps.router.attempt({ envelope: { ...item.envelope, recipients: item.pending }, data: item.data, size: item.data.length });
          item.deliveryAttempts = (item.deliveryAttempts ?? 0) + r.tries;
          if (r.kind === 'no-target') {
            this.deps.onWait?.(tkid, true);
            const at = this.deps.router.nextRetryAt();
            await this.wait(tkid, Math.max(50, (at ?? this.deps.clock.now() + 1000) - this.deps.clock.now()));
            this.deps.onWait?.(tkid, false);
            continue; // waiting for a target is not a retry attempt
          }
          if (r.kind === 'impossible') {
            for (const recipient of item.pending) await this.fail(item, recipient, r.reply);
            item.pending = [];
          } else {
            item.lastTarget = r.target;
            const still: Recipient[] = [];
            let failed = 0;
            // When every recipient was accepted the message is finished below, and its one
            // markMessage commit is the record; recipient marks matter only for a message that
            // stays unfinished (partial, retry). The marks of one attempt share a commit.
            const allAccepted = r.outcomes.every((o) => o.status === 'accepted');
            const marks: Promise<void>[] = [];
            for (const o of r.outcomes) {
              if (o.status === 'accepted') { if (!allAccepted) marks.push(this.accept(item, o.recipient)); }
              else if (o.status === 'permanent') { failed++; marks.push(this.fail(item, o.recipient, o.reply, r.target, r.detail)); }
              else { still.push(o.recipient); item.lastReply = o.reply; }
            }
            await Promise.all(marks);
            item.pending = still;
            if (failed > 0) log.warn('mail.failed', { key: keyOf(item), recipients: failed, target: r.target, detail: r.detail });
            if (still.length > 0) log.info('mail.deferred', { key: keyOf(item), recipients: still.length, reply: replyText(item.lastReply), target: r.target, detail: r.detail });
          }
        }
        if (item.pending.length === 0) return await this.finish(item);
        if (item.origin.kind === 'extended') return await this.extendedStep(item);
        // Long retry: Count attempts Interval apart while the spool file stays held.
        const retry = this.deps.retry();
        if (item.finalAttempt !== true && item.attempts < retry.count && retry.intervalMs > 0) {
          item.attempts++;
          counters.totalRetry++;
          if (!inRetry) { counters.currentRetry++; inRetry = true; this.deps.onRetry?.(tkid, 1); }
          await this.wait(tkid, retry.intervalMs);
          continue;
        }
        leaveRetry();
        const ext = this.deps.extended();
        if (item.finalAttempt !== true && ext.active && ext.intervalMs > 0 && ext.store !== undefined) {
          const next = new Date(this.deps.clock.now() + ext.intervalMs);
          // Recipients that already failed are reported now: the mail directory keeps only
          // the pending ones, and the spool file (with the checkpoint) is about to be released.
          if (item.failed.length > 0) {
            await this.deps.undeliverable.handle(item);
            item.failed.splice(0);
          }
          const id = await ext.store.put(item, next);
          await this.markMessage(item, 'extended');
          counters.extendedCurrent++;
          counters.extendedTotal++;
          counters.extended++;
          log.event('mail.extended-retry', { key: keyOf(item), id, pending: item.pending.length });
          this.deps.onFinished?.(item, 'extended');
          return 'extended';
        }
        for (const recipient of item.pending) await this.fail(item, recipient, item.lastReply ?? localReply(Codes.C451RetryLimitReached, 'retry limit reached'));
        item.pending = [];
        return await this.finish(item);
      }
    } finally {
      leaveRetry();
    }
  }

  /** One extended-retry attempt already made: decide expiry or reschedule. */
  private async extendedStep(item: WorkItem): Promise<FinalOutcome | undefined> {
    const ext = this.deps.extended();
    const id = (item.origin as { id: string }).id;
    item.attempts++;
    if (item.finalAttempt === true || this.deps.clock.now() - item.arrival.getTime() >= ext.ageMs) {
      const why = item.finalAttempt === true ? 'last attempt after FLUSHRETRY,AGE= failed' : `message expired after ${Math.round(ext.ageMs / 86400000)} days`;
      for (const recipient of item.pending) await this.fail(item, recipient, localReply(Codes.C554DeliveryTimeExpired, `${why}: ${replyText(item.lastReply)}`));
      item.pending = [];
      return this.finish(item);
    }
    await ext.store?.update(id, { pending: item.pending, attempts: item.attempts, nextAttempt: new Date(this.deps.clock.now() + ext.intervalMs), lastReply: item.lastReply, deliveryAttempts: item.deliveryAttempts });
    return undefined;
  }

  private async accept(item: WorkItem, recipient: Recipient): Promise<void> {
    if (item.origin.kind === 'spool') {
      await this.deps.checkpoint.markRecipient(item.origin.entryId, item.origin.messageNo, { address: formatMailbox(recipient.mailbox), outcome: 'accepted' });
    }
  }

  private async fail(item: WorkItem, recipient: Recipient, reply: ReplyInfo, remoteMta?: string, detail?: string): Promise<void> {
    item.failed.push({ address: formatMailbox(recipient.mailbox), recipient, reply, remoteMta, detail });
    if (item.origin.kind === 'spool') {
      await this.deps.checkpoint.markRecipient(item.origin.entryId, item.origin.messageNo, { address: formatMailbox(recipient.mailbox), outcome: 'failed', reply });
    }
  }

  private async markMessage(item: WorkItem, outcome: MessageFinal): Promise<void> {
    if (item.origin.kind === 'spool') await this.deps.checkpoint.markMessage(item.origin.entryId, item.origin.messageNo, outcome);
  }

  private async finish(item: WorkItem): Promise<FinalOutcome> {
    const { counters, log } = this.deps;
    let outcome: FinalOutcome = 'delivered';
    if (item.failed.length > 0) {
      const how = await this.deps.undeliverable.handle(item);
      counters.undeliver++;
      counters.undeliverable++;
      if (how === 'dead-letter') counters.deadLetter++;
      log.event('mail.undeliverable', { key: keyOf(item), failed: item.failed.length, handled: how });
      outcome = 'undeliverable';
    } else {
      counters.mailSent++;
      counters.delivered++;
      log.info('mail.delivered', { key: keyOf(item), target: item.lastTarget });
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

export function replyText(r: ReplyInfo | undefined): string {
  if (r === undefined) return 'no reply';
  return `${r.code}${r.enhanced ? ' ' + r.enhanced : ''} ${r.text}`;
}
