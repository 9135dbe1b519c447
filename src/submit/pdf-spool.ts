// Print reports on the spool (X1 #21 item 1, docs/pdfmail.md "From a job: the spool"): a spool
// entry whose first record is a `%SPOOLGATE PDFMAIL` header is not batch SMTP but a print report.
// The header names the split rule and the mail fields with the `spoolgate pdfmail` options as
// KEY=VALUE words; the report follows it in the same file. The forwarder's task hands such an
// entry here: each section becomes one PDF mail, queued as a message entry (pdfmail.ts), and the
// file is disposed of like any spool file once every section is queued.
//
// Exactly once per section across a crash: each section's mail has an entry id derived from the
// report entry and the section number; the section is recorded in the checkpoint once its entry
// is durable in tmp/ and before it is renamed into incoming/. On a restart a recorded section is
// not mailed again (its tmp/ entry, if the crash came before the rename, is renamed now); an
// unrecorded one never became visible and is mailed afresh.
//
// Untrusted input: the header records (any local job writes them): bounded in records, length and
// values, unknown or repeated keys and control characters refused, each error naming the record.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { CodePage } from '../codepage/index.js';
import type { SenderPolicy } from '../config/index.js';
import type { Mailbox } from '../core/index.js';
import { RecordDecoder, type RecordFormat, type RecordItem } from '../spool/records.js';
import type { SpoolProblem } from '../spool/batch.js';
import { commitStaged } from '../spool/submit.js';
import { parseRecipientRule, parseSectionStart, type CarriageControl, type PrintFormat, type SplitRule } from '../pdf/index.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import { decideSender } from './policy.js';
import { sendPdfMail } from './pdfmail.js';
import type { SpoolTarget } from './spool.js';

export const HEADER_PREFIX = '%SPOOLGATE PDFMAIL';
export const CONTINUATION_PREFIX = '%SPOOLGATE+';
/** Header records at most (the first and its continuations). */
export const MAX_HEADER_RECORDS = 16;
/** Bytes of the file looked at for the header. */
const HEADER_SAMPLE_BYTES = 128 * 1024;
/** Longest value (a subject or text line; RFC 5322 §2.1.1 line limit). */
export const MAX_VALUE = 998;

const KEYS = ['SPLIT', 'RECIPIENT', 'TO', 'CC', 'FALLBACK', 'FROM', 'SUBJECT', 'TEXT', 'NAME', 'TITLE', 'FORMAT', 'CARRIAGE', 'LINES', 'PAPER', 'HEADER', 'FOOTER'] as const;
type Key = (typeof KEYS)[number];
/** Keys that may be given more than once (each a comma-separated list). */
const LISTS: readonly Key[] = ['TO', 'CC'];

export interface PdfSpoolHeader {
  readonly split?: SplitRule;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly fallback?: string;
  readonly from?: string;
  readonly subject?: string;
  readonly text?: string;
  readonly name?: string;
  readonly title?: string;
  readonly format?: PrintFormat;
  readonly carriage: CarriageControl;
  readonly lines: number;
  readonly paper: 'A4' | 'LETTER';
  readonly header?: string;
  readonly footer?: string;
}

export class HeaderError extends Error {
  constructor(readonly recordNo: number, message: string) {
    super(message);
  }
}

/** KEY=VALUE words of one header record; VALUE bare (no blank, no quote) or "quoted" ("" = a quote). */
function words(text: string, recordNo: number, column0: number): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') { i++; continue; }
    const m = /^([A-Za-z]{1,16})=/.exec(text.slice(i, i + 17));
    if (m === null) throw new HeaderError(recordNo, `record ${recordNo}: expected KEY=VALUE at column ${column0 + i + 1}, found "${text.slice(i, i + 20)}"`);
    i += m[0].length;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new HeaderError(recordNo, `record ${recordNo}: the quoted value of ${m[1]!.toUpperCase()} has no closing quote`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') { value += '"'; i += 2; continue; }
          i++;
          break;
        }
        value += text[i++];
      }
      if (i < text.length && text[i] !== ' ') throw new HeaderError(recordNo, `record ${recordNo}: a blank must follow the closing quote of ${m[1]!.toUpperCase()}`);
    } else {
      const end = text.indexOf(' ', i);
      value = text.slice(i, end < 0 ? text.length : end);
      if (value.includes('"')) throw new HeaderError(recordNo, `record ${recordNo}: a quote inside the bare value of ${m[1]!.toUpperCase()}: quote the whole value`);
      i = end < 0 ? text.length : end;
    }
    out.push([m[1]!.toUpperCase(), value]);
  }
  return out;
}

function parseFormat(text: string): PrintFormat | undefined {
  const t = text.toLowerCase();
  if (t === 'text' || t === 'nl') return { kind: t };
  if (t === 'vb') return { kind: 'variable' };
  const m = /^fb:(\d{1,5})$/.exec(t);
  return m === null || Number(m[1]) < 1 || Number(m[1]) > 32760 ? undefined : { kind: 'fixed', length: Number(m[1]) };
}

/** The header from its records' text (the first starts with HEADER_PREFIX); throws HeaderError. */
export function parseHeader(records: readonly { text: string; recordNo: number }[]): PdfSpoolHeader {
  const seen = new Map<Key, { value: string; recordNo: number }>();
  const lists: Record<string, string[]> = { TO: [], CC: [] };
  records.forEach((r, idx) => {
    const skip = idx === 0 ? HEADER_PREFIX.length : CONTINUATION_PREFIX.length;
    for (const [key, value] of words(r.text.slice(skip), r.recordNo, skip)) {
      if (!(KEYS as readonly string[]).includes(key)) throw new HeaderError(r.recordNo, `record ${r.recordNo}: unknown key ${key.slice(0, 16)} (known: ${KEYS.join(', ')})`);
      if (value.length > MAX_VALUE) throw new HeaderError(r.recordNo, `record ${r.recordNo}: the value of ${key} is ${value.length} characters (at most ${MAX_VALUE})`);
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (/[\x00-\x1f\x7f]/.test(value)) throw new HeaderError(r.recordNo, `record ${r.recordNo}: the value of ${key} holds a control character`);
      const k = key as Key;
      if (LISTS.includes(k)) {
        for (const a of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) lists[k]!.push(a);
        continue;
      }
      if (seen.has(k)) throw new HeaderError(r.recordNo, `record ${r.recordNo}: ${key} is given twice`);
      seen.set(k, { value, recordNo: r.recordNo });
    }
  });
  const get = (k: Key): string | undefined => seen.get(k)?.value;
  const fail = (k: Key, msg: string): never => { const n = seen.get(k)?.recordNo ?? records[0]!.recordNo; throw new HeaderError(n, `record ${n}: ${k}=${get(k) ?? ''}: ${msg}`); };
  let split: SplitRule | undefined;
  const s = get('SPLIT');
  const rr = get('RECIPIENT');
  if (s !== undefined || rr !== undefined) {
    if (s === undefined || rr === undefined) fail(s === undefined ? 'RECIPIENT' : 'SPLIT', 'SPLIT and RECIPIENT go together');
    const start = parseSectionStart(s!);
    if (!start.ok) fail('SPLIT', start.error);
    const rec = parseRecipientRule(rr!);
    if (!rec.ok) fail('RECIPIENT', rec.error);
    if (start.ok && rec.ok) split = { start: start.value, recipient: rec.value };
  } else if (lists.TO!.length === 0) {
    throw new HeaderError(records[0]!.recordNo, `record ${records[0]!.recordNo}: give TO=ADDRESS, or SPLIT= with RECIPIENT=`);
  }
  const f = get('FORMAT');
  const format = f === undefined ? undefined : parseFormat(f);
  if (f !== undefined && format === undefined) fail('FORMAT', 'give text, nl, fb:LEN or vb');
  const carriage = (get('CARRIAGE') ?? 'none').toLowerCase();
  if (!['none', 'asa', 'machine'].includes(carriage)) fail('CARRIAGE', 'give none, asa or machine');
  const lines = Number(get('LINES') ?? '66');
  if (!/^\d{1,3}$/.test(get('LINES') ?? '66') || lines < 1 || lines > 255) fail('LINES', 'give 1..255');
  const paper = (get('PAPER') ?? 'A4').toUpperCase();
  if (paper !== 'A4' && paper !== 'LETTER') fail('PAPER', 'give A4 or LETTER');
  const opt = (k: Key, name: keyof PdfSpoolHeader): Partial<Record<keyof PdfSpoolHeader, string>> => (get(k) === undefined ? {} : { [name]: get(k)! });
  return {
    ...(split === undefined ? {} : { split }), to: lists.TO!, cc: lists.CC!, ...(format === undefined ? {} : { format }),
    carriage: carriage as CarriageControl, lines, paper: paper as 'A4' | 'LETTER',
    ...opt('FALLBACK', 'fallback'), ...opt('FROM', 'from'), ...opt('SUBJECT', 'subject'), ...opt('TEXT', 'text'), ...opt('NAME', 'name'),
    ...opt('TITLE', 'title'), ...opt('HEADER', 'header'), ...opt('FOOTER', 'footer'),
  } as PdfSpoolHeader;
}

/** The spool entry as the forwarder's task knows it (a structural subset of its TaskEntry). */
export interface PdfSpoolEntry {
  readonly id: string;
  readonly path: string;
  readonly attrs: { readonly jobName: string; readonly jobId: string; readonly originUser: string; readonly originUid: number; readonly recordFormat?: RecordFormat; readonly encoding?: string };
}

export interface PdfSpoolContext {
  readonly target: SpoolTarget;
  readonly codepage: CodePage;
  readonly recordFormat: RecordFormat;
  readonly recordLength: number;
  readonly nullTrnc: boolean;
  readonly senderPolicy: { readonly policy: SenderPolicy; readonly domain: string; readonly gatewayUid: number | undefined };
  /** Sections recorded (checkpoint) before a restart. */
  readonly recorded: readonly number[];
  /** Records a section as queued, durably. */
  readonly record: (section: number) => Promise<void>;
  /** The gateway is stopping: end between two sections (the file stays; the next start resumes). */
  readonly stopping?: () => boolean;
}

export interface PdfSpoolResult {
  readonly mails: number;
  readonly problems: SpoolProblem[];
  /** Ended early by `stopping`: the file is not finished. */
  readonly interrupted?: boolean;
}

/** The id of section `n`'s mail entry: 20 base-36 characters from the report entry and n. */
export function sectionEntryId(entry: PdfSpoolEntry, n: number): string {
  const h = createHash('sha256').update(`pdfmail\0${entry.id}\0${entry.attrs.jobId}\0${n}`).digest();
  return (BigInt('0x' + h.subarray(0, 16).toString('hex')) % 36n ** 20n).toString(36).padStart(20, '0');
}

const problem = (reply: { code: number; enhanced?: string; text: string }, recordNo: number, messageNo = 0): SpoolProblem =>
  ({ code: reply.code, enhanced: reply.enhanced ?? '', text: reply.text, recordNo, messageNo });

/**
 * The print-report entry's header and where its report starts, or undefined when the entry is
 * not a print report (its first record does not start with HEADER_PREFIX).
 */
async function readHeader(entry: PdfSpoolEntry, ctx: PdfSpoolContext): Promise<{ header: PdfSpoolHeader; offset: number; format: PrintFormat } | { error: SpoolProblem } | undefined> {
  const fh = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let sample: Buffer;
  let whole: boolean;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined; // the batch path reports it
    sample = Buffer.alloc(Math.min(st.size, HEADER_SAMPLE_BYTES));
    const { bytesRead } = await fh.read(sample, 0, sample.length, 0);
    sample = sample.subarray(0, bytesRead);
    whole = bytesRead >= st.size;
  } finally {
    await fh.close();
  }
  const decode = (recordLength: number): { decoder: RecordDecoder; items: RecordItem[] } => {
    const decoder = new RecordDecoder({ format: entry.attrs.recordFormat ?? ctx.recordFormat, recordLength, codepage: ctx.codepage, nullTrnc: ctx.nullTrnc });
    const items = decoder.push(sample);
    if (whole) items.push(...decoder.end());
    return { decoder, items };
  };
  const isHeader = (it: RecordItem | undefined): it is RecordItem & { kind: 'record' } => it?.kind === 'record' && (it.text === HEADER_PREFIX || it.text.startsWith(HEADER_PREFIX + ' '));
  let { decoder, items } = decode(ctx.recordLength);
  // A header record the decoder refuses (a control character such as CR or LF inside it) is a
  // bad header, not batch SMTP: the report says so.
  const bad = items[0];
  if (bad?.kind === 'error' && sample.subarray(bad.offset, bad.offset + HEADER_PREFIX.length).equals(ctx.codepage.encode(HEADER_PREFIX))) {
    return { error: problem(localReply(Codes.C501ArgumentSyntax, `print report header: record ${bad.recordNo}: ${bad.detail} (docs/pdfmail.md)`), bad.recordNo) };
  }
  if (!isHeader(items[0])) return undefined;
  // Fixed records of another length than the spool's RecordLength (FBA133 on an FB80 spool):
  // FORMAT=fb:N within the first RecordLength columns frames the file, header included.
  const fb = /\bFORMAT=fb:(\d{1,5})\b/i.exec(items[0].text);
  const length = fb === null ? ctx.recordLength : Number(fb[1]);
  if (decoder.format === 'fixed' && length !== ctx.recordLength && length >= 1 && length <= 32760) {
    ({ decoder, items } = decode(length));
    if (!isHeader(items[0])) return undefined;
  }
  const first = items[0];
  const records: { text: string; recordNo: number }[] = [first];
  let offset = first.endOffset;
  for (const it of items.slice(1)) {
    if (it.kind === 'error') {
      if (it.offset === offset && records.length < MAX_HEADER_RECORDS) return { error: problem(localReply(Codes.C501ArgumentSyntax, `print report header: record ${it.recordNo}: ${it.detail}`), it.recordNo) };
      break;
    }
    if (!it.text.startsWith(CONTINUATION_PREFIX)) break;
    if (records.length >= MAX_HEADER_RECORDS) return { error: problem(localReply(Codes.C501ArgumentSyntax, `print report header: more than ${MAX_HEADER_RECORDS} header records`), it.recordNo) };
    records.push(it);
    offset = it.endOffset;
  }
  let header: PdfSpoolHeader;
  try {
    header = parseHeader(records);
  } catch (e) {
    if (!(e instanceof HeaderError)) throw e;
    return { error: problem(localReply(Codes.C501ArgumentSyntax, `print report header: ${e.message} (docs/pdfmail.md)`), e.recordNo) };
  }
  const framing = decoder.format ?? 'text';
  const format: PrintFormat = header.format ?? (framing === 'fixed' ? { kind: 'fixed', length } : framing === 'variable' ? { kind: 'variable' } : { kind: framing });
  return { header, offset, format };
}

/**
 * Mails a print-report entry, one PDF mail per section, or returns undefined when the entry is
 * not one (it is batch SMTP). Problems (a bad header, a refused sender, a section without a
 * recipient or with a bad one) are the file's problems, for its report and BadSpoolDisp.
 */
export async function runPdfSpoolEntry(entry: PdfSpoolEntry, ctx: PdfSpoolContext): Promise<PdfSpoolResult | undefined> {
  const h = await readHeader(entry, ctx);
  if (h === undefined) return undefined;
  if ('error' in h) return { mails: 0, problems: [h.error] };
  const { header, offset, format } = h;
  const gatewayUid = ctx.senderPolicy.gatewayUid;
  const own = gatewayUid !== undefined && entry.attrs.originUid === gatewayUid;
  const sender = decideSender({
    policy: own ? 'any' : ctx.senderPolicy.policy, caller: { uid: entry.attrs.originUid, user: entry.attrs.originUser }, domain: ctx.senderPolicy.domain,
    ...(header.from === undefined ? {} : { from: header.from }),
  });
  if (!sender.ok) {
    const r = sender.error.code === 'SG_NOTE_SENDER_NOT_ALLOWED' ? localReply(Codes.C553SenderNotOwned, `print report: ${sender.error.message.replace('user ', 'spool file owner ')}`) : localReply(Codes.C501BadSenderAddress, `print report: FROM ${sender.error.message.replace(/^--from /, '')}`);
    return { mails: 0, problems: [problem(r, 1)] };
  }
  for (const n of ctx.recorded) await commitStaged(ctx.target.root, ctx.target.writer, sectionEntryId(entry, n));
  const done = new Set(ctx.recorded);
  const fh = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const title = header.title ?? entry.attrs.jobName.toLowerCase();
    const ebcdic = ctx.codepage.ebcdic ? ctx.codepage : undefined;
    const r = await sendPdfMail({
      report: fh.createReadStream({ start: offset, highWaterMark: 256 * 1024, autoClose: false }) as AsyncIterable<Buffer>,
      pdf: {
        format, carriage: header.carriage, ...(ebcdic === undefined ? {} : { codepage: ebcdic }), linesPerPage: header.lines, paper: header.paper, title,
        job: entry.attrs.jobName, ...(header.split === undefined ? {} : { split: header.split }),
        ...(header.header === undefined ? {} : { header: header.header }), ...(header.footer === undefined ? {} : { footer: header.footer }),
      },
      from: sender.value as Mailbox, to: header.to, cc: header.cc, ...(header.fallback === undefined ? {} : { fallback: header.fallback }),
      subject: header.subject ?? (header.split === undefined ? '{title}' : '{title} ({section})'),
      text: header.text ?? 'The report is attached as a PDF file.',
      attachmentName: header.name ?? (header.split === undefined ? '{title}' : '{title}-{section}'),
      target: ctx.target, user: entry.attrs.originUser, jobName: entry.attrs.jobName,
      sections: { done: (n) => done.has(n), entryId: (n) => sectionEntryId(entry, n), record: ctx.record, ...(ctx.stopping === undefined ? {} : { stop: ctx.stopping }) },
    });
    if (!r.ok) return { mails: 0, problems: [problem(localReply(Codes.C501ArgumentSyntax, `print report: ${r.error}`), 1)] };
    if (r.value.interrupted === true) return { mails: r.value.sent.length, problems: [], interrupted: true };
    const problems = r.value.skipped.map((s) => problem(localReply(Codes.C550MailboxUnavailable, `print report section ${s.section} (${s.pages} pages) not sent: ${s.reason}`), 0, s.section));
    if (r.value.sent.length === 0 && r.value.skipped.length === 0 && done.size === 0) problems.push(problem(localReply(Codes.C554TransactionFailed, 'print report: the report has no pages after its header'), 0));
    return { mails: r.value.sent.length, problems };
  } finally {
    await fh.close();
  }
}
