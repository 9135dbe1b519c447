// Undeliverable mail (SPEC.md §2.2): one RFC 3464 notification to MAIL FROM, put on the spool
// (durable, and sent through the targets like any mail), or — for a null sender, a notification
// or an error report — a dead letter (Store: one file each; Delete: dropped). With
// ReturnToMailFrom NO the mail is logged and finished, nothing else (seed 001: undeliverable
// mail is "logged and marked done"; a dead letter is a notification that could not be returned).
// Never a notification about a notification (notify/dsn.ts enforces it).
import type { Recipient } from '../core/index.js';
import { formatMailbox, parseMailbox } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { buildDsn, disposeDeadLetter, notificationSuppression, type DeadLetters, type DsnRecipientReport } from '../notify/index.js';
import type { FailedRecipient, UndeliverableHandler, WorkItem } from './lifecycle.js';
import { queueIdOf, replyText } from './lifecycle.js';

export interface UndeliverableSettings {
  readonly returnToMailFrom: boolean;
  readonly deadLetterAction: 'store' | 'delete';
  readonly reportingMta: string;
  /** (ext) Undeliverable CopyTo: also receives each notification (iSeries NONDELIVERY user). */
  readonly copyTo?: string | null;
}

/**
 * The path of an address as the job wrote it: inside its angle brackets when it has them
 * (`<bad address> FOO=1` → `bad address`), else up to the first blank.
 */
export function writtenPath(address: string): string {
  const a = address.trim();
  if (a.startsWith('<')) {
    const end = a.indexOf('>');
    return end < 0 ? a.slice(1) : a.slice(1, end);
  }
  return a.split(/[ \t]/)[0]!;
}

function recipientOf(f: FailedRecipient): { recipient: Recipient; written?: string } {
  if (f.recipient) return { recipient: f.recipient };
  const path = writtenPath(f.address);
  const parsed = parseMailbox(path);
  if (parsed.ok) return { recipient: { mailbox: parsed.value } };
  // An address the parser could not accept: reported as written. The mailbox is a placeholder
  // the notification never shows (NOTIFY defaults apply to it).
  return { recipient: { mailbox: { local: 'invalid', domain: 'invalid' } }, written: path };
}

export class NotifyingUndeliverable implements UndeliverableHandler {
  constructor(
    private readonly deps: {
      settings: () => UndeliverableSettings;
      deadLetters: () => DeadLetters | undefined;
      /** Puts a generated mail on the spool; resolves after it is durable. */
      submit: (mail: { envelope: WorkItem['envelope']; data: Buffer }) => Promise<void>;
      log: Logger;
      now: () => Date;
    },
  ) {}

  async handle(item: WorkItem): Promise<'notified' | 'dead-letter' | 'dropped'> {
    const s = this.deps.settings();
    const reports: DsnRecipientReport[] = item.failed.map((f) => ({
      ...recipientOf(f),
      action: 'failed',
      status: f.reply.enhanced && /^5\./.test(f.reply.enhanced) ? f.reply.enhanced : f.reply.code >= 500 ? `5.${f.reply.enhanced?.slice(2) || '0.0'}` : '5.4.7',
      diagnostic: replyText(f.reply),
      remoteMta: f.remoteMta,
    }));
    const original = { envelope: item.envelope, data: item.data, arrival: item.arrival, jobName: item.job.jobName, jobId: item.job.jobId };
    const why = item.failed.map((f) => `${f.address}: ${replyText(f.reply)}${f.detail && !f.detail.includes(f.reply.text) ? ` (${f.detail})` : ''}`).join('; ');
    const suppressed = notificationSuppression(original);
    if (!s.returnToMailFrom && suppressed === undefined) {
      // The log line is the only record: the sender is not told and no dead letter is kept.
      const from = item.envelope.from.kind === 'mailbox' ? formatMailbox(item.envelope.from.mailbox) : '';
      this.deps.log.event('mail.undeliverable-logged', { job: item.job.jobName, jobid: item.job.jobId, from, failed: reports.length, reason: why });
      return 'dropped';
    }
    if (s.returnToMailFrom) {
      const copy = s.copyTo ? parseMailbox(s.copyTo, { utf8: true }) : undefined;
      const dsn = buildDsn({ original, recipients: reports, reportingMta: s.reportingMta, now: this.deps.now(), ...(copy?.ok ? { copyTo: copy.value } : {}) });
      if (dsn !== null) {
        await this.deps.submit(dsn);
        this.deps.log.event('mail.notification', { job: item.job.jobName, failed: reports.length });
        return 'notified';
      }
      if (notificationSuppression(original) === undefined) return 'dropped'; // NOTIFY=NEVER: the sender asked not to be told
    }
    const kind = suppressed === 'null-sender' ? 'null-sender' : suppressed === undefined ? 'undeliverable' : 'notification';
    const out = await disposeDeadLetter(s.deadLetterAction, this.deps.deadLetters(), { reason: why, envelope: item.envelope, data: item.data, jobName: item.job.jobName, jobId: item.job.jobId, kind, queueId: queueIdOf(item) });
    // Dead letters are always logged, stored or not (SPEC.md §2.2).
    this.deps.log.event('mail.deadletter', { qid: queueIdOf(item), job: item.job.jobName, action: s.deadLetterAction, kind, reason: why, id: 'id' in out ? String(out.id) : undefined });
    return 'dead-letter';
  }
}
