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
// Memory: at most one partial physical record (≤ maxRecordBytes + 1 bytes) and one logical
// record (≤ maxRecordBytes) are held, in buffers allocated once per decoder; longer records are
// skipped to their end and reported as 'record-too-long'.
import { SpoolgateError } from '../core/errors.js';
import type { CodePage, ShiftTranslator } from '../codepage/index.js';

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

export type RecordProblem = 'control-character' | 'record-too-long' | 'bad-rdw' | 'truncated-record' | 'invalid-dbcs';

export type RecordItem =
  | { kind: 'record'; recordNo: number; text: string; offset: number; endOffset: number }
  | { kind: 'error'; recordNo: number; offset: number; endOffset: number; problem: RecordProblem; detail: string };

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
    if (this.#inner !== undefined) return this.#inner.push(chunk);
    this.#sample.push(chunk);
    this.#sampleLen += chunk.length;
    if (this.#sampleLen < AUTO_SAMPLE_BYTES) return [];
    return this.#decide();
  }

  /** End of input: flushes the last record and reports a truncated one. */
  end(): RecordItem[] {
    if (this.#inner !== undefined) return this.#inner.end();
    const items = this.#decide();
    return items.concat(this.#inner!.end());
  }

  #decide(): RecordItem[] {
    const all = Buffer.concat(this.#sample);
    this.#sample.length = 0;
    // Decided on exactly the first AUTO_SAMPLE_BYTES, so chunk boundaries never change the outcome.
    const format = detectRecordFormat(all.subarray(0, AUTO_SAMPLE_BYTES), this.#opts.codepage);
    this.#inner = new FramedDecoder({ ...this.#opts, format });
    return this.#inner.push(all);
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
  readonly #blank: number;
  readonly #continuation: number; // the '<' byte
  readonly #terminator: number; // LF ('text') or NL ('nl')
  readonly #cr: number;
  readonly #contLength: number;
  /** Mixed SBCS/DBCS pages: the SO/SI translator (then #translate is unused). */
  readonly #shift: ShiftTranslator | undefined;
  #shiftProblem: { kind: 'invalid-dbcs' | 'control-character'; recordNo: number; column: number; detail: string } | undefined;

  #pos = 0; // absolute offset of the next chunk's first byte
  #physNo = 0;
  #stopped = false;
  #out: RecordItem[] = [];

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

  // Logical record being assembled (continuations).
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
    this.#log = Buffer.allocUnsafe(max);
    this.#isControl = new Uint8Array(256);

    const cp = opts.codepage;
    const byteOf = (ch: string): number => cp.encode(ch, { newline: 'strict' })[0]!;
    this.#shift = cp.shiftTranslator?.();
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

  /** Decodes the next chunk; returns the items completed by it (possibly none). */
  push(chunk: Buffer): RecordItem[] {
    if (!this.#stopped && chunk.length > 0) {
      if (this.#format === 'fixed') this.#pushFixed(chunk);
      else if (this.#format === 'variable') this.#pushVariable(chunk);
      else this.#pushDelimited(chunk);
    }
    this.#pos += chunk.length;
    return this.#take();
  }

  /** End of input: flushes the last record and reports a truncated one. */
  end(): RecordItem[] {
    if (this.#stopped) return this.#take();
    const end = this.#pos;
    if (this.#format === 'text' || this.#format === 'nl') {
      // A last line without its terminator is still a record.
      if (this.#partStart >= 0) this.#physical(this.#partView(), this.#partStart, end);
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
    return this.#take();
  }

  #take(): RecordItem[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #partView(): Buffer | undefined {
    return this.#partOverflow ? undefined : this.#part.subarray(0, this.#partLen);
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
    let i = 0;
    while (i < chunk.length) {
      const j = chunk.indexOf(term, i);
      if (j < 0) {
        this.#appendPart(chunk, i, chunk.length);
        return;
      }
      let raw: Buffer | undefined;
      let start: number;
      if (this.#partStart >= 0) {
        this.#appendPart(chunk, i, j);
        raw = this.#partView();
        start = this.#partStart;
      } else {
        raw = chunk.subarray(i, j);
        start = this.#pos + i;
      }
      if (this.#format === 'text' && raw !== undefined && raw.length > 0 && raw[raw.length - 1] === this.#cr) {
        raw = raw.subarray(0, raw.length - 1); // CRLF
      }
      this.#physical(raw, start, this.#pos + j + 1);
      this.#clearPart();
      i = j + 1;
    }
  }

  #pushFixed(chunk: Buffer): void {
    const len = this.#fixedLength;
    let i = 0;
    if (this.#partStart >= 0) {
      const take = Math.min(len - this.#partLen, chunk.length);
      this.#appendPart(chunk, 0, take);
      i = take;
      if (this.#partLen < len) return;
      this.#physical(this.#part.subarray(0, len), this.#partStart, this.#partStart + len);
      this.#clearPart();
    }
    for (; i + len <= chunk.length; i += len) this.#physical(chunk.subarray(i, i + len), this.#pos + i, this.#pos + i + len);
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
        const raw = this.#partOverflow ? undefined : whole ? chunk.subarray(i - take, i) : this.#part.subarray(0, this.#partLen);
        this.#physical(raw, start, start + 4 + this.#dataLen);
        this.#dataLen = -1;
        this.#clearPart();
      }
    }
  }

  #badRdw(): void {
    this.#flushLogical();
    const start = this.#partStart;
    const rdw = this.#rdw.toString('hex').toUpperCase();
    this.#out.push({
      kind: 'error', recordNo: this.#physNo + 1, offset: start, endOffset: start + 4, problem: 'bad-rdw',
      detail: `record descriptor word X'${rdw}' at byte ${start} is not a length of at least 4 followed by X'0000'; the rest of the file cannot be read as records`,
    });
    this.#stopped = true;
  }

  #truncated(start: number, end: number, detail: string): void {
    this.#physNo++;
    this.#out.push({ kind: 'error', recordNo: this.#physNo, offset: start, endOffset: end, problem: 'truncated-record', detail });
  }

  /** One physical record: `raw` is its data (undefined when longer than the limit). */
  #physical(raw: Buffer | undefined, start: number, end: number): void {
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
      if (raw === undefined || raw.length > this.#max) this.#logOverflow = true;
      if (raw === undefined || !this.#shifted(raw)) this.#flushLogical();
      return;
    }
    let continues = false;
    // The limit applies to the physical record as stored (before blanks are stripped), so the
    // outcome does not depend on where chunk boundaries fall.
    if (raw === undefined || raw.length > this.#max) {
      this.#logOverflow = true;
    } else {
      let n = raw.length;
      if (n === this.#contLength && raw[n - 1] === this.#continuation) {
        continues = true;
        n--;
      } else {
        const blank = this.#blank;
        const nul = this.#nullTrnc;
        while (n > 0 && (raw[n - 1] === blank || (nul && raw[n - 1] === 0))) n--;
      }
      if (!this.#logOverflow) {
        if (this.#logLen + n > this.#max) this.#logOverflow = true;
        else this.#append(raw, n);
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

  /** Checks and translates raw[0..n) onto the logical record. */
  #append(raw: Buffer, n: number): void {
    const log = this.#log;
    const ctl = this.#isControl;
    const tr = this.#translate;
    let o = this.#logLen;
    let firstCtl = -1;
    if (tr === undefined) {
      raw.copy(log, o, 0, n);
      for (let k = 0; k < n; k++) {
        if (ctl[raw[k]!] === 1) {
          firstCtl = k;
          break;
        }
      }
    } else {
      for (let k = 0; k < n; k++) {
        const b = raw[k]!;
        if (ctl[b] === 1 && firstCtl < 0) firstCtl = k;
        log[o++] = tr[b]!;
      }
    }
    if (firstCtl >= 0 && this.#logControl < 0) {
      this.#logControl = this.#logLen + firstCtl;
      this.#logControlByte = raw[firstCtl]!;
    }
    this.#logLen += n;
  }

  #flushLogical(): void {
    if (!this.#logActive) return;
    this.#logActive = false;
    const recordNo = this.#logRecordNo;
    const offset = this.#logStart;
    const endOffset = this.#logEnd;
    if (this.#logOverflow) {
      this.#out.push({ kind: 'error', recordNo, offset, endOffset, problem: 'record-too-long', detail: `record ${recordNo} is longer than ${this.#max} bytes` });
    } else if (this.#shiftProblem !== undefined) {
      const p = this.#shiftProblem;
      this.#out.push({ kind: 'error', recordNo, offset, endOffset, problem: p.kind, detail: `${p.detail} at column ${p.column} of record ${p.recordNo}` });
    } else if (this.#logControl >= 0) {
      this.#out.push({
        kind: 'error', recordNo, offset, endOffset, problem: 'control-character',
        detail: `control character ${hex(this.#logControlByte)} at column ${this.#logControl + 1} of record ${recordNo}`,
      });
    } else {
      this.#out.push({ kind: 'record', recordNo, text: this.#log.toString('latin1', 0, this.#logLen), offset, endOffset });
    }
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
