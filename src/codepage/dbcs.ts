// Mixed SBCS/DBCS EBCDIC code pages (IBM-930, 933, 935, 937, 939) built from the glibc-generated
// tables in dbcs-tables.generated.ts, and their stateful shift translator for the spool.
//
// Shift rules (glibc iconv 2.36 is the reference, checked in test/peers/iconv-dbcs.test.ts):
//   - SO X'0E' switches to double-byte mode, SI X'0F' back to single-byte mode; SO in DBCS mode
//     and SI in SBCS mode are ignored (glibc: no output, no error);
//   - in DBCS mode bytes go in pairs; an unmapped pair, an unmapped SBCS byte, and SO/SI as the
//     second byte of a pair are errors (glibc: "illegal input sequence");
//   - input that ends in DBCS mode without SI is accepted (glibc: no error), input that ends
//     with half a pair is an error (glibc: "incomplete character or shift sequence").
// decode() never throws: it gives U+FFFD for each error (stateless, starts in SBCS mode).
// The spool uses shiftTranslator() instead (src/spool/records.ts, docs/codepages.md): state
// carried across continued records, errors reported as record errors, output UTF-8.
//
// The tables (about 130 kB each) are unpacked on the first decode/encode/translate of a page, so
// processes that never use a DBCS page only hold the packed base64 strings.
import { inflateRawSync } from 'node:zlib';
import { CodepageError, type CodePage, type DecodeOptions, type EncodeOptions, type ShiftProblem, type ShiftTranslator } from './types.js';
import { unmappable } from './ebcdic.js';
import type { DbcsPageData } from './dbcs-tables.generated.js';

export const SO = 0x0e;
export const SI = 0x0f;
const UNMAPPED = 0xffff;
const NL_BYTE = 0x15; // EBCDIC NL on every DBCS page (U+0085 in glibc)
const LF = 0x0a;
const NEL = 0x85;
const TAB = 0x09;
const REPLACEMENT = 0xfffd;

export interface Tables {
  /** 256 SBCS units then 65536 DBCS units (lead * 256 + trail), 0xFFFF = unmapped. */
  readonly units: Uint16Array;
  /** Unicode → SBCS byte (0..255) or DBCS pair (0x10000 | lead << 8 | trail), as glibc encodes. */
  readonly reverse: ReadonlyMap<number, number>;
}

/** Unpacks and checks a generated table (exported for the oracle tests). */
export function unpackDbcs(name: string, data: DbcsPageData): Tables {
  const raw = inflateRawSync(Buffer.from(data.packed, 'base64'));
  if (raw.length !== (256 + 65536) * 2) throw new CodepageError(`${name}: generated DBCS table is ${raw.length} bytes, want ${(256 + 65536) * 2}`);
  const units = new Uint16Array(256 + 65536);
  let prev = 0;
  for (let i = 0; i < units.length; i++) {
    prev = (prev + raw.readUInt16LE(i * 2)) & 0xffff;
    units[i] = prev;
  }
  const reverse = new Map<number, number>();
  let sbcs = 0;
  let dbcs = 0;
  for (let b = 0; b < 256; b++) {
    const u = units[b]!;
    if (u === UNMAPPED) continue;
    sbcs++;
    if (!reverse.has(u)) reverse.set(u, b);
  }
  for (let p = 0; p < 65536; p++) {
    const u = units[256 + p]!;
    if (u === UNMAPPED) continue;
    dbcs++;
    if (!reverse.has(u)) reverse.set(u, 0x10000 | p); // SBCS first, then the lowest pair
  }
  for (const [u, code] of data.encodeOverrides) reverse.set(u, code); // glibc's own choice
  if (sbcs !== data.sbcsMapped || dbcs !== data.dbcsMapped) {
    throw new CodepageError(`${name}: generated table has ${sbcs}/${dbcs} mapped SBCS/DBCS codes, want ${data.sbcsMapped}/${data.dbcsMapped}`);
  }
  return { units, reverse };
}

/** Writes code point `u` (BMP) as UTF-8 at out[o]; returns the new end, or -1 when it does not fit. */
function putUtf8(out: Uint8Array, o: number, u: number): number {
  if (u < 0x80) {
    if (o + 1 > out.length) return -1;
    out[o] = u;
    return o + 1;
  }
  if (u < 0x800) {
    if (o + 2 > out.length) return -1;
    out[o] = 0xc0 | (u >> 6);
    out[o + 1] = 0x80 | (u & 0x3f);
    return o + 2;
  }
  if (o + 3 > out.length) return -1;
  out[o] = 0xe0 | (u >> 12);
  out[o + 1] = 0x80 | ((u >> 6) & 0x3f);
  out[o + 2] = 0x80 | (u & 0x3f);
  return o + 3;
}

const isControl = (u: number): boolean => (u < 0x20 && u !== TAB) || (u >= 0x7f && u <= 0x9f);

class Translator implements ShiftTranslator {
  readonly #tables: () => Tables;
  shifted = false;
  lead = -1; // a pending first byte of a pair, or -1
  problem: ShiftProblem | undefined;

  constructor(tables: () => Tables) {
    this.#tables = tables;
  }

  get pendingLead(): boolean {
    return this.lead >= 0;
  }

  reset(): void {
    this.shifted = false;
    this.lead = -1;
    this.problem = undefined;
  }

  scan(raw: Uint8Array, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const b = raw[k]!;
      if (this.lead >= 0 && b !== SO && b !== SI) this.lead = -1;
      else if (b === SO) { this.shifted = true; this.lead = -1; }
      else if (b === SI) { this.shifted = false; this.lead = -1; }
      else if (this.shifted) this.lead = b;
    }
  }

  translate(raw: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
    const units = this.#tables().units;
    for (let k = from; k < to; k++) {
      const b = raw[k]!;
      if (this.lead >= 0) {
        const lead = this.lead;
        this.lead = -1;
        if (b === SO || b === SI) {
          // glibc: illegal input. The shift byte still shifts (scan from k).
          this.problem = { kind: 'invalid-dbcs', index: k, detail: `half a double-byte character X'${hex2(lead)}' before ${b === SO ? 'SO' : 'SI'}` };
          this.scan(raw, k, to);
          return o;
        }
        const u = units[256 + (lead << 8) + b]!;
        if (u === UNMAPPED) {
          this.problem = { kind: 'invalid-dbcs', index: k, detail: `double-byte code X'${hex2(lead)}${hex2(b)}' is not defined` };
          this.scan(raw, k + 1, to);
          return o;
        }
        o = putUtf8(out, o, u);
        if (o < 0) return -1;
      } else if (b === SO) {
        this.shifted = true;
      } else if (b === SI) {
        this.shifted = false;
      } else if (this.shifted) {
        this.lead = b;
      } else {
        const u = units[b]!;
        if (u === UNMAPPED) {
          this.problem = { kind: 'invalid-dbcs', index: k, detail: `single-byte code X'${hex2(b)}' is not defined` };
          this.scan(raw, k + 1, to);
          return o;
        }
        if (isControl(u)) {
          this.problem = { kind: 'control-character', index: k, detail: `control character X'${hex2(b)}'` };
          this.scan(raw, k + 1, to);
          return o;
        }
        o = putUtf8(out, o, u);
        if (o < 0) return -1;
      }
    }
    return o;
  }
}

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** Builds one immutable mixed SBCS/DBCS EBCDIC CodePage; its tables are unpacked on first use. */
export function buildDbcsPage(name: string, data: DbcsPageData): CodePage {
  let tables: Tables | undefined;
  const get = (): Tables => (tables ??= unpackDbcs(name, data));

  return Object.freeze({
    name,
    ebcdic: true,
    asciiCharset: 'UTF-8' as const,
    shiftTranslator: (): ShiftTranslator => new Translator(get),
    decode(bytes: Uint8Array, opts?: DecodeOptions): string {
      const units = get().units;
      const nlIsLf = (opts?.newline ?? 'nl-is-lf') === 'nl-is-lf';
      const out = Buffer.allocUnsafe(bytes.length * 2);
      let o = 0;
      let shifted = false;
      let lead = -1;
      const put = (u: number): void => {
        out[o++] = u & 0xff;
        out[o++] = u >>> 8;
      };
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        if (lead >= 0 && b !== SO && b !== SI) {
          const u = units[256 + (lead << 8) + b]!;
          put(u === UNMAPPED ? REPLACEMENT : u);
          lead = -1;
          continue;
        }
        if (lead >= 0) {
          put(REPLACEMENT); // half a pair before SO/SI; the shift byte still shifts
          lead = -1;
        }
        if (b === SO) shifted = true;
        else if (b === SI) shifted = false;
        else if (shifted) lead = b;
        else {
          const u = units[b]!;
          put(u === UNMAPPED ? REPLACEMENT : nlIsLf && b === NL_BYTE ? LF : u);
        }
      }
      if (lead >= 0) put(REPLACEMENT);
      return out.toString('utf16le', 0, o);
    },
    encode(text: string, opts?: EncodeOptions): Buffer {
      const reverse = get().reverse;
      const nlIsLf = (opts?.newline ?? 'nl-is-lf') === 'nl-is-lf';
      const out: number[] = [];
      let shifted = false;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        const code = nlIsLf && c === LF ? reverse.get(NEL) : reverse.get(c);
        if (code === undefined) throw unmappable(name, text, i);
        if (code < 0x100) {
          if (shifted) out.push(SI);
          shifted = false;
          out.push(code);
        } else {
          if (!shifted) out.push(SO);
          shifted = true;
          out.push((code >> 8) & 0xff, code & 0xff);
        }
      }
      if (shifted) out.push(SI);
      return Buffer.from(out);
    },
  });
}
