// A print file's bytes → print records (text and carriage control). This is not the spool's
// RecordDecoder (spool/records.ts): a print line keeps its trailing blanks, its carriage control
// byte may be any value (machine codes are control bytes), and a card image ending in '<' is
// not a continuation. Formats: text (LF or CRLF lines, UTF-8, ASCII or Latin-1), EBCDIC NL
// (X'15' ends a line), fixed-length records (FB80, FBA133 …) and variable records with a 4-byte
// RDW (length incl. RDW, big-endian). Every record is bounded (32,760 bytes, the largest z/OS
// logical record); a longer one is an error, not a buffer that grows.
import type { CodePage } from '../codepage/index.js';
import type { CarriageControl, PrintRecord } from './pager.js';

export type PrintFormat = { readonly kind: 'text' } | { readonly kind: 'nl' } | { readonly kind: 'fixed'; readonly length: number } | { readonly kind: 'variable' };

export const MAX_PRINT_RECORD = 32760;

export class PrintInputError extends Error {}

/** Text: UTF-8 when it is valid UTF-8, else Latin-1 (one decision per line). */
function decodeText(b: Buffer): string {
  const s = b.toString('utf8');
  return s.includes('\ufffd') && !Buffer.from(s, 'utf8').equals(b) ? b.toString('latin1') : s;
}

function toRecord(raw: Buffer, carriage: CarriageControl, page: CodePage | undefined): PrintRecord {
  const decode = (b: Buffer): string => (page === undefined ? decodeText(b) : page.decode(b, { newline: 'strict' }));
  if (carriage === 'none' || raw.length === 0) return { text: decode(raw) };
  const first = raw[0]!;
  // ASA characters are text (EBCDIC '1' is X'F1'); machine codes are raw bytes in either code.
  const cc = carriage === 'machine' ? first : decode(raw.subarray(0, 1)).charCodeAt(0);
  return { text: decode(raw.subarray(1)), cc };
}

/** Yields the records of `source`; throws PrintInputError for a record over the bound or a bad RDW. */
export async function* printRecords(source: AsyncIterable<Buffer>, opts: { format: PrintFormat; carriage: CarriageControl; codepage?: CodePage }): AsyncGenerator<PrintRecord> {
  const f = opts.format;
  const page = opts.codepage?.ebcdic === true ? opts.codepage : undefined;
  if (f.kind === 'fixed' && !(f.length >= 1 && f.length <= MAX_PRINT_RECORD)) throw new PrintInputError(`record length ${f.length} is not 1..${MAX_PRINT_RECORD}`);
  let pending: Buffer = Buffer.alloc(0);
  let recordNo = 0;
  const take = (raw: Buffer): PrintRecord => {
    recordNo++;
    if (raw.length > MAX_PRINT_RECORD) throw new PrintInputError(`record ${recordNo} is longer than ${MAX_PRINT_RECORD} bytes`);
    return toRecord(raw, opts.carriage, f.kind === 'text' ? undefined : page ?? opts.codepage);
  };
  for await (const chunk of source) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let pos = 0;
    if (f.kind === 'text' || f.kind === 'nl') {
      const end = f.kind === 'text' ? 0x0a : 0x15;
      for (;;) {
        const i = pending.indexOf(end, pos);
        if (i < 0) break;
        let line = pending.subarray(pos, i);
        if (f.kind === 'text' && line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
        yield take(line);
        pos = i + 1;
      }
    } else if (f.kind === 'fixed') {
      while (pending.length - pos >= f.length) {
        yield take(pending.subarray(pos, pos + f.length));
        pos += f.length;
      }
    } else {
      while (pending.length - pos >= 4) {
        const len = pending.readUInt16BE(pos);
        if (len < 4) throw new PrintInputError(`record ${recordNo + 1}: RDW length ${len} is below 4`);
        if (pending.length - pos < len) break;
        yield take(pending.subarray(pos + 4, pos + len));
        pos += len;
      }
    }
    pending = pending.subarray(pos);
    if (pending.length > MAX_PRINT_RECORD + 4) throw new PrintInputError(`record ${recordNo + 1} is longer than ${MAX_PRINT_RECORD} bytes`);
  }
  if (pending.length > 0) {
    if (f.kind === 'text' || f.kind === 'nl') yield take(pending);
    else throw new PrintInputError(`the file ends inside record ${recordNo + 1} (${pending.length} bytes left)`);
  }
}
