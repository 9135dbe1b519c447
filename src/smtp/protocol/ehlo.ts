// EHLO reply → what the server can do. Pure.
//
// RFC 5321 §4.1.1.1: the first line of the 250 reply names the server; each further line is
//   ehlo-keyword *( SP ehlo-param ). Keywords are case-insensitive.
// RFC 1870 SIZE [n] (0 or absent = no fixed limit), RFC 3207 STARTTLS, RFC 2920 PIPELINING,
// RFC 6152 8BITMIME, RFC 4954 AUTH, RFC 2034 ENHANCEDSTATUSCODES, RFC 3461 DSN, RFC 6531 SMTPUTF8,
// RFC 3030 CHUNKING.
import type { Reply } from './reply.js';

export interface Capabilities {
  /** The server answered EHLO (false: HELO fallback, plain RFC 821 SMTP). */
  readonly esmtp: boolean;
  /** The name the server gave on the first line of its EHLO/HELO reply. */
  readonly serverName: string;
  /** RFC 1870: undefined = SIZE not offered; 0 = offered with no fixed limit; n = limit in bytes. */
  readonly size: number | undefined;
  readonly starttls: boolean;
  readonly pipelining: boolean;
  readonly eightBitMime: boolean;
  /** RFC 4954 mechanisms, upper case, e.g. ['PLAIN', 'LOGIN']. */
  readonly auth: readonly string[];
  readonly enhancedStatusCodes: boolean;
  readonly dsn: boolean;
  readonly smtputf8: boolean;
  readonly chunking: boolean;
  /** Every keyword (upper case) with its parameters, including ones not interpreted above. */
  readonly keywords: ReadonlyMap<string, readonly string[]>;
}

/** Capabilities of a server that only speaks HELO (or before EHLO was sent). */
export function heloCapabilities(serverName = ''): Capabilities {
  return {
    esmtp: false, serverName, size: undefined, starttls: false, pipelining: false, eightBitMime: false,
    auth: [], enhancedStatusCodes: false, dsn: false, smtputf8: false, chunking: false, keywords: new Map(),
  };
}

/** Parses a 250 EHLO reply. Unknown keywords are kept in `keywords`; malformed parameters are ignored. */
export function parseEhlo(reply: Reply): Capabilities {
  const keywords = new Map<string, string[]>();
  const [greet = '', ...rest] = reply.lines;
  const authSet = new Set<string>();
  for (const line of rest) {
    const parts = line.trim().split(/\s+/).filter((p) => p !== '');
    const kw = parts[0];
    if (kw === undefined) continue;
    // LENIENT(RFC 4954 §3): old servers advertise "AUTH=LOGIN PLAIN"; treat it as AUTH.
    const eq = kw.indexOf('=');
    const name = (eq > 0 ? kw.slice(0, eq) : kw).toUpperCase();
    const params = eq > 0 ? [kw.slice(eq + 1), ...parts.slice(1)] : parts.slice(1);
    if (name === 'AUTH') for (const m of params) if (m !== '') authSet.add(m.toUpperCase());
    if (!keywords.has(name)) keywords.set(name, params);
  }
  let size: number | undefined;
  const sizeParams = keywords.get('SIZE');
  if (sizeParams !== undefined) {
    const p = sizeParams[0];
    // RFC 1870 §4: "SIZE" with no parameter, or 0, means no fixed maximum.
    size = p !== undefined && /^\d{1,15}$/.test(p) ? Number(p) : 0;
  }
  return {
    esmtp: true,
    serverName: greet.trim().split(/\s+/)[0] ?? '',
    size,
    starttls: keywords.has('STARTTLS'),
    pipelining: keywords.has('PIPELINING'),
    eightBitMime: keywords.has('8BITMIME'),
    auth: [...authSet],
    enhancedStatusCodes: keywords.has('ENHANCEDSTATUSCODES'),
    dsn: keywords.has('DSN'),
    smtputf8: keywords.has('SMTPUTF8'),
    chunking: keywords.has('CHUNKING'),
    keywords,
  };
}

/** One line for D,TARGETS and logs: "ESMTP SIZE=10240000 STARTTLS PIPELINING 8BITMIME AUTH=PLAIN,LOGIN". */
export function describeCapabilities(c: Capabilities): string {
  if (!c.esmtp) return 'SMTP (no ESMTP)';
  const out = ['ESMTP'];
  if (c.size !== undefined) out.push(`SIZE=${c.size}`);
  if (c.starttls) out.push('STARTTLS');
  if (c.pipelining) out.push('PIPELINING');
  if (c.eightBitMime) out.push('8BITMIME');
  if (c.auth.length > 0) out.push(`AUTH=${c.auth.join(',')}`);
  if (c.enhancedStatusCodes) out.push('ENHANCEDSTATUSCODES');
  if (c.dsn) out.push('DSN');
  if (c.smtputf8) out.push('SMTPUTF8');
  if (c.chunking) out.push('CHUNKING');
  return out.join(' ');
}
