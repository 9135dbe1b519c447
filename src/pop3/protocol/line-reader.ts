// Command-line framing for POP3: the SMTP line reader (smtp/protocol/line-reader.ts, the one line
// framer) with POP3's limit. RFC 2449 §4: a command line, CRLF included, is at most 255 octets; a
// longer line is reported once as 'too-long' when its line end arrives, and its bytes are
// discarded as they come, so the rest of it is never read as commands and memory stays bounded.
// LENIENT(RFC 1939 §3): a bare LF also ends a line (telnet users, some scripts).
import { LineReader as Framer } from '../../smtp/protocol/line-reader.js';

export type LineItem = { kind: 'line'; line: Buffer } | { kind: 'too-long' };

export const MAX_COMMAND_OCTETS = 255;

export class LineReader {
  private readonly framer: Framer;

  constructor(maxOctets: number = MAX_COMMAND_OCTETS) {
    this.framer = new Framer({ maxLength: maxOctets });
  }

  push(chunk: Buffer): LineItem[] {
    return this.framer.push(chunk).map((i) => (i.kind === 'line' ? { kind: 'line', line: i.raw } : { kind: 'too-long' }));
  }

  /** Drops buffered input (RFC 2595 §4 / STLS: nothing sent before the handshake may be used after it). */
  reset(): void {
    this.framer.drain();
  }

  get buffered(): number {
    return this.framer.buffered;
  }
}
