// Streaming record decoder: spool bytes → logical records as byte strings (SPEC.md §1).
//
// Physical framing, one of:
//   'text'      lines ending in LF or CRLF (ext: ASCII-compatible spools, ISO8859-1 or UTF-8);
//   'nl'        EBCDIC lines ending in NL X'15', as z/OS UNIX writes text;
//   'fixed'     records of exactly `recordLength` bytes (a binary transfer of an FB data set);
//   'variable'  records preceded by a 4-byte RDW: big-endian length including the RDW, then
//               two zero bytes (a binary transfer of a VB data set, RDWs kept);
//   'auto'      one of the above per file, decided on its first AUTO_SAMPLE_BYTES
//               (detectRecordFormat): the default for an EBCDIC Translate without a
//               Spool RecordFormat, because JES output reaches the spool in any of these forms.
// Then, per physical record: trailing blanks are stripped (and trailing X'00' when nullTrnc); a
// record exactly 80 bytes long (`recordLength` for 'fixed') whose last byte is '<' continues on
// the next record (the '<' is dropped, the next record appended); any control character other
// than tab makes the logical record an error item (checked on the raw bytes, i.e. for EBCDIC on
// the EBCDIC control range before translation). EBCDIC bytes are translated with the code page's
// `toAscii` table; ASCII-compatible spools pass through byte-for-byte (latin1 strings).
//
// Mixed SBCS/DBCS pages (IBM-930 …, docs/codepages.md) translate with the page's SO/SI shift
// translator to UTF-8 instead: the shift state starts in SBCS at each logical record and carries
// across continued records; a '<' in the last column that is the second byte of a pair is data;
// trailing SBCS blanks are stripped after translation, and in a record that ends in DBCS mode
// the trailing DBCS blanks X'4040' and a lone X'40' too (padding); SO without SI at the end
// closes implicitly (as glibc); half a pair, an undefined code or a control character makes the
// record an 'invalid-dbcs' / 'control-character' error.
// The record limit then applies to the UTF-8 bytes.
//
// Items tile the input: each item's [offset, endOffset) follows the previous one, so every byte
// ends up in a record or an error. The one exception is 'bad-rdw': framing is lost there, the
// error is reported once, and it stands for every byte from its offset to the end of the file
// (its endOffset covers only the bad RDW itself; later input is ignored).
// `recordNo` is the 1-based number of the first physical record of the item, so it matches the
// line number an operator sees when browsing the data set.
//
// Output: pushBatch() returns a RecordBatch: the items completed by the chunk as columns over one
// byte arena, each record's translated text followed by CR LF, so a run of body records is already
// mail text (the batch parser copies it in one go; no JS string per record). The arena and the
// columns belong to the decoder and are reused by its next push: a batch is read before the next
// one is asked for. push()/end() give the same items as RecordItem objects (strings), for callers
// that keep them.
//
// Speed ([B2] #20 item 5): FB records of a single-byte EBCDIC page are stripped, translated and
// checked in WebAssembly (fixed-wasm.ts), the arena then being the module's memory; a record that
// continues or holds a control character, and every other framing, take the JavaScript path
// below. Without WebAssembly everything takes it. Chunks may come from one reused buffer
// (readChunks): nothing here keeps a chunk past its push.
//
// (About 700 lines: one decoder for the four framings, the mixed-page translator and the hand-off
// to WebAssembly for FB records (the module itself is fixed-wasm.ts);
// RecordBatch lives in record-batch.ts.)
//
// Memory: at most one partial physical record (≤ maxRecordBytes + 1 bytes) and one logical
// record (≤ maxRecordBytes) are carried between chunks, and one arena about the size of a chunk
// is reused; longer records are skipped to their end and reported as 'record-too-long'.
import { SpoolgateError } from '../core/errors.js';
import type { CodePage, ShiftTranslator } from '../codepage/index.js';
import { RecordBatch, type RecordItem } from './record-batch.js';
import { FixedWasm } from './fixed-wasm.js';

export { RecordBatch, type RecordItem, type RecordProblem } from './record-batch.js';

export type RecordFormat = 'text' | 'nl' | 'fixed' | 'variable' | 'auto';
/** A format the decoder frames records with ('auto' resolves to one of these per file). */
export type FramingFormat = Exclude<RecordFormat, 'auto'>;

export interface RecordDecoderOptions {
  format: RecordFormat;
  /** 'fixed' only: the record length (80 for card images). */
  recordLength: number;
  codepage: CodePage;
  /** Options NullTrnc: strip trailing X'00' as well as trailing blanks. */
  nullTrnc: boolean;
  /** Longest logical record accepted; default 32760 (the largest z/OS logical record). */
  maxRecordBytes?: number;
}


const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/** The decoder options are inconsistent (a configuration mistake, not a spool problem). */
export class RecordOptionsError extends SpoolgateError {
  constructor(message: string) {
    super('ERR_RECORD_OPTIONS', message);
  }
}

export const DEFAULT_MAX_RECORD_BYTES = 32760;
/** Continuation applies to card-image records (SPEC.md §1: "an 80-byte record ending in '<'"). */
const CONTINUATION_LENGTH = 80;
const TAB = 0x09;

const hex = (b: number): string => `X'${b.toString(16).toUpperCase().padStart(2, '0')}'`;

/** 'auto' decides on this many first bytes of a file (or the whole file when shorter). */
export const AUTO_SAMPLE_BYTES = 64 * 1024;
const EBCDIC_NL = 0x15;
const EBCDIC_LF = 0x25;

/**
 * The framing of a file in an EBCDIC code page, from its first bytes (`sample`, at most
 * AUTO_SAMPLE_BYTES, or the whole file when shorter):
 *   - 'variable' when it starts with a chain of RDWs (length ≥ 4, then X'0000'): EBCDIC text
 *     never starts with X'00', a control character;
 *   - else 'nl' or 'text' by the first line end found, NL X'15' (z/OS UNIX) or LF X'25';
 *   - else 'fixed' (card images carry no line ends).
 * An ASCII-compatible code page is always 'text'.
 */
export function detectRecordFormat(sample: Buffer, codepage: CodePage): FramingFormat {
  if (!codepage.ebcdic) return 'text';
  let i = 0;
  let rdws = 0;
  while (i + 4 <= sample.length) {
    const total = sample.readUInt16BE(i);
    if (total < 4 || sample[i + 2] !== 0 || sample[i + 3] !== 0) { rdws = -1; break; }
    rdws++;
    i += total;
  }
  // Every whole RDW of the sample chains on; a partial one at the end is a truncated record (or
  // lies past the sample), still VB.
  if (rdws > 0) return 'variable';
  const nl = sample.indexOf(EBCDIC_NL);
  const lf = sample.indexOf(EBCDIC_LF);
  if (nl >= 0 && (lf < 0 || nl < lf)) return 'nl';
  if (lf >= 0) return 'text';
  return sample.length === 0 ? 'nl' : 'fixed';
}

export class RecordDecoder {
  readonly #opts: RecordDecoderOptions;
  #inner: FramedDecoder | undefined;
  readonly #sample: Buffer[] = [];
  #sampleLen = 0;
  readonly #empty = new RecordBatch();

  constructor(opts: RecordDecoderOptions) {
    this.#opts = opts;
    if (opts.format !== 'auto') {
      this.#inner = new FramedDecoder({ ...opts, format: opts.format });
      return;
    }
    // Checked now, not when a file turns out to be fixed: a configuration mistake shows at once.
    const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isInteger(opts.recordLength) || opts.recordLength < 1 || opts.recordLength > max) {
      throw new RecordOptionsError(`recordLength must be an integer from 1 to ${max}, not ${opts.recordLength}`);
    }
  }

  /** The framing in use: the configured one, or for 'auto' the detected one once decided. */
  get format(): FramingFormat | undefined {
    return this.#inner?.format;
  }

  /** Decodes the next chunk; returns the items completed by it (possibly none). */
  push(chunk: Buffer): RecordItem[] {
    return this.pushBatch(chunk).items();
  }

  /** End of input: flushes the last record and reports a truncated one. */
  end(): RecordItem[] {
    return this.endBatch().items();
  }

  /** push() as a RecordBatch, valid until the next pushBatch()/endBatch() call. */
  pushBatch(chunk: Buffer): RecordBatch {
    if (this.#inner !== undefined) return this.#inner.push(chunk, false);
    // Copied: the caller may reuse the chunk's memory for its next read (readChunks).
    this.#sample.push(Buffer.from(chunk));
    this.#sampleLen += chunk.length;
    if (this.#sampleLen < AUTO_SAMPLE_BYTES) return this.#empty;
    return this.#decide();
  }

  /** end() as a RecordBatch. */
  endBatch(): RecordBatch {
    if (this.#inner !== undefined) return this.#inner.end(false);
    this.#decide();
    return this.#inner!.end(true);
  }

  #decide(): RecordBatch {
    const all = Buffer.concat(this.#sample);
    this.#sample.length = 0;
    // Decided on exactly the first AUTO_SAMPLE_BYTES, so chunk boundaries never change the outcome.
    const format = detectRecordFormat(all.subarray(0, AUTO_SAMPLE_BYTES), this.#opts.codepage);
    this.#inner = new FramedDecoder({ ...this.#opts, format });
    return this.#inner.push(all, false);
  }
}

/** The decoder of one framing (RecordDecoder adds 'auto' in front of it). */
class FramedDecoder {
  readonly format: FramingFormat;
  readonly #format: FramingFormat;
  readonly #fixedLength: number;
  readonly #max: number;
  readonly #nullTrnc: boolean;
  /** Byte → outbound byte (EBCDIC), or undefined to copy bytes unchanged. */
  readonly #translate: Uint8Array | undefined;
  /** 1 for a byte that is a control character (not tab) in the spool's code page. */
  readonly #isControl: Uint8Array;
  /** EBCDIC: the translated byte | 0x100 for a control character (one look-up per byte). */
  readonly #table: Uint16Array = new Uint16Array(256);
  readonly #blank: number;
  readonly #continuation: number; // the '<' byte
  readonly #terminator: number; // LF ('text') or NL ('nl')
  readonly #cr: number;
  readonly #contLength: number;
  /** Mixed SBCS/DBCS pages: the SO/SI translator (then #translate is unused). */
  readonly #shift: ShiftTranslator | undefined;
  /** 'fixed' on a single-byte EBCDIC page: whole records in WebAssembly (fixed-wasm.ts). */
  #wasm: FixedWasm | undefined;
  #shiftProblem: { kind: 'invalid-dbcs' | 'control-character'; recordNo: number; column: number; detail: string } | undefined;

  #pos = 0; // absolute offset of the next chunk's first byte
  #physNo = 0;
  #stopped = false;
  /** The items of the current push; its arena holds the finished records up to #o. */
  readonly #batch = new RecordBatch();
  #o = 0;

  // Partial physical record carried across chunks.
  readonly #part: Buffer;
  #partLen = 0;
  #partStart = -1; // -1: no partial record
  #partOverflow = false;

  // 'variable' framing state.
  readonly #rdw = Buffer.alloc(4);
  #rdwLen = 0;
  #dataLen = -1; // -1: reading an RDW; else the data length of the current record
  #dataGot = 0;

  // Logical record being assembled (continuations): single-byte pages build it in the arena at
  // #o, mixed pages in #log (then copied to the arena when it is finished).
  readonly #log: Buffer;
  #logLen = 0;
  #logActive = false;
  #logStart = 0;
  #logEnd = 0;
  #logRecordNo = 0;
  #logOverflow = false;
  #logControl = -1; // index in the logical record of the first control character
  #logControlByte = 0;

  constructor(opts: RecordDecoderOptions & { format: FramingFormat }) {
    const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RecordOptionsError(`maxRecordBytes must be a positive integer, not ${max}`);
    if (opts.format === 'fixed' && (!Number.isInteger(opts.recordLength) || opts.recordLength < 1 || opts.recordLength > max)) {
      throw new RecordOptionsError(`recordLength must be an integer from 1 to ${max}, not ${opts.recordLength}`);
    }
    this.#format = opts.format;
    this.format = opts.format;
    this.#fixedLength = opts.recordLength;
    this.#max = max;
    this.#nullTrnc = opts.nullTrnc;
    this.#contLength = opts.format === 'fixed' ? opts.recordLength : CONTINUATION_LENGTH;
    this.#part = Buffer.allocUnsafe(max + 1); // +1: the CR of a CRLF line
    this.#isControl = new Uint8Array(256);

    const cp = opts.codepage;
    const byteOf = (ch: string): number => cp.encode(ch, { newline: 'strict' })[0]!;
    this.#shift = cp.shiftTranslator?.();
    this.#log = this.#shift === undefined ? EMPTY : Buffer.allocUnsafe(max);
    if (this.#shift !== undefined) {
      this.#translate = undefined; // control characters: checked by the shift translator
      this.#terminator = opts.format === 'text' ? byteOf('\n') : byteOf('\u0085');
    } else if (cp.ebcdic) {
      if (cp.toAscii === undefined) throw new RecordOptionsError(`code page ${cp.name} has no toAscii table`);
      this.#translate = cp.toAscii;
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const text = cp.decode(all, { newline: 'strict' });
      for (let b = 0; b < 256; b++) {
        const u = text.charCodeAt(b);
        // C0 and C1 controls, as glibc decodes the EBCDIC byte (X'00'-X'3F' and X'FF').
        if ((u < 0x20 && u !== TAB) || (u >= 0x7f && u <= 0x9f)) this.#isControl[b] = 1;
      }
      for (let b = 0; b < 256; b++) this.#table[b] = cp.toAscii[b]! | (this.#isControl[b]! << 8);
      if (opts.format === 'fixed') this.#wasm = FixedWasm.create(cp.toAscii, this.#isControl);
      this.#terminator = opts.format === 'text' ? byteOf('\n') : byteOf('\u0085');
    } else {
      this.#translate = undefined;
      for (let b = 0; b < 0x20; b++) if (b !== TAB) this.#isControl[b] = 1;
      this.#isControl[0x7f] = 1;
      // LENIENT: bytes 0x80-0x9F are not checked in ASCII-compatible spools: in UTF-8 they are
      // continuation bytes, and the spool passes them through unchanged.
      this.#terminator = 0x0a; // 'nl' on an ASCII spool: the newline is LF
    }
    this.#blank = byteOf(' ');
    this.#continuation = byteOf('<');
    this.#cr = byteOf('\r');
  }

  /**
   * Decodes the next chunk; returns the items completed by it (possibly none). `append` adds
   * them to the items of the previous call instead of starting a new batch.
   */
  push(chunk: Buffer, append: boolean): RecordBatch {
    if (!append) this.#newBatch();
    if (!this.#stopped && chunk.length > 0) {
      if (this.#format === 'fixed') {
        if (this.#wasm !== undefined) this.#wasmLayout(chunk);
        this.#pushFixed(chunk);
      }
      else if (this.#format === 'variable') this.#pushVariable(chunk);
      else this.#pushDelimited(chunk);
    }
    this.#pos += chunk.length;
    return this.#batch;
  }

  /** End of input: flushes the last record and reports a truncated one. */
  end(append: boolean): RecordBatch {
    if (!append) this.#newBatch();
    if (this.#stopped) return this.#batch;
    const end = this.#pos;
    if (this.#format === 'text' || this.#format === 'nl') {
      // A last line without its terminator is still a record.
      if (this.#partStart >= 0) {
        if (this.#partOverflow) this.#physical(undefined, 0, 0, this.#partStart, end);
        else this.#physical(this.#part, 0, this.#partLen, this.#partStart, end);
      }
      this.#flushLogical();
    } else if (this.#format === 'fixed') {
      this.#flushLogical();
      if (this.#partStart >= 0) this.#truncated(this.#partStart, end, `last record has ${end - this.#partStart} of ${this.#fixedLength} bytes`);
    } else {
      this.#flushLogical();
      if (this.#dataLen >= 0) {
        this.#truncated(this.#partStart, end, `RDW announces ${this.#dataLen} data bytes, file ends after ${this.#dataGot}`);
      } else if (this.#rdwLen > 0) {
        this.#truncated(this.#partStart, end, `file ends inside an RDW (${this.#rdwLen} of 4 bytes)`);
      }
    }
    this.#partStart = -1;
    this.#stopped = true;
    return this.#batch;
  }

  /** Starts the next batch: the logical record in progress moves to the front of the arena. */
  #newBatch(): void {
    this.#batch.clear();
    if (this.#o > 0 && this.#logActive && this.#shift === undefined && this.#logLen > 0) {
      this.#batch.bytes.copyWithin(0, this.#o, this.#o + this.#logLen);
    }
    this.#o = 0;
  }

  /**
   * Makes the arena the WebAssembly memory's, large enough for every record of this chunk (so
   * #append never grows it during the push), and copies the chunk into that memory.
   */
  #wasmLayout(chunk: Buffer): void {
    const w = this.#wasm!;
    const batch = this.#batch;
    const len = this.#fixedLength;
    const keep = this.#o + (this.#logActive ? this.#logLen : 0);
    // Each physical record adds at most len + 2 bytes (text and CR LF) to the arena.
    const need = keep + (Math.ceil((chunk.length + len) / len) + 2) * (len + 2) + 64;
    const mine = batch.bytes === w.arena;
    try {
      w.layout(chunk.length, len, need, mine ? keep : 0);
    } catch {
      // The memory could not grow (address space): the JavaScript path from here on; the arena
      // is untouched (a failed grow detaches nothing).
      this.#wasm = undefined;
      return;
    }
    if (!mine) batch.bytes.copy(w.arena, 0, 0, keep);
    batch.bytes = w.arena;
    w.stage(chunk);
  }

  /**
   * From chunk[i]: the whole records that start no logical record of their own continuation
   * or control character, in WebAssembly; returns the index after them.
   */
  #wasmRun(chunk: Buffer, i: number): number {
    const w = this.#wasm!;
    const batch = this.#batch;
    if (batch.bytes !== w.arena) return i; // grown by a path the layout did not foresee: JavaScript
    const len = this.#fixedLength;
    const so = w.stageOffset;
    const ao = w.arenaOffset;
    const n = w.fixed(so + i, so + chunk.length, len, ao + this.#o, w.colsOffset, this.#blank, this.#continuation, this.#contLength, this.#nullTrnc ? 1 : 0);
    if (n === 0) return i;
    const ends = w.ends;
    let start = this.#o;
    let at = this.#pos + i;
    let no = this.#physNo;
    for (let r = 0; r < n; r++) {
      const e = ends[r]! - ao;
      batch.addRecord(++no, at, at + len, start, e - 2);
      start = e;
      at += len;
    }
    this.#physNo = no;
    this.#o = start;
    return i + n * len;
  }

  #appendPart(chunk: Buffer, from: number, to: number): void {
    if (this.#partStart < 0) {
      this.#partStart = this.#pos + from;
      this.#partLen = 0;
      this.#partOverflow = false;
    }
    if (this.#partOverflow) return;
    const n = to - from;
    if (this.#partLen + n > this.#part.length) {
      this.#partOverflow = true; // skip to the end of this record; reported as too long
      return;
    }
    chunk.copy(this.#part, this.#partLen, from, to);
    this.#partLen += n;
  }

  #clearPart(): void {
    this.#partStart = -1;
    this.#partLen = 0;
    this.#partOverflow = false;
  }

  #pushDelimited(chunk: Buffer): void {
    const term = this.#terminator;
    const crlf = this.#format === 'text';
    let i = 0;
    while (i < chunk.length) {
      const j = chunk.indexOf(term, i);
      if (j < 0) {
        this.#appendPart(chunk, i, chunk.length);
        return;
      }
      let src: Buffer | undefined;
      let from: number;
      let to: number;
      let start: number;
      if (this.#partStart >= 0) {
        this.#appendPart(chunk, i, j);
        src = this.#partOverflow ? undefined : this.#part;
        from = 0;
        to = this.#partLen;
        start = this.#partStart;
      } else {
        src = chunk;
        from = i;
        to = j;
        start = this.#pos + i;
      }
      if (crlf && src !== undefined && to > from && src[to - 1] === this.#cr) to--; // CRLF
      this.#physical(src, from, to, start, this.#pos + j + 1);
      this.#clearPart();
      i = j + 1;
    }
  }

  #pushFixed(chunk: Buffer): void {
    const len = this.#fixedLength;
    const pos = this.#pos;
    let i = 0;
    if (this.#partStart >= 0) {
      const take = Math.min(len - this.#partLen, chunk.length);
      this.#appendPart(chunk, 0, take);
      i = take;
      if (this.#partLen < len) return;
      this.#physical(this.#part, 0, len, this.#partStart, this.#partStart + len);
      this.#clearPart();
    }
    const wasm = this.#wasm !== undefined;
    while (i + len <= chunk.length) {
      if (wasm && !this.#logActive) {
        i = this.#wasmRun(chunk, i);
        if (i + len > chunk.length) break;
      }
      // A continued or bad record (or no WebAssembly): the JavaScript path.
      this.#physical(chunk, i, i + len, pos + i, pos + i + len);
      i += len;
    }
    if (i < chunk.length) this.#appendPart(chunk, i, chunk.length);
  }

  #pushVariable(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#dataLen < 0) {
        if (this.#rdwLen === 0) this.#partStart = this.#pos + i;
        const take = Math.min(4 - this.#rdwLen, chunk.length - i);
        chunk.copy(this.#rdw, this.#rdwLen, i, i + take);
        this.#rdwLen += take;
        i += take;
        if (this.#rdwLen < 4) return;
        const total = this.#rdw.readUInt16BE(0);
        if (total < 4 || this.#rdw[2] !== 0 || this.#rdw[3] !== 0) {
          this.#badRdw();
          return;
        }
        this.#rdwLen = 0;
        this.#dataLen = total - 4;
        this.#dataGot = 0;
        this.#partLen = 0;
        this.#partOverflow = this.#dataLen > this.#max;
      }
      const take = Math.min(this.#dataLen - this.#dataGot, chunk.length - i);
      const whole = this.#dataGot === 0 && take === this.#dataLen;
      if (!whole && !this.#partOverflow) {
        chunk.copy(this.#part, this.#partLen, i, i + take);
        this.#partLen += take;
      }
      this.#dataGot += take;
      i += take;
      if (this.#dataGot === this.#dataLen) {
        const start = this.#partStart;
        const end = start + 4 + this.#dataLen;
        if (this.#partOverflow) this.#physical(undefined, 0, 0, start, end);
        else if (whole) this.#physical(chunk, i - take, i, start, end);
        else this.#physical(this.#part, 0, this.#partLen, start, end);
        this.#dataLen = -1;
        this.#clearPart();
      }
    }
  }

  #badRdw(): void {
    this.#flushLogical();
    const start = this.#partStart;
    const rdw = this.#rdw.toString('hex').toUpperCase();
    this.#batch.addError(this.#physNo + 1, start, start + 4, 'bad-rdw',
      `record descriptor word X'${rdw}' at byte ${start} is not a length of at least 4 followed by X'0000'; the rest of the file cannot be read as records`);
    this.#stopped = true;
  }

  #truncated(start: number, end: number, detail: string): void {
    this.#physNo++;
    this.#batch.addError(this.#physNo, start, end, 'truncated-record', detail);
  }

  /** One physical record: its data is src[from, to) (src undefined when longer than the limit). */
  #physical(src: Buffer | undefined, from: number, to: number, start: number, end: number): void {
    this.#physNo++;
    if (!this.#logActive) {
      this.#logActive = true;
      this.#logStart = start;
      this.#logRecordNo = this.#physNo;
      this.#logLen = 0;
      this.#logOverflow = false;
      this.#logControl = -1;
      this.#shift?.reset();
      this.#shiftProblem = undefined;
    }
    this.#logEnd = end;
    if (this.#shift !== undefined) {
      if (src === undefined || to - from > this.#max) this.#logOverflow = true;
      if (src === undefined || !this.#shifted(src.subarray(from, to))) this.#flushLogical();
      return;
    }
    let continues = false;
    // The limit applies to the physical record as stored (before blanks are stripped), so the
    // outcome does not depend on where chunk boundaries fall.
    if (src === undefined || to - from > this.#max) {
      this.#logOverflow = true;
    } else {
      let n = to;
      if (to - from === this.#contLength && src[to - 1] === this.#continuation) {
        continues = true;
        n--;
      } else {
        const blank = this.#blank;
        if (this.#nullTrnc) while (n > from && (src[n - 1] === blank || src[n - 1] === 0)) n--;
        else while (n > from && src[n - 1] === blank) n--;
      }
      if (!this.#logOverflow) {
        if (this.#logLen + n - from > this.#max) this.#logOverflow = true;
        else this.#append(src, from, n);
      }
    }
    if (!continues) this.#flushLogical();
  }

  /** Mixed SBCS/DBCS page: translates one physical record; true when it continues. */
  #shifted(raw: Buffer): boolean {
    const sh = this.#shift!;
    let n = raw.length;
    let body = n;
    if (n === this.#contLength && raw[n - 1] === this.#continuation) body = n - 1;
    else if (this.#nullTrnc) while (n > 0 && raw[n - 1] === 0) body = --n; // X'00' is in no pair
    const start = this.#logLen;
    const run = (from: number, to: number): void => {
      if (this.#logOverflow || this.#shiftProblem !== undefined) {
        sh.scan(raw, from, to);
        return;
      }
      const o = sh.translate(raw, from, to, this.#log, this.#logLen);
      if (o < 0) {
        this.#logOverflow = true;
        return;
      }
      this.#logLen = o;
      const p = sh.problem;
      if (p !== undefined) this.#shiftProblem = { kind: p.kind, recordNo: this.#physNo, column: p.index + 1, detail: p.detail };
    };
    run(0, body);
    // The '<' continues unless it is the second byte of a double-byte pair.
    if (body < n && !sh.pendingLead) return true;
    if (sh.pendingLead && raw[n - 1] === this.#blank && body === n) {
      sh.reset(); // a lone blank left over in DBCS mode: padding, dropped (the record ends here)
    } else if (body < n) {
      run(body, n);
    }
    if (sh.pendingLead && this.#shiftProblem === undefined && !this.#logOverflow) {
      this.#shiftProblem = { kind: 'invalid-dbcs', recordNo: this.#physNo, column: n, detail: 'record ends inside a double-byte character' };
    }
    // Trailing SBCS blanks (and X'00' with NullTrnc) of this physical record: after translation
    // a 0x20 / 0x00 byte can only come from an SBCS X'40' / X'00' (no pair maps to either).
    const log = this.#log;
    const nul = this.#nullTrnc;
    // A record that ends in DBCS mode (no SI) is padded with X'4040' pairs: U+3000, E3 80 80.
    if (sh.shifted) while (this.#logLen - 3 >= start && log[this.#logLen - 3] === 0xe3 && log[this.#logLen - 2] === 0x80 && log[this.#logLen - 1] === 0x80) this.#logLen -= 3;
    while (this.#logLen > start && (log[this.#logLen - 1] === 0x20 || (nul && log[this.#logLen - 1] === 0))) this.#logLen--;
    return false;
  }

  /** Checks and translates src[from, to) onto the logical record (in the arena, at #o). */
  #append(src: Buffer, from: number, to: number): void {
    const n = to - from;
    const base = this.#o + this.#logLen;
    let a = this.#batch.bytes;
    if (base + n + 2 > a.length) a = this.#batch.grow(base + n + 2, base);
    const ctl = this.#isControl;
    const tr = this.#translate;
    let bad = 0;
    if (tr === undefined) {
      src.copy(a, base, from, to);
      for (let k = from; k < to; k++) bad |= ctl[src[k]!]!;
    } else {
      // One pass through the 256-entry table: the translated byte (the store keeps the low 8
      // bits) and, in bit 8, whether it is a control character.
      const t = this.#table;
      let o = base;
      for (let k = from; k < to; k++) {
        const v = t[src[k]!]!;
        bad |= v;
        a[o++] = v;
      }
      bad >>= 8;
    }
    if (bad !== 0 && this.#logControl < 0) {
      let k = from;
      while (ctl[src[k]!] !== 1) k++;
      this.#logControl = this.#logLen + k - from;
      this.#logControlByte = src[k]!;
    }
    this.#logLen += n;
  }

  #flushLogical(): void {
    if (!this.#logActive) return;
    this.#logActive = false;
    const recordNo = this.#logRecordNo;
    const offset = this.#logStart;
    const endOffset = this.#logEnd;
    const batch = this.#batch;
    if (this.#logOverflow) {
      batch.addError(recordNo, offset, endOffset, 'record-too-long', `record ${recordNo} is longer than ${this.#max} bytes`);
    } else if (this.#shiftProblem !== undefined) {
      const p = this.#shiftProblem;
      batch.addError(recordNo, offset, endOffset, p.kind, `${p.detail} at column ${p.column} of record ${p.recordNo}`);
    } else if (this.#logControl >= 0) {
      batch.addError(recordNo, offset, endOffset, 'control-character',
        `control character ${hex(this.#logControlByte)} at column ${this.#logControl + 1} of record ${recordNo}`);
    } else {
      const o = this.#o;
      const n = this.#logLen;
      let a = batch.bytes;
      if (o + n + 2 > a.length) a = batch.grow(o + n + 2, this.#shift === undefined ? o + n : o);
      if (this.#shift !== undefined) this.#log.copy(a, o, 0, n);
      a[o + n] = CR;
      a[o + n + 1] = LF;
      batch.addRecord(recordNo, offset, endOffset, o, o + n);
      this.#o = o + n + 2;
    }
    this.#logLen = 0;
  }
}

/** What readChunks reads from: a node:fs/promises FileHandle. */
export interface ChunkSource {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/**
 * A file's bytes from `start`, as chunks of ONE reused buffer of `size` bytes: each chunk is
 * valid until the next one is asked for. The record decoder copies what it keeps (a partial
 * record, the 'auto' sample), so its pushBatch() can be fed these directly; a new Buffer per
 * read (a read stream) costs an allocation and garbage collection per chunk. The caller closes
 * the file.
 */
export async function* readChunks(fh: ChunkSource, size = 256 * 1024, start = 0): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let pos = start;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, size, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** Decodes a byte stream, yielding the items completed by each chunk (empty batches skipped). */
export async function* readRecords(source: AsyncIterable<Buffer>, opts: RecordDecoderOptions): AsyncGenerator<RecordItem[]> {
  const decoder = new RecordDecoder(opts);
  for await (const chunk of source) {
    const items = decoder.push(chunk);
    if (items.length > 0) yield items;
  }
  const last = decoder.end();
  if (last.length > 0) yield last;
}
