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
  /** EBCDIC only: the outbound charset of translated mail ('UTF-8' for the DBCS pages). */
  readonly asciiCharset?: 'ISO-8859-1' | 'ISO-8859-15' | 'UTF-8';
  /**
   * Mixed SBCS/DBCS EBCDIC pages only (IBM-930 …): a new stateful SO/SI translator to UTF-8, used
   * by the spool's record decoder instead of `toAscii` (which these pages do not have).
   */
  shiftTranslator?(): ShiftTranslator;
}

/** Why a shift translator stopped: the byte at `index` of the chunk given to translate(). */
export interface ShiftProblem {
  readonly kind: 'invalid-dbcs' | 'control-character';
  readonly index: number;
  readonly detail: string;
}

/**
 * SO/SI state machine of a mixed EBCDIC page (src/codepage/dbcs.ts): state carries from one
 * translate() call to the next until reset().
 */
export interface ShiftTranslator {
  /** In double-byte mode (after SO, before SI). */
  readonly shifted: boolean;
  /** Holding the first byte of a pair. */
  readonly pendingLead: boolean;
  /** The first problem since reset(); translate() outputs nothing more after it. */
  readonly problem: ShiftProblem | undefined;
  /** Back to single-byte mode, no pending byte, no problem. */
  reset(): void;
  /** Follows the shift state over raw[from, to) without output or checks. */
  scan(raw: Uint8Array, from: number, to: number): void;
  /**
   * Translates raw[from, to) to UTF-8 at out[o…]; returns the new end, or -1 when `out` is full.
   * On the first invalid code or control character it sets `problem`, follows the state to `to`
   * and returns the end so far.
   */
  translate(raw: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number;
}

/** A code page name is unknown, a table is damaged, or a character cannot be encoded. */
export class CodepageError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CODEPAGE', message, options);
  }
}
