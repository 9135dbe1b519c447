// SMTP command parsing (server side): one line (without CRLF) → a typed Command or a typed
// syntax error. Pure; the session decides what to answer.
//
// RFC 5321 §4.1.1 command syntax; §4.1.2 paths (via core/address.ts); §4.1.4 verbs are
//   case-insensitive.
// MAIL/RCPT arguments and their ESMTP parameters: esmtp-params.ts (shared with the spool's
// batch-SMTP parser).
import { heloArgumentProblem } from './helo.js';
import {
  type AddressError,
  type Mailbox,
  type ReversePath,
  parseForwardPath,
  parseReversePath,
} from '../../core/address.js';
import { type Result, ok, err } from '../../core/result.js';
import {
  type MailParams, type ParamProblem, type RcptParams, parseMailParams, parseRcptParams, splitPathArg,
} from './esmtp-params.js';

export { decodeXtext, type MailParams, type RcptParams } from './esmtp-params.js';

export const VERBS = [
  'EHLO', 'HELO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'HELP', 'VRFY', 'EXPN',
  'STARTTLS', 'AUTH', 'TURN', 'SEND', 'SOML', 'SAML',
] as const;
export type Verb = (typeof VERBS)[number];

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
      if (heloArgumentProblem(domain) !== undefined) return syntax(`${verb} argument is not a domain name or address literal`);
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

function paramError(verb: 'MAIL' | 'RCPT', e: ParamProblem): CommandSyntaxError {
  return e.kind === 'bad-parameter'
    ? { kind: 'bad-parameter', verb, keyword: e.keyword.slice(0, 32), text: e.text }
    : { kind: 'unknown-parameter', verb, keyword: e.keyword.slice(0, 32) };
}

function parseMail(rest: string, hadSpace: boolean): Result<Command, CommandSyntaxError> {
  const split = hadSpace ? splitPathArg(rest, 'FROM:') : undefined;
  if (!split) return err({ kind: 'syntax', verb: 'MAIL', text: 'syntax: MAIL FROM:<address> [parameters]' });
  const params = parseMailParams(split.params);
  if (!params.ok) return err(paramError('MAIL', params.error));
  const from = parseReversePath(split.path, { utf8: params.value.smtputf8 ?? false });
  if (!from.ok) return err({ kind: 'bad-address', verb: 'MAIL', problem: from.error });
  return ok({ verb: 'MAIL', from: from.value, params: params.value });
}

function parseRcpt(rest: string, hadSpace: boolean, opts: ParseCommandOptions): Result<Command, CommandSyntaxError> {
  const split = hadSpace ? splitPathArg(rest, 'TO:') : undefined;
  if (!split) return err({ kind: 'syntax', verb: 'RCPT', text: 'syntax: RCPT TO:<address> [parameters]' });
  const params = parseRcptParams(split.params);
  if (!params.ok) return err(paramError('RCPT', params.error));
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain must be accepted.
  if (/^<postmaster>$/i.test(split.path)) return ok({ verb: 'RCPT', to: { local: 'postmaster', domain: '' }, params: params.value });
  const to = parseForwardPath(split.path, { utf8: opts.utf8 ?? false });
  if (!to.ok) return err({ kind: 'bad-address', verb: 'RCPT', problem: to.error });
  return ok({ verb: 'RCPT', to: to.value, params: params.value });
}
