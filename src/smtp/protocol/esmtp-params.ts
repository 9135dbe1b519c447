// The one grammar of MAIL FROM: / RCPT TO: arguments: the path, then the ESMTP parameters. Shared
// by the SMTP server's command parser (parse-command.ts) and the batch-SMTP spool parser
// (spool/batch.ts); each caller turns a ParamProblem into its own reply text.
//
// RFC 5321 §4.1.1.2 / §4.1.1.3: "MAIL FROM:" Reverse-path [SP Mail-parameters],
//   "RCPT TO:" Forward-path [SP Rcpt-parameters]; esmtp-param = esmtp-keyword ["=" esmtp-value].
// RFC 5321 §4.1.2: a parameter keyword appears at most once.
// RFC 1870 SIZE, RFC 6152 BODY=8BITMIME, RFC 6531 §3.4 SMTPUTF8, RFC 3461 RET/ENVID/NOTIFY/ORCPT
// (values in xtext, §4), RFC 4954 §5 AUTH=.
import type { DsnNotify } from '../../core/envelope.js';
import { type Result, ok, err } from '../../core/result.js';

export const MAIL_KEYWORDS = ['SIZE', 'BODY', 'RET', 'ENVID', 'AUTH', 'SMTPUTF8'] as const;
export type MailKeyword = (typeof MAIL_KEYWORDS)[number];
export const RCPT_KEYWORDS = ['NOTIFY', 'ORCPT'] as const;
export type RcptKeyword = (typeof RCPT_KEYWORDS)[number];

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

export type ParamProblem =
  /** A parameter with a bad value or given twice; `text` says what is wrong (no input echoed). */
  | { readonly kind: 'bad-parameter'; readonly keyword: string; readonly text: string }
  /** A keyword this grammar (or the caller's `accept` list) does not take. */
  | { readonly kind: 'unknown-parameter'; readonly keyword: string };

export interface EsmtpParam {
  /** Upper-cased keyword. */
  readonly keyword: string;
  readonly value: string | undefined;
}

export interface PathArg {
  /** "<...>" including brackets (or the bare text when there were no brackets). */
  readonly path: string;
  readonly params: readonly EsmtpParam[];
}

export interface ParamOptions<K extends string> {
  /** The keywords the caller takes; others are 'unknown-parameter'. Default: all of the grammar. */
  readonly accept?: readonly K[];
}

/**
 * Splits `FROM:<path> params` / `TO:<path> params` (the text after the verb). Returns undefined
 * when the keyword is missing or the path is not followed by a space or the end.
 */
export function splitPathArg(arg: string, keyword: 'FROM:' | 'TO:'): PathArg | undefined {
  if (arg.slice(0, keyword.length).toUpperCase() !== keyword) return undefined;
  // LENIENT(RFC 5321 §4.1.1.2): a space after the colon ("MAIL FROM: <a@b>") is accepted;
  // common clients and hand-written jobs send it.
  const s = arg.slice(keyword.length).replace(/^ +/, '');
  if (!s.startsWith('<')) {
    // No brackets: the address parser reports 'no-brackets'.
    const sp = s.indexOf(' ');
    return sp < 0 ? { path: s, params: [] } : { path: s.slice(0, sp), params: splitParams(s.slice(sp + 1)) };
  }
  // Find the closing ">" outside a quoted string.
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && quoted) { i++; continue; }
    if (ch === '"') quoted = !quoted;
    else if (ch === '>' && !quoted) {
      const after = s.slice(i + 1);
      // RFC 5321 §4.1.1.2: SP between the path and the parameters.
      if (after !== '' && !after.startsWith(' ')) return undefined;
      return { path: s.slice(0, i + 1), params: splitParams(after.trim()) };
    }
  }
  return { path: s, params: [] };
}

function splitParams(text: string): EsmtpParam[] {
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
    return UTF8.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

type Bad = (text: string) => ParamProblem;

/**
 * Runs `handle` for each parameter in order. RFC 5321 §4.1.2: a keyword appears at most once;
 * one the grammar (or the caller's accept list) does not take is 'unknown-parameter'. The first
 * problem ends the walk.
 */
function walkParams<K extends string>(
  params: readonly EsmtpParam[], all: readonly K[], opts: ParamOptions<K>,
  handle: (keyword: K, value: string | undefined, bad: Bad) => ParamProblem | undefined,
): ParamProblem | undefined {
  const seen = new Set<string>();
  for (const { keyword, value } of params) {
    if (seen.has(keyword)) return { kind: 'bad-parameter', keyword, text: `${keyword} given twice` };
    seen.add(keyword);
    const known = (all as readonly string[]).includes(keyword) && (opts.accept === undefined || (opts.accept as readonly string[]).includes(keyword));
    if (!known) return { kind: 'unknown-parameter', keyword };
    const problem = handle(keyword as K, value, (text) => ({ kind: 'bad-parameter', keyword, text }));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function parseMailParams(params: readonly EsmtpParam[], opts: ParamOptions<MailKeyword> = {}): Result<MailParams, ParamProblem> {
  const out: { -readonly [K in keyof MailParams]: MailParams[K] } = {};
  const problem = walkParams(params, MAIL_KEYWORDS, opts, (keyword, value, bad) => {
    switch (keyword) {
      case 'SIZE':
        // RFC 1870 §3: size-value ::= 1*20DIGIT
        if (value === undefined || !/^\d{1,20}$/.test(value)) return bad('SIZE requires a number');
        out.size = Number(value);
        break;
      case 'BODY': {
        // RFC 6152 §3 (BINARYMIME needs BDAT, which neither the server nor a spool offers).
        const v = value?.toUpperCase();
        if (v !== '7BIT' && v !== '8BITMIME') return bad('BODY must be 7BIT or 8BITMIME');
        out.body = v;
        break;
      }
      case 'RET': {
        const v = value?.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') return bad('RET must be FULL or HDRS');
        out.ret = v;
        break;
      }
      case 'ENVID': {
        // RFC 3461 §4.4: ENVID is xtext, at most 100 characters.
        const v = value === undefined ? undefined : decodeXtext(value);
        if (v === undefined || v === '' || value!.length > 100) return bad('ENVID must be xtext of 1 to 100 characters');
        out.envid = v;
        break;
      }
      case 'AUTH': {
        // RFC 4954 §5: AUTH=xtext / "<>".
        const v = value === undefined ? undefined : decodeXtext(value);
        if (v === undefined) return bad('AUTH= must be xtext');
        out.auth = v;
        break;
      }
      case 'SMTPUTF8':
        if (value !== undefined) return bad('SMTPUTF8 takes no value');
        out.smtputf8 = true;
        break;
    }
    return undefined;
  });
  return problem === undefined ? ok(out) : err(problem);
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

export function parseRcptParams(params: readonly EsmtpParam[], opts: ParamOptions<RcptKeyword> = {}): Result<RcptParams, ParamProblem> {
  const out: { -readonly [K in keyof RcptParams]: RcptParams[K] } = {};
  const problem = walkParams(params, RCPT_KEYWORDS, opts, (keyword, value, bad) => {
    switch (keyword) {
      case 'NOTIFY': {
        const n = parseNotify(value);
        if (!n) return bad('NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY');
        out.notify = n;
        break;
      }
      case 'ORCPT': {
        // RFC 3461 §4.2: ORCPT=addr-type ";" xtext
        const semi = value?.indexOf(';') ?? -1;
        const type = semi > 0 ? value!.slice(0, semi) : '';
        const address = semi > 0 ? decodeXtext(value!.slice(semi + 1)) : undefined;
        if (!/^[A-Za-z0-9-]+$/.test(type) || address === undefined || address === '' || value!.length > 500) {
          return bad('ORCPT must be addr-type;xtext');
        }
        out.orcpt = { type: type.toLowerCase() === 'rfc822' ? 'rfc822' : type, address };
        break;
      }
    }
    return undefined;
  });
  return problem === undefined ? ok(out) : err(problem);
}
