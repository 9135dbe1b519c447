// The EHLO/HELO argument (RFC 5321 §4.1.1.1: "EHLO" SP ( Domain / address-literal )). The server
// echoes it in its EHLO reply and writes it into Received: and the journal, so it must never
// carry control characters (a NUL was echoed back once) or header syntax. Within that, real
// clients are met halfway: RFC 5321 §4.1.4 lets a server accept a wrong name, so the checks are
// on form only, not on whether the name resolves.
import { ipVersion as isIP } from '../../core/address.js';

// RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str].
// LENIENT(RFC 5321 §4.1.2): "_" (Windows machine names) and a leading or trailing "-" are
// accepted, and octets above 127 (RFC 6531 U-labels, raw machine names) are too.
const LABEL = /^[A-Za-z0-9_\x80-\u{10ffff}-]{1,63}$/u;
// RFC 5321 §4.1.3: General-address-literal = Standardized-tag ":" 1*dcontent;
// dcontent = %d33-90 / %d94-126 (printable, no "[", "\", "]").
const GENERAL_LITERAL = /^[A-Za-z0-9-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+$/;

/** undefined when `arg` is acceptable as an EHLO/HELO argument, else why not. */
export function heloArgumentProblem(arg: string): string | undefined {
  if (arg === '') return 'empty';
  if (arg.length > 255) return 'longer than 255 characters';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\x00-\x20\x7f]/.test(arg)) return 'control characters or spaces';
  if (arg.startsWith('[')) {
    if (!arg.endsWith(']')) return 'address literal without "]"';
    const inner = arg.slice(1, -1);
    if (isIP(inner) === 4) return undefined; // RFC 5321 §4.1.3 IPv4-address-literal
    if (/^IPv6:/i.test(inner) && isIP(inner.slice(5)) === 6) return undefined; // IPv6-address-literal
    // LENIENT(RFC 5321 §4.1.3): an IPv6 address without the "IPv6:" tag, as some clients send it.
    if (isIP(inner) === 6) return undefined;
    if (/^IPv6:/i.test(inner)) return 'not an address literal';
    return GENERAL_LITERAL.test(inner) ? undefined : 'not an address literal';
  }
  const name = arg.endsWith('.') ? arg.slice(0, -1) : arg;
  if (name === '') return 'not a domain name';
  for (const label of name.split('.')) if (!LABEL.test(label)) return 'not a domain name';
  return undefined;
}
