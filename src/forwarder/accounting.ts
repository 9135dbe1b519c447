// What the forwarder reports to the accounting file (SPEC.md §4.4, docs/accounting.md): one MAIL
// record per message when it leaves the forwarder's hands, one SPOOL record per disposed file,
// one CONNECT record per target connection. The mapping from the forwarder's values to records.
import { formatMailbox } from '../core/index.js';
import type { Accounting } from '../log/accounting.js';
import { queueIdOf, type FinalOutcome, type WorkItem } from './lifecycle.js';
import type { ConnectionRecord } from './pool.js';
import type { TaskEntry } from './task.js';

export interface FileStats {
  readonly mailRead: number;
  readonly undeliverable: number;
  readonly problems: number;
  readonly disposition: 'finished' | 'held';
}

export interface ForwarderAccounting {
  onMailFinished(item: WorkItem, outcome: FinalOutcome): void;
  onFileDone(tkid: number, entry: TaskEntry, stats: FileStats): void;
  onConnection(c: ConnectionRecord): void;
}

/** Subject and attachments of a message (the composition root plugs in the MIME reading). */
export type DescribeMessage = (data: Buffer) => { readonly subject?: string; readonly attachments: number; readonly partial: boolean };

export function forwarderAccounting(accounting: Accounting, describe?: DescribeMessage): ForwarderAccounting {
  return {
    onMailFinished: (item, outcome) => {
      const spool = item.origin.kind === 'spool' ? item.origin : undefined;
      // Read only when MAIL records are written (the flag is read per record).
      const d = describe !== undefined && accounting.enabled('MAIL') ? describe(item.data) : undefined;
      accounting.record('MAIL', {
        jobName: item.job.jobName, jobId: item.job.jobId, user: item.job.originUser,
        tkid: spool?.tkid, spoolId: spool?.entryId, messageNo: spool?.messageNo, queueId: queueIdOf(item),
        from: item.envelope.from.kind === 'null' ? '' : formatMailbox(item.envelope.from.mailbox),
        recipients: item.envelope.recipients.map((r) => formatMailbox(r.mailbox)),
        size: item.data.length, result: outcome, accepted: item.envelope.recipients.length - item.failed.length - item.pending.length,
        failed: item.failed.length, target: item.lastTarget, attempts: item.deliveryAttempts ?? 0,
        ...(item.operatorAction === undefined ? {} : { detail: `${item.operatorAction.action === 'bounce' ? 'bounced' : 'deleted'} by the operator (${item.operatorAction.operator}): ${item.operatorAction.reason}` }),
        ...(d === undefined ? {} : { subject: d.subject, attachments: d.attachments, ...(d.partial ? { attachmentsPartial: true } : {}) }),
      });
    },
    onFileDone: (tkid, entry, st) => {
      accounting.record('SPOOL', {
        jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, user: entry.attrs.originUser, tkid, spoolId: entry.id,
        taskType: entry.attrs.taskType, mailRead: st.mailRead, undeliverable: st.undeliverable, problems: st.problems, disposition: st.disposition,
      });
    },
    onConnection: (c) => {
      accounting.record('CONNECT', {
        address: c.address, port: c.port, result: c.result, tls: c.tls, esmtp: c.esmtp,
        start: new Date(c.start).toISOString(), durationMs: c.durationMs, messages: c.messages, detail: c.detail,
      });
    },
  };
}
