// The error report of a bad spool file (SPEC.md §1.2): every problem with its reply code,
// enhanced code, text, record number and message number, headed by the job's attributes.
// Pure functions: the text is a function of the input only (golden-tested), and the Report Admin
// mail is a complete RFC 5322 message with its envelope, queued as a message entry (enqueue.ts)
// so it travels through the targets like any other mail and reaches them byte for byte.
import { formatMailbox, parseMailbox, type Mailbox } from '../core/address.js';
import type { Envelope } from '../core/envelope.js';
import { newMessageIdHeader } from '../core/ids.js';
import { err, ok, type Result } from '../core/result.js';
import { formatRfc5322Date, zoneOffsetFn } from './headers.js';
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
  /** Our host name for the From header of a null-sender report and the Message-ID. */
  hostName: string;
  report: string;
  attrs: SpoolAttributes;
  /** When the report is made (Date: and Message-ID:). */
  now: Date;
}

/** The Report Admin mail: a 7-bit text message (CRLF line ends) and its envelope. */
export interface AdminReportMail {
  readonly envelope: Envelope;
  readonly data: Buffer;
}

/**
 * The Report Admin mail. Returns an error text when an address is invalid or there is no
 * recipient.
 */
export function buildAdminReportMail(o: AdminMailOptions): Result<AdminReportMail, string> {
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
  const lines = [
    `From: ${from === undefined ? `Mail Delivery Subsystem <MAILER-DAEMON@${o.hostName}>` : `spoolgate <${formatMailbox(from)}>`}`,
    `To: ${rcpts.map(formatMailbox).join(',\r\n ')}`,
    `Subject: spoolgate error report for job ${a.jobName} (${a.jobId})`,
    `Date: ${formatRfc5322Date(o.now.getTime(), zoneOffsetFn())}`,
    `Message-ID: ${newMessageIdHeader(o.hostName, o.now.getTime())}`,
    // RFC 3834 §5: mark the report as automatic so responders do not answer it.
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
  ];
  for (const raw of o.report.replace(/\n$/, '').split('\n')) {
    const line = printable(raw, 100_000);
    // RFC 5322 §2.1.1: lines of at most 998 characters; fold longer report lines.
    for (let i = 0; i === 0 || i < line.length; i += 990) lines.push(line.slice(i, i + 990));
  }
  return ok({
    envelope: {
      from: from === undefined ? { kind: 'null' } : { kind: 'mailbox', mailbox: from },
      recipients: rcpts.map((mailbox) => ({ mailbox })),
      requireTls: false,
    },
    data: Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'),
  });
}
