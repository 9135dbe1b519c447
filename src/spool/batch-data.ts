// Collects the lines of one message into Buffer chunks (CRLF line ends), writing each byte-string
// line straight into a chunk with latin1 encoding: no string concatenation of the whole message.
const CHUNK = 64 * 1024;

export class DataWriter {
  private chunks: Buffer[] = [];
  private cur: Buffer = Buffer.allocUnsafe(0);
  private pos = 0;
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Appends `line` + CRLF. `line` is a byte string (char codes 0–255). */
  line(line: string): void {
    const need = line.length + 2;
    if (this.cur.length - this.pos < need) {
      if (this.pos > 0) this.chunks.push(this.cur.subarray(0, this.pos));
      this.cur = Buffer.allocUnsafe(need > CHUNK ? need : CHUNK);
      this.pos = 0;
    }
    if (line.length > 0) this.pos += this.cur.write(line, this.pos, 'latin1');
    this.cur[this.pos++] = 0x0d;
    this.cur[this.pos++] = 0x0a;
    this.total += need;
  }

  /** The message as one exactly-sized Buffer; the writer is empty afterwards. */
  finish(): Buffer {
    if (this.pos > 0) this.chunks.push(this.cur.subarray(0, this.pos));
    const out = Buffer.concat(this.chunks, this.total);
    this.reset();
    return out;
  }

  reset(): void {
    this.chunks = [];
    this.cur = Buffer.allocUnsafe(0);
    this.pos = 0;
    this.total = 0;
  }
}
