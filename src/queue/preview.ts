// What `queue show` says about a spool file no task has read yet (service.ts): read-only and
// bounded. A message entry has its envelope beside it (spool/message-entry.ts): that, and the
// header section of its data. A batch file is decoded and parsed as a spool task would (the same
// record decoder and batch parser, with the forwarder's settings from the configuration in
// force), but only its first PREVIEW_BYTES and PREVIEW_MESSAGES: nothing is sent, marked or moved.
import type { Clock } from '../core/index.js';
import type { Envelope } from '../core/index.js';
import type { Config } from '../config/index.js';
import { forwarderSettings, openRegular } from '../forwarder/index.js';
import { BatchParser, type BatchEvent } from '../spool/batch.js';
import { RecordDecoder } from '../spool/records.js';
import type { SpoolEntry } from '../spool/submit.js';

/** At most this much of a file is read for a preview. */
export const PREVIEW_BYTES = 256 * 1024;
/** At most this many messages are shown. */
export const PREVIEW_MESSAGES = 20;
/** A message's header section is cut here. */
const MAX_HEADERS = 64 * 1024;

export interface FilePreview {
  readonly messages: readonly { readonly messageNo: number; readonly envelope: Envelope; readonly headers: string }[];
  readonly problems: readonly string[];
  /** The file is longer than what was read (or has more messages than shown). */
  readonly truncated: boolean;
}

/** The header section of a message (up to the empty line), bounded. */
export function headerSection(data: Buffer): string {
  const end = data.indexOf('\r\n\r\n');
  const cut = end < 0 ? Math.min(data.length, MAX_HEADERS) : Math.min(end + 2, MAX_HEADERS);
  return data.subarray(0, cut).toString('utf8');
}

async function readHead(path: string, max: number): Promise<{ data: Buffer; truncated: boolean }> {
  const fh = await openRegular(path);
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const r = await fh.read(buf, n, buf.length - n, n);
      if (r.bytesRead === 0) break;
      n += r.bytesRead;
    }
    return { data: buf.subarray(0, Math.min(n, max)), truncated: n > max };
  } finally {
    await fh.close();
  }
}

export async function previewSpoolFile(entry: SpoolEntry, config: Config, clock: Clock): Promise<FilePreview> {
  const head = await readHead(entry.path, entry.message !== undefined ? MAX_HEADERS : PREVIEW_BYTES);
  return previewHead(head, { attrs: entry.attrs, ...(entry.message === undefined ? {} : { envelope: entry.message.envelope }) }, config, clock);
}

/** What a preview needs to know of a file besides its first bytes (a local entry, or a stored one: queue/cluster-queue.ts). */
export interface PreviewSubject {
  readonly attrs: Pick<SpoolEntry['attrs'], 'jobName' | 'jobId' | 'originUser' | 'recordFormat' | 'encoding'>;
  /** A message entry's envelope. */
  readonly envelope?: Envelope;
}

/**
 * The preview of a file's first bytes (`head`: at most PREVIEW_BYTES, and whether there was more;
 * a message entry's: its header section), wherever they were read from.
 */
export function previewHead(head: { readonly data: Buffer; readonly truncated: boolean }, entry: PreviewSubject, config: Config, clock: Clock): FilePreview {
  if (entry.envelope !== undefined) {
    return { messages: [{ messageNo: 1, envelope: entry.envelope, headers: headerSection(head.data.subarray(0, MAX_HEADERS)) }], problems: [], truncated: false };
  }
  const s = forwarderSettings(config, clock).task;
  const codepage = s.codepage(entry.attrs.encoding);
  if (codepage === undefined) return { messages: [], problems: [`unknown code page ${entry.attrs.encoding ?? ''}`], truncated: false };
  const decoder = new RecordDecoder({ format: entry.attrs.recordFormat ?? s.recordFormat, recordLength: s.recordLength, codepage, nullTrnc: s.nullTrnc });
  const parser = new BatchParser({
    ...s.parser, job: { jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, originUser: entry.attrs.originUser },
    ...(codepage.asciiCharset === 'UTF-8' ? { translatedCharset: 'UTF-8' as const } : {}),
  });
  // A cut file is not ended: its last message may be incomplete and is then not shown.
  const events: BatchEvent[] = parser.push(decoder.push(head.data));
  if (!head.truncated) events.push(...parser.push(decoder.end()), ...parser.end());
  const messages: FilePreview['messages'][number][] = [];
  const problems: string[] = [];
  for (const e of events) {
    if (e.kind === 'message') {
      if (messages.length < PREVIEW_MESSAGES) messages.push({ messageNo: e.message.messageNo, envelope: e.message.envelope, headers: headerSection(e.message.data) });
      for (const b of e.message.badRecipients) problems.push(`record ${b.problem.recordNo}: ${b.problem.code} ${b.problem.enhanced} ${b.problem.text}`);
    } else if (e.kind !== 'warning') {
      problems.push(`record ${e.problem.recordNo}: ${e.problem.code} ${e.problem.enhanced} ${e.problem.text}`);
    }
  }
  return { messages, problems: problems.slice(0, PREVIEW_MESSAGES), truncated: head.truncated || events.filter((e) => e.kind === 'message').length > messages.length };
}

/**
 * The data of message `no` of a batch spool file's bytes (a file of the shared queue released for
 * long retry: cluster-queue.ts `show --body`), parsed as a spool task would, with the forwarder's
 * settings from the configuration in force; undefined when the bytes do not hold it.
 */
export function batchMessageData(data: Buffer, attrs: { readonly jobName: string; readonly jobId: string; readonly originUser: string; readonly encoding?: string; readonly recordFormat?: string }, config: Config, clock: Clock, no: number): Buffer | undefined {
  const s = forwarderSettings(config, clock).task;
  const codepage = s.codepage(attrs.encoding);
  if (codepage === undefined) return undefined;
  const decoder = new RecordDecoder({ format: (attrs.recordFormat as SpoolEntry['attrs']['recordFormat']) ?? s.recordFormat, recordLength: s.recordLength, codepage, nullTrnc: s.nullTrnc });
  const parser = new BatchParser({
    ...s.parser, job: { jobName: attrs.jobName, jobId: attrs.jobId, originUser: attrs.originUser },
    ...(codepage.asciiCharset === 'UTF-8' ? { translatedCharset: 'UTF-8' as const } : {}),
  });
  const events: BatchEvent[] = [...parser.push(decoder.push(data)), ...parser.push(decoder.end()), ...parser.end()];
  for (const e of events) if (e.kind === 'message' && e.message.messageNo === no) return e.message.data;
  return undefined;
}
