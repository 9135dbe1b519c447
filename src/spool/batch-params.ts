// Argument parsing for MAIL FROM: and RCPT TO: in a batch-SMTP spool file: the path, then the
// ESMTP parameters.
//
// RFC 5321 §4.1.1.2 / §4.1.1.3: "MAIL FROM:" Reverse-path [SP Mail-parameters],
//   "RCPT TO:" Forward-path [SP Rcpt-parameters]; esmtp-param = esmtp-keyword ["=" esmtp-value].
// RFC 1870 SIZE, RFC 6152 BODY=8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID/NOTIFY/ORCPT
// (values in xtext, §4), RFC 4954 §5 AUTH= (accepted and dropped: a spool has no authenticated
// submitter to vouch for).
import type { DsnNotify } from '../core/envelope.js';
import type { Result } from '../core/result.js';

export type ArgProblem =
  | { kind: 'syntax' }
  | { kind: 'param-unknown'; name: string }
  | { kind: 'param-bad'; name: string };

export interface SplitArg {
  /** "<...>" including brackets (or the bare text when there were no brackets). */
  readonly path: string;
  readonly params: readonly { readonly name: string; readonly value: string | undefined }[];
}

/**
 * Splits `FROM:<path> params` / `TO:<path> params`. `keyword` is "FROM:" or "TO:".
 * Returns undefined when the keyword is missing.
 */
export function splitPathArg(arg: string, keyword: string): SplitArg | undefined {
  if (arg.length < keyword.length || arg.slice(0, keyword.length).toUpperCase() !== keyword) return undefined;
  let i = keyword.length;
  // LENIENT(RFC 5321 §4.1.1.2): "MAIL FROM: <a@b>" (a space after the colon) is common in
  // hand-written jobs; it is accepted.
  while (arg.charCodeAt(i) === 0x20) i++;
  const start = i;
  let end: number;
  if (arg.charCodeAt(i) === 0x3c) {
    // Find the closing '>' outside a quoted local part.
    let quoted = false;
    end = -1;
    for (i = start + 1; i < arg.length; i++) {
      const c = arg.charCodeAt(i);
      if (quoted && c === 0x5c) { i++; continue; }
      if (c === 0x22) quoted = !quoted;
      else if (c === 0x3e && !quoted) { end = i + 1; break; }
    }
    if (end < 0) end = arg.length;
  } else {
    end = arg.indexOf(' ', start);
    if (end < 0) end = arg.length;
  }
  const path = arg.slice(start, end);
  const params: { name: string; value: string | undefined }[] = [];
  for (const word of arg.slice(end).split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    params.push(eq < 0 ? { name: word.toUpperCase(), value: undefined } : { name: word.slice(0, eq).toUpperCase(), value: word.slice(eq + 1) });
  }
  return { path, params };
}

/** RFC 3461 §4: xtext = *( xchar / hexchar ), hexchar = "+" 2(%x30-39 / %x41-46). */
export function decodeXtext(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(h)) return undefined;
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
      continue;
    }
    // xchar: "!" .. "~" except "+" and "="
    if (c < 33 || c > 126 || c === 0x3d) return undefined;
    out += s[i];
  }
  return out;
}

export interface MailParams {
  size?: number;
  body8bit?: boolean;
  smtputf8?: boolean;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
}

export function parseMailParams(params: SplitArg['params']): Result<MailParams, ArgProblem> {
  const out: MailParams = {};
  const seen = new Set<string>();
  for (const { name, value } of params) {
    // RFC 5321 §4.1.2: a parameter keyword appears at most once.
    if (seen.has(name)) return { ok: false, error: { kind: 'param-bad', name } };
    seen.add(name);
    switch (name) {
      case 'SIZE': // RFC 1870 §6: size-value = 1*20DIGIT
        if (value === undefined || !/^\d{1,20}$/.test(value)) return { ok: false, error: { kind: 'param-bad', name } };
        out.size = Number(value);
        break;
      case 'BODY': { // RFC 6152 §3: BODY=7BIT / 8BITMIME (BINARYMIME needs BDAT, which a spool cannot carry)
        const v = value?.toUpperCase();
        if (v === '7BIT') out.body8bit = false;
        else if (v === '8BITMIME') out.body8bit = true;
        else return { ok: false, error: { kind: 'param-bad', name } };
        break;
      }
      case 'SMTPUTF8': // RFC 6531 §3.4: no value
        if (value !== undefined) return { ok: false, error: { kind: 'param-bad', name } };
        out.smtputf8 = true;
        break;
      case 'RET': { // RFC 3461 §4.3
        const v = value?.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') return { ok: false, error: { kind: 'param-bad', name } };
        out.ret = v;
        break;
      }
      case 'ENVID': { // RFC 3461 §4.4: xtext, at most 100 characters
        const d = value === undefined || value.length > 100 ? undefined : decodeXtext(value);
        if (d === undefined || d === '') return { ok: false, error: { kind: 'param-bad', name } };
        out.envid = d;
        break;
      }
      case 'AUTH': // RFC 4954 §5: accepted and dropped (see header).
        if (value === undefined) return { ok: false, error: { kind: 'param-bad', name } };
        break;
      default:
        return { ok: false, error: { kind: 'param-unknown', name } };
    }
  }
  return { ok: true, value: out };
}

export interface RcptParams {
  notify?: DsnNotify;
  orcpt?: { type: string; address: string };
}

export function parseRcptParams(params: SplitArg['params']): Result<RcptParams, ArgProblem> {
  const out: RcptParams = {};
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return { ok: false, error: { kind: 'param-bad', name } };
    seen.add(name);
    if (name === 'NOTIFY') {
      // RFC 3461 §4.1: "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )
      const words = (value ?? '').toUpperCase().split(',');
      if (words.length === 1 && words[0] === 'NEVER') { out.notify = { kind: 'never' }; continue; }
      const n = { success: false, failure: false, delay: false };
      for (const w of words) {
        if (w === 'SUCCESS' && !n.success) n.success = true;
        else if (w === 'FAILURE' && !n.failure) n.failure = true;
        else if (w === 'DELAY' && !n.delay) n.delay = true;
        else return { ok: false, error: { kind: 'param-bad', name } };
      }
      out.notify = { kind: 'on', ...n };
    } else if (name === 'ORCPT') {
      // RFC 3461 §4.2: addr-type ";" xtext
      const semi = value === undefined ? -1 : value.indexOf(';');
      const type = semi > 0 ? value!.slice(0, semi) : '';
      const addr = semi > 0 ? decodeXtext(value!.slice(semi + 1)) : undefined;
      if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(type) || addr === undefined || addr === '' || value!.length > 500) {
        return { ok: false, error: { kind: 'param-bad', name } };
      }
      out.orcpt = { type: type.toLowerCase() === 'rfc822' ? 'rfc822' : type, address: addr };
    } else {
      return { ok: false, error: { kind: 'param-unknown', name } };
    }
  }
  return { ok: true, value: out };
}
