// The Received: trace header added on top of every accepted message.
// RFC 5321 §4.4 (Time-stamp-line: from, by, with, id, for; date-time), RFC 3848 / RFC 6531 §4.3
// ("with" protocol types ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP...), RFC 5322 §3.3 date-time.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 §3.3 date-time in UTC, e.g. "Sun, 22 Nov 2026 12:00:00 +0000". */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** RFC 5321 §4.1.3 address literal of the client IP. */
export function addressLiteral(ip: string): string {
  const v4 = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return v4.includes(':') ? `[IPv6:${v4}]` : `[${v4}]`;
}

export interface ReceivedFields {
  readonly heloName: string;
  readonly clientIp: string;
  readonly hostName: string;
  readonly esmtp: boolean;
  readonly tls: boolean;
  readonly authenticated: boolean;
  readonly smtputf8: boolean;
  readonly id: string;
  /** Only given when the message has exactly one recipient (RFC 5321 §7.2: do not disclose Bcc lists). */
  readonly forRecipient?: string;
  readonly dateMs: number;
}

/** Builds the header with CRLF line ends, folded with a TAB. */
export function receivedHeader(f: ReceivedFields): Buffer {
  // The EHLO argument is untrusted: keep it to printable ASCII without parentheses or semicolons.
  const helo = f.heloName.replace(/[^\x21-\x7e]|[();\\]/g, '?').slice(0, 255);
  let proto = f.smtputf8 ? 'UTF8SMTP' : f.esmtp ? 'ESMTP' : 'SMTP';
  if (f.esmtp || f.smtputf8) proto += `${f.tls ? 'S' : ''}${f.authenticated ? 'A' : ''}`;
  const lines = [
    `Received: from ${helo} (${addressLiteral(f.clientIp)})`,
    `\tby ${f.hostName} (spoolgate) with ${proto} id ${f.id}`,
  ];
  if (f.forRecipient !== undefined) lines.push(`\tfor ${f.forRecipient};`);
  else lines[lines.length - 1] += ';';
  lines.push(`\t${rfc5322Date(f.dateMs)}`);
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
