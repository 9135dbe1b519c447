// SMTP client command formatting: every command line the client sends is built here, CRLF
// included. Pure.
//
// RFC 5321 §4.1.1 commands; RFC 1870 SIZE=; RFC 6152 BODY=8BITMIME; RFC 6531 SMTPUTF8;
// RFC 3461 §4 RET/ENVID/NOTIFY/ORCPT with xtext (§4); RFC 3207 STARTTLS; RFC 4954 AUTH with
// RFC 4616 PLAIN and the LOGIN mechanism (draft-murchison-sasl-login).
import { formatPath, formatMailbox, type ReversePath, type Mailbox } from '../../core/address.js';
import type { DsnNotify } from '../../core/envelope.js';
import { ProtocolError } from '../../core/errors.js';

const CRLF = '\r\n';

/** Refuses CR, LF and NUL in anything put on a command line (command injection). */
function clean(s: string, what: string): string {
  if (/[\r\n\0]/.test(s)) throw new ProtocolError(`${what} contains CR, LF or NUL; refusing to send it`);
  return s;
}

/**
 * RFC 3461 §4: xtext = *( xchar / hexchar ); xchar is "!" through "~" except "+" and "=";
 * everything else is "+" followed by two upper-case hex digits (per octet of the UTF-8 form).
 */
export function xtextEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d) out += String.fromCharCode(b);
    else out += '+' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function ehlo(domain: string): string {
  return `EHLO ${clean(domain, 'EHLO domain')}${CRLF}`;
}

export function helo(domain: string): string {
  return `HELO ${clean(domain, 'HELO domain')}${CRLF}`;
}

export interface MailParams {
  /** RFC 1870 §6: the message size in octets, sent when the server offers SIZE. */
  readonly size?: number;
  /** RFC 6152 BODY=8BITMIME (or 7BIT). */
  readonly body?: '7BIT' | '8BITMIME';
  /** RFC 6531 §3.4: SMTPUTF8 parameter. */
  readonly smtputf8?: boolean;
  /** RFC 3461 §4.3 RET=FULL|HDRS. */
  readonly ret?: 'FULL' | 'HDRS';
  /** RFC 3461 §4.4 ENVID (xtext-encoded here). */
  readonly envid?: string;
}

export function mailFrom(from: ReversePath, p: MailParams = {}): string {
  let line = `MAIL FROM:${clean(formatPath(from), 'MAIL FROM address')}`;
  if (p.size !== undefined) line += ` SIZE=${Math.max(0, Math.floor(p.size))}`;
  if (p.body !== undefined) line += ` BODY=${p.body}`;
  if (p.smtputf8 === true) line += ' SMTPUTF8';
  if (p.ret !== undefined) line += ` RET=${p.ret}`;
  if (p.envid !== undefined) line += ` ENVID=${xtextEncode(p.envid)}`;
  return line + CRLF;
}

export interface RcptParams {
  /** RFC 3461 §4.1 NOTIFY. */
  readonly notify?: DsnNotify;
  /** RFC 3461 §4.2 ORCPT: addr-type ("rfc822") and the original address (xtext-encoded here). */
  readonly orcpt?: { readonly type: string; readonly address: string };
}

/** RFC 3461 §4.1: NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY. */
export function formatNotify(n: DsnNotify): string | undefined {
  if (n.kind === 'never') return 'NEVER';
  const parts: string[] = [];
  if (n.success) parts.push('SUCCESS');
  if (n.failure) parts.push('FAILURE');
  if (n.delay) parts.push('DELAY');
  return parts.length > 0 ? parts.join(',') : undefined;
}

export function rcptTo(to: Mailbox, p: RcptParams = {}): string {
  let line = `RCPT TO:<${clean(formatMailbox(to), 'RCPT TO address')}>`;
  if (p.notify !== undefined) {
    const n = formatNotify(p.notify);
    if (n !== undefined) line += ` NOTIFY=${n}`;
  }
  if (p.orcpt !== undefined) line += ` ORCPT=${clean(p.orcpt.type, 'ORCPT type')};${xtextEncode(p.orcpt.address)}`;
  return line + CRLF;
}

export const DATA = `DATA${CRLF}`;
export const RSET = `RSET${CRLF}`;
export const QUIT = `QUIT${CRLF}`;
export const STARTTLS = `STARTTLS${CRLF}`;
export const NOOP = `NOOP${CRLF}`;

/** RFC 4616 §2: message = [authzid] NUL authcid NUL passwd, base64 as the initial response (RFC 4954 §4). */
export function authPlain(user: string, password: string, authzid = ''): string {
  const resp = Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
  return `AUTH PLAIN ${resp}${CRLF}`;
}

export const AUTH_LOGIN = `AUTH LOGIN${CRLF}`;

/** One base64 line answering a 334 challenge (LOGIN: username, then password). */
export function authResponse(value: string): string {
  return `${Buffer.from(value, 'utf8').toString('base64')}${CRLF}`;
}

/** The command line as shown in a protocol trace: AUTH secrets replaced (SPEC.md §10). */
export function traceable(line: string, secret: boolean): string {
  const l = line.replace(/\r\n$/, '');
  if (!secret) return l;
  const m = /^(AUTH\s+\S+)/i.exec(l);
  return m !== null ? `${m[1]} ***` : '***';
}
