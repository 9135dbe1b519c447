// The error report of a bad spool file (SPEC.md §1.2): every problem with its reply code,
// enhanced code, text, record number and message number, headed by the job's attributes.
// Pure functions: the text is a function of the input only (golden-tested), and the Report Admin
// mail is built as batch SMTP so it travels through the spool like any other mail.
import { formatMailbox, parseMailbox, type Mailbox } from '../core/address.js';
import { err, ok, type Result } from '../core/result.js';
import { dotStuff } from '../smtp/protocol/dot-stuff.js';
import { printable, type SpoolAttributes } from './attributes.js';

export interface ReportProblem {
  code: number;
  /** Full enhanced status code, e.g. "5.5.4". */
  enhanced: string;
  text: string;
  /** 0 = not tied to a record. */
  recordNo: number;
  /** 0 = not inside a message. */
  messageNo: number;
}

export interface ReportInput {
  attrs: SpoolAttributes;
  problems: readonly ReportProblem[];
  summary: string;
  /** The spool entry's name, when known. */
  entryId?: string;
}

/** Job name and id of the gateway's own report mails (used to avoid reporting on a report). */
export const REPORT_JOB_NAME = 'SGREPORT';

const n = (v: number): string => (v > 0 ? String(v) : '-');

/** The report text: ASCII only (untrusted text is escaped), LF line ends, ends with a newline. */
export function formatReport(r: ReportInput): string {
  const a = r.attrs;
  const lines = [
    'SPOOLGATE SPOOL FILE ERROR REPORT',
    '',
    `Job name:     ${a.jobName}`,
    `Job id:       ${a.jobId}`,
    `Origin user:  ${printable(a.originUser)} (uid ${a.originUid})`,
    `Origin node:  ${printable(a.originNode)}`,
    `Task type:    ${a.taskType}`,
    `Created:      ${a.created.toISOString()}`,
  ];
  if (r.entryId !== undefined) lines.push(`Spool entry:  ${printable(r.entryId)}`);
  if (a.recordFormat !== undefined || a.encoding !== undefined) {
    lines.push(`Format:       ${a.recordFormat ?? 'default'} / ${a.encoding ?? 'default code page'}`);
  }
  lines.push(`Summary:      ${printable(r.summary, 400)}`, '');
  if (r.problems.length === 0) {
    lines.push('No individual problems were recorded.');
  } else {
    lines.push(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`, '');
    lines.push('  Record  Message  Reply');
    for (const p of r.problems) {
      lines.push(`  ${n(p.recordNo).padStart(6)}  ${n(p.messageNo).padStart(7)}  ${p.code} ${printable(p.enhanced, 16)} ${printable(p.text, 400)}`);
    }
  }
  return lines.join('\n') + '\n';
}

export interface AdminMailOptions {
  /** Reverse path of the report: an address, or '' for the null path `<>`. */
  from: string;
  /** MailAdministrator addresses: all of them are recipients of one mail. */
  to: readonly string[];
  /** Our host name for HELO and the From header of a null-sender report. */
  hostName: string;
  report: string;
  attrs: SpoolAttributes;
}

/**
 * The Report Admin mail as a batch-SMTP spool file (CRLF line ends, ISO8859-1 = ASCII text).
 * Returns an error text when an address is invalid or there is no recipient.
 */
export function buildAdminReportMail(o: AdminMailOptions): Result<Buffer, string> {
  if (o.to.length === 0) return err('no MailAdministrator address to send the report to');
  const rcpts: Mailbox[] = [];
  for (const t of o.to) {
    const m = parseMailbox(t);
    if (!m.ok) return err(`MailAdministrator address "${printable(t)}" is not valid`);
    rcpts.push(m.value);
  }
  let from: Mailbox | undefined;
  if (o.from !== '') {
    const m = parseMailbox(o.from);
    if (!m.ok) return err(`report sender "${printable(o.from)}" is not valid`);
    from = m.value;
  }
  if (!/^[A-Za-z0-9.-]{1,255}$/.test(o.hostName)) return err(`host name "${printable(o.hostName)}" is not valid`);
  const a = o.attrs;
  const commands = [
    `HELO ${o.hostName}`,
    `MAIL FROM:<${from === undefined ? '' : formatMailbox(from)}>`,
    ...rcpts.map((m) => `RCPT TO:<${formatMailbox(m)}>`),
    'DATA',
  ];
  const lines = [
    `From: ${from === undefined ? `Mail Delivery Subsystem <MAILER-DAEMON@${o.hostName}>` : `spoolgate <${formatMailbox(from)}>`}`,
    `To: ${rcpts.map(formatMailbox).join(',\n ')}`,
    `Subject: spoolgate error report for job ${a.jobName} (${a.jobId})`,
    // RFC 3834 §5: mark the report as automatic so responders do not answer it.
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
  ];
  for (const raw of o.report.replace(/\n$/, '').split('\n')) {
    const line = printable(raw, 100_000);
    // RFC 5321 §4.5.3.1.6: text lines of at most 998 octets; fold longer report lines (room for a stuffed dot).
    for (let i = 0; i === 0 || i < line.length; i += 990) {
      lines.push(line.slice(i, i + 990));
    }
  }
  // RFC 5321 §4.5.2: dotStuff doubles a leading "." (the spool parser removes it) and ends the
  // text with CRLF "." CRLF.
  return ok(Buffer.concat([
    Buffer.from(commands.join('\r\n') + '\r\n', 'latin1'),
    dotStuff(Buffer.from(lines.join('\r\n'), 'latin1')),
    Buffer.from('QUIT\r\n', 'latin1'),
  ]));
}
