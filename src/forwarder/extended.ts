// Extended retry (SPEC.md §2.2) over the mail directory: the lifecycle's ExtendedRetryStore
// (put/update/remove) and the scheduler's ExtendedSource (due records as work items).
import { newId, describeError } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { ExtendedRecord, ExtendedSource } from './forwarder.js';
import type { ExtendedRetryStore, WorkItem } from './lifecycle.js';
import type { MailDirectory } from './mail-directory.js';
import type { ReplyInfo } from './types.js';

export class ExtendedRetry implements ExtendedRetryStore, ExtendedSource {
  /**
   * Records made due by FLUSHRETRY,AGE=: their next attempt is the last one (seed: a message
   * that cannot be sent then becomes undeliverable). Kept in memory: after a restart in between,
   * the record is retried as usual.
   */
  private readonly flushed = new Set<string>();

  constructor(private readonly dir: MailDirectory, private readonly clock: Clock, private readonly log: Logger) {}

  async put(item: WorkItem, nextAttempt: Date): Promise<string> {
    const id = newId(this.clock.now());
    const r = await this.dir.put({
      id,
      envelope: item.envelope,
      data: item.data,
      pendingRecipients: item.pending,
      firstAttempt: item.arrival,
      nextAttempt,
      attempts: item.attempts,
      ...(item.deliveryAttempts === undefined ? {} : { deliveryAttempts: item.deliveryAttempts }),
      jobName: item.job.jobName,
      jobId: item.job.jobId,
      originUser: item.job.originUser,
      ...(item.lastReply === undefined ? {} : { lastReply: item.lastReply }),
    });
    if (!r.ok) throw r.error; // the spool file stays; the message is retried from the spool
    return id;
  }

  async update(id: string, patch: { pending: WorkItem['pending']; attempts: number; nextAttempt: Date; lastReply?: ReplyInfo; deliveryAttempts?: number }): Promise<void> {
    const r = await this.dir.update(id, {
      pendingRecipients: patch.pending, attempts: patch.attempts, nextAttempt: patch.nextAttempt,
      ...(patch.lastReply === undefined ? {} : { lastReply: patch.lastReply }),
      ...(patch.deliveryAttempts === undefined ? {} : { deliveryAttempts: patch.deliveryAttempts }),
    });
    if (!r.ok) throw r.error;
  }

  async remove(id: string): Promise<void> {
    await this.dir.remove(id);
  }

  async due(now: Date): Promise<ExtendedRecord[]> {
    const { records, quarantined } = await this.dir.due(now);
    for (const q of quarantined) this.log.error('extended.quarantined', { name: q.name, problem: q.problem });
    const out: ExtendedRecord[] = [];
    for (const rec of records) {
      const data = await this.dir.readData(rec.id);
      if (!data.ok) { this.log.error('extended.unreadable', { id: rec.id, error: describeError(data.error) }); continue; }
      out.push({
        nextAttempt: rec.nextAttempt,
        item: {
          origin: { kind: 'extended', id: rec.id },
          envelope: rec.envelope,
          data: data.value,
          job: { jobName: rec.jobName, jobId: rec.jobId, originUser: rec.originUser },
          arrival: rec.firstAttempt,
          pending: [...rec.pendingRecipients],
          failed: [],
          attempts: rec.attempts,
          ...(rec.deliveryAttempts === undefined ? {} : { deliveryAttempts: rec.deliveryAttempts }),
          ...(rec.lastReply === undefined ? {} : { lastReply: rec.lastReply }),
          ...(this.flushed.delete(rec.id) ? { finalAttempt: true } : {}),
        },
      });
    }
    return out;
  }

  async count(): Promise<number> {
    return (await this.dir.list()).records.length;
  }

  async makeDue(olderThanMs: number, now: Date): Promise<number> {
    let n = 0;
    for (const rec of (await this.dir.list()).records) {
      if (now.getTime() - rec.firstAttempt.getTime() >= olderThanMs) {
        await this.dir.update(rec.id, { nextAttempt: now });
        this.flushed.add(rec.id);
        n++;
      }
    }
    return n;
  }
}
