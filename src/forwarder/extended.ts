// Extended retry (SPEC.md §2.2) over the mail directory: the lifecycle's ExtendedRetryStore
// (put/update/remove) and the scheduler's ExtendedSource (due records as work items).
//
// Contained failure (R3 item 2): the mail directory may be unreadable, missing or on a failing
// disk (EACCES, ENOENT, EIO), at start or later. That never stops start-up and never throws out
// of the scheduler's calls (due, count): the fault is marked in Health (log, /readyz, metrics),
// the directory is tried again with back-off, and meanwhile messages stay where they are (in
// the spool or in long retry; put() refuses, so the lifecycle keeps the spool file). When the
// directory works again the fault is cleared and the waiting records are due as before.
import { newId, describeError, backoffMs, queueIdFor, type Health } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { ExtendedRecord, ExtendedSource } from './forwarder.js';
import { queueIdOf, type ExtendedRetryStore, type WorkItem } from './lifecycle.js';
import { MailDirectory, MailDirectoryError, type MailDirectoryRecord, type RecordDirectory } from './mail-directory.js';
import type { ReplyInfo } from './types.js';

export class ExtendedRetry implements ExtendedRetryStore, ExtendedSource {
  /**
   * Records made due by FLUSHRETRY,AGE=: their next attempt is the last one (seed: a message
   * that cannot be sent then becomes undeliverable). Kept in memory: after a restart in between,
   * the record is retried as usual.
   */
  private readonly flushed = new Set<string>();
  private dir: RecordDirectory | undefined;
  private path: string;
  private retryAt = 0;
  private lastCount = 0;
  /**
   * The records as last read, kept current by this object's own writes (it is the directory's
   * one writer): the queue's list reads memory instead of every control record. Dropped on any
   * failure; every full read (due, count) replaces it.
   */
  private cache: Map<string, MailDirectoryRecord> | undefined;

  private remember(records: readonly MailDirectoryRecord[]): void {
    this.cache = new Map(records.map((r) => [r.id, r]));
  }

  /**
   * dir: an open MailDirectory, or its path (opened on first use, and again after a failure), or
   * the records on the shared store of a cluster (StoreMailDirectory: share()).
   */
  constructor(
    dir: RecordDirectory | string, private readonly clock: Clock, private readonly log: Logger, private readonly health?: Health,
  ) {
    if (typeof dir === 'string') this.path = dir;
    else { this.dir = dir; this.path = dir.dir; }
  }

  /**
   * [P2] Backend PostgreSQL: the records live on the shared store from now on (before the
   * forwarder starts). Any node serves them; due ones are claimed so one node tries each.
   */
  share(dir: RecordDirectory): void {
    this.dir = dir;
    this.path = dir.dir;
    this.cache = undefined;
    this.retryAt = 0;
  }

  /** Opens the directory at start: a failure is logged and marked, never thrown. */
  async open(): Promise<void> {
    await this.directory();
  }

  private failed(what: string, e: unknown): void {
    const now = this.clock.now();
    const problem = `ExtendedRetry MailDirectory ${this.path}: ${what} failed (${describeError(e)}); mail for extended retry stays in the spool until the directory is usable again`;
    const f = this.health?.fail('extended-retry', problem, now);
    const failures = f?.failures ?? 1;
    this.retryAt = now + backoffMs(failures);
    // Every failure is logged, at most once per back-off step (1 s doubling to 5 min).
    this.log.error('extended.directory', { directory: this.path, operation: what, error: describeError(e), failures, retryInSeconds: Math.round(backoffMs(failures) / 1000) });
    // An error in an open directory may be the directory gone: open it again next time.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && this.dir?.shared !== true) this.dir = undefined;
    this.cache = undefined;
  }

  private worked(): void {
    this.retryAt = 0;
    this.health?.ok('extended-retry', this.clock.now());
  }

  /** The open directory, or undefined while it fails (and until its next retry time). */
  private async directory(): Promise<RecordDirectory | undefined> {
    if (this.clock.now() < this.retryAt) return undefined;
    if (this.dir !== undefined) return this.dir;
    try {
      const d = await MailDirectory.open(this.path);
      for (const n of d.recovered.removedTemp) this.log.info('extended.recovered', { removed: n, kind: 'temp' });
      for (const n of d.recovered.removedOrphans) this.log.warn('extended.recovered', { removed: n, kind: 'orphan data file' });
      this.dir = d;
      this.worked();
      return d;
    } catch (e) {
      this.failed('open', e);
      return undefined;
    }
  }

  private async use(): Promise<RecordDirectory> {
    const d = await this.directory();
    if (d === undefined) throw new MailDirectoryError(`the extended-retry mail directory ${this.path} is not usable now: ${this.health?.get('extended-retry')?.problem ?? 'see the log'}`);
    return d;
  }

  async put(item: WorkItem, nextAttempt: Date): Promise<string> {
    const dir = await this.use();
    const id = newId(this.clock.now());
    let r;
    const rec: MailDirectoryRecord = {
      id,
      envelope: item.envelope,
      pendingRecipients: [...item.pending],
      firstAttempt: item.arrival,
      nextAttempt,
      attempts: item.attempts,
      ...(item.deliveryAttempts === undefined ? {} : { deliveryAttempts: item.deliveryAttempts }),
      jobName: item.job.jobName,
      jobId: item.job.jobId,
      originUser: item.job.originUser,
      ...(item.lastReply === undefined ? {} : { lastReply: item.lastReply }),
      queueId: queueIdOf(item),
      size: item.data.length,
    };
    try {
      r = await dir.put({ ...rec, data: item.data });
    } catch (e) {
      this.failed('write', e);
      throw e; // the spool file stays; the message is retried from the spool
    }
    if (!r.ok) throw r.error;
    this.cache?.set(id, rec);
    this.worked();
    return id;
  }

  async update(id: string, patch: { pending: WorkItem['pending']; attempts: number; nextAttempt: Date; lastReply?: ReplyInfo; deliveryAttempts?: number }): Promise<void> {
    const dir = await this.use();
    let r;
    try {
      r = await dir.update(id, {
        pendingRecipients: patch.pending, attempts: patch.attempts, nextAttempt: patch.nextAttempt,
        ...(patch.lastReply === undefined ? {} : { lastReply: patch.lastReply }),
        ...(patch.deliveryAttempts === undefined ? {} : { deliveryAttempts: patch.deliveryAttempts }),
      });
    } catch (e) {
      this.failed('update', e);
      throw e;
    }
    if (!r.ok) { this.cache = undefined; throw r.error; }
    this.cache?.set(id, r.value);
  }

  async remove(id: string): Promise<void> {
    const dir = await this.use();
    try {
      await dir.remove(id);
    } catch (e) {
      this.failed('remove', e);
      throw e;
    }
    this.cache?.delete(id);
  }

  /** Due records; [] while the directory fails (the fault is logged and marked, never thrown). */
  async due(now: Date): Promise<ExtendedRecord[]> {
    const dir = await this.directory();
    if (dir === undefined) return [];
    const out: ExtendedRecord[] = [];
    try {
      // A shared store hands this node the due records it claimed (another node has the rest).
      const { records: all, quarantined } = dir.claimDue !== undefined ? await dir.claimDue(now) : await dir.list();
      if (dir.claimDue === undefined) this.remember(all);
      for (const q of quarantined) this.log.error('extended.quarantined', { name: q.name, problem: q.problem });
      for (const rec of all.filter((r) => r.nextAttempt.getTime() <= now.getTime())) {
        const data = await dir.readData(rec.id).catch((e: unknown) => ({ ok: false as const, error: e }));
        if (!data.ok) { this.log.error('extended.unreadable', { id: rec.id, error: describeError(data.error) }); continue; }
        out.push({ nextAttempt: rec.nextAttempt, item: this.workItem(rec, data.value, this.flushed.delete(rec.id)) });
      }
    } catch (e) {
      this.failed('read', e);
      return [];
    }
    this.worked();
    return out;
  }

  /** A record as the lifecycle's work item (finalAttempt: the last try after FLUSHRETRY,AGE=). */
  private workItem(rec: MailDirectoryRecord, data: Buffer, finalAttempt: boolean): WorkItem {
    return {
      origin: { kind: 'extended', id: rec.id },
      queueId: extendedQueueId(rec),
      envelope: rec.envelope,
      data,
      job: { jobName: rec.jobName, jobId: rec.jobId, originUser: rec.originUser },
      arrival: rec.firstAttempt,
      pending: [...rec.pendingRecipients],
      failed: [],
      attempts: rec.attempts,
      ...(rec.deliveryAttempts === undefined ? {} : { deliveryAttempts: rec.deliveryAttempts }),
      ...(rec.lastReply === undefined ? {} : { lastReply: rec.lastReply }),
      ...(finalAttempt ? { finalAttempt: true } : {}),
    };
  }

  // ---- the queue model's access (src/queue): these throw while the directory is not usable ----

  /** Every record waiting, by next attempt. */
  async records(): Promise<MailDirectoryRecord[]> {
    const dir = await this.use();
    if (this.cache === undefined || dir.shared === true) {
      const { records, quarantined } = await dir.list();
      for (const q of quarantined) this.log.error('extended.quarantined', { name: q.name, problem: q.problem });
      this.remember(records);
    }
    return [...this.cache!.values()].sort((a, b) => a.nextAttempt.getTime() - b.nextAttempt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The record of one queue id, or undefined. */
  async find(queueId: string): Promise<MailDirectoryRecord | undefined> {
    return (await this.records()).find((r) => extendedQueueId(r) === queueId);
  }

  /** The message bytes of a record. */
  async data(id: string): Promise<Buffer> {
    const r = await (await this.use()).readData(id);
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** A record as a work item, to run it now (bounce, delete by the operator). */
  async load(rec: MailDirectoryRecord): Promise<WorkItem> {
    return this.workItem(rec, await this.data(rec.id), false);
  }

  /** Retry now: the record's next attempt becomes `now`. */
  async dueNow(id: string, now: Date): Promise<void> {
    const r = await (await this.use()).update(id, { nextAttempt: now });
    if (!r.ok) { this.cache = undefined; throw r.error; }
    this.cache?.set(id, r.value);
  }

  /**
   * The first attempt of the oldest record waiting (the age the Age limit is measured from, for
   * /metrics); undefined when none waits or the directory cannot be read (a fault already).
   */
  async oldestFirstAttempt(): Promise<Date | undefined> {
    const dir = await this.directory();
    if (dir === undefined) return undefined;
    try {
      let oldest: Date | undefined;
      for (const r of (await dir.list()).records) if (oldest === undefined || r.firstAttempt < oldest) oldest = r.firstAttempt;
      return oldest;
    } catch (e) {
      this.failed('read', e);
      return undefined;
    }
  }

  /** Records waiting; the last known count while the directory fails. */
  async count(): Promise<number> {
    const dir = await this.directory();
    if (dir === undefined) return this.lastCount;
    try {
      const all = (await dir.list()).records;
      this.remember(all);
      this.lastCount = all.length;
    } catch (e) {
      this.failed('read', e);
    }
    return this.lastCount;
  }

  async makeDue(olderThanMs: number, now: Date): Promise<number> {
    const dir = await this.use();
    let n = 0;
    try {
      for (const rec of (await dir.list()).records) {
        if (now.getTime() - rec.firstAttempt.getTime() >= olderThanMs) {
          const u = await dir.update(rec.id, { nextAttempt: now });
          if (u.ok) this.cache?.set(rec.id, u.value); else this.cache = undefined;
          this.flushed.add(rec.id);
          n++;
        }
      }
    } catch (e) {
      this.failed('update', e);
      throw e;
    }
    return n;
  }
}

/** The queue id of an extended-retry record: its own, or one made from its mail directory id (older records). */
export function extendedQueueId(rec: Pick<MailDirectoryRecord, 'id' | 'jobId' | 'queueId'>): string {
  return rec.queueId ?? queueIdFor(`x:${rec.id}`, rec.jobId, 1);
}
