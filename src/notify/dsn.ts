// Delivery status notifications (SPEC.md §2.2 Undeliverable): builds the RFC 3464 report that
// tells the original sender what became of each recipient, as a complete RFC 5322 message with
// its own envelope. Pure: no files, no sockets; time and host name are passed in.
import { formatMailbox, newMessageIdHeader, type Envelope, type Mailbox, type Recipient } from '../core/index.js';
import {
  CRLF, MAX_LINE, asciiText, chooseBoundary, foldHeader, formatDate, has8bit, headerSection, longestLine,
  parseHeaderFields, toCrlf, truncate, wrapText,
} from './mime.js';

/** RFC 3464 §2.3.3 action-field values this gateway reports. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

export interface DsnRecipientReport {
  readonly recipient: Recipient;
  readonly action: DsnAction;
  /** RFC 3463 status, e.g. "5.1.1" (class must match the action: 5 failed, 4 delayed, 2 otherwise). */
  readonly status: string;
  /** The remote server's reply (e.g. "550 5.1.1 user unknown") or our own reason. */
  readonly diagnostic?: string;
  /** Host name of the target that gave the reply. */
  readonly remoteMta?: string;
  /** Delayed only: when retrying stops (RFC 3464 §2.3.9 Will-Retry-Until). */
  readonly willRetryUntil?: Date;
  /** When the last attempt was made; defaults to `now`. */
  readonly lastAttempt?: Date;
  /**
   * The address as the job wrote it (angle brackets and parameters removed), for a recipient
   * that could not be parsed: shown as written, never re-quoted around a made-up mailbox.
   */
  readonly written?: string;
}

/** The address a report line names: the parsed mailbox, or the unparsable text as written. */
function shownAddress(r: DsnRecipientReport): string {
  return r.written ?? formatMailbox(r.recipient.mailbox);
}

export interface DsnInput {
  readonly original: { readonly envelope: Envelope; readonly data: Buffer; readonly arrival: Date; readonly jobName?: string; readonly jobId?: string };
  readonly recipients: readonly DsnRecipientReport[];
  /** Our host name (RFC 3464 §2.2.2 Reporting-MTA: dns; <host>). */
  readonly reportingMta: string;
  readonly now: Date;
  /** Originals larger than this many bytes are returned as headers only (default 262144). */
  readonly maxReturnBytes?: number;
  /** (ext) Undeliverable CopyTo: an extra envelope recipient receiving a copy (iSeries NONDELIVERY user). */
  readonly copyTo?: Mailbox;
}

export interface GeneratedMail {
  readonly envelope: Envelope;
  readonly data: Buffer;
}

export const DEFAULT_MAX_RETURN_BYTES = 256 * 1024;
/** Diagnostic texts longer than this are truncated so that every folded line stays short. */
const MAX_DIAGNOSTIC = 800;

/** Why no notification may be generated for a message (caller logs / dead-letters accordingly). */
export type SuppressionReason = 'null-sender' | 'report' | 'auto-submitted';

/**
 * "No notification about a notification" (SPEC.md §2.2, RFC 3461 §6.2 / RFC 5321 §4.5.5, RFC 3834 §2):
 * a message is treated as a notification when its sender is null, when it is itself a delivery
 * status report, or when it says it was sent automatically.
 */
export function notificationSuppression(original: { readonly envelope: Envelope; readonly data: Buffer }): SuppressionReason | undefined {
  // RFC 5321 §4.5.5: notifications are sent with a null reverse-path, and MUST NOT be answered.
  if (original.envelope.from.kind === 'null') return 'null-sender';
  let auto = false;
  for (const f of parseHeaderFields(original.data)) {
    // RFC 3462 §1 / RFC 3464 §2: a DSN is multipart/report; report-type=delivery-status.
    if (f.name === 'content-type' && /^multipart\/report\s*;/i.test(f.value) && /;\s*report-type\s*=\s*"?delivery-status"?/i.test(f.value)) return 'report';
    // RFC 3834 §5: responders MUST NOT reply to messages with Auto-Submitted other than "no".
    if (f.name === 'auto-submitted') {
      const kw = f.value.replace(/\(.*?\)/g, '').split(';')[0]!.trim().toLowerCase();
      if (kw !== 'no') auto = true;
    }
  }
  return auto ? 'auto-submitted' : undefined;
}

/** RFC 3461 §4.1 NOTIFY decides whether a report line is due for one recipient. */
export function notifyWants(r: Recipient, action: DsnAction): boolean {
  const n = r.notify;
  if (n?.kind === 'never') return false;
  switch (action) {
    // RFC 3461 §4.1: absent NOTIFY is treated as NOTIFY=FAILURE (we do not add DELAY on our own).
    case 'failed': return n === undefined || n.failure;
    case 'delayed': return n !== undefined && n.delay;
    case 'delivered':
    case 'relayed': return n !== undefined && n.success;
  }
}

/** RFC 3464 §2.1.1 address in a recipient field: "rfc822; local@domain" (RFC 6533 utf-8 for non-ASCII). */
function typedAddress(type: string, address: string): string {
  // Printable ASCII stays as it is: a quoted local part ("two words"@example.org) has blanks.
  if (/^[\x20-\x7e]*$/.test(address)) return `${type}; ${address}`;
  // RFC 6533 §3 utf-8-addr-xtext: non-ASCII code points as \x{HEX}; the type becomes "utf-8".
  let x = '';
  for (const ch of address) {
    const cp = ch.codePointAt(0)!;
    x += cp >= 0x21 && cp <= 0x7e && ch !== '\\' && ch !== '+' && ch !== '=' ? ch : `\\x{${cp.toString(16).toUpperCase()}}`;
  }
  return `utf-8; ${x}`;
}

/** RFC 3464 §2.3.4 status-code = DIGIT "." 1*3DIGIT "." 1*3DIGIT, with the class of the action. */
function normaliseStatus(status: string, action: DsnAction): string {
  const cls = action === 'failed' ? '5' : action === 'delayed' ? '4' : '2';
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(status.trim());
  if (m !== null && m[1] === cls) return `${m[1]}.${m[2]}.${m[3]}`;
  if (m !== null) return `${cls}.${m[2]}.${m[3]}`;
  return `${cls}.0.0`;
}

function sentence(r: DsnRecipientReport): string {
  const to = shownAddress(r);
  const diag = r.diagnostic !== undefined ? ` The server${r.remoteMta ? ` ${r.remoteMta}` : ''} said: ${asciiText(truncate(r.diagnostic, MAX_DIAGNOSTIC))}` : '';
  switch (r.action) {
    case 'failed': return `<${to}>: delivery failed permanently (status ${r.status}).${diag}`;
    case 'delayed': {
      const until = r.willRetryUntil ? ` Delivery will be retried until ${formatDate(r.willRetryUntil)}.` : '';
      return `<${to}>: delivery is delayed (status ${r.status}).${diag}${until}`;
    }
    case 'delivered': return `<${to}>: delivered (status ${r.status}).${diag}`;
    case 'relayed': return `<${to}>: relayed to a server that does not send delivery notifications (status ${r.status}).${diag}`;
  }
}

function humanPart(input: DsnInput, due: readonly DsnRecipientReport[], returned: 'full' | 'headers', reportingMta: string): string {
  const lines: string[] = [];
  const job = input.original.jobName ? ` (job ${input.original.jobName}${input.original.jobId ? ` ${input.original.jobId}` : ''})` : '';
  lines.push(`This is the mail gateway at ${reportingMta}.`, '');
  lines.push(`Your message${job} received ${formatDate(input.original.arrival)}`);
  lines.push(due.some((r) => r.action === 'failed')
    ? 'could not be delivered to one or more recipients. No further attempts will be made for them.'
    : 'has a delivery status to report for the recipients below.');
  lines.push('');
  for (const r of due) lines.push(...wrapText(asciiText(sentence(r))), '');
  lines.push(returned === 'full' ? 'The original message is attached.' : 'The header of the original message is attached.');
  return lines.join(CRLF) + CRLF;
}

/** RFC 3464 §2.2 per-message fields and §2.3 per-recipient fields. */
function statusPart(input: DsnInput, due: readonly DsnRecipientReport[], reportingMta: string): string {
  const out: string[] = [];
  const envid = input.original.envelope.dsn?.envid;
  out.push(`Reporting-MTA: dns; ${reportingMta}`);
  // RFC 3464 §2.2.1: Original-Envelope-Id only when ENVID was given; RFC 3461 §4.4 xtext kept as is.
  if (envid !== undefined && envid !== '') out.push(foldHeader('Original-Envelope-Id', asciiText(envid)));
  out.push(`Arrival-Date: ${formatDate(input.original.arrival)}`);
  for (const r of due) {
    out.push('');
    const o = r.recipient.orcpt;
    // RFC 3464 §2.3.1: Original-Recipient only when ORCPT was supplied.
    if (o !== undefined) out.push(foldHeader('Original-Recipient', typedAddress(asciiText(o.type), o.address)));
    out.push(foldHeader('Final-Recipient', typedAddress('rfc822', shownAddress(r))));
    out.push(`Action: ${r.action}`);
    out.push(`Status: ${normaliseStatus(r.status, r.action)}`);
    if (r.remoteMta !== undefined && r.remoteMta !== '') out.push(foldHeader('Remote-MTA', `dns; ${asciiText(r.remoteMta)}`));
    if (r.diagnostic !== undefined && r.diagnostic.trim() !== '') {
      out.push(foldHeader('Diagnostic-Code', `smtp; ${asciiText(truncate(r.diagnostic, MAX_DIAGNOSTIC))}`));
    }
    out.push(`Last-Attempt-Date: ${formatDate(r.lastAttempt ?? input.now)}`);
    if (r.action === 'delayed' && r.willRetryUntil !== undefined) out.push(`Will-Retry-Until: ${formatDate(r.willRetryUntil)}`);
  }
  return out.join(CRLF) + CRLF;
}

/**
 * Builds the notification, or null when none is due: the original is a notification itself
 * (see notificationSuppression) or NOTIFY excludes every listed recipient.
 */
export function buildDsn(input: DsnInput): GeneratedMail | null {
  const orig = input.original;
  if (notificationSuppression(orig) !== undefined) return null;
  if (orig.envelope.from.kind !== 'mailbox') return null;
  const due = input.recipients.filter((r) => notifyWants(r.recipient, r.action));
  if (due.length === 0) return null;

  const reportingMta = asciiText(input.reportingMta);
  const limit = input.maxReturnBytes ?? DEFAULT_MAX_RETURN_BYTES;
  const original = toCrlf(orig.data);
  // RFC 3461 §4.3: RET=HDRS asks for headers only; a large original is cut to its headers too
  // (RFC 3464 §2 allows text/rfc822-headers). An original with over-long lines could not be
  // carried inside a MIME part intact, so it is returned as headers only as well.
  const full = orig.envelope.dsn?.ret !== 'HDRS' && original.length <= limit && longestLine(original) <= MAX_LINE;
  const returned = full
    ? original
    : Buffer.concat([headerSection(original), Buffer.from(CRLF, 'latin1')]);
  const headersOk = longestLine(returned) <= MAX_LINE;
  const attached = headersOk ? returned : Buffer.alloc(0);

  const human = humanPart(input, due, full ? 'full' : 'headers', reportingMta);
  const status = statusPart(input, due, reportingMta);
  const boundary = chooseBoundary([human, status, attached]);
  const eightBit = has8bit(attached);
  const sender = formatMailbox(orig.envelope.from.mailbox);
  const anyFailed = due.some((r) => r.action === 'failed');
  const anyDelayed = due.some((r) => r.action === 'delayed');
  const subject = anyFailed ? 'Undelivered Mail Returned to Sender' : anyDelayed ? 'Delayed Mail (still being retried)' : 'Successful Mail Delivery Report';

  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${reportingMta}>`,
    foldHeader('To', `<${/^[\x20-\x7e]*$/.test(sender) ? sender : asciiText(sender)}>`),
    `Subject: ${subject}`,
    `Date: ${formatDate(input.now)}`,
    `Message-ID: ${newMessageIdHeader(reportingMta, input.now.getTime())}`,
    // RFC 3834 §5: a notification is auto-replied; receivers then never answer it.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    // RFC 3462 §1: multipart/report with report-type=delivery-status.
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF} boundary="${boundary}"`,
    ...(eightBit ? ['Content-Transfer-Encoding: 8bit'] : []),
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
  ].join(CRLF);
  const parts: Buffer[] = [
    Buffer.from(head + CRLF, 'latin1'),
    Buffer.from(`--${boundary}${CRLF}Content-Type: text/plain; charset=us-ascii${CRLF}Content-Description: Notification${CRLF}${CRLF}${human}${CRLF}`, 'latin1'),
    Buffer.from(`--${boundary}${CRLF}Content-Type: message/delivery-status${CRLF}Content-Description: Delivery report${CRLF}${CRLF}${status}${CRLF}`, 'latin1'),
    Buffer.from(`--${boundary}${CRLF}Content-Type: ${full ? 'message/rfc822' : 'text/rfc822-headers'}${CRLF}` +
      // RFC 2046 §5.2.1: message/rfc822 allows only 7bit, 8bit or binary encodings.
      (eightBit ? `Content-Transfer-Encoding: 8bit${CRLF}` : '') +
      `Content-Description: ${full ? 'Undelivered message' : 'Undelivered message headers'}${CRLF}${CRLF}`, 'latin1'),
    attached,
  ];
  const endsWithCrlf = attached.length >= 2 && attached[attached.length - 2] === 0x0d && attached[attached.length - 1] === 0x0a;
  parts.push(Buffer.from(`${endsWithCrlf ? '' : CRLF}${CRLF}--${boundary}--${CRLF}`, 'latin1'));

  // RFC 5321 §4.5.5: the notification is sent with a null reverse-path to the original sender.
  const envelope: Envelope = {
    from: { kind: 'null' },
    recipients: [
      { mailbox: orig.envelope.from.mailbox },
      ...(input.copyTo !== undefined && formatMailbox(input.copyTo).toLowerCase() !== sender.toLowerCase() ? [{ mailbox: input.copyTo }] : []),
    ],
    // The report carries the original content: keep the original's TLS requirement.
    requireTls: orig.envelope.requireTls,
    ...(eightBit ? { body8bit: true } : {}),
    ...(orig.envelope.smtputf8 ? { smtputf8: true } : {}),
  };
  return { envelope, data: Buffer.concat(parts) };
}
