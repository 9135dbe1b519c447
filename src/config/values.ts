// Value syntaxes of the configuration language. Each parser returns the value or a problem text
// plus what is allowed; build.ts turns a failure into a diagnostic naming statement and line.
import { isIP } from 'node:net';
import { parseMailbox, describeAddressProblem, formatMailbox } from '../core/address.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string; readonly allowed: string };

function good<T>(value: T): Parsed<T> {
  return { ok: true, value };
}
function bad<T>(problem: string, allowed: string): Parsed<T> {
  return { ok: false, problem, allowed };
}

/** Shows a value in a message: quoted, shortened, non-printables as \xNN. */
export function show(text: string): string {
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `'${short.replace(/[^\x20-\x7e\u00a0-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

export function integer(text: string, min: number, max: number, note = ''): Parsed<number> {
  const allowed = `${min}..${max}${note}`;
  if (!/^[0-9]+$/.test(text)) return bad(`value ${show(text)} is not a whole number`, allowed);
  const n = text.length > 15 ? Number.POSITIVE_INFINITY : Number(text);
  if (n < min || n > max) return bad(`value ${text.length > 15 ? show(text) : String(n)} out of range`, allowed);
  return good(n);
}

export function yesNo(text: string): Parsed<boolean> {
  const u = text.toUpperCase();
  if (u === 'YES') return good(true);
  if (u === 'NO') return good(false);
  return bad(`value ${show(text)} is not YES or NO`, 'YES, NO');
}

/** One of a fixed set of words, case-insensitively; `choices` maps the documented word to the value. */
export function oneOf<T>(text: string, choices: readonly (readonly [string, T])[]): Parsed<T> {
  const lower = text.toLowerCase();
  for (const [word, v] of choices) if (word.toLowerCase() === lower) return good(v);
  return bad(`value ${show(text)} not recognised`, choices.map(([w]) => w).join(', '));
}

export function ipLiteral(text: string): Parsed<string> {
  const v = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(v) === 0) return bad(`value ${show(text)} is not an IPv4 or IPv6 address`, 'an address such as 192.0.2.25 or 2001:db8::25');
  return good(v.toLowerCase());
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A host or domain name (RFC 1123 §2.1 letters, digits, hyphens; ≤ 253 characters; trailing dot allowed). */
export function hostName(text: string): Parsed<string> {
  const allowed = 'a host name such as mail.example.com';
  const v = text.endsWith('.') ? text.slice(0, -1) : text;
  if (v.length === 0 || v.length > 253) return bad(`value ${show(text)} is not a valid host name`, allowed);
  for (const label of v.split('.')) {
    if (!LABEL.test(label)) return bad(`value ${show(text)} is not a valid host name`, allowed);
  }
  return good(v.toLowerCase());
}

/**
 * Receiver LocalDomain: a host name, or an address literal (RFC 5321 §4.1.3) for mail to
 * user@[192.0.2.1]: `[192.0.2.1]`, `[IPv6:2001:db8::1]` (also `[2001:db8::1]`). Literals are
 * kept in the canonical form receiver/recipients.ts compares with.
 */
export function localDomain(text: string): Parsed<string> {
  if (!text.startsWith('[')) return hostName(text);
  const inner = text.endsWith(']') ? text.slice(1, -1) : '';
  const v6 = /^IPv6:/i.test(inner) ? inner.slice(5) : inner;
  if (isIP(inner) === 4) return good(`[${inner}]`);
  if (isIP(v6) === 6) return good(`[IPv6:${new URL(`http://[${v6}]/`).hostname.slice(1, -1)}]`);
  return bad(`value ${show(text)} is not a host name or address literal`, 'a domain such as example.com, or [192.0.2.1] or [IPv6:2001:db8::1]');
}

/** A mail address `local@domain`, optionally in angle brackets. */
export function mailbox(text: string): Parsed<string> {
  const v = text.startsWith('<') && text.endsWith('>') ? text.slice(1, -1) : text;
  const m = parseMailbox(v);
  if (!m.ok) return bad(`value ${show(text)} is not a mail address (${describeAddressProblem(m.error)})`, 'local@domain');
  return good(formatMailbox(m.value));
}

/** `host:port`, `[v6]:port`; port 0..65535 (0 = any free port, for tests). */
export function hostPort(text: string): Parsed<{ host: string; port: number }> {
  const allowed = 'host:port, e.g. 127.0.0.1:25 or [::1]:25';
  let host: string;
  let portText: string;
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracket !== null) {
    host = bracket[1]!;
    portText = bracket[2]!;
    if (isIP(host) !== 6) return bad(`value ${show(text)} has an invalid IPv6 address`, allowed);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return bad(`value ${show(text)} is not host:port`, allowed);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return bad(`value ${show(text)}: an IPv6 address must be in brackets`, allowed);
    if (isIP(host) === 0) {
      if (/^[0-9.]+$/.test(host)) return bad(`value ${show(text)} has an invalid IPv4 address`, allowed);
      const h = hostName(host);
      if (!h.ok) return bad(`value ${show(text)} has an invalid host name`, allowed);
      host = h.value;
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) return bad(`value ${show(text)} has an invalid port`, allowed);
  return good({ host: host.toLowerCase(), port: Number(portText) });
}

/** `address/prefix` or a single address. */
export function cidr(text: string): Parsed<{ text: string; address: string; prefix: number; family: 4 | 6 }> {
  const allowed = 'an address or address/prefix, e.g. 192.0.2.0/24 or 2001:db8::/32';
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0 || addr.includes('%')) return bad(`value ${show(text)} is not an address range`, allowed);
  const family: 4 | 6 = fam === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const pt = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(pt) || Number(pt) > max) return bad(`value ${show(text)} has an invalid prefix length`, `${allowed}; prefix 0..${max}`);
    prefix = Number(pt);
  }
  const address = addr.toLowerCase();
  return good({ text: `${address}/${prefix}`, address, prefix, family });
}

/** ExtWrtName: 1–8 of A-Z 0-9 $ # @, case-insensitive, kept upper case. */
export function writerName(text: string): Parsed<string> {
  const u = text.toUpperCase();
  if (!/^[A-Z0-9$#@]{1,8}$/.test(u)) return bad(`value ${show(text)} is not a writer name`, '1 to 8 characters of A-Z 0-9 $ # @');
  return good(u);
}

/** Instance: 1–32 of letters, digits, '.', '_', '-', starting with a letter or digit. */
export function instanceName(text: string): Parsed<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(text)) {
    return bad(`value ${show(text)} is not an instance name`, '1 to 32 characters of A-Z a-z 0-9 . _ - starting with a letter or digit');
  }
  return good(text);
}

// CSSMTP Options AtSign: any character except letters, digits and these specials.
const ATSIGN_FORBIDDEN = "+*/.,&()'-=: \"\\%<>?;";

export function atSign(text: string): Parsed<string> {
  const allowed = "one character other than A-Z a-z 0-9 + * / . , & ( ) ' - = : \" \\ % < > ? ; and blank";
  if ([...text].length !== 1) return bad(`value ${show(text)} is not a single character`, allowed);
  const c = text.charCodeAt(0);
  if (/[A-Za-z0-9]/.test(text) || ATSIGN_FORBIDDEN.includes(text) || c < 0x21 || (c >= 0x7f && c < 0xa1) || c > 0xff) {
    return bad(`value ${show(text)} cannot be the at sign`, allowed);
  }
  return good(text);
}

/** Free text such as a user name or a filter pattern: 1..255 characters. */
export function text(value: string, what: string): Parsed<string> {
  if (value.length === 0 || value.length > 255) return bad(`value ${show(value)} has ${value.length} characters`, `${what} of 1..255 characters`);
  return good(value);
}
