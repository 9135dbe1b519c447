// Mail addresses and reverse/forward paths, shared by the spool parser, the SMTP client and
// server, submission and notifications.
//
// RFC 5321 §4.1.2 (grammar): Path = "<" [ A-d-l ":" ] Mailbox ">"
//   Mailbox = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
//   Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
// RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 255 octets, path ≤ 256 octets.
// RFC 6531 §3.3: with SMTPUTF8, UTF-8 is allowed in local parts and U-labels in domains.
import { isIP } from 'node:net';
import { type Result, ok, err } from './result.js';

export const MAX_LOCAL_PART = 64;
export const MAX_DOMAIN = 255;
export const MAX_PATH = 256;

export interface Mailbox {
  /** Local part as written (dot-string, or quoted-string including the quotes). */
  readonly local: string;
  /** Domain as written, or an address literal including brackets, e.g. "[127.0.0.1]". */
  readonly domain: string;
}

/** A reverse-path may be null ("<>"); a forward-path never is. */
export type ReversePath = { readonly kind: 'null' } | { readonly kind: 'mailbox'; readonly mailbox: Mailbox };

export type AddressProblem =
  | 'empty'
  | 'no-brackets'
  | 'no-at'
  | 'local-too-long'
  | 'domain-too-long'
  | 'path-too-long'
  | 'bad-local'
  | 'bad-domain'
  | 'source-route';

export interface AddressError {
  readonly problem: AddressProblem;
  readonly text: string;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const ATEXT_UTF8 = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const LABEL_UTF8 = /^[A-Za-z0-9\u0080-\u{10FFFF}](?:[A-Za-z0-9\u0080-\u{10FFFF}-]*[A-Za-z0-9\u0080-\u{10FFFF}])?$/u;

export interface ParseOptions {
  /** RFC 6531: accept UTF-8 in local part and domain. */
  readonly utf8?: boolean;
  /**
   * RFC 5321 §4.1.2 / Appendix C: source routes ("@a,@b:user@c") MUST be accepted and SHOULD be
   * ignored by servers. false (default) rejects them; true accepts and drops the route.
   */
  readonly allowSourceRoute?: boolean;
}

function isValidLocal(local: string, utf8: boolean): boolean {
  if (local.startsWith('"')) {
    // RFC 5321 §4.1.2 Quoted-string: DQUOTE *QcontentSMTP DQUOTE; qtextSMTP is %d32-33 / %d35-91 / %d93-126,
    // quoted-pairSMTP is "\" followed by %d32-126.
    if (local.length < 2 || !local.endsWith('"')) return false;
    const inner = local.slice(1, -1);
    for (let i = 0; i < inner.length; i++) {
      const c = inner.charCodeAt(i);
      if (c === 0x5c) {
        const n = inner.charCodeAt(i + 1);
        if (!(n >= 32 && n <= 126)) return false;
        i++;
        continue;
      }
      if (c === 0x22) return false;
      if (c >= 32 && c <= 126) continue;
      if (utf8 && c >= 0x80) continue;
      return false;
    }
    return true;
  }
  const atoms = local.split('.');
  const re = utf8 ? ATEXT_UTF8 : ATEXT;
  return atoms.every((a) => a.length > 0 && re.test(a));
}

/** 4 or 6 when `text` is an IPv4 or IPv6 address, else 0 (node:net isIP, for the pure protocol layer). */
export function ipVersion(text: string): 0 | 4 | 6 {
  return isIP(text) as 0 | 4 | 6;
}

function isValidDomain(domain: string, utf8: boolean): boolean {
  if (domain.startsWith('[')) {
    // RFC 5321 §4.1.3 address literals: [IPv4] or [IPv6:...]
    if (!domain.endsWith(']')) return false;
    const inner = domain.slice(1, -1);
    if (inner.toLowerCase().startsWith('ipv6:')) return isIP(inner.slice(5)) === 6;
    return isIP(inner) === 4;
  }
  const labels = domain.split('.');
  const re = utf8 ? LABEL_UTF8 : LABEL;
  return labels.every((l) => l.length > 0 && l.length <= 63 && re.test(l));
}

/** Parses "local@domain" (no angle brackets). */
export function parseMailbox(text: string, opts: ParseOptions = {}): Result<Mailbox, AddressError> {
  if (text.length === 0) return err({ problem: 'empty', text });
  // The local part may be quoted and contain "@"; split at the last "@".
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return err({ problem: 'no-at', text });
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (Buffer.byteLength(local) > MAX_LOCAL_PART) return err({ problem: 'local-too-long', text });
  if (Buffer.byteLength(domain) > MAX_DOMAIN) return err({ problem: 'domain-too-long', text });
  if (!isValidLocal(local, opts.utf8 ?? false)) return err({ problem: 'bad-local', text });
  if (!isValidDomain(domain, opts.utf8 ?? false)) return err({ problem: 'bad-domain', text });
  return ok({ local, domain });
}

function stripSourceRoute(inner: string, opts: ParseOptions): Result<string, AddressError> {
  if (!inner.startsWith('@')) return ok(inner);
  const colon = inner.indexOf(':');
  if (!opts.allowSourceRoute || colon < 0) return err({ problem: 'source-route', text: inner });
  return ok(inner.slice(colon + 1));
}

/** Parses a reverse-path "<>" or "<local@domain>" (the argument of MAIL FROM:). */
export function parseReversePath(text: string, opts: ParseOptions = {}): Result<ReversePath, AddressError> {
  if (text === '<>') return ok({ kind: 'null' });
  const fwd = parseForwardPath(text, opts);
  if (!fwd.ok) return fwd;
  return ok({ kind: 'mailbox', mailbox: fwd.value });
}

/** Parses a forward-path "<local@domain>" (the argument of RCPT TO:). */
export function parseForwardPath(text: string, opts: ParseOptions = {}): Result<Mailbox, AddressError> {
  if (text.length === 0) return err({ problem: 'empty', text });
  if (!text.startsWith('<') || !text.endsWith('>')) return err({ problem: 'no-brackets', text });
  if (Buffer.byteLength(text) > MAX_PATH) return err({ problem: 'path-too-long', text });
  const route = stripSourceRoute(text.slice(1, -1), opts);
  if (!route.ok) return route;
  return parseMailbox(route.value, opts);
}

export function formatMailbox(m: Mailbox): string {
  return `${m.local}@${m.domain}`;
}

/** The address as used in an SMTP command argument: "<>" or "<local@domain>". */
export function formatPath(p: ReversePath): string {
  return p.kind === 'null' ? '<>' : `<${formatMailbox(p.mailbox)}>`;
}

/** Case-insensitive domain comparison key (RFC 5321 §2.4: domains are case-insensitive). */
export function domainKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

/** Human-readable description of an AddressError, for reply texts and reports. */
export function describeAddressProblem(e: AddressError): string {
  switch (e.problem) {
    case 'empty': return 'address is empty';
    case 'no-brackets': return 'address must be enclosed in <>';
    case 'no-at': return 'address has no @domain';
    case 'local-too-long': return `local part longer than ${MAX_LOCAL_PART} octets`;
    case 'domain-too-long': return `domain longer than ${MAX_DOMAIN} octets`;
    case 'path-too-long': return `path longer than ${MAX_PATH} octets`;
    case 'bad-local': return 'local part has invalid characters';
    case 'bad-domain': return 'domain is not a valid host name or address literal';
    case 'source-route': return 'source routes are not accepted';
  }
}
