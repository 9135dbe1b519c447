// SMTP reply parsing for the client side: an incremental parser that takes bytes as they arrive
// and yields complete (possibly multi-line) replies. Pure: no sockets.
//
// RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39
// RFC 2034 §4 / RFC 3463 §2: with ENHANCEDSTATUSCODES the text of every line starts with
//   class "." subject "." detail, and class equals the first digit of the reply code.
import { ProtocolError } from '../../core/errors.js';
import { enhancedOf, type ReplyCode } from './codes.js';

export interface Reply {
  readonly code: number;
  /** RFC 3463 enhanced status code, e.g. "5.1.1", when the server sent one (on the first line). */
  readonly enhanced?: string;
  /** Text of each line, without reply code, separator and enhanced code. */
  readonly lines: readonly string[];
  /** All lines joined with a single space: for details and reports. */
  readonly text: string;
  /** True for a reply made up by the client itself (e.g. a refusal before sending); never from the wire. */
  readonly local?: boolean;
}

export type ReplyProblem = 'line-too-long' | 'bad-code' | 'code-mismatch' | 'too-many-lines' | 'bad-separator';

/** The server sent something that is not a well-formed reply: the session is out of step. */
export class MalformedReplyError extends ProtocolError {
  readonly problem: ReplyProblem;
  /** The offending line (truncated to 200 chars), for the trace and reports. */
  readonly line: string;
  constructor(problem: ReplyProblem, line: string) {
    super(`malformed reply from server (${problem}): ${JSON.stringify(line.slice(0, 200))}`);
    this.problem = problem;
    this.line = line.slice(0, 200);
  }
}

/** RFC 5321 §4.5.3.1.5: reply lines are at most 512 octets; we accept more but bound it. */
export const DEFAULT_MAX_REPLY_LINE = 4096;
/** Bound on the lines of one multi-line reply (a long EHLO list is ~30). */
export const DEFAULT_MAX_REPLY_LINES = 500;

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)/;

/** Builds a Reply from its parts; picks out the enhanced code when its class matches. */
export function makeReply(code: number, rawTexts: readonly string[], local = false): Reply {
  let enhanced: string | undefined;
  const first = rawTexts[0] ?? '';
  const m = ENHANCED.exec(first);
  // RFC 3463 §2: the class digit must equal the first digit of the basic code.
  if (m !== null && Number(m[1]) === Math.floor(code / 100)) enhanced = `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
  const lines = rawTexts.map((t) => {
    if (enhanced === undefined) return t;
    const lm = ENHANCED.exec(t);
    return lm !== null ? t.slice(lm[0].length) : t;
  });
  const base = { code, lines, text: lines.join(' ').trim() };
  const withEnh = enhanced === undefined ? base : { ...base, enhanced };
  return local ? { ...withEnh, local: true } : withEnh;
}

/**
 * A reply made by the gateway itself, e.g. "refused: message too big" (Reply.local = true). Only
 * from the catalogue (codes.ts), whose enhanced codes carry no class digit: the class of the
 * enhanced code cannot disagree with the basic code.
 */
export function localReply(rc: ReplyCode, text: string): Reply {
  const enhanced = enhancedOf(rc);
  return makeReply(rc.code, [enhanced === '' ? text : `${enhanced} ${text}`], true);
}

/** "550 5.1.1 no such user" — one line for logs, details and reports. */
export function describeReply(r: Reply): string {
  return `${r.code}${r.enhanced !== undefined ? ` ${r.enhanced}` : ''}${r.text !== '' ? ` ${r.text}` : ''}`;
}

export interface ReplyParserOptions {
  readonly maxLineLength?: number;
  readonly maxLines?: number;
}

export interface ReplyPush {
  /** Replies completed by this chunk, in order. */
  readonly replies: Reply[];
  /** Set when the input stopped being a valid reply stream; the parser then ignores further input. */
  readonly error?: MalformedReplyError;
}

/**
 * Incremental reply parser: push() bytes as they arrive, in chunks of any size, and receive the
 * replies they complete. After a malformed line the parser is failed for good (the session is
 * out of step; STYLE.md §3: the client then marks itself broken).
 */
export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private codeSoFar: number | undefined;
  private texts: string[] = [];
  private failed: MalformedReplyError | undefined;
  private readonly maxLine: number;
  private readonly maxLines: number;

  constructor(opts: ReplyParserOptions = {}) {
    this.maxLine = opts.maxLineLength ?? DEFAULT_MAX_REPLY_LINE;
    this.maxLines = opts.maxLines ?? DEFAULT_MAX_REPLY_LINES;
  }

  /** Bytes received but not yet part of a complete line (STARTTLS injection check, RFC 3207 §4.2 / CVE-2011-0411). */
  get buffered(): number {
    return this.buf.length + (this.codeSoFar !== undefined ? 1 : 0);
  }

  push(chunk: Uint8Array): ReplyPush {
    if (this.failed) return { replies: [], error: this.failed };
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const replies: Reply[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buf.indexOf(0x0a, start);
      if (lf < 0) break;
      // LENIENT(RFC 5321 §2.3.8): accept a bare LF as line end; servers in the wild send it.
      const end = lf > start && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
      const line = this.buf.toString('utf8', start, end);
      const bytes = end - start;
      start = lf + 1;
      if (bytes > this.maxLine) return this.failWith(replies, 'line-too-long', line);
      const r = this.line(line);
      if (r instanceof MalformedReplyError) return { replies, error: r };
      if (r !== undefined) replies.push(r);
    }
    this.buf = this.buf.subarray(start);
    if (this.buf.length > this.maxLine) return this.failWith(replies, 'line-too-long', this.buf.toString('utf8', 0, 200));
    return { replies };
  }

  private line(line: string): Reply | MalformedReplyError | undefined {
    // RFC 5321 §4.2: three digits, first 2–5, second 0–5.
    if (!/^[2-5][0-5][0-9]/.test(line)) return this.failErr('bad-code', line);
    const code = Number(line.slice(0, 3));
    const sep = line.charAt(3);
    if (sep !== '' && sep !== ' ' && sep !== '-') return this.failErr('bad-separator', line);
    // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code.
    if (this.codeSoFar !== undefined && this.codeSoFar !== code) return this.failErr('code-mismatch', line);
    this.codeSoFar = code;
    this.texts.push(line.slice(4));
    if (this.texts.length > this.maxLines) return this.failErr('too-many-lines', line);
    if (sep === '-') return undefined;
    const reply = makeReply(code, this.texts);
    this.codeSoFar = undefined;
    this.texts = [];
    return reply;
  }

  private failErr(problem: ReplyProblem, line: string): MalformedReplyError {
    this.failed = new MalformedReplyError(problem, line);
    this.buf = Buffer.alloc(0);
    return this.failed;
  }

  private failWith(replies: Reply[], problem: ReplyProblem, line: string): ReplyPush {
    return { replies, error: this.failErr(problem, line) };
  }
}
