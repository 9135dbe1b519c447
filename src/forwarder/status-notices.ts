// RFC 3461 §4.1 NOTIFY=SUCCESS and NOTIFY=DELAY (SPEC.md §2.2, issue #16 item 14): the notices
// beside the failure notification (undeliverable.ts). Built by notify/dsn.ts, put on the spool like
// every notification (null sender, one try), and only for recipients whose NOTIFY asked for them.
// - "relayed" (RFC 3464 §2.3.3): a target accepted the recipient but does not offer DSN, so it
//   was not given NOTIFY and will never report success itself (RFC 3461 §5.2.2). A target that
//   offers DSN gets NOTIFY passed on and reports on its own: no notice from us.
// - "delayed": the message has waited the configured time (ext Undeliverable DelayNotice) and
//   is still being retried; one notice per message (lifecycle.ts decides when).
import { parseMailbox, type Recipient } from '../core/index.js';
import { buildDsn, type DsnRecipientReport } from '../notify/index.js';
import type { StatusNotices, WorkItem } from './lifecycle.js';
import { replyText } from './lifecycle.js';
import type { ReplyInfo } from './types.js';

export interface StatusNoticeSettings {
  readonly reportingMta: string;
  /** Minutes after arrival; 0 = no delay notices. */
  readonly delayNoticeMinutes: number;
  /** (ext) Undeliverable CopyTo: gets a copy of these notices too. */
  readonly copyTo?: string | null;
}

export class DsnStatusNotices implements StatusNotices {
  constructor(
    private readonly deps: {
      settings: () => StatusNoticeSettings;
      submit: (mail: { envelope: WorkItem['envelope']; data: Buffer }) => Promise<void>;
      now: () => Date;
    },
  ) {}

  delayAfterMs(): number {
    return this.deps.settings().delayNoticeMinutes * 60_000;
  }

  async relayed(item: WorkItem, accepted: readonly { readonly recipient: Recipient; readonly reply: ReplyInfo }[], target: string): Promise<boolean> {
    return this.send(item, accepted.map((a) => ({
      recipient: a.recipient, action: 'relayed', status: a.reply.enhanced && /^2\./.test(a.reply.enhanced) ? a.reply.enhanced : '2.0.0',
      diagnostic: replyText(a.reply), remoteMta: target,
    })));
  }

  async delayed(item: WorkItem, willRetryUntil: Date | undefined): Promise<boolean> {
    return this.send(item, item.pending.map((recipient) => ({
      recipient, action: 'delayed', status: item.lastReply?.enhanced && /^4\./.test(item.lastReply.enhanced) ? item.lastReply.enhanced : '4.4.7',
      ...(item.lastReply === undefined ? {} : { diagnostic: replyText(item.lastReply) }),
      ...(item.lastTarget ? { remoteMta: item.lastTarget } : {}),
      ...(willRetryUntil === undefined ? {} : { willRetryUntil }),
    })));
  }

  private async send(item: WorkItem, recipients: DsnRecipientReport[]): Promise<boolean> {
    const s = this.deps.settings();
    const copy = s.copyTo ? parseMailbox(s.copyTo, { utf8: true }) : undefined;
    const original = { envelope: item.envelope, data: item.data, arrival: item.arrival, jobName: item.job.jobName, jobId: item.job.jobId };
    // buildDsn keeps only the recipients whose NOTIFY asks for the action, and none for a notification.
    const dsn = buildDsn({ original, recipients, reportingMta: s.reportingMta, now: this.deps.now(), ...(copy?.ok ? { copyTo: copy.value } : {}) });
    if (dsn === null) return false;
    await this.deps.submit(dsn);
    return true;
  }
}

