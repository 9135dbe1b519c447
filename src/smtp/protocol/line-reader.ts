// Incremental SMTP command-line reader (framing only; no sockets). Bytes go in with feed()/push(),
// complete lines come out. Memory stays bounded: a line longer than the limit is reported once
// as 'too-long' when its end arrives, and its bytes are dropped as they come in.
//
// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including the CRLF.
// RFC 5321 §2.3.8: lines end in CRLF.
// LENIENT(RFC 5321 §2.3.8): a bare LF also ends a command line (the CR, if any, is stripped).
// Many clients and scripts send LF; the strict rule matters only inside DATA, where
// data-reader.ts enforces it (SMTP smuggling).

export const MAX_COMMAND_LINE = 512;

export type LineItem =
  /** A complete line without its line ending. `octets` counts the line as sent, ending included. */
  | { readonly kind: 'line'; readonly text: string; readonly raw: Buffer; readonly octets: number }
  /** A line longer than the limit; its content was discarded. `octets` counts what was dropped. */
  | { readonly kind: 'too-long'; readonly octets: number };

export interface LineReaderOptions {
  /** Maximum line length in octets including CRLF (default 512). */
  readonly maxLength?: number;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  private readonly max: number;
  private buf: Buffer = Buffer.alloc(0);
  /** Octets of an over-long line dropped so far; -1 when not skipping. */
  private skipped = -1;

  constructor(opts: LineReaderOptions = {}) {
    this.max = opts.maxLength ?? MAX_COMMAND_LINE;
  }

  /** Adds bytes; returns every line completed by them. */
  push(chunk: Buffer): LineItem[] {
    this.feed(chunk);
    const out: LineItem[] = [];
    for (let it = this.next(); it !== undefined; it = this.next()) out.push(it);
    return out;
  }

  /** Adds bytes without extracting lines (use next()). */
  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.trim();
  }

  /** Extracts the next complete line, or undefined when none is complete yet. */
  next(): LineItem | undefined {
    const lf = this.buf.indexOf(LF);
    if (lf < 0) {
      this.trim();
      return undefined;
    }
    const octets = lf + 1;
    const line = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(octets);
    if (this.skipped >= 0) {
      const total = this.skipped + octets;
      this.skipped = -1;
      return { kind: 'too-long', octets: total };
    }
    const raw = line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
    // The limit counts CRLF; a bare-LF line is measured as if it had its CR.
    if (raw.length + 2 > this.max) return { kind: 'too-long', octets };
    return { kind: 'line', text: raw.toString('utf8'), raw: Buffer.from(raw), octets };
  }

  /**
   * Removes and returns every buffered byte not yet returned as a line: the start of DATA content
   * after a pipelined DATA command, or plaintext pipelined after STARTTLS (to be discarded).
   * An over-long line being skipped is abandoned.
   */
  drain(): Buffer {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    this.skipped = -1;
    return rest;
  }

  /** Octets held, waiting for a line end. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Drops the head of an unterminated line once it exceeds the limit, so memory stays bounded. */
  private trim(): void {
    if (this.buf.indexOf(LF) >= 0) return;
    if (this.skipped >= 0) {
      this.skipped += this.buf.length;
      this.buf = Buffer.alloc(0);
      return;
    }
    if (this.buf.length > this.max) {
      // Keep nothing of the line: we already know it is too long.
      this.skipped = this.buf.length;
      this.buf = Buffer.alloc(0);
    }
  }
}
