// The CodePage contract (docs: src/codepage/index.ts header) and its error class.
import { SpoolgateError } from '../core/errors.js';

export type NewlineMode = 'nl-is-lf' | 'strict';

export interface DecodeOptions {
  /** 'nl-is-lf' (default): EBCDIC NL X'15' decodes to '\n'. 'strict': X'15' stays U+0085 (glibc). */
  readonly newline?: NewlineMode;
}

export interface EncodeOptions {
  /** 'nl-is-lf' (default): '\n' encodes to EBCDIC NL X'15'. 'strict': '\n' encodes to X'25' LF (glibc). */
  readonly newline?: NewlineMode;
}

export interface CodePage {
  /** Canonical name, e.g. 'IBM-1047', 'ISO8859-1', 'UTF-8'. */
  readonly name: string;
  readonly ebcdic: boolean;
  /** Bytes → Unicode string (glibc iconv semantics, except the NL choice in `opts.newline`). */
  decode(bytes: Uint8Array, opts?: DecodeOptions): string;
  /** Unicode → bytes; throws CodepageError for an unmappable character. Ignores `opts` on ASCII pages. */
  encode(text: string, opts?: EncodeOptions): Buffer;
  /** EBCDIC only: 256-byte table EBCDIC byte → outbound byte in `asciiCharset`. Treat as read-only. */
  readonly toAscii?: Uint8Array;
  /** EBCDIC only: the outbound charset of translated mail. */
  readonly asciiCharset?: 'ISO-8859-1' | 'ISO-8859-15';
}

/** A code page name is unknown, a table is damaged, or a character cannot be encoded. */
export class CodepageError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CODEPAGE', message, options);
  }
}
