// SMTP command parsing (server side): one line (without CRLF) → a typed Command or a typed
// syntax error. Pure; the session decides what to answer.
//
// RFC 5321 §4.1.1 command syntax; §4.1.2 paths (via core/address.ts); §4.1.4 verbs are
//   case-insensitive.
// RFC 1870 SIZE, RFC 6152 BODY=8BITMIME, RFC 3461 DSN (RET, ENVID, NOTIFY, ORCPT with xtext),
// RFC 4954 §5 AUTH= on MAIL, RFC 6531 SMTPUTF8.
import {
  type AddressError,
  type Mailbox,
  type ReversePath,
  parseForwardPath,
  parseReversePath,
} from '../../core/address.js';
import type { DsnNotify } from '../../core/envelope.js';
import { type Result, ok, err } from '../../core/result.js';

export const VERBS = [
  'EHLO', 'HELO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'HELP', 'VRFY', 'EXPN',
  'STARTTLS', 'AUTH', 'TURN', 'SEND', 'SOML', 'SAML',
] as const;
export type Verb = (typeof VERBS)[number];

export interface MailParams {
  /** RFC 1870 SIZE=n (declared size). */
  readonly size?: number;
  /** RFC 6152 BODY=7BIT | 8BITMIME. */
  readonly body?: '7BIT' | '8BITMIME';
  /** RFC 3461 §4.3 RET. */
  readonly ret?: 'FULL' | 'HDRS';
  /** RFC 3461 §4.4 ENVID, xtext-decoded. */
  readonly envid?: string;
  /** RFC 4954 §5 AUTH=, xtext-decoded ("<>" when unknown). */
  readonly auth?: string;
  /** RFC 6531 §3.4 SMTPUTF8. */
  readonly smtputf8?: boolean;
}

export interface RcptParams {
  readonly notify?: DsnNotify;
  readonly orcpt?: { readonly type: string; readonly address: string };
}

export type Command =
  | { readonly verb: 'EHLO' | 'HELO'; readonly domain: string }
  | { readonly verb: 'MAIL'; readonly from: ReversePath; readonly params: MailParams }
  | { readonly verb: 'RCPT'; readonly to: Mailbox; readonly params: RcptParams }
  | { readonly verb: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS' | 'TURN' }
  | { readonly verb: 'NOOP' | 'HELP' | 'VRFY' | 'EXPN' | 'SEND' | 'SOML' | 'SAML'; readonly arg: string }
  | { readonly verb: 'AUTH'; readonly mechanism: string; readonly initial?: string };

export type CommandSyntaxError =
  /** Not a verb we know (500 5.5.2). */
  | { readonly kind: 'unknown-command'; readonly verb: string }
  /** Known verb, malformed arguments (501 5.5.4). */
  | { readonly kind: 'syntax'; readonly verb: Verb; readonly text: string }
  /** MAIL/RCPT path did not parse (501 5.1.7 / 5.1.3). */
  | { readonly kind: 'bad-address'; readonly verb: 'MAIL' | 'RCPT'; readonly problem: AddressError }
  /** A parameter with a bad value or given twice (501 5.5.4). */
  | { readonly kind: 'bad-parameter'; readonly verb: 'MAIL' | 'RCPT'; readonly keyword: string; readonly text: string }
  /** A parameter keyword we do not implement (555 5.5.4). */
  | { readonly kind: 'unknown-parameter'; readonly verb: 'MAIL' | 'RCPT'; readonly keyword: string };

export interface ParseCommandOptions {
  /** The transaction declared SMTPUTF8: RCPT addresses may contain UTF-8. */
  readonly utf8?: boolean;
}

const NO_ARGS = new Set<Verb>(['DATA', 'RSET', 'QUIT', 'STARTTLS', 'TURN']);

function isVerb(s: string): s is Verb {
  return (VERBS as readonly string[]).includes(s);
}

export function parseCommand(line: string, opts: ParseCommandOptions = {}): Result<Command, CommandSyntaxError> {
  const sp = line.indexOf(' ');
  const word = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const rest = sp < 0 ? '' : line.slice(sp + 1);
  if (!isVerb(word)) return err({ kind: 'unknown-command', verb: word.slice(0, 32) });
  const verb = word;
  const syntax = (text: string) => err({ kind: 'syntax' as const, verb, text });
  switch (verb) {
    case 'EHLO':
    case 'HELO': {
      // RFC 5321 §4.1.1.1: EHLO SP ( Domain / address-literal ).
      const domain = rest.trim();
      if (domain === '' || /\s/.test(domain)) return syntax(`${verb} requires a domain name`);
      return ok({ verb, domain });
    }
    case 'MAIL':
      return parseMail(rest, sp >= 0);
    case 'RCPT':
      return parseRcpt(rest, sp >= 0, opts);
    case 'AUTH': {
      const parts = rest.trim().split(/ +/);
      const mechanism = (parts[0] ?? '').toUpperCase();
      if (mechanism === '' || parts.length > 2) return syntax('AUTH mechanism [initial-response]');
      return ok(parts[1] === undefined ? { verb, mechanism } : { verb, mechanism, initial: parts[1] });
    }
    case 'VRFY':
    case 'EXPN':
      if (rest.trim() === '') return syntax(`${verb} requires an argument`);
      return ok({ verb, arg: rest.trim() });
    case 'NOOP':
    case 'HELP':
    case 'SEND':
    case 'SOML':
    case 'SAML':
      return ok({ verb, arg: rest.trim() });
    default:
      if (NO_ARGS.has(verb)) {
        // RFC 5321 §4.1.1.4 / §4.1.1.5 / §4.1.1.10: DATA, RSET, QUIT take no arguments.
        if (rest.trim() !== '') return syntax(`${verb} takes no arguments`);
        return ok({ verb } as Command);
      }
      return syntax('unexpected command');
  }
}

/** Splits "FROM:<path> params" after the keyword; returns the path text and the parameter text. */
function splitPath(rest: string, keyword: 'FROM:' | 'TO:'): { path: string; params: string } | undefined {
  if (rest.slice(0, keyword.length).toUpperCase() !== keyword) return undefined;
  // LENIENT(RFC 5321 §4.1.1.2): a space after the colon ("MAIL FROM: <a@b>") is accepted;
  // common clients send it.
  const s = rest.slice(keyword.length).replace(/^ +/, '');
  if (!s.startsWith('<')) {
    // No brackets: let the address parser report 'no-brackets'.
    const sp = s.indexOf(' ');
    return sp < 0 ? { path: s, params: '' } : { path: s.slice(0, sp), params: s.slice(sp + 1) };
  }
  // Find the closing ">" outside a quoted string.
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && quoted) { i++; continue; }
    if (ch === '"') quoted = !quoted;
    else if (ch === '>' && !quoted) {
      const after = s.slice(i + 1);
      if (after !== '' && !after.startsWith(' ')) return undefined;
      return { path: s.slice(0, i + 1), params: after.trim() };
    }
  }
  return { path: s, params: '' };
}

interface Param {
  readonly keyword: string;
  readonly value: string | undefined;
}

function splitParams(text: string): Param[] {
  if (text === '') return [];
  return text.split(/ +/).map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? { keyword: p.toUpperCase(), value: undefined } : { keyword: p.slice(0, eq).toUpperCase(), value: p.slice(eq + 1) };
  });
}

/**
 * RFC 3461 §4: xtext = *( xchar / hexchar ), hexchar = "+" 2HEXDIG (upper case). The decoded
 * octets are read as UTF-8 (RFC 6533 §3: the utf-8 address type; the SMTP client's xtextEncode
 * encodes a value's UTF-8 form), so a value is passed on as the same octets; octets that are not
 * UTF-8 are refused (undefined) rather than changed after the 250.
 */
export function decodeXtext(s: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    // xchar: "!" (33) to "~" (126) except "+" and "="
    if (c < 33 || c > 126 || c === 0x3d) return undefined;
    bytes.push(c);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

function parseMail(rest: string, hadSpace: boolean): Result<Command, CommandSyntaxError> {
  const split = hadSpace ? splitPath(rest, 'FROM:') : undefined;
  if (!split) return err({ kind: 'syntax', verb: 'MAIL', text: 'syntax: MAIL FROM:<address> [parameters]' });
  const params = splitParams(split.params);
  const out: { -readonly [K in keyof MailParams]: MailParams[K] } = {};
  const seen = new Set<string>();
  const bad = (keyword: string, text: string) => err({ kind: 'bad-parameter' as const, verb: 'MAIL' as const, keyword, text });
  for (const { keyword, value } of params) {
    if (seen.has(keyword)) return bad(keyword, `${keyword} given twice`);
    seen.add(keyword);
    switch (keyword) {
      case 'SIZE':
        // RFC 1870 §3: size-value ::= 1*20DIGIT
        if (value === undefined || !/^\d{1,20}$/.test(value)) return bad(keyword, 'SIZE requires a number');
        out.size = Number(value);
        break;
      case 'BODY': {
        const v = value?.toUpperCase();
        if (v !== '7BIT' && v !== '8BITMIME') return bad(keyword, 'BODY must be 7BIT or 8BITMIME');
        out.body = v;
        break;
      }
      case 'RET': {
        const v = value?.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') return bad(keyword, 'RET must be FULL or HDRS');
        out.ret = v;
        break;
      }
      case 'ENVID': {
        // RFC 3461 §4.4: ENVID is xtext, at most 100 characters.
        const v = value === undefined ? undefined : decodeXtext(value);
        if (v === undefined || v === '' || value!.length > 100) return bad(keyword, 'ENVID must be xtext of 1 to 100 characters');
        out.envid = v;
        break;
      }
      case 'AUTH': {
        const v = value === undefined ? undefined : decodeXtext(value);
        if (v === undefined) return bad(keyword, 'AUTH= must be xtext');
        out.auth = v;
        break;
      }
      case 'SMTPUTF8':
        if (value !== undefined) return bad(keyword, 'SMTPUTF8 takes no value');
        out.smtputf8 = true;
        break;
      default:
        return err({ kind: 'unknown-parameter', verb: 'MAIL', keyword: keyword.slice(0, 32) });
    }
  }
  const from = parseReversePath(split.path, { utf8: out.smtputf8 ?? false });
  if (!from.ok) return err({ kind: 'bad-address', verb: 'MAIL', problem: from.error });
  return ok({ verb: 'MAIL', from: from.value, params: out });
}

function parseNotify(value: string | undefined): DsnNotify | undefined {
  if (value === undefined) return undefined;
  const items = value.toUpperCase().split(',');
  // RFC 3461 §4.1: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY.
  if (items.length === 1 && items[0] === 'NEVER') return { kind: 'never' };
  const set = new Set(items);
  if (set.size !== items.length) return undefined;
  for (const i of set) if (i !== 'SUCCESS' && i !== 'FAILURE' && i !== 'DELAY') return undefined;
  return { kind: 'on', success: set.has('SUCCESS'), failure: set.has('FAILURE'), delay: set.has('DELAY') };
}

function parseRcpt(rest: string, hadSpace: boolean, opts: ParseCommandOptions): Result<Command, CommandSyntaxError> {
  const split = hadSpace ? splitPath(rest, 'TO:') : undefined;
  if (!split) return err({ kind: 'syntax', verb: 'RCPT', text: 'syntax: RCPT TO:<address> [parameters]' });
  const out: { -readonly [K in keyof RcptParams]: RcptParams[K] } = {};
  const seen = new Set<string>();
  const bad = (keyword: string, text: string) => err({ kind: 'bad-parameter' as const, verb: 'RCPT' as const, keyword, text });
  for (const { keyword, value } of splitParams(split.params)) {
    if (seen.has(keyword)) return bad(keyword, `${keyword} given twice`);
    seen.add(keyword);
    switch (keyword) {
      case 'NOTIFY': {
        const n = parseNotify(value);
        if (!n) return bad(keyword, 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY');
        out.notify = n;
        break;
      }
      case 'ORCPT': {
        // RFC 3461 §4.2: ORCPT=addr-type ";" xtext
        const semi = value?.indexOf(';') ?? -1;
        const type = semi > 0 ? value!.slice(0, semi) : '';
        const address = semi > 0 ? decodeXtext(value!.slice(semi + 1)) : undefined;
        if (!/^[A-Za-z0-9-]+$/.test(type) || address === undefined || address === '' || value!.length > 500) {
          return bad(keyword, 'ORCPT must be addr-type;xtext');
        }
        out.orcpt = { type: type.toLowerCase() === 'rfc822' ? 'rfc822' : type, address };
        break;
      }
      default:
        return err({ kind: 'unknown-parameter', verb: 'RCPT', keyword: keyword.slice(0, 32) });
    }
  }
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain must be accepted.
  const path = /^<postmaster>$/i.test(split.path) ? undefined : split.path;
  if (path === undefined) return ok({ verb: 'RCPT', to: { local: 'postmaster', domain: '' }, params: out });
  const to = parseForwardPath(path, { utf8: opts.utf8 ?? false });
  if (!to.ok) return err({ kind: 'bad-address', verb: 'RCPT', problem: to.error });
  return ok({ verb: 'RCPT', to: to.value, params: out });
}
