// The one dot-stuffer and the one CRLF normaliser, for every writer of mail text: the SMTP
// client's DATA, POP3 RETR/TOP (RFC 1939 §3: the same byte-stuffing), the mailbox store and the
// spool's own report mail. Pure.
//
// RFC 5321 §4.5.2: before sending a line of mail text the client checks its first character;
// if it is a period, one more period is inserted at the beginning of the line.
// RFC 5321 §2.3.8 / §4.1.1.4: lines end in CRLF; bare CR and bare LF are not allowed in mail
// text, so they are normalised to CRLF here (the DATA reader on the other side rejects them).
// RFC 5321 §4.1.1.4: the data ends with CRLF "." CRLF; when the data does not end with CRLF one
// is added before the terminating line.
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export const DATA_TERMINATOR = Buffer.from('.\r\n', 'latin1');

export class DotStuffer {
  private atLineStart = true;
  private pendingCr = false;
  private ended = false;

  /** Stuffs one chunk; chunk boundaries may fall anywhere (also between CR and LF). */
  push(chunk: Uint8Array): Buffer {
    if (this.ended) throw new Error('DotStuffer.push after end()');
    // Worst case every byte becomes two (a lone "." line start, or bare LF → CRLF), plus one pending CRLF.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let o = 0;
    let runStart = -1; // start of a run of ordinary bytes copied in one go
    const flushRun = (end: number): void => {
      if (runStart >= 0) {
        o += Buffer.from(chunk.buffer, chunk.byteOffset + runStart, end - runStart).copy(out, o);
        runStart = -1;
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        out[o++] = CR;
        out[o++] = LF;
        this.atLineStart = true;
        if (b === LF) continue; // CRLF proper
        // bare CR: already normalised to CRLF; fall through to handle b.
      }
      if (b === CR || b === LF) {
        flushRun(i);
        if (b === CR) { this.pendingCr = true; continue; }
        out[o++] = CR; // bare LF → CRLF
        out[o++] = LF;
        this.atLineStart = true;
        continue;
      }
      if (this.atLineStart) {
        this.atLineStart = false;
        if (b === DOT) { flushRun(i); out[o++] = DOT; }
      }
      if (runStart < 0) runStart = i;
    }
    flushRun(chunk.length);
    return out.subarray(0, o);
  }

  /** The rest of the data: a pending line end, CRLF if the text did not end with one, and ".\r\n". */
  end(): Buffer {
    if (this.ended) throw new Error('DotStuffer.end called twice');
    this.ended = true;
    let tail = '';
    if (this.pendingCr) { tail += '\r\n'; this.pendingCr = false; this.atLineStart = true; }
    if (!this.atLineStart) tail += '\r\n';
    return Buffer.concat([Buffer.from(tail, 'latin1'), DATA_TERMINATOR]);
  }
}

/** Whole-buffer form: the exact bytes to send after the 354, terminator included. */
export function dotStuff(data: Uint8Array): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([s.push(data), s.end()]);
}

/**
 * The one CRLF normaliser: every bare CR, bare LF and CRLF becomes CRLF, and (unless
 * `terminate` is false) a non-empty text that does not end with a line end gets a final CRLF.
 * This is the canonical form of a message as it arrives at an SMTP server (what dot-stuffing then
 * un-stuffing gives back) and as a POP3 client receives it (RFC 1939 §11: sizes count CRLF).
 * Returns the input itself (as a Buffer view) when nothing changes.
 */
export function normaliseLineEnds(data: Uint8Array, opts: { readonly terminate?: boolean } = {}): Buffer {
  const terminate = opts.terminate ?? true;
  const n = data.length;
  let extra = 0;
  for (let i = 0; i < n; i++) {
    const b = data[i];
    if (b === LF ? i === 0 || data[i - 1] !== CR : b === CR && data[i + 1] !== LF) extra++;
  }
  const last = n > 0 ? data[n - 1] : LF;
  const addFinal = terminate && last !== LF && last !== CR;
  const view = Buffer.from(data.buffer, data.byteOffset, n);
  if (extra === 0 && !addFinal) return view;
  const out = Buffer.allocUnsafe(n + extra + 2);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const b = data[i]!;
    if (b === LF && (i === 0 || data[i - 1] !== CR)) { out[o++] = CR; out[o++] = LF; }
    else if (b === CR && data[i + 1] !== LF) { out[o++] = CR; out[o++] = LF; }
    else out[o++] = b;
  }
  if (addFinal) { out[o++] = CR; out[o++] = LF; }
  return out.subarray(0, o);
}
