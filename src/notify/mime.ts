// Small MIME/RFC 5322 helpers for the mails this role generates (DSNs, error reports). Kept by
// hand because multipart/report is simple and every byte we emit must be 7-bit-safe, CRLF only and
// ≤ 998 octets per line; tested in mime.test.ts.
import { randomBytes } from 'node:crypto';

// The one CRLF normaliser (smtp/protocol), under the name this role's builders use.
export { normaliseLineEnds as toCrlf } from '../smtp/protocol/dot-stuff.js';

export const CRLF = '\r\n';
/** RFC 5322 §2.1.1: a line MUST be no more than 998 characters, excluding the CRLF. */
export const MAX_LINE = 998;
/** RFC 5322 §2.1.1: SHOULD be no more than 78 characters. */
export const SOFT_LINE = 78;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function two(n: number): string {
  return n.toString().padStart(2, '0');
}

/** RFC 5322 §3.3 date-time in UTC, e.g. "Sun, 22 Nov 2026 12:00:00 +0000". */
export function formatDate(d: Date): string {
  return `${DAYS[d.getUTCDay()]!}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]!} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/**
 * Printable US-ASCII only: CR/LF and other controls become spaces, runs of white space collapse,
 * non-ASCII becomes "?". For header field values built from untrusted text (reply texts).
 */
export function asciiText(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').replace(/ {2,}/g, ' ').trim();
}

/**
 * RFC 5322 §2.2.3: folds a header field at white space so that lines stay ≤ 78 where possible.
 * A word longer than the limit is kept whole (it can still not exceed MAX_LINE: callers bound
 * their values with asciiText and truncate()).
 */
export function foldHeader(name: string, value: string): string {
  const words = value.split(' ');
  let line = `${name}:`;
  const lines: string[] = [];
  for (const w of words) {
    if (w === '') continue;
    if (line.length + 1 + w.length > SOFT_LINE && line.trim().length > name.length + 1) {
      lines.push(line);
      line = ` ${w}`;
    } else {
      line += ` ${w}`;
    }
  }
  lines.push(line);
  return lines.join(CRLF);
}

/** Bounds a string to max characters, marking the cut. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 3))}...`;
}

/** Wraps plain text at white space to lines ≤ width (a longer word is cut hard at MAX_LINE). */
export function wrapText(text: string, width = 76): string[] {
  const out: string[] = [];
  for (const para of text.split(/\r\n|\n|\r/)) {
    let line = '';
    for (const word of para.split(' ')) {
      let w = word;
      if (w.length > MAX_LINE && line !== '') { out.push(line); line = ''; }
      while (w.length > MAX_LINE) { out.push(w.slice(0, MAX_LINE)); w = w.slice(MAX_LINE); }
      if (line === '') line = w;
      else if (line.length + 1 + w.length > width) { out.push(line); line = w; }
      else line += ` ${w}`;
    }
    out.push(line);
  }
  return out;
}

/** True when the bytes contain anything outside 7-bit US-ASCII. */
export function has8bit(b: Uint8Array): boolean {
  for (const c of b) if (c >= 0x80) return true;
  return false;
}

/**
 * RFC 2045 §6.7 quoted-printable of UTF-8 text (line ends become CRLF; soft breaks keep lines
 * ≤ 76). Used for text whose content we do not control (spool error reports).
 */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      const last = i === bytes.length - 1;
      // RFC 2045 §6.7 (3): white space at the end of an encoded line must be encoded.
      const literal = (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !last);
      const enc = literal ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      // RFC 2045 §6.7 (5): encoded lines ≤ 76 characters, soft line break "=".
      if (cur.length + enc.length > 75) { out.push(`${cur}=`); cur = ''; }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join(CRLF);
}

/** Length of the longest line (CRLF, CR or LF separated) in bytes. */
export function longestLine(b: Buffer): number {
  let max = 0;
  let cur = 0;
  for (const c of b) {
    if (c === 0x0a || c === 0x0d) { cur = 0; continue; }
    cur++;
    if (cur > max) max = cur;
  }
  return max;
}

/**
 * The header section of a message (up to and excluding the empty line), or the whole message
 * when it has no body separator.
 */
export function headerSection(data: Buffer): Buffer {
  const s = data.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  if (m === null) return data;
  return data.subarray(0, m.index);
}

/** Unfolded header fields (name lower-cased, value trimmed) of a message. Lenient: bad lines are skipped. */
export function parseHeaderFields(data: Buffer): { name: string; value: string }[] {
  const text = headerSection(data).toString('latin1');
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      // RFC 5322 §2.2.3: unfolding removes the CRLF before white space.
      fields[fields.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) });
  }
  return fields.map((f) => ({ name: f.name, value: f.value.trim() }));
}

/**
 * RFC 2046 §5.1.1: a boundary that does not occur in any of the parts. Random, and checked
 * against the content anyway.
 */
export function chooseBoundary(parts: readonly (string | Buffer)[]): string {
  for (;;) {
    const b = `=_spoolgate_${randomBytes(12).toString('hex')}`;
    if (parts.every((p) => !(typeof p === 'string' ? p.includes(b) : p.includes(b, 0, 'latin1')))) return b;
  }
}
