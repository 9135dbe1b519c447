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
const CRLF_BUF = Buffer.from('\r\n', 'latin1');
const DOT_BUF = Buffer.from('.', 'latin1');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/**
 * The dot-stuffer. Chunks are scanned with Buffer.indexOf for line ends; ordinary text is passed
 * on as views of the chunk, and only what the rules insert (a period, a CRLF for a bare CR or LF)
 * is added between them. Text that is already CRLF with no line starting with "." comes out as
 * one view of its chunk: no copy.
 */
export class DotStuffer {
  private atLineStart = true;
  private pendingCr = false;
  private ended = false;

  /**
   * Stuffs one chunk and appends the result to `out` as views of `chunk` (not copied: the caller
   * must not change the chunk until the views are written) and small constant buffers. Chunk
   * boundaries may fall anywhere, also between CR and LF.
   */
  pushViews(chunk: Uint8Array, out: Buffer[] = []): Buffer[] {
    if (this.ended) throw new Error('DotStuffer.push after end()');
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const n = buf.length;
    if (n === 0) return out;
    let i = 0;
    let run = 0; // start of the ordinary text not yet appended
    if (this.pendingCr) {
      // The CR that ended the previous chunk: CRLF proper, or a bare CR; either way one CRLF.
      this.pendingCr = false;
      out.push(CRLF_BUF);
      this.atLineStart = true;
      if (buf[0] === LF) i = run = 1;
    }
    // Positions of the next CR and LF at or after i (n: none); searched again only once passed.
    let cr = -1;
    let lf = -1;
    while (i < n) {
      if (this.atLineStart) {
        this.atLineStart = false;
        // RFC 5321 §4.5.2: a line of mail text that starts with "." gets one more "." in front.
        if (buf[i] === DOT) {
          if (i > run) out.push(buf.subarray(run, i));
          out.push(DOT_BUF);
          run = i;
        }
      }
      if (cr < i) { cr = buf.indexOf(CR, i); if (cr < 0) cr = n; }
      if (lf < i) { lf = buf.indexOf(LF, i); if (lf < 0) lf = n; }
      if (cr >= n && lf >= n) break; // the rest is the start of a line that goes on in the next chunk
      if (lf < cr) {
        // A bare LF: sent as CRLF.
        if (lf > run) out.push(buf.subarray(run, lf));
        out.push(CRLF_BUF);
        i = run = lf + 1;
      } else if (cr + 1 < n) {
        if (buf[cr + 1] === LF) {
          i = cr + 2; // CRLF proper: stays in the run
        } else {
          // A bare CR: sent as CRLF.
          if (cr > run) out.push(buf.subarray(run, cr));
          out.push(CRLF_BUF);
          i = run = cr + 1;
        }
      } else {
        // A CR that ends the chunk: what follows it decides (next push or end()).
        if (cr > run) out.push(buf.subarray(run, cr));
        this.pendingCr = true;
        run = n;
        break;
      }
      this.atLineStart = true;
    }
    if (n > run) out.push(buf.subarray(run, n));
    return out;
  }

  /** Stuffs one chunk into a new Buffer (a copy: the chunk may be reused afterwards). */
  push(chunk: Uint8Array): Buffer {
    const views = this.pushViews(chunk);
    return views.length === 0 ? EMPTY : Buffer.concat(views);
  }

  /** The rest of the data as buffers: a pending line end, CRLF if the text did not end with one, and ".\r\n". */
  endViews(out: Buffer[] = []): Buffer[] {
    if (this.ended) throw new Error('DotStuffer.end called twice');
    this.ended = true;
    // RFC 5321 §4.1.1.4: the data ends with CRLF "." CRLF; a text without a final line end gets one.
    if (this.pendingCr || !this.atLineStart) out.push(CRLF_TERMINATOR);
    else out.push(DATA_TERMINATOR);
    this.pendingCr = false;
    this.atLineStart = true;
    return out;
  }

  /** The rest of the data: a pending line end, CRLF if the text did not end with one, and ".\r\n". */
  end(): Buffer {
    return Buffer.concat(this.endViews());
  }
}

/** Whole-buffer form: the exact bytes to send after the 354, terminator included. */
export function dotStuff(data: Uint8Array): Buffer {
  const s = new DotStuffer();
  return Buffer.concat(s.endViews(s.pushViews(data)));
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
