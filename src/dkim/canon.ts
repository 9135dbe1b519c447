// DKIM "relaxed" canonicalisation (RFC 6376 §3.4.2, §3.4.4) and the header section reader the
// signer needs. Pure: no files, no sockets.
//
// Line ends: the forwarder hands the SMTP client the message as spooled, and the client's
// DotStuffer normalises every bare CR and bare LF to CRLF on the wire (smtp/protocol/dot-stuff.ts).
// The signature must cover the bytes the target receives, so every rule here reads CRLF, a bare
// CR and a bare LF alike as one line end, exactly as the DotStuffer does; a message with bare LFs
// is signed as the CRLF text it becomes, without copying it first.
import type { Hash } from 'node:crypto';

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

/** The header section is read up to this many octets; a message whose header section is longer is not signed. */
export const MAX_HEADER_SECTION_BYTES = 1024 * 1024;

/** One header field as it stands in the message (latin1 string: one char per octet, byte-exact). */
export interface HeaderField {
  /** The name as written. */
  readonly name: string;
  /** Lower-cased name: the key for h= (RFC 6376 §3.5: h= names are compared case-insensitively). */
  readonly key: string;
  /** Everything after the colon, continuation lines and their line ends included. */
  readonly rawValue: string;
}

export type HeaderSection =
  | { readonly ok: true; readonly fields: readonly HeaderField[]; readonly bodyStart: number }
  | { readonly ok: false; readonly problem: 'too-large' | 'malformed' };

/** RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Splits the header section into fields (RFC 5322 §2.2: a line that starts with WSP continues the
 * field above it; the section ends at the first empty line, or at the end of a message with no
 * body). A line that is neither a field nor a continuation makes the section malformed: it is
 * not signed, because verifiers disagree on what such a line is.
 */
export function readHeaderSection(data: Uint8Array, max = MAX_HEADER_SECTION_BYTES): HeaderSection {
  const n = data.length;
  const fields: { start: number; colon: number; end: number }[] = [];
  let i = 0;
  for (;;) {
    if (i >= n) break; // no body: the whole message is the header section
    if (i > max) return { ok: false, problem: 'too-large' };
    // One line [i, eol) and its terminator [eol, next).
    let eol = i;
    while (eol < n && data[eol] !== CR && data[eol] !== LF) {
      if (eol - i > max) return { ok: false, problem: 'too-large' };
      eol++;
    }
    const next = eol >= n ? n : data[eol] === CR && eol + 1 < n && data[eol + 1] === LF ? eol + 2 : eol + 1;
    if (eol === i) { i = next; break; } // the empty line: the body follows
    const first = data[i];
    if (first === SP || first === HT) {
      const last = fields[fields.length - 1];
      if (last === undefined) return { ok: false, problem: 'malformed' };
      last.end = next;
    } else {
      const colon = data.subarray(i, eol).indexOf(COLON);
      if (colon <= 0) return { ok: false, problem: 'malformed' };
      fields.push({ start: i, colon: i + colon, end: next });
    }
    i = next;
  }
  if (i > max) return { ok: false, problem: 'too-large' };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const out: HeaderField[] = [];
  for (const f of fields) {
    // WSP before the colon is obsolete syntax (RFC 5322 §4.5); relaxed
    // canonicalisation would drop it, but verifiers refuse such a header (dkimpy: "Unexpected
    // characters in ... header"), so a message with one is not signed.
    const name = buf.toString('latin1', f.start, f.colon);
    if (!FIELD_NAME.test(name)) return { ok: false, problem: 'malformed' };
    out.push({ name, key: name.toLowerCase(), rawValue: buf.toString('latin1', f.colon + 1, f.end) });
  }
  return { ok: true, fields: out, bodyStart: i };
}

/**
 * The unfolded value (RFC 5322 §2.2.3): line ends removed, nothing else changed. What the
 * address of a From field is read from.
 */
export function unfold(rawValue: string): string {
  return rawValue.replace(/\r\n|\r|\n/g, '');
}

/**
 * RFC 6376 §3.4.2 "relaxed" header canonicalisation of one field, with its CRLF:
 *   - the field name in lower case;
 *   - unfold (every line end removed);
 *   - every run of WSP (SP, HTAB) becomes one SP;
 *   - WSP at the end of the value is deleted;
 *   - WSP before and after the colon is deleted.
 */
export function relaxedHeader(key: string, rawValue: string): string {
  return `${key}:${relaxedValue(rawValue)}\r\n`;
}

/** The value part of §3.4.2 (no name, no CRLF). */
export function relaxedValue(rawValue: string): string {
  return unfold(rawValue).replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/** Copies canonical body octets into a fixed scratch buffer and feeds the hash block by block. */
class HashWriter {
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  constructor(private readonly hash: Hash, private readonly data: Uint8Array) {}

  /** data[from, to) as it is. Long runs go to the hash directly (no copy). */
  copy(from: number, to: number): void {
    const len = to - from;
    if (len >= 16 * 1024) {
      this.flush();
      this.hash.update(this.data.subarray(from, to));
      return;
    }
    if (this.used + len > this.scratch.length) this.flush();
    if (len < 64) {
      // Short runs (words between blank runs in report text): a loop beats making a subarray.
      const s = this.scratch;
      const d = this.data;
      let u = this.used;
      for (let i = from; i < to; i++) s[u++] = d[i]!;
      this.used = u;
      return;
    }
    this.scratch.set(this.data.subarray(from, to), this.used);
    this.used += len;
  }

  byte(b: number): void {
    if (this.used === this.scratch.length) this.flush();
    this.scratch[this.used++] = b;
  }

  crlf(): void {
    this.byte(CR);
    this.byte(LF);
  }

  flush(): void {
    if (this.used > 0) this.hash.update(this.scratch.subarray(0, this.used));
    this.used = 0;
  }
}

/** The next position of a byte or string at or after a position, asked with growing positions (one native scan each time it is passed). */
class Finder {
  private found = -1;
  constructor(private readonly buf: Buffer, private readonly needle: number | string) {}
  at(pos: number): number {
    if (this.found < pos) {
      const i = this.buf.indexOf(this.needle, pos, 'latin1');
      this.found = i < 0 ? this.buf.length : i;
    }
    return this.found;
  }
}

/**
 * Feeds the RFC 6376 §3.4.4 "relaxed" canonical form of the body data[start..] to `hash`, in one
 * pass over the message, with a fixed 64 KiB scratch buffer (the message is never copied):
 *   a. WSP at the end of a line is ignored, and every other run of WSP becomes one SP;
 *   b. empty lines at the end of the body are ignored;
 *   and (§3.4.4, last paragraph) a non-empty body that does not end with CRLF gets one. An empty
 *   body stays empty.
 * Line ends are CRLF, bare CR or bare LF (see the header of this file).
 * A line that the rules leave as it is (CRLF-terminated, not empty, no HTAB, no two SPs in a
 * row, no SP at its end: most text and every base64 line) is found with native searches and
 * hashed together with its neighbours in one piece; only the other lines are read octet by octet.
 */
export function hashRelaxedBody(data: Uint8Array, start: number, hash: Hash): void {
  const w = new HashWriter(hash, data);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const n = data.length;
  const cr = new Finder(buf, CR);
  const lf = new Finder(buf, LF);
  const tab = new Finder(buf, HT);
  const twoSpaces = new Finder(buf, '  ');
  let pendingEmpty = 0; // empty lines seen and not yet written: only written if content follows (b)
  let clean = -1; // start of a run of lines that are canonical as they are
  let pos = start;
  while (pos < n) {
    const l = lf.at(pos);
    const c = cr.at(pos);
    let eol: number;
    let next: number;
    let crlf = false;
    if (c < l && (l === n || c + 1 !== l)) { eol = c; next = c + 1; } // a bare CR ends the line
    else if (l < n) { crlf = c + 1 === l; eol = crlf ? c : l; next = l + 1; } // CRLF, or a bare LF
    else { eol = n; next = n; } // the last line, without a line end
    if (crlf && eol > pos && data[eol - 1] !== SP && tab.at(pos) >= eol && twoSpaces.at(pos) >= eol) {
      if (clean < 0) {
        for (; pendingEmpty > 0; pendingEmpty--) w.crlf();
        clean = pos;
      }
      pos = next;
      continue;
    }
    if (clean >= 0) { w.copy(clean, pos); clean = -1; }
    pendingEmpty = relaxedLine(w, data, pos, eol, pendingEmpty);
    pos = next;
  }
  if (clean >= 0) w.copy(clean, pos);
  w.flush();
}

/**
 * One line data[from, eol) (its line end not included) octet by octet, by rule (a); a line with
 * content first writes the empty lines before it, and ends with CRLF. Returns the empty lines
 * still pending (b).
 */
function relaxedLine(w: HashWriter, data: Uint8Array, from: number, eol: number, pendingEmpty: number): number {
  let content = false; // the line has something besides WSP
  let space = false; // a WSP run waits to be written as one SP (a)
  let run = -1; // start of octets to copy as they are
  for (let i = from; i < eol; i++) {
    const b = data[i]!;
    if (b === SP || b === HT) {
      // A single SP followed by more text is already canonical: it stays in the run.
      const lone = b === SP && !space && i + 1 < eol && data[i + 1] !== SP && data[i + 1] !== HT;
      if (!lone) {
        if (run >= 0) { w.copy(run, i); run = -1; }
        space = true;
        continue;
      }
    }
    if (!content) {
      content = true;
      for (; pendingEmpty > 0; pendingEmpty--) w.crlf();
    }
    if (space) { w.byte(SP); space = false; }
    if (run < 0) run = i;
  }
  if (run >= 0) w.copy(run, eol);
  if (!content) return pendingEmpty + 1; // (a): WSP at the end of a line is ignored, so is the line
  w.crlf();
  return 0;
}
