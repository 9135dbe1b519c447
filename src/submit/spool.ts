// Puts one submitted message (note, sendmail) on the spool as a `message` entry (spool/enqueue.ts):
// the bytes the tool accepted, our Received trace field on top and Date / Message-ID added when
// missing, with the envelope beside them. No JES record rule touches it, so trailing blanks, long
// lines, 8-bit text and lines that look like batch-SMTP continuations all leave as they came.
import type { Envelope } from '../core/index.js';
import { enqueueMessage } from '../spool/enqueue.js';
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

/** Writes `data` for `envelope` as one message entry; resolves once it is durable. */
export async function putOnSpool(opts: {
  target: SpoolTarget; envelope: Envelope; data: Buffer; tool: 'note' | 'sendmail' | 'pdfmail' | 'http'; user: string; jobName?: string; now?: () => number;
  /** A chosen entry id and the hook before it becomes visible (spool/submit.ts submitEntry). */
  id?: string; beforeRename?: (id: string) => Promise<void>;
}): Promise<SpoolEntry> {
  const t = opts.target;
  const now = (opts.now ?? Date.now)();
  const data = stampSubmission(opts.data, {
    hostName: t.hostName, instance: t.instance ?? 'SPOOLGATE', userInfo: t.header?.userInfo ?? true, date: t.header?.date ?? true,
    user: opts.user, tool: opts.tool,
  }, now, zoneOffsetFn());
  return enqueueMessage({
    root: t.root, writer: t.writer, hostName: t.hostName, envelope: opts.envelope, data,
    origin: { kind: 'submission', tool: opts.tool },
    ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }),
    ...(opts.id === undefined ? {} : { id: opts.id }), ...(opts.beforeRename === undefined ? {} : { beforeRename: opts.beforeRename }),
  });
}
