// codepage — the `Translate` code pages of the spool (SPEC.md §1): single-byte EBCDIC tables
// for IBM-037, 273, 277, 278, 280, 284, 285, 297, 500, 871, 1047 and 1140–1149, plus the
// ASCII-compatible spool encodings ISO8859-1 and UTF-8 (ext). A leaf: no files, no sockets.
//
// Standards / oracle: glibc iconv. The tables in tables.generated.ts are produced by
// `node scripts/gen-codepages.mjs` (iconv over all 256 bytes) and committed; codepage.test.ts
// compares them with glibc when `iconv` is installed and with oracle.sha256.json otherwise.
//
// Newlines: glibc maps EBCDIC NL X'15' to U+0085 (NEL) and X'25' to U+000A (LF) on every
// supported page. z/OS UNIX text ends lines with X'15', so decode() by default ('nl-is-lf')
// reads X'15' as '\n' and encode() writes '\n' as X'15'; pass { newline: 'strict' } for the
// exact glibc mapping (X'15' ↔ U+0085, '\n' ↔ X'25').
//
// Outbound translation (`toAscii`, used by src/spool/records.ts): EBCDIC byte → one byte of
// `asciiCharset`, which is ISO-8859-1 for the pages without the euro (037 … 871, 1047) and
// ISO-8859-15 for 1140–1149 (so the euro sign becomes 0xA4). A byte whose character does not
// exist in the outbound charset becomes '?' (0x3F): on 1140–1149 the seven characters that
// ISO-8859-15 dropped from Latin-1 (¦ ¨ ´ ¸ ¼ ½ ¾), and on 285 the overline (U+203E) at X'A1'.
// The generated `unmappable` lists name these bytes per page. Control bytes translate to the
// same C0/C1 control as in glibc (X'15' NL → 0x85); the record decoder rejects them before
// translating, so they never reach mail.
//
// Mixed SBCS/DBCS pages IBM-930, 933, 935, 937, 939 (dbcs.ts, dbcs-tables.generated.ts from
// scripts/gen-dbcs-codepages.mjs): SO X'0E' / SI X'0F' shift handling, no `toAscii`; the spool
// translates them with `shiftTranslator()` to UTF-8 (`asciiCharset` 'UTF-8'). They are not in
// EBCDIC_PAGES (the single-byte list) but in DBCS_PAGES. docs/codepages.md has the rules.
//
// Untrusted input: code page names from configuration and spool attributes (unknown → undefined),
// and any bytes or text (decode never throws; encode throws CodepageError for an unmappable
// character). Persists nothing; holds only immutable tables, so it is always safe to crash.
import { PAGE_DATA } from './tables.generated.js';
import { buildEbcdicPage } from './ebcdic.js';
import { ISO8859_1, UTF_8 } from './ascii.js';
import { DBCS_PAGE_DATA } from './dbcs-tables.generated.js';
import { buildDbcsPage } from './dbcs.js';
import type { CodePage } from './types.js';

export { CodepageError } from './types.js';
export type { CodePage, DecodeOptions, EncodeOptions, NewlineMode, ShiftProblem, ShiftTranslator } from './types.js';

/** Canonical names of the supported EBCDIC pages, e.g. 'IBM-037', 'IBM-1047', 'IBM-1141'. */
export const EBCDIC_PAGES: readonly string[] = Object.freeze(Object.keys(PAGE_DATA));

/** Canonical names of the mixed SBCS/DBCS EBCDIC pages: 'IBM-930', 933, 935, 937, 939 (docs/codepages.md). */
export const DBCS_PAGES: readonly string[] = Object.freeze(Object.keys(DBCS_PAGE_DATA));

const PAGES: ReadonlyMap<string, CodePage> = new Map<string, CodePage>([
  ...EBCDIC_PAGES.map((n): [string, CodePage] => [n, buildEbcdicPage(n, PAGE_DATA[n]!)]),
  ...DBCS_PAGES.map((n): [string, CodePage] => [n, buildDbcsPage(n, DBCS_PAGE_DATA[n]!)]),
  [ISO8859_1.name, ISO8859_1],
  [UTF_8.name, UTF_8],
]);

/** Bytes of characters that have no equivalent in the page's asciiCharset (toAscii gives '?'). */
export function unmappableBytes(page: CodePage): readonly number[] {
  return PAGE_DATA[page.name]?.unmappable ?? [];
}

/**
 * The canonical name for a user-supplied code page name, or undefined.
 * EBCDIC: 'IBM-1047', 'IBM1047', 'CP1047', '1047', 'IBM-37', 'ibm037' (case-insensitive).
 * ASCII: 'ISO8859-1', 'ISO-8859-1', 'ISO_8859-1', 'LATIN1', 'UTF-8', 'UTF8'.
 */
export function canonicalCodepageName(name: string): string | undefined {
  const n = name.trim().toUpperCase();
  const ibm = /^(?:IBM|CP)?[-_]?0*([1-9]\d{1,3})$/.exec(n);
  if (ibm !== null) {
    const canonical = `IBM-${ibm[1]!.padStart(3, '0')}`;
    return PAGES.has(canonical) ? canonical : undefined;
  }
  if (/^ISO[-_]?8859[-_]1$/.test(n) || n === 'LATIN1' || n === 'LATIN-1') return ISO8859_1.name;
  if (n === 'UTF-8' || n === 'UTF8') return UTF_8.name;
  return undefined;
}

/** The code page for a name (see canonicalCodepageName), or undefined when unsupported. */
export function getCodePage(name: string): CodePage | undefined {
  const canonical = canonicalCodepageName(name);
  return canonical === undefined ? undefined : PAGES.get(canonical);
}
