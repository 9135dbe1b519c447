// Parsing one POP3 command line (untrusted): keyword + arguments, RFC 1939 §3 / RFC 2449 §3.
// Returns values, never throws.
import { err, ok, type Result } from '../../core/result.js';

export const VERBS = ['USER', 'PASS', 'STAT', 'LIST', 'RETR', 'DELE', 'RSET', 'TOP', 'UIDL', 'NOOP', 'QUIT', 'CAPA', 'STLS', 'AUTH'] as const;
export type Verb = (typeof VERBS)[number];

export interface Command {
  readonly verb: Verb;
  /** Space-separated arguments (RFC 1939 §3: each up to 40 characters; PASS keeps `rest`). */
  readonly args: readonly string[];
  /** Everything after the keyword and one space, unsplit (PASS may contain spaces). */
  readonly rest: string;
}

export type CommandProblem = 'empty' | 'unknown' | 'bad-bytes';

const VERB_SET: ReadonlySet<string> = new Set(VERBS);

export function isVerb(s: string): s is Verb {
  return VERB_SET.has(s);
}

/** Printable UTF-8 only: control characters (NUL, CR, ESC, DEL ...) are refused. */
export function decodeLine(line: Buffer): string | undefined {
  for (const b of line) if (b < 0x20 || b === 0x7f) return undefined;
  const s = line.toString('utf8');
  return Buffer.byteLength(s, 'utf8') === line.length && !s.includes('\uFFFD') ? s : undefined;
}

export function parseCommand(line: Buffer): Result<Command, CommandProblem> {
  const text = decodeLine(line);
  if (text === undefined) return err('bad-bytes');
  if (text.trim() === '') return err('empty');
  const sp = text.indexOf(' ');
  const keyword = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
  // RFC 1939 §3: keywords are three or four characters, case-insensitive.
  if (!isVerb(keyword)) return err('unknown');
  const rest = sp < 0 ? '' : text.slice(sp + 1);
  const args = rest.split(' ').filter((a) => a !== '');
  return ok({ verb: keyword, args, rest });
}

/** RFC 1939 §3 message numbers: decimal, starting at 1. */
export function parseNumber(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]{1,9}$/.test(s)) return undefined;
  return Number(s);
}
