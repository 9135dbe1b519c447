// The items one push of the record decoder (records.ts) completes, as columns over one byte arena:
// no object and no JS string per record. The batch parser reads record texts as bytes from it.
export type RecordProblem = 'control-character' | 'record-too-long' | 'bad-rdw' | 'truncated-record' | 'invalid-dbcs';

export type RecordItem =
  | { kind: 'record'; recordNo: number; text: string; offset: number; endOffset: number }
  | { kind: 'error'; recordNo: number; offset: number; endOffset: number; problem: RecordProblem; detail: string };

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * The items completed by one push of a RecordDecoder, as columns: item i is a record when
 * isRecord(i), its text the bytes [start(i), end(i)) of `bytes`, followed there by CR LF; else an
 * error (problem(i), detail(i)). Owned by the decoder and overwritten by its next push.
 */
export class RecordBatch {
  /** The arena: record texts, each followed by CR LF. */
  bytes: Buffer = EMPTY;
  length = 0;
  #start: Int32Array = new Int32Array(256);
  #end: Int32Array = new Int32Array(256);
  // Float64: offsets of files over 2 GB.
  #recordNo: Float64Array = new Float64Array(256);
  #offset: Float64Array = new Float64Array(256);
  #endOffset: Float64Array = new Float64Array(256);
  #errors: ({ problem: RecordProblem; detail: string } | undefined)[] = [];

  isRecord(i: number): boolean { return this.#start[i]! >= 0; }
  start(i: number): number { return this.#start[i]!; }
  end(i: number): number { return this.#end[i]!; }
  recordNo(i: number): number { return this.#recordNo[i]!; }
  offset(i: number): number { return this.#offset[i]!; }
  endOffset(i: number): number { return this.#endOffset[i]!; }
  /** The text of record i as a byte string (char codes 0-255). */
  text(i: number): string { return this.bytes.toString('latin1', this.#start[i]!, this.#end[i]!); }

  item(i: number): RecordItem {
    const recordNo = this.#recordNo[i]!;
    const offset = this.#offset[i]!;
    const endOffset = this.#endOffset[i]!;
    if (this.#start[i]! >= 0) return { kind: 'record', recordNo, text: this.text(i), offset, endOffset };
    const e = this.#errors[i]!;
    return { kind: 'error', recordNo, offset, endOffset, problem: e.problem, detail: e.detail };
  }

  items(): RecordItem[] {
    const out: RecordItem[] = new Array<RecordItem>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.item(i);
    return out;
  }

  /** A batch holding `items` (their texts as byte strings), for callers that have RecordItems. */
  static fromItems(items: readonly RecordItem[]): RecordBatch {
    const b = new RecordBatch();
    let size = 0;
    for (const it of items) if (it.kind === 'record') size += it.text.length + 2;
    b.bytes = Buffer.allocUnsafe(size);
    let o = 0;
    for (const it of items) {
      if (it.kind === 'record') {
        const n = b.bytes.write(it.text, o, 'latin1');
        b.bytes[o + n] = CR;
        b.bytes[o + n + 1] = LF;
        b.addRecord(it.recordNo, it.offset, it.endOffset, o, o + n);
        o += n + 2;
      } else {
        b.addError(it.recordNo, it.offset, it.endOffset, it.problem, it.detail);
      }
    }
    return b;
  }

  /** Empties the batch (the arena is kept). */
  clear(): void {
    this.length = 0;
    if (this.#errors.length > 0) this.#errors = [];
  }

  /** Makes the arena at least `size` bytes, keeping its first `keep` bytes. */
  grow(size: number, keep: number): Buffer {
    const next = Buffer.allocUnsafe(Math.max(size, this.bytes.length * 2, 64 * 1024));
    this.bytes.copy(next, 0, 0, keep);
    this.bytes = next;
    return next;
  }

  addRecord(recordNo: number, offset: number, endOffset: number, start: number, end: number): void {
    const i = this.#slot();
    this.#start[i] = start;
    this.#end[i] = end;
    this.#recordNo[i] = recordNo;
    this.#offset[i] = offset;
    this.#endOffset[i] = endOffset;
  }

  addError(recordNo: number, offset: number, endOffset: number, problem: RecordProblem, detail: string): void {
    const i = this.#slot();
    this.#start[i] = -1;
    this.#end[i] = -1;
    this.#recordNo[i] = recordNo;
    this.#offset[i] = offset;
    this.#endOffset[i] = endOffset;
    this.#errors[i] = { problem, detail };
  }

  #slot(): number {
    const i = this.length++;
    if (i === this.#start.length) {
      const n = i * 2;
      const g32 = (a: Int32Array): Int32Array => { const b = new Int32Array(n); b.set(a); return b; };
      const g64 = (a: Float64Array): Float64Array => { const b = new Float64Array(n); b.set(a); return b; };
      this.#start = g32(this.#start);
      this.#end = g32(this.#end);
      this.#recordNo = g64(this.#recordNo);
      this.#offset = g64(this.#offset);
      this.#endOffset = g64(this.#endOffset);
    }
    return i;
  }
}
