// The operator's release and bounce of quarantined mail (docs/queue.md "Quarantined mail"): the
// queue service (src/queue) asks, this does it, because the copies of a released message are the
// receiver's to make — one per mailbox user and one spool entry for the relay recipients, by the
// same code as accept() (sink.ts deliverKept), sorted by the rules in force now.
//
// Crash safety (kill -9 at any point; quarantine.ts names the files):
// 1. `<id>.release` is written (durable) before anything else: who, why, nothing done yet.
// 2. Each copy is recorded in it as soon as it is durable: a mailbox copy after the store's
//    commit; the relay entry when it is complete in the spool's tmp/ and not yet in incoming/
//    (submit.ts beforeRename), so a restart renames it (commitStaged) instead of writing another.
// 3. The quarantine files go only after every copy is durable; the marker last.
// recover() (run at every start, before the receiver listens) finishes what a crash cut short.
// Duplicates: a crash between a mailbox's commit and the marker's write gives that one mailbox a
// second copy; the relay copy and the notices are never sent twice (the notice of a bounce: a
// crash between queuing it and recording that can send it twice, as queue bounce says).
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';
import type { Envelope } from '../core/envelope.js';
import type { Logger } from '../log/index.js';
import { buildDsn } from '../notify/index.js';
import type { Quarantine, QuarantinedMail, ReleaseMarker } from './quarantine.js';
import type { CopyProgress, ReceiverSink } from './sink.js';

/** A refusal: 404 gone, 409 cannot be done in this state (the sentence says what to do), 503 failed. */
export interface QuarantineError {
  readonly status: 404 | 409 | 503;
  readonly error: string;
}

/** What the queue service calls (QueueDeps.quarantineActions); `who` is journaled by the caller. */
export interface QuarantineActions {
  /** Sends a kept message on to its recipients; resolves with what was made once all is durable. */
  release(id: string, who: { operator: string; reason: string }): Promise<Result<string, QuarantineError>>;
  /** Refuses a kept message: the sender gets a failure notice (unless the null sender or NOTIFY=NEVER). */
  bounce(id: string, who: { operator: string; reason: string }): Promise<Result<string, QuarantineError>>;
}

export interface ReleaseDeps {
  readonly quarantine: Quarantine;
  readonly sink: ReceiverSink;
  readonly log: Logger;
  readonly clock: Clock;
  /** Queues a notice (a message entry of origin notification); resolves once durable. Absent: no notices. */
  readonly noticeSubmit?: (mail: { envelope: Envelope; data: Buffer }) => Promise<void>;
  readonly reportingMta: () => string;
  /** Fault injection (crash tests): called after each durable step: marked, staged (the relay entry in tmp/, recorded, not renamed yet), notice, copies, removed. */
  readonly afterStep?: (step: string) => Promise<void>;
}

export class QuarantineRelease implements QuarantineActions {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: ReleaseDeps) {}

  /** One at a time: a release and the recovery never work on one message together. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  release(id: string, who: { operator: string; reason: string }): Promise<Result<string, QuarantineError>> {
    return this.serial(() => this.run(id, 'release', who));
  }

  bounce(id: string, who: { operator: string; reason: string }): Promise<Result<string, QuarantineError>> {
    return this.serial(() => this.run(id, 'bounce', who));
  }

  /** Finishes releases and bounces a crash cut short; resolves with how many. Errors are logged, never thrown. */
  recover(): Promise<number> {
    return this.serial(async () => {
      let n = 0;
      for (const id of await this.d.quarantine.releasing()) {
        const marker = await this.d.quarantine.marker(id).catch(() => undefined);
        if (marker === undefined) continue;
        const r = await this.run(id, marker.action, marker, marker);
        if (r.ok) n++;
        this.d.log[r.ok ? 'event' : 'error']('receiver.release-resumed', { id, action: marker.action, operator: marker.operator, ...(r.ok ? { done: r.value } : { error: r.error.error }) });
      }
      return n;
    });
  }

  private async run(id: string, action: 'release' | 'bounce', who: { operator: string; reason: string }, resumed?: ReleaseMarker): Promise<Result<string, QuarantineError>> {
    const q = this.d.quarantine;
    const step = this.d.afterStep ?? (async () => undefined);
    const mail = await q.read(id);
    if (!mail.ok) {
      // Every file but the marker is gone: the crash came after the copies; finish the clean-up.
      if (resumed !== undefined && /is gone$/.test(mail.error)) { await q.remove(id); return ok('already done before the restart'); }
      return err({ status: /is gone$/.test(mail.error) ? 404 : 409, error: mail.error });
    }
    const marker: ReleaseMarker = resumed ?? (await q.marker(id)) ?? { v: 1, action, operator: who.operator, reason: who.reason, at: new Date(this.d.clock.now()).toISOString(), users: [], noticed: false, entry: null };
    if (marker.action !== action) return err({ status: 409, error: `a ${marker.action} of ${id} is under way (by ${marker.operator})` });
    try {
      await q.mark(id, marker);
      await step('marked');
      const progress: CopyProgress = {
        users: marker.users, noticed: marker.noticed, entry: marker.entry,
        save: async () => {
          const staged = marker.entry === null && progress.entry !== null;
          marker.noticed = progress.noticed;
          marker.entry = progress.entry;
          await q.mark(id, marker);
          if (staged) await step('staged');
        },
      };
      let done: string;
      if (action === 'release') {
        const r = await this.d.sink.deliverKept(mail.value, progress);
        if (!r.ok) {
          // Nothing was made (the recipients are sorted first): the message stays as it was.
          await q.unmark(id);
          return err({ status: 409, error: `${r.error}: delete or bounce it` });
        }
        done = r.value === '' ? 'no copy was needed' : `sent on as ${r.value}`;
      } else {
        done = await this.notice(mail.value, marker, who.reason);
        await step('notice');
      }
      await step('copies');
      await q.remove(id);
      await step('removed');
      this.d.log.event(action === 'release' ? 'receiver.released' : 'receiver.bounced', { id, operator: marker.operator, reason: marker.reason, done });
      return ok(done);
    } catch (e) {
      this.d.log.error('receiver.release-failed', { id, action, error: describeError(e) });
      return err({ status: 503, error: `${action} of ${id} failed (${describeError(e)}); what was done is recorded: try again` });
    }
  }

  /** The failure notice of a bounce (RFC 3464), queued once; what it says for the answer. */
  private async notice(mail: QuarantinedMail, marker: ReleaseMarker, reason: string): Promise<string> {
    const now = new Date(this.d.clock.now());
    // RFC 3463 §3.8 X.7.1: delivery not authorized, message refused.
    const dsn = buildDsn({
      original: { envelope: mail.envelope, data: mail.data, arrival: mail.received },
      recipients: mail.envelope.recipients.map((recipient) => ({ recipient, action: 'failed' as const, status: '5.7.1', diagnostic: `550 5.7.1 message kept by a content filter and refused by the operator: ${reason}` })),
      reportingMta: this.d.reportingMta(), now,
    });
    if (dsn === null || this.d.noticeSubmit === undefined) return 'refused; no notice (null sender, NOTIFY=NEVER or a notification itself)';
    if (!marker.noticed) {
      await this.d.noticeSubmit(dsn);
      marker.noticed = true;
      await this.d.quarantine.mark(mail.id, marker);
    }
    return 'refused; the sender is notified';
  }
}
