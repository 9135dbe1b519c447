// Puts one composed message on the spool as batch SMTP, exactly as a batch job would write it
// (SPEC.md §7: submission produces entries the forwarder cannot tell from a job's), with task type
// DEST (the SMTPNOTE / XMIT kind of spool file).
import type { Envelope } from '../core/index.js';
import { formatBatchSmtp } from '../spool/batch-writer.js';
import { submitToSpool, type SpoolEntry } from '../spool/submit.js';

/** Where a submission goes: the spool root and writer name, and the HELO name of the batch file. */
export interface SpoolTarget {
  readonly root: string;
  readonly writer: string;
  readonly hostName: string;
}

/** A spool text record must not carry what the record reader would change or refuse. */
export type SpoolSafetyProblem =
  | { kind: 'line-too-long'; lineNo: number; length: number }
  | { kind: 'control-character'; lineNo: number; byte: number }
  | { kind: 'trailing-blank'; lineNo: number }
  | { kind: 'continuation'; lineNo: number };

// RFC 5322 §2.1.1: a line is at most 998 characters excluding CRLF.
export const MAX_LINE = 998;

/**
 * Checks that `data` passes through a text spool byte-exact: the record reader strips trailing
 * blanks, refuses control characters other than tab and joins an 80-byte record ending in "<"
 * with the next one (SPEC.md §1), and the parser refuses data lines over 998 bytes.
 */
export function spoolSafetyProblems(data: Buffer, opts: { allowTrailingBlanks?: boolean } = {}): SpoolSafetyProblem[] {
  const out: SpoolSafetyProblem[] = [];
  let lineNo = 0;
  let start = 0;
  while (start < data.length) {
    lineNo++;
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    let stop = end;
    if (stop > start && data[stop - 1] === 0x0d) stop--;
    const len = stop - start;
    if (len > MAX_LINE) out.push({ kind: 'line-too-long', lineNo, length: len });
    for (let i = start; i < stop; i++) {
      const b = data[i]!;
      if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
        out.push({ kind: 'control-character', lineNo, byte: b });
        break;
      }
    }
    const last = len > 0 ? data[stop - 1] : undefined;
    if (!opts.allowTrailingBlanks && (last === 0x20 || last === 0x09)) out.push({ kind: 'trailing-blank', lineNo });
    if (len === 80 && last === 0x3c) out.push({ kind: 'continuation', lineNo });
    start = end + 1;
  }
  return out;
}

export function describeSpoolSafetyProblem(p: SpoolSafetyProblem): string {
  switch (p.kind) {
    case 'line-too-long': return `line ${p.lineNo} is ${p.length} bytes long (at most ${MAX_LINE})`;
    case 'control-character': return `line ${p.lineNo} contains the control character X'${p.byte.toString(16).toUpperCase().padStart(2, '0')}'`;
    case 'trailing-blank': return `line ${p.lineNo} ends in a blank, which the spool would strip`;
    case 'continuation': return `line ${p.lineNo} is 80 bytes ending in "<", which the spool would join with the next line`;
  }
}

/** Writes `data` for `envelope` as one batch-SMTP spool entry (text records, UTF-8 spool). */
export async function putOnSpool(opts: { target: SpoolTarget; envelope: Envelope; data: Buffer; jobName?: string }): Promise<SpoolEntry> {
  const batch = formatBatchSmtp({ hostName: opts.target.hostName, envelope: opts.envelope, data: opts.data });
  return submitToSpool({
    root: opts.target.root,
    writer: opts.target.writer,
    data: batch,
    attrs: {
      taskType: 'DEST',
      recordFormat: 'text',
      // LENIENT: a text spool is read byte for byte, so any 8-bit message passes unchanged.
      encoding: 'UTF-8',
      ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }),
    },
  });
}
