// Report Admin (SPEC.md §1.2): the spool's error report for a bad spool file, mailed once to all
// MailAdministrator addresses (the first four are used) as recipients of a single mail.
import { formatMailbox, newMessageIdHeader, type Envelope, type Mailbox, type ReversePath, type Result, ok, err } from '../core/index.js';
import { CRLF, asciiText, foldHeader, formatDate, quotedPrintable } from './mime.js';
import type { GeneratedMail } from './dsn.js';

/** SPEC.md §1.2: 1–4 MailAdministrator addresses are used; more is a configuration warning. */
export const MAX_ADMINISTRATORS = 4;

export interface ErrorReportMailInput {
  /** The report text as the spool produced it (Unicode; any line ends). */
  readonly report: string;
  readonly administrators: readonly Mailbox[];
  /** (ext) ReportMailFrom; the null sender is allowed. */
  readonly from: ReversePath;
  readonly jobName: string;
  readonly jobId: string;
  readonly originUser?: string;
  /** Our host name (From display, Message-ID). */
  readonly hostName: string;
  readonly now: Date;
}

export type ErrorReportMailProblem = 'no-administrators';

export function buildErrorReportMail(input: ErrorReportMailInput): Result<GeneratedMail, ErrorReportMailProblem> {
  const admins = input.administrators.slice(0, MAX_ADMINISTRATORS);
  if (admins.length === 0) return err('no-administrators');
  const host = asciiText(input.hostName);
  const job = asciiText(`${input.jobName} ${input.jobId}`);
  const from = input.from.kind === 'null' ? `MAILER-DAEMON@${host}` : formatMailbox(input.from.mailbox);
  const text = input.report.endsWith('\n') ? input.report : `${input.report}\n`;
  const head = [
    `From: spoolgate <${asciiText(from)}>`,
    foldHeader('To', admins.map((m) => `<${asciiText(formatMailbox(m))}>`).join(', ')),
    foldHeader('Subject', `spoolgate error report for job ${job}${input.originUser ? ` (user ${asciiText(input.originUser)})` : ''}`),
    `Date: ${formatDate(input.now)}`,
    `Message-ID: ${newMessageIdHeader(host, input.now.getTime())}`,
    // RFC 3834 §5: generated automatically; nobody should auto-reply to it.
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    // RFC 2045 §6.7: quoted-printable keeps the report 7-bit and every line ≤ 76 characters,
    // whatever the spool put in it.
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '',
  ].join(CRLF);
  const envelope: Envelope = {
    from: input.from,
    recipients: admins.map((mailbox) => ({ mailbox })),
    requireTls: false,
  };
  return ok({ envelope, data: Buffer.from(head + quotedPrintable(text.replace(/\r?\n$/, '')) + CRLF, 'latin1') });
}
