// Puts one submitted message (note, sendmail) on the spool as a `message` entry (spool/enqueue.ts):
// the bytes the tool accepted, our Received trace field on top and Date / Message-ID added when
// missing, with the envelope beside them. No JES record rule touches it, so trailing blanks, long
// lines, 8-bit text and lines that look like batch-SMTP continuations all leave as they came.
import type { Envelope } from '../core/index.js';
import { enqueueMessage } from '../spool/enqueue.js';
import type { MessageQueue } from '../spool/message-queue.js';
import { stampSubmission, zoneOffsetFn } from '../spool/headers.js';
import type { SpoolEntry } from '../spool/submit.js';

/** Where a submission goes: the spool root and writer name, and what the Received field names. */
export interface SpoolTarget {
  readonly root: string;
  readonly writer: string;
  readonly hostName: string;
  /** INSTANCE name for the Received field (default SPOOLGATE). */
  readonly instance?: string;
  /** Header statement: Date YES adds a missing Date:, UserInfo YES names the user (defaults: YES, YES). */
  readonly header?: { readonly date: boolean; readonly userInfo: boolean };
}

function stamp(opts: { target: SpoolTarget; data: Buffer; tool: 'note' | 'sendmail' | 'pdfmail' | 'http'; user: string; now?: () => number }): Buffer {
  const t = opts.target;
  return stampSubmission(opts.data, {
    hostName: t.hostName, instance: t.instance ?? 'SPOOLGATE', userInfo: t.header?.userInfo ?? true, date: t.header?.date ?? true,
    user: opts.user, tool: opts.tool,
  }, (opts.now ?? Date.now)(), zoneOffsetFn());
}

/**
 * The same submission, queued by the gateway itself through its message queue (the HTTP send
 * API inside the gateway: with Store Backend PostgreSQL the entry is committed in the shared
 * queue). Resolves once durable with the entry's id and size.
 */
export async function putOnQueue(queue: MessageQueue, opts: {
  target: SpoolTarget; envelope: Envelope; data: Buffer; tool: 'http'; user: string; jobName?: string; now?: () => number;
}): Promise<{ id: string; size: number }> {
  const data = stamp(opts);
  return queue.enqueue({ envelope: opts.envelope, data, origin: { kind: 'submission', tool: opts.tool }, ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }) });
}

/** Writes `data` for `envelope` as one message entry; resolves once it is durable. */
export async function putOnSpool(opts: {
  target: SpoolTarget; envelope: Envelope; data: Buffer; tool: 'note' | 'sendmail' | 'pdfmail' | 'http'; user: string; jobName?: string; now?: () => number;
  /** A chosen entry id and the hook before it becomes visible (spool/submit.ts submitEntry). */
  id?: string; beforeRename?: (id: string) => Promise<void>;
}): Promise<SpoolEntry> {
  const t = opts.target;
  const data = stamp(opts);
  return enqueueMessage({
    root: t.root, writer: t.writer, hostName: t.hostName, envelope: opts.envelope, data,
    origin: { kind: 'submission', tool: opts.tool },
    ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }),
    ...(opts.id === undefined ? {} : { id: opts.id }), ...(opts.beforeRename === undefined ? {} : { beforeRename: opts.beforeRename }),
  });
}
