// The delivery log line (O2 #18 item 5): one `mail.delivery` line per recipient per attempt, at
// LogLevel event (in the default 7), the line an operator greps — as Postfix's
// `status=sent (250 ... queued as X)`. One implementation: every outcome the lifecycle decides
// (an attempt's reply, a message no target can take, the retry limit, extended-retry expiry)
// passes through logDelivery, and the Text and JSON forms carry the same fields (src/log).
// Fields: key (the spool entry#message or x:extended id, as in the journal and the accounting
// MAIL record), qid (the stable queue id, docs/queue.md), job, jobid, from, to, relay (ip:port, "none" when no target was tried), tls
// (yes/no), delay (seconds since arrival), dsn (RFC 3463 status), status (sent / deferred /
// bounced), reply (the target's reply), queued_as (the target's queue id when its reply names
// one), msgid (the Message-ID field).
import { formatMailbox, type Envelope, type Recipient } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { messageIdOf } from '../spool/headers.js';
import type { ReplyInfo } from './types.js';

/** What the line needs of a lifecycle WorkItem (a structural type: lifecycle.ts imports this file). */
export interface DeliveryItem {
  readonly envelope: Envelope;
  readonly data: Buffer;
  readonly job: { readonly jobName: string; readonly jobId: string };
  readonly arrival: Date;
}

export type DeliveryStatus = 'sent' | 'deferred' | 'bounced';

export interface DeliveryAttempt {
  readonly recipient: Recipient | string;
  readonly status: DeliveryStatus;
  readonly reply: ReplyInfo;
  /** Target address and port; undefined when no target was tried. */
  readonly address?: string;
  readonly port?: number;
  readonly tls?: boolean;
}

/** RFC 3463 §2: the enhanced code of the reply, or the class's generic one (X.0.0). */
export function dsnStatus(r: ReplyInfo): string {
  if (r.enhanced !== undefined && r.enhanced !== '') return r.enhanced;
  const cls = Math.floor(r.code / 100);
  return cls === 2 || cls === 4 || cls === 5 ? `${cls}.0.0` : '4.0.0';
}

/**
 * The target's own queue id from its reply: Postfix "queued as 4BxYz1", Exim "id=1abc-00",
 * Sendmail "1ABC2 Message accepted", Exchange "<id@host> Queued mail for delivery". Undefined
 * when the reply names none.
 */
export function queuedAs(text: string): string | undefined {
  const m = /queued as ([^\s;,)]+)/i.exec(text) ?? /\bid=([^\s;,)]+)/i.exec(text) ?? /^([A-Za-z0-9]{6,}) Message accepted/i.exec(text);
  return m?.[1]?.slice(0, 200);
}

/** The Message-ID of an item, read once per item (cached beside it). */
const msgIds = new WeakMap<DeliveryItem, string>();
function msgIdOf(item: DeliveryItem): string {
  let v = msgIds.get(item);
  if (v === undefined) {
    v = messageIdOf(item.data) ?? 'none';
    msgIds.set(item, v);
  }
  return v;
}

export function logDelivery(log: Logger, item: DeliveryItem, a: DeliveryAttempt, nowMs: number, key: string, qid?: string): void {
  if (!log.enabled('event')) return;
  const to = typeof a.recipient === 'string' ? a.recipient : formatMailbox(a.recipient.mailbox);
  const text = a.reply.text.replace(/\s+/g, ' ').slice(0, 1000);
  log.event('mail.delivery', {
    key, ...(qid === undefined ? {} : { qid }), job: item.job.jobName, jobid: item.job.jobId,
    from: item.envelope.from.kind === 'null' ? '<>' : formatMailbox(item.envelope.from.mailbox), to,
    relay: a.address === undefined || a.address === '' ? 'none' : `${a.address}:${a.port ?? 25}`,
    tls: a.tls === true ? 'yes' : 'no',
    delay: Math.max(0, Math.round((nowMs - item.arrival.getTime()) / 100) / 10),
    dsn: dsnStatus(a.reply), status: a.status,
    reply: `${a.reply.code}${a.reply.enhanced ? ' ' + a.reply.enhanced : ''} ${text}`,
    queued_as: queuedAs(text), msgid: msgIdOf(item),
  });
}
