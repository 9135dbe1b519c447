// (ext) The Dkim statement (docs/dkim.md): one per From: domain whose mail the gateway signs
// (RFC 6376). Only the statement is read here; the key file is the gateway's to read (src/dkim/keys.ts).
import { domainToASCII } from 'node:url';
import type { Diagnostics } from './errors.js';
import type { RawStatement } from './parser.js';
import { StatementReader } from './reader.js';
import type { DkimConfig } from './types.js';
import { hostName, show, type Parsed } from './values.js';

/** RFC 5322 §3.6.8: field-name = 1*ftext. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const HEADERS_ALLOWED = 'header field names separated by colons, From among them, e.g. From:To:Subject:Date:Message-ID';

/** Dkim Domain: a domain; an IDN (bücher.example) becomes its A-label (xn--bcher-kva.example), as d= needs. */
function dkimDomain(text: string): Parsed<string> {
  const ascii = /^[ -~]*$/.test(text) ? text : domainToASCII(text);
  const r = hostName(ascii === '' ? text : ascii);
  return r.ok ? r : { ok: false, problem: `value ${show(text)} is not a valid domain`, allowed: 'a domain such as example.com (an IDN is converted to its A-label)' };
}

function headerList(text: string): Parsed<readonly string[]> {
  const names = text.split(':').map((n) => n.trim().toLowerCase());
  if (names.some((n) => !FIELD_NAME.test(n))) return { ok: false, problem: `value ${show(text)} is not a list of header field names`, allowed: HEADERS_ALLOWED };
  // RFC 6376 §5.4: the From header field MUST be signed.
  if (!names.includes('from')) return { ok: false, problem: `value ${show(text)} does not name From`, allowed: HEADERS_ALLOWED };
  if (names.includes('dkim-signature')) return { ok: false, problem: 'DKIM-Signature cannot be signed', allowed: HEADERS_ALLOWED };
  return { ok: true, value: [...new Set(names)] };
}

function dkimEntry(st: RawStatement, diag: Diagnostics, baseDir: string): DkimConfig | null {
  const b = new StatementReader(st, diag, baseDir);
  let complete = true;
  for (const [name, example] of [['Domain', 'example.com'], ['Selector', 's1'], ['KeyFile', '/etc/spoolgate/dkim/example.com.key']] as const) {
    if (!b.has(name)) {
      diag.error(b.line, 'Dkim', name, 'missing', `Domain, Selector and KeyFile in every Dkim statement, e.g. ${name} ${example}`);
      complete = false;
    }
  }
  const domain = b.get('Domain', dkimDomain, '');
  const selector = b.get('Selector', hostName, '');
  const keyFile = b.path('KeyFile', null);
  const headers = b.get('Headers', headerList, null as readonly string[] | null);
  const algorithm = b.oneOf('Algorithm', [['rsa-sha256', 'rsa-sha256'], ['ed25519-sha256', 'ed25519-sha256']] as const, 'rsa-sha256');
  if (!complete || domain === '' || selector === '' || keyFile === null) return null;
  return { domain, selector, keyFile, headers, algorithm, line: b.line };
}

/** Every Dkim statement; a second one for the same domain is an error (one key signs a domain). */
export function dkimStatements(sts: readonly RawStatement[], diag: Diagnostics, baseDir: string): DkimConfig[] {
  const out: DkimConfig[] = [];
  for (const st of sts) {
    const e = dkimEntry(st, diag, baseDir);
    if (e === null) continue;
    const first = out.find((x) => x.domain === e.domain);
    if (first !== undefined) {
      diag.error(e.line, 'Dkim', 'Domain', `${e.domain} has a Dkim statement already (line ${first.line})`, 'one Dkim statement per domain');
      continue;
    }
    out.push(e);
  }
  return out;
}
