// Header handling for messages read from a spool file (SPEC.md §1.1, `Header { Date, UserInfo }`):
// detects the header block, and builds the Received trace header and the Date / Message-ID fields
// that are added when the message lacks them.
//
// RFC 5322 §2.2: a header field is field-name ":" ...; field-name = 1*ftext, ftext = %d33-57 / %d59-126.
// RFC 5322 §2.2.3: a line starting with WSP continues the previous field (folding).
// RFC 5322 §3.3: date-time = [ day-of-week "," ] date time, zone = ("+" / "-") 4DIGIT.
// RFC 5321 §4.4: every relay prepends a Received trace header (FROM, BY, WITH, ID clauses; ";" date).
// Untrusted input: message lines (byte strings) and job attributes (sanitised before use).
import { newMessageIdHeader } from '../core/ids.js';
import { ConfigError } from '../core/errors.js';

export interface HeaderOptions {
  /** Header Date YES: add Date: when the message has none. */
  readonly date: boolean;
  /** Header UserInfo YES: the Received header names the job and the origin user. */
  readonly userInfo: boolean;
  readonly instance: string;
  readonly hostName: string;
  readonly job: { readonly jobName: string; readonly jobId: string; readonly originUser: string };
}

/** RFC 5322 §2.2: true when `line` starts with a field name followed by ':'. */
export function isHeaderFieldLine(line: string): boolean {
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x3a) return i > 0;
    // RFC 5322 §3.6.8: ftext = %d33-57 / %d59-126 (printable US-ASCII except ':').
    if (c < 33 || c > 126) return false;
  }
  return false;
}

/** RFC 5322 §2.2.3: a folded continuation line starts with SP or HTAB. */
export function isContinuationLine(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 0x20 || c === 0x09;
}

/** Lower-cased field name of a header line that passed isHeaderFieldLine. */
export function fieldName(line: string): string {
  return line.slice(0, line.indexOf(':')).toLowerCase();
}

/** Offset from UTC in minutes (east positive) at a given instant. */
export type OffsetFn = (ms: number) => number;

/**
 * The zone used for Date and Received: the configured IANA zone, or the process's own zone
 * (TZ) when none is configured. Throws ConfigError for an unknown zone name.
 */
export function zoneOffsetFn(timeZone?: string): OffsetFn {
  if (timeZone === undefined || timeZone === '') return (ms) => -new Date(ms).getTimezoneOffset();
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  } catch (e) {
    throw new ConfigError(`unknown time zone '${timeZone}'`, { cause: e });
  }
  // Zone offsets change only on whole minutes: the answer is kept for the minute asked last
  // (formatToParts cost more than the rest of parsing a small spooled message).
  let minute = NaN;
  let cached = 0;
  return (ms) => {
    const m0 = Math.floor(ms / 60_000);
    if (m0 === minute) return cached;
    const name = fmt.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    // "GMT", "GMT+01:00", "GMT-03:30"
    const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
    const v = m ? Number(m[2]) * 60 + Number(m[3]) : 0;
    minute = m0;
    cached = m?.[1] === '-' ? -v : v;
    return cached;
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** RFC 5322 §3.3 date-time, e.g. "Sun, 22 Nov 2026 13:00:00 +0100". */
export function formatRfc5322Date(ms: number, offset: OffsetFn): string {
  const off = offset(ms);
  const d = new Date(ms + off * 60_000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${sign}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
}

/** Job names and user ids go into a trace header: keep them to safe printable characters. */
function atomish(s: string, fallback: string): string {
  let out = '';
  for (let i = 0; i < s.length && out.length < 64; i++) {
    const c = s[i]!;
    out += /[A-Za-z0-9$#@._-]/.test(c) ? c : '-';
  }
  return out === '' ? fallback : out;
}

export interface TraceHeaders {
  /** The folded Received header, prepended before the message's own header lines. */
  readonly received: readonly string[];
  /** RFC 5322 §3.3 date-time of reading the message (Received and an added Date). */
  readonly date: string;
  /** The generated msg-id: Received's ID clause, and the Message-ID when the message has none. */
  readonly messageId: string;
}

/** Builds the Received trace header for one message; lines without CRLF. */
export function traceHeaders(opts: HeaderOptions, nowMs: number, offset: OffsetFn): TraceHeaders {
  return traceStamper(opts)(nowMs, offset);
}

/**
 * traceHeaders for many messages with the same options (a spool file's): the sanitised names
 * and the fixed parts of the Received header are built once.
 */
export function traceStamper(opts: HeaderOptions): (nowMs: number, offset: OffsetFn) => TraceHeaders {
  const host = atomish(opts.hostName, 'localhost');
  const instance = atomish(opts.instance, 'SPOOLGATE');
  // RFC 5321 §4.4: Stamp = From-domain By-domain Opt-info [CFWS] ";" FWS date-time, with the
  // ID clause a msg-id. UserInfo YES names the job and its origin user; NO names only this instance.
  const from = opts.userInfo
    ? `from ${atomish(opts.job.jobName, 'JOB')} (job ${atomish(opts.job.jobId, 'unknown')} user ${atomish(opts.job.originUser, 'unknown')})`
    : `from ${instance}`;
  const first = `Received: ${from}`;
  const by = `\tby ${host} (spoolgate ${instance}) with BSMTP id `;
  // The date has a resolution of one second: formatted once per second (and zone function).
  let second = NaN;
  let zone: OffsetFn | undefined;
  let date = '';
  return (nowMs, offset) => {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== second || offset !== zone) {
      date = formatRfc5322Date(nowMs, offset);
      second = sec;
      zone = offset;
    }
    const messageId = newMessageIdHeader(host, nowMs);
    // RFC 5322 §2.2.3: folded before "by" and after ";" to stay near 78 characters.
    const received = [first, `${by}${messageId};`, `\t${date}`];
    return { received, date, messageId };
  };
}

/** The fields added at the end of the header block: Date (with Header Date YES) and Message-ID, when missing. */
export function missingFields(trace: TraceHeaders, addDate: boolean, has: { date: boolean; messageId: boolean }): string[] {
  const out: string[] = [];
  if (addDate && !has.date) out.push(`Date: ${trace.date}`);
  if (!has.messageId) out.push(`Message-ID: ${trace.messageId}`);
  return out;
}

/**
 * Follows the header block of one message line by line. accept() returns false for the first
 * line that is not part of the header block (that line, and the rest, are body).
 */
export class HeaderScanner {
  hasDate = false;
  hasMessageId = false;
  /** A Content-Type or MIME-Version field (RFC 2045 §4, §5): the message declares its own MIME. */
  hasMime = false;
  private lines = 0;

  /** `line` is a non-empty data line seen while still in the header block. */
  accept(line: string): boolean {
    if (isHeaderFieldLine(line)) {
      this.lines++;
      const c = line.charCodeAt(0) | 0x20;
      // Cheap first-letter check before building the lower-cased name.
      if (c === 0x64 || c === 0x6d || c === 0x63) {
        const name = fieldName(line);
        if (name === 'date') this.hasDate = true;
        else if (name === 'message-id') this.hasMessageId = true;
        else if (name === 'content-type' || name === 'mime-version') this.hasMime = true;
      }
      return true;
    }
    // RFC 5322 §2.2.3: continuation of the previous field; a leading WSP line with no field
    // before it is body text.
    if (this.lines > 0 && isContinuationLine(line)) return true;
    return false;
  }
}

/** One line of a header block: its bytes data[start, end) (line end included), CR-stripped text. */
export interface HeaderLine { readonly start: number; readonly end: number; readonly text: string }

/**
 * The header block of a message (RFC 5322 §2.1, HeaderScanner's rule): its lines with offsets,
 * where it ends (the offset of the empty line or of the first body line), whether an empty
 * line ends it, and the scanner (Date / Message-ID seen).
 */
export function headerSection(data: Buffer): { lines: HeaderLine[]; end: number; blankLine: boolean; scanner: HeaderScanner } {
  const scanner = new HeaderScanner();
  const lines: HeaderLine[] = [];
  let pos = 0;
  while (pos < data.length) {
    const nl = data.indexOf(0x0a, pos);
    const end = nl < 0 ? data.length : nl + 1;
    let text = data.subarray(pos, nl < 0 ? data.length : nl).toString('latin1');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text === '') return { lines, end: pos, blankLine: true, scanner };
    if (!scanner.accept(text)) break;
    lines.push({ start: pos, end, text });
    pos = end;
  }
  return { lines, end: pos, blankLine: false, scanner };
}

export interface SubmissionStamp {
  readonly hostName: string;
  readonly instance: string;
  /** Header UserInfo YES: name the submitting user; NO: only this instance. */
  readonly userInfo: boolean;
  /** Header Date YES: add Date: when the message has none. */
  readonly date: boolean;
  readonly user: string;
  /** The submission tool, for the Received comment ("note", "sendmail"). */
  readonly tool: string;
}

/**
 * A locally submitted message (note, sendmail) as it is queued: our Received trace field on top
 * (RFC 5321 §4.4, the form Postfix's pickup uses: "by host (... from userid ...) id ...; date"),
 * and Date / Message-ID added at the end of the header block when missing (RFC 5322 §3.6: both
 * are required; a submission service adds them, RFC 6409 §8). The rest is left byte for byte.
 * Added lines end in CRLF; the message's own lines are not touched.
 */
export function stampSubmission(data: Buffer, s: SubmissionStamp, nowMs: number, offset: OffsetFn): Buffer {
  const date = formatRfc5322Date(nowMs, offset);
  const host = atomish(s.hostName, 'localhost');
  const messageId = newMessageIdHeader(host, nowMs);
  const who = s.userInfo ? `, from user ${atomish(s.user, 'unknown')}` : '';
  const received = `Received: by ${host} (spoolgate ${atomish(s.instance, 'SPOOLGATE')} ${atomish(s.tool, 'submission')}${who})\r\n\tid ${messageId};\r\n\t${date}\r\n`;
  const { end: pos, scanner } = headerSection(data);
  const added = missingFields({ received: [], date, messageId }, s.date, { date: scanner.hasDate, messageId: scanner.hasMessageId });
  // A header block that does not end in a line end gets one before the added fields.
  const needsEol = added.length > 0 && pos > 0 && data[pos - 1] !== 0x0a;
  return Buffer.concat([
    Buffer.from(received, 'latin1'),
    data.subarray(0, pos),
    Buffer.from((needsEol ? '\r\n' : '') + added.map((f) => f + '\r\n').join(''), 'latin1'),
    data.subarray(pos),
  ]);
}

const RECEIVED = Buffer.from('received', 'latin1');

/**
 * RFC 5321 §6.3 (loop detection) counts the Received trace fields of a message: "simply counting
 * the number of Received header fields in a message has proven to be an effective, although
 * rarely optimal, technique". Only `Received:` counts. Every MTA adds one per hop (RFC 5321
 * §4.4: MUST), so a loop through any MTA grows it. `Delivered-To:` (Postfix local delivery; this
 * gateway never adds one) is not counted: the Postfix hop that adds it adds a Received too, so it
 * would count that hop twice. `X-Received:` (a provider's internal hops) is not a trace field.
 *
 * Only the header section is read (RFC 5322 §2.1): it ends at the first empty line, or at the
 * first line that is neither a field nor the folded continuation of one (HeaderScanner's rule);
 * a body line that looks like `Received:` does not count. Counting stops once it is above
 * `stopAbove`, so the work is bounded by the header lines up to there.
 */
export function countReceivedFields(data: Buffer, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let count = 0;
  let fields = 0;
  let pos = 0;
  while (pos < data.length && count <= stopAbove) {
    const nl = data.indexOf(0x0a, pos);
    const end = nl < 0 ? data.length : nl;
    const first = data[pos]!;
    if (first === 0x0d || first === 0x0a) break; // the empty line: end of the header section
    if (first === 0x20 || first === 0x09) {
      // RFC 5322 §2.2.3: continuation of the previous field; with no field before it, body.
      if (fields === 0) break;
    } else {
      // RFC 5322 §2.2: field-name = 1*ftext (%d33-57 / %d59-126), then ':'.
      let i = pos;
      while (i < end && data[i]! >= 33 && data[i]! <= 126 && data[i] !== 0x3a) i++;
      if (i === pos || i >= end || data[i] !== 0x3a) break; // not a field: the body starts here
      fields++;
      if (i - pos === RECEIVED.length && asciiLowerEquals(data, pos, RECEIVED)) count++;
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  return count;
}

function asciiLowerEquals(data: Buffer, at: number, lower: Buffer): boolean {
  for (let k = 0; k < lower.length; k++) if ((data[at + k]! | 0x20) !== lower[k]) return false;
  return true;
}

/**
 * The hop limit (MaxReceivedHeaders) applied to a message as the gateway holds it, with the one
 * Received field it added on top (the receiver's, the spool reader's or the submission tool's):
 * true when the message arrived with more than `limit` Received fields. So with the default 100
 * a message that came with 100 passes (and leaves with 101) and one that came with 101 does not.
 */
export function overHopLimit(data: Buffer, limit: number): boolean {
  return countReceivedFields(data, limit + 1) > limit + 1;
}

/**
 * The Message-ID of a message (RFC 5322 §3.6.4: `msg-id` in the first Message-ID field of the
 * header block), for the delivery log line; undefined when there is none. Reads only the header
 * block and at most 998 octets of the field (RFC 5322 §2.1.1), so a huge message costs nothing.
 */
export function messageIdOf(data: Buffer): string | undefined {
  const { lines } = headerSection(data);
  for (let i = 0; i < lines.length; i++) {
    if (!isHeaderFieldLine(lines[i]!.text) || fieldName(lines[i]!.text).toLowerCase() !== 'message-id') continue;
    let v = lines[i]!.text.slice(lines[i]!.text.indexOf(':') + 1);
    for (let j = i + 1; j < lines.length && isContinuationLine(lines[j]!.text); j++) v += lines[j]!.text;
    const m = /<[^<>\s]{1,996}>/.exec(v.slice(0, 998));
    return m?.[0] ?? (v.trim() === '' ? undefined : v.trim().slice(0, 998).replace(/\s+/g, ' '));
  }
  return undefined;
}
