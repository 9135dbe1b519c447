// Single-byte EBCDIC code pages built from the glibc-generated tables (tables.generated.ts).
import { CodepageError, type CodePage, type DecodeOptions, type EncodeOptions } from './types.js';
import type { PageData } from './tables.generated.js';

const LF = 0x0a;
const NEL = 0x85;

/** Builds one immutable EBCDIC CodePage from its generated data. */
export function buildEbcdicPage(name: string, data: PageData): CodePage {
  const unicode = new Uint16Array(256);
  const uni = Buffer.from(data.unicode, 'hex');
  if (uni.length !== 512) throw new CodepageError(`${name}: generated unicode table is ${uni.length} bytes, want 512`);
  for (let b = 0; b < 256; b++) unicode[b] = uni.readUInt16BE(b * 2);
  const toAscii = new Uint8Array(Buffer.from(data.toAscii, 'hex'));
  if (toAscii.length !== 256) throw new CodepageError(`${name}: generated toAscii table is ${toAscii.length} bytes, want 256`);

  // Reverse table for encode. glibc's tables are bijective over 256 code points, so every
  // character has exactly one byte.
  const reverse = new Map<number, number>();
  for (let b = 0; b < 256; b++) reverse.set(unicode[b]!, b);
  const nlByte = reverse.get(NEL);
  const lfByte = reverse.get(LF);
  if (nlByte === undefined || lfByte === undefined) throw new CodepageError(`${name}: table has no NL or LF`);

  // Decode table in 'nl-is-lf' mode: NL (X'15' on every supported page) reads as '\n'.
  const unicodeNl = unicode.slice();
  unicodeNl[nlByte] = LF;

  return Object.freeze({
    name,
    ebcdic: true,
    asciiCharset: data.asciiCharset,
    toAscii,
    decode(bytes: Uint8Array, opts?: DecodeOptions): string {
      const table = (opts?.newline ?? 'nl-is-lf') === 'nl-is-lf' ? unicodeNl : unicode;
      // Fill little-endian UTF-16 and let the native decoder build the string: no per-char concat.
      const out = Buffer.allocUnsafe(bytes.length * 2);
      for (let i = 0; i < bytes.length; i++) {
        const cp = table[bytes[i]!]!;
        out[2 * i] = cp & 0xff;
        out[2 * i + 1] = cp >>> 8;
      }
      return out.toString('utf16le');
    },
    encode(text: string, opts?: EncodeOptions): Buffer {
      const nlIsLf = (opts?.newline ?? 'nl-is-lf') === 'nl-is-lf';
      const out = Buffer.allocUnsafe(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (nlIsLf && c === LF) {
          out[i] = nlByte;
          continue;
        }
        const b = reverse.get(c);
        if (b === undefined) throw unmappable(name, text, i);
        out[i] = b;
      }
      return out;
    },
  });
}

/** The error for a character that has no byte in the target code page. */
export function unmappable(page: string, text: string, index: number): CodepageError {
  const cp = text.codePointAt(index) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return new CodepageError(`character U+${hex} at index ${index} has no byte in ${page}`);
}
