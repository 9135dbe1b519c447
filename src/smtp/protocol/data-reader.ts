// The DATA content reader: a byte state machine (framing only; no sockets). It undoes
// dot-stuffing, finds the final CRLF.CRLF, flags bare CR and bare LF, enforces a size limit, and
// returns the message bytes and whatever followed the final dot (pipelined commands).
//
// RFC 5321 §4.1.1.4: the mail data ends with a line holding only ".", i.e. CRLF "." CRLF; the
//   CRLF that ended the DATA command counts as the first CRLF (an empty message is ".\r\n").
// RFC 5321 §4.5.2: a line starting with "." has that first "." removed (transparency).
// RFC 5321 §2.3.8: CR and LF only occur together as CRLF. A bare LF or bare CR is recorded as an
//   error ('bare-lf' / 'bare-cr') and the message must be rejected; it never ends a line for the
//   purpose of finding the final dot, so "\n.\n", "\r.\r", "\n.\r\n" and the like cannot end the
//   message early (SMTP smuggling: what a lenient next hop sees as a second message would
//   otherwise be read by us as commands).
// Size: past the limit the bytes are counted but not kept, and reading continues to the real
//   final dot — chasquid's reason: stopping early would make the rest of the body be parsed as
//   commands.

export type DataError = 'bare-lf' | 'bare-cr' | 'too-big';

export interface DataPush {
  /** Octets of the chunk that belong to the DATA content (final dot line included). */
  readonly consumed: number;
  /** The final dot was seen. */
  readonly done: boolean;
  /** The first problem seen so far, if any. */
  readonly error?: DataError;
  /** When done: the bytes after the final dot line (pipelined commands), possibly empty. */
  readonly leftover?: Buffer;
}

export interface DataResult {
  /** The unstuffed message; truncated to the limit when error is 'too-big'. */
  readonly data: Buffer;
  /** Exact octet count of the unstuffed message (all of it, even past the limit). */
  readonly size: number;
  readonly error?: DataError;
  readonly bareLf: boolean;
  readonly bareCr: boolean;
  readonly tooBig: boolean;
}

const enum St {
  /** At the beginning of a line (after CRLF, or at the start of the content). */
  Bol,
  /** "." at the beginning of a line, withheld. */
  BolDot,
  /** ".\r" at the beginning of a line, withheld. */
  BolDotCr,
  /** Inside a line. */
  Mid,
  /** "\r" seen inside a line (emitted), waiting for "\n". */
  Cr,
  /** Final dot seen. */
  Done,
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface DataReaderOptions {
  /** Maximum message size in octets (unstuffed, without the final dot); 0 = no limit. */
  readonly maxBytes: number;
}

export class DataReader {
  private st: St = St.Bol;
  private readonly max: number;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private kept = 0;
  private firstError: DataError | undefined;
  private bareLf = false;
  private bareCr = false;
  private tooBig = false;
  private scratch: Buffer = Buffer.alloc(0);

  constructor(opts: DataReaderOptions) {
    this.max = opts.maxBytes;
  }

  get done(): boolean {
    return this.st === St.Done;
  }

  /** Octets of message content counted so far. */
  get octets(): number {
    return this.size;
  }

  push(chunk: Buffer): DataPush {
    if (this.st === St.Done) return { consumed: 0, done: true, leftover: chunk, ...this.errorField() };
    // One scratch buffer per reader, reused: keep() copies what it keeps, so no chunk-sized
    // garbage is made per push (100 MB past the limit would otherwise churn 100 MB of buffers).
    if (this.scratch.length < chunk.length + 2) this.scratch = Buffer.allocUnsafe(Math.max(chunk.length + 2, 16 * 1024));
    const out = this.scratch;
    let n = 0;
    let i = 0;
    let st: St = this.st;
    for (; i < chunk.length && st !== St.Done; i++) {
      const b = chunk[i]!;
      switch (st) {
        case St.Bol:
          if (b === DOT) { st = St.BolDot; break; }
          out[n++] = b;
          st = b === CR ? St.Cr : b === LF ? this.onBareLf() : St.Mid;
          break;
        case St.BolDot:
          if (b === CR) { st = St.BolDotCr; break; }
          // RFC 5321 §4.5.2: the leading "." was stuffing; drop it.
          out[n++] = b;
          st = b === LF ? this.onBareLf() : St.Mid;
          break;
        case St.BolDotCr:
          if (b === LF) { st = St.Done; break; }
          // ".\r" then not "\n": bare CR; the dot was stuffing.
          this.onBareCr();
          out[n++] = CR;
          out[n++] = b;
          st = b === CR ? St.Cr : b === LF ? this.onBareLf() : St.Mid;
          break;
        case St.Mid:
          out[n++] = b;
          st = b === CR ? St.Cr : b === LF ? this.onBareLf() : St.Mid;
          break;
        case St.Cr:
          out[n++] = b;
          if (b === LF) { st = St.Bol; break; }
          this.onBareCr();
          st = b === CR ? St.Cr : St.Mid;
          break;
      }
    }
    this.st = st;
    this.keep(out.subarray(0, n));
    const done = st === St.Done;
    return { consumed: i, done, ...(done ? { leftover: chunk.subarray(i) } : {}), ...this.errorField() };
  }

  /** The message so far (complete once done). */
  result(): DataResult {
    return {
      data: Buffer.concat(this.parts, this.kept),
      size: this.size,
      ...this.errorField(),
      bareLf: this.bareLf,
      bareCr: this.bareCr,
      tooBig: this.tooBig,
    };
  }

  private errorField(): { error?: DataError } {
    return this.firstError === undefined ? {} : { error: this.firstError };
  }

  private onBareLf(): St {
    this.bareLf = true;
    this.firstError ??= 'bare-lf';
    // Not a line end: a following "." is content, never the final dot.
    return St.Mid;
  }

  private onBareCr(): void {
    this.bareCr = true;
    this.firstError ??= 'bare-cr';
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.tooBig) return;
    if (this.max > 0 && this.size > this.max) {
      this.tooBig = true;
      this.firstError ??= 'too-big';
      const room = this.max - this.kept;
      if (room > 0) this.parts.push(Buffer.from(bytes.subarray(0, room)));
      this.kept += Math.max(0, room);
      return;
    }
    this.parts.push(Buffer.from(bytes));
    this.kept += bytes.length;
  }
}
