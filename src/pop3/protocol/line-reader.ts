// Incremental command-line framing for POP3: push(chunk) returns complete lines (without the
// line end). RFC 2449 §4: a command line, CRLF included, is at most 255 octets; a longer line is
// reported once as 'too-long' and its bytes are discarded up to its line end, so the rest of it
// is never read as commands. Memory is bounded by the limit, whatever the client sends.

export type LineItem = { kind: 'line'; line: Buffer } | { kind: 'too-long' };

export const MAX_COMMAND_OCTETS = 255;

export class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  private discarding = false;

  constructor(private readonly maxOctets: number = MAX_COMMAND_OCTETS) {}

  push(chunk: Buffer): LineItem[] {
    const out: LineItem[] = [];
    let data = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const lf = data.indexOf(0x0a);
      if (lf < 0) break;
      if (this.discarding) {
        this.discarding = false;
      } else if (lf + 1 > this.maxOctets) {
        out.push({ kind: 'too-long' });
      } else {
        // LENIENT(RFC 1939 §3): a bare LF also ends a line (telnet users, some scripts); the CR is optional.
        const end = lf > 0 && data[lf - 1] === 0x0d ? lf - 1 : lf;
        out.push({ kind: 'line', line: Buffer.from(data.subarray(0, end)) });
      }
      data = data.subarray(lf + 1);
    }
    if (data.length >= this.maxOctets) {
      if (!this.discarding) out.push({ kind: 'too-long' });
      this.discarding = true;
      data = Buffer.alloc(0);
    }
    this.buf = Buffer.from(data);
    return out;
  }

  /** Drops buffered input (RFC 2595 §4 / STLS: nothing sent before the handshake may be used after it). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.discarding = false;
  }

  get buffered(): number {
    return this.buf.length;
  }
}
