// The ASCII-compatible spool encodings (ext: `Translate ISO8859-1|UTF-8`). Spool records in these
// encodings are not translated: they are read byte-for-byte (src/spool/records.ts).
import { CodepageError, type CodePage } from './types.js';
import { unmappable } from './ebcdic.js';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const ISO8859_1: CodePage = Object.freeze({
  name: 'ISO8859-1',
  ebcdic: false,
  decode(bytes: Uint8Array): string {
    return asBuffer(bytes).toString('latin1');
  },
  encode(text: string): Buffer {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0xff) throw unmappable('ISO8859-1', text, i);
    }
    return Buffer.from(text, 'latin1');
  },
});

const LONE_SURROGATE = /[\uD800-\uDFFF]/u; // in /u mode this matches only unpaired surrogates

export const UTF_8: CodePage = Object.freeze({
  name: 'UTF-8',
  ebcdic: false,
  // LENIENT: glibc iconv stops at a malformed sequence; we decode it as U+FFFD and go on, so one
  // bad byte in a header does not hide the rest of the text. Spool data itself is never decoded
  // (records are byte strings), so mail passes through byte-exact regardless.
  decode(bytes: Uint8Array): string {
    return asBuffer(bytes).toString('utf8');
  },
  encode(text: string): Buffer {
    const m = LONE_SURROGATE.exec(text);
    if (m !== null) {
      throw new CodepageError(`unpaired surrogate U+${text.charCodeAt(m.index).toString(16).toUpperCase()} at index ${m.index} cannot be encoded in UTF-8`);
    }
    return Buffer.from(text, 'utf8');
  },
});
