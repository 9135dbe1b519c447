// Long retry in the operator's view on the shared queue (docs/cluster.md): when a message of a
// shared-queue entry goes to long retry it leaves this node's memory, so what the queue tools show
// of it is stored with its attempts (QueueStore.markRetry's view): the fields of its queue item
// as this node would list it (queue/service.ts liveItem), and its header section for `show`.
// Pure; bounded (headers cut at VIEW_HEADER_BYTES, at most VIEW_RECIPIENTS recipients).
import { formatMailbox, type Envelope, type Recipient } from '../core/index.js';
import type { RetryView } from '../store/queue-store.js';
import type { ReplyInfo } from './types.js';

/** The reply as one line ("451 4.2.0 mailbox busy"); lifecycle.ts re-exports it. */
export function replyText(r: ReplyInfo | undefined): string {
  if (r === undefined) return 'no reply';
  return `${r.code}${r.enhanced ? ' ' + r.enhanced : ''} ${r.text}`;
}

/** What the view is made of: a work item's fields (lifecycle.ts WorkItem). */
export interface ViewSource {
  readonly origin: { readonly kind: 'spool'; readonly entryId: string; readonly messageNo: number } | { readonly kind: 'extended'; readonly id: string };
  readonly envelope: Envelope;
  readonly data: Buffer;
  readonly job: { readonly jobName: string; readonly jobId: string; readonly originUser: string };
  readonly arrival: Date;
  readonly pending: readonly Recipient[];
  readonly failed: readonly { readonly address: string; readonly recipient?: Recipient; readonly reply: ReplyInfo }[];
  readonly lastReply?: ReplyInfo;
  readonly lastTarget?: string;
}

export const VIEW_HEADER_BYTES = 16 * 1024;
export const VIEW_RECIPIENTS = 1000;

function headers(data: Buffer): string {
  const end = data.indexOf('\r\n\r\n');
  const cut = end < 0 ? Math.min(data.length, VIEW_HEADER_BYTES) : Math.min(end + 2, VIEW_HEADER_BYTES);
  return data.subarray(0, cut).toString('utf8');
}

/** The view of `item` (queue id `qid`) going to long retry after `attempts` attempts, due at `at`. */
export function retryViewOf(item: ViewSource, qid: string, attempts: number, at: Date): RetryView {
  const failed = new Map(item.failed.map((f) => [f.address.toLowerCase(), f]));
  const pending = new Set(item.pending.map((r) => formatMailbox(r.mailbox).toLowerCase()));
  const last = item.lastReply === undefined ? null : replyText(item.lastReply);
  const recipients = item.envelope.recipients.map((r) => {
    const address = formatMailbox(r.mailbox);
    const f = failed.get(address.toLowerCase());
    if (f !== undefined) return { address, state: 'failed', lastReply: replyText(f.reply) };
    if (pending.has(address.toLowerCase())) return { address, state: 'deferred', lastReply: last };
    return { address, state: 'delivered', lastReply: null };
  });
  for (const f of item.failed) if (f.recipient === undefined) recipients.push({ address: f.address, state: 'failed', lastReply: replyText(f.reply) });
  const o = item.origin;
  return {
    queueId: qid, arrival: item.arrival.toISOString(), nextAttempt: at.toISOString(), attempts, size: item.data.length,
    jobName: item.job.jobName, jobId: item.job.jobId, user: item.job.originUser,
    sender: item.envelope.from.kind === 'null' ? '' : formatMailbox(item.envelope.from.mailbox),
    recipients: recipients.slice(0, VIEW_RECIPIENTS), target: item.lastTarget ?? null,
    place: o.kind === 'spool' ? `${o.entryId}#${o.messageNo}` : `x:${o.id}`, why: last, headers: headers(item.data),
  };
}
