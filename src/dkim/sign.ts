// DKIM signing (RFC 6376 §5) of one message, for the key of its From: domain. Returns the
// DKIM-Signature header field to put on top of the message, or why the message is not signed.
// The message is read in place (one pass for the body hash, canon.ts); nothing is copied.
//
// Why not nodemailer's signer (nodemailer/lib/dkim, 10.x): it signs RSA only (no Ed25519, RFC
// 8463); it streams the whole message through transforms into a second in-memory copy (or a
// cache file), where the forwarder already holds the message as one Buffer; it reads CRLF and
// bare LF, but not a bare CR, as a line end, where our SMTP client's DotStuffer sends a bare CR
// as CRLF (a signature over other bytes than the wire's fails); and a signing error yields an
// unsigned message without a word (sign.js `return false`). The rules it implements are few and
// each is cited below.
import { createHash, sign as cryptoSign } from 'node:crypto';
import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { hashRelaxedBody, readHeaderSection, relaxedHeader, unfold, type HeaderField } from './canon.js';
import type { DkimKey, DkimKeyring } from './keys.js';

/**
 * The header fields signed when a Dkim statement gives no Headers: RFC 6376 §5.4.1's list of
 * fields that SHOULD be signed (Received and the trace fields left out: they are added in
 * transit). Only fields present in the message go into h=.
 */
export const DEFAULT_SIGNED_HEADERS: readonly string[] = [
  'from', 'sender', 'reply-to', 'subject', 'date', 'message-id', 'to', 'cc', 'mime-version', 'content-type',
  'content-transfer-encoding', 'content-id', 'content-description', 'resent-date', 'resent-from', 'resent-sender',
  'resent-to', 'resent-cc', 'resent-message-id', 'in-reply-to', 'references', 'list-id', 'list-help',
  'list-unsubscribe', 'list-unsubscribe-post', 'list-subscribe', 'list-post', 'list-owner', 'list-archive',
];

export type SkipReason =
  /** No From: field, several, an address that cannot be read, or addresses of several domains. */
  | 'no-from' | 'several-from' | 'unreadable-from' | 'mixed-domains'
  /** No Dkim statement for the From: domain. */
  | 'no-key'
  /** RFC 6376 §5: the mail already carries a DKIM-Signature with d= this domain. */
  | 'already-signed'
  /** The header section is over MAX_HEADER_SECTION_BYTES, or has a line that is not a field. */
  | 'header-too-large' | 'malformed-header';

export type SignResult =
  | { readonly kind: 'signed'; readonly field: Buffer; readonly domain: string; readonly selector: string }
  | { readonly kind: 'skipped'; readonly reason: SkipReason; readonly domain?: string };

/**
 * The From: domain, as the A-label d= must equal (RFC 7489 §3.1.1 identifier alignment: the
 * signature counts for DMARC only when d= is the From: domain). RFC 5322 §3.6: exactly one From
 * field; its mailbox list may name several authors, and is used only when they share a domain.
 */
export function fromDomain(fields: readonly HeaderField[]): { ok: true; domain: string } | { ok: false; reason: SkipReason } {
  const from = fields.filter((f) => f.key === 'from');
  if (from.length === 0) return { ok: false, reason: 'no-from' };
  if (from.length > 1) return { ok: false, reason: 'several-from' };
  // The octets as UTF-8 (RFC 6532: an internationalised address is UTF-8 in the header).
  const value = Buffer.from(unfold(from[0]!.rawValue), 'latin1').toString('utf8');
  const addresses = addressparser(value, { flatten: true }).map((a) => a.address);
  // The parser is lenient: "a@example.com b@evil.example" reads as one address with a display
  // name. A reader of the field (a DMARC verifier, a mail client) may take the other one, so
  // every @ outside quoted strings and comments must belong to an address it found.
  // The parser also drops control characters ("a@exa\x01mple.com" reads as a@example.com), which
  // a reader of the field does not: a From with any is not signed.
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (addresses.length === 0 || atSigns(value) !== addresses.length || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return { ok: false, reason: 'unreadable-from' };
  const domains = new Set<string>();
  for (const a of addresses) {
    const at = a.lastIndexOf('@');
    if (at <= 0 || at === a.length - 1) return { ok: false, reason: 'unreadable-from' };
    const raw = a.slice(at + 1).toLowerCase().replace(/\.$/, '');
    // An IDN domain is matched as its A-label; anything that is not a domain (a literal, control
    // characters) converts to '' and is not signed.
    const ascii = /^[a-z0-9.-]+$/.test(raw) ? raw : domainToASCII(raw);
    if (ascii === '' || !/^[a-z0-9.-]+$/.test(ascii)) return { ok: false, reason: 'unreadable-from' };
    domains.add(ascii);
  }
  if (domains.size > 1) return { ok: false, reason: 'mixed-domains' };
  return { ok: true, domain: [...domains][0]! };
}

/** The @ signs of a header value outside quoted strings and comments (RFC 5322 §3.2.2, §3.2.4). */
function atSigns(value: string): number {
  let n = 0;
  let depth = 0; // comment nesting
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') { i++; continue; }
    if (quoted) { if (c === '"') quoted = false; continue; }
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && c === '"') quoted = true;
    else if (depth === 0 && c === '@') n++;
  }
  return n;
}

/** The d= of each DKIM-Signature field already in the message (RFC 6376 §3.2 tag-list, read leniently). */
export function signingDomains(fields: readonly HeaderField[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.key !== 'dkim-signature') continue;
    for (const tag of unfold(f.rawValue).split(';')) {
      const eq = tag.indexOf('=');
      if (eq < 0 || tag.slice(0, eq).trim().toLowerCase() !== 'd') continue;
      out.push(tag.slice(eq + 1).replace(/[ \t]/g, '').toLowerCase().replace(/\.$/, ''));
    }
  }
  return out;
}

/**
 * h= and the fields it selects. RFC 6376 §5.4.2: with several instances of a field, the signer
 * takes them from the bottom up, one per name in h=; a name listed once more than it occurs
 * stands for a field that does not exist, so a From: added after signing breaks the signature
 * (From is "oversigned" this way; §8.15 describes the attack it prevents).
 */
function selectHeaders(fields: readonly HeaderField[], names: readonly string[]): { h: string[]; canonical: string } {
  const h: string[] = [];
  let canonical = '';
  for (const name of names) {
    const instances = fields.filter((f) => f.key === name).reverse(); // bottom-most first
    for (const f of instances) {
      h.push(name);
      // RFC 6376 §3.7: each signed field, canonicalised, in the order of h=.
      canonical += relaxedHeader(f.key, f.rawValue);
    }
    if (name === 'from') h.push('from'); // the oversigned From contributes nothing (§5.4.2)
  }
  return { h, canonical };
}

/** RFC 6376 §3.5: b= may be folded with FWS anywhere; lines of at most 76 octets. */
function foldBase64(b64: string): string {
  const parts: string[] = [];
  for (let i = 0; i < b64.length; i += 72) parts.push(b64.slice(i, i + 72));
  return parts.join('\r\n\t ');
}

/**
 * Signs `data` (the message as it will be sent) with the key of its From: domain. `now` is the
 * signature time t= (RFC 6376 §3.5: seconds since the epoch).
 */
export function signMessage(data: Buffer, keyring: DkimKeyring, now: Date): SignResult {
  if (keyring.size === 0) return { kind: 'skipped', reason: 'no-key' };
  const section = readHeaderSection(data);
  if (!section.ok) return { kind: 'skipped', reason: section.problem === 'too-large' ? 'header-too-large' : 'malformed-header' };
  const from = fromDomain(section.fields);
  if (!from.ok) return { kind: 'skipped', reason: from.reason };
  const key = keyring.get(from.domain);
  if (key === undefined) return { kind: 'skipped', reason: 'no-key', domain: from.domain };
  // Never sign twice for one domain: the sender (or a gateway before us) already did.
  if (signingDomains(section.fields).includes(key.domain)) return { kind: 'skipped', reason: 'already-signed', domain: key.domain };
  return { kind: 'signed', field: signatureField(data, section.fields, section.bodyStart, key, now), domain: key.domain, selector: key.selector };
}

function signatureField(data: Buffer, fields: readonly HeaderField[], bodyStart: number, key: DkimKey, now: Date): Buffer {
  // RFC 6376 §3.7 step 1: the body hash over the canonical body (no l=: the whole body is signed;
  // §8.2 explains how l= lets content be appended).
  const bodyHash = createHash('sha256');
  hashRelaxedBody(data, bodyStart, bodyHash);
  const bh = bodyHash.digest('base64');
  const { h, canonical } = selectHeaders(fields, key.headers ?? DEFAULT_SIGNED_HEADERS);
  // RFC 6376 §3.5 tags; c=relaxed/relaxed (§3.4: survives the whitespace and folding changes
  // relays make); a= (RFC 8301 §3.1: rsa-sha256; RFC 8463 §3: ed25519-sha256).
  const head = `DKIM-Signature: v=1; a=${key.algorithm}; c=relaxed/relaxed; d=${key.domain}; s=${key.selector};\r\n` +
    `\tt=${Math.floor(now.getTime() / 1000)}; h=${h.join(':')};\r\n\tbh=${bh};\r\n\tb=`;
  // RFC 6376 §3.7 step 2: the signed fields, then the DKIM-Signature field itself, canonicalised,
  // with an empty b= and without its trailing CRLF.
  const signedData = Buffer.from(canonical + relaxedHeader('dkim-signature', head.slice(head.indexOf(':') + 1)).slice(0, -2), 'latin1');
  let signature: Buffer;
  if (key.algorithm === 'ed25519-sha256') {
    // RFC 8463 §3: Ed25519 (PureEdDSA) over the SHA-256 hash of the data, not over the data.
    signature = cryptoSign(null, createHash('sha256').update(signedData).digest(), key.privateKey());
  } else {
    // RFC 6376 §3.3.1: RSASSA-PKCS1-v1_5 with SHA-256 (node's default padding for RSA keys).
    signature = cryptoSign('sha256', signedData, key.privateKey());
  }
  return Buffer.from(`${head}${foldBase64(signature.toString('base64'))}\r\n`, 'latin1');
}
