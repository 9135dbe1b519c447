// Collects the lines of one message (CRLF line ends) in one reusable buffer: byte-string lines
// (headers) are written with latin1 encoding, runs of body records are copied as bytes straight
// from the record decoder's arena. No string concatenation of the whole message, and one copy
// into an exactly-sized Buffer when the message is finished.
const INITIAL = 64 * 1024;
/** A buffer grown past this for one big message is dropped afterwards (memory stays bounded). */
const KEEP = 1024 * 1024;

export class DataWriter {
  private buf: Buffer = Buffer.allocUnsafe(0);
  private pos = 0;

  get size(): number {
    return this.pos;
  }

  private room(need: number): Buffer {
    if (this.pos + need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.pos + need, this.buf.length * 2, INITIAL));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.buf;
  }

  /** Appends `line` + CRLF. `line` is a byte string (char codes 0–255). */
  line(line: string): void {
    const b = this.room(line.length + 2);
    if (line.length > 0) this.pos += b.write(line, this.pos, 'latin1');
    b[this.pos++] = 0x0d;
    b[this.pos++] = 0x0a;
  }

  /** Appends src[from, to) as it is (lines with their CRLF). */
  bytes(src: Buffer, from: number, to: number): void {
    const b = this.room(to - from);
    this.pos += src.copy(b, this.pos, from, to);
  }

  /** The message as one exactly-sized Buffer of its own; the writer is empty afterwards. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.reset();
    return out;
  }

  reset(): void {
    this.pos = 0;
    if (this.buf.length > KEEP) this.buf = Buffer.allocUnsafe(0);
  }
}
