// The classic sendmail command line (the interface of /usr/sbin/sendmail that cron, mailx, PHP's
// mail(), git send-email and logwatch call), parsed the way Postfix's sendmail(1) parses it:
// getopt-style letters, bundled ("-ti") or with the value attached ("-fuser", "-oi") or apart
// ("-f user"); "-q" is special; options that make no sense for a gateway are accepted and ignored
// with a warning, so a caller written for Sendmail or Postfix keeps working. Pure: no I/O.
import type { DsnNotify } from '../core/envelope.js';
import { type Result, ok, err } from '../core/index.js';

/** sysexits.h: what sendmail callers (cron, mailx, PHP) look at. */
export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  NOUSER: 67,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  TEMPFAIL: 75,
  NOPERM: 77,
  CONFIG: 78,
} as const;
export type ExitCode = (typeof EX)[keyof typeof EX];

export type SendmailMode =
  | 'enqueue' // -bm (default): read one message on stdin and queue it
  | 'smtp' // -bs: an SMTP dialog on stdin/stdout
  | 'mailq' // -bp, or invoked as mailq
  | 'flush' // -q: retry deferred mail now
  | 'newaliases'; // -bi / -I: nothing to do here (no alias database)

export interface SendmailArgs {
  readonly mode: SendmailMode;
  /** -t: take recipients from To:, Cc: and Bcc: (or the Resent- fields when there are any). */
  readonly extractRecipients: boolean;
  /** false with -i / -oi: a line holding only "." does not end the message. */
  readonly dotEnds: boolean;
  /** -f / -r: the envelope sender as given ("" or "<>" = the null sender). */
  readonly sender?: string;
  /** -F: the full name for a From: field we add. */
  readonly fullName?: string;
  /** -N: RFC 3461 NOTIFY for every recipient. */
  readonly notify?: DsnNotify;
  /** -R: RFC 3461 RET. */
  readonly ret?: 'FULL' | 'HDRS';
  /** -V: RFC 3461 ENVID. */
  readonly envid?: string;
  /** -B 8BITMIME / 7BIT (RFC 6152 BODY). */
  readonly body?: '8BITMIME' | '7BIT';
  /** -C: the configuration file. */
  readonly config?: string;
  /** -v (each one counts). */
  readonly verbose: number;
  /** -oem / -oep / -oeq / -oew: accepted; errors are always printed (as Postfix does). */
  readonly errorMode?: string;
  /** Command-line recipients, each an address list ("a@b, c@d" is two). */
  readonly recipients: readonly string[];
  /** Options accepted but ignored, for a warning with -v or on stderr. */
  readonly ignored: readonly string[];
}

/** Letters that take a value (attached or as the next argument). */
const WITH_VALUE = new Set(['A', 'B', 'C', 'F', 'L', 'N', 'O', 'R', 'V', 'X', 'b', 'e', 'f', 'h', 'o', 'p', 'r']);
/** Letters accepted without effect (Sendmail options that mean nothing here). */
const IGNORED_FLAGS = new Set(['G', 'U', 'c', 'm', 'n', 'x']);
/** Values of options accepted without effect. */
const IGNORED_VALUE = new Set(['A', 'L', 'O', 'X', 'e', 'h', 'p']);
/** RFC 3461 §4.3: ENVID is at most 100 characters of xtext-able printable ASCII. */
const MAX_ENVID = 100;

function parseNotify(v: string): DsnNotify | undefined {
  const parts = v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (parts.length === 1 && parts[0] === 'never') return { kind: 'never' };
  if (parts.length === 0 || parts.some((p) => p !== 'success' && p !== 'failure' && p !== 'delay')) return undefined;
  return { kind: 'on', success: parts.includes('success'), failure: parts.includes('failure'), delay: parts.includes('delay') };
}

/**
 * `argv` without the program name. `invokedAs` is the program's base name: "mailq" lists the
 * queue, as with Postfix. An option error is a usage error (EX.USAGE) with its text.
 */
export function parseSendmailArgs(argv: readonly string[], invokedAs = 'sendmail'): Result<SendmailArgs, string> {
  let mode: SendmailMode = invokedAs === 'mailq' ? 'mailq' : invokedAs === 'newaliases' ? 'newaliases' : 'enqueue';
  let extractRecipients = false;
  let dotEnds = true;
  let verbose = 0;
  const out: { -readonly [K in keyof SendmailArgs]?: SendmailArgs[K] } = {};
  const ignored: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    // -q alone flushes; -q<time> is the daemon's interval (nothing to do); -qR<site> flushes.
    if (a.startsWith('-q')) {
      const rest = a.slice(2);
      if (rest === '' || rest.startsWith('R') || rest.startsWith('I') || rest.startsWith('S')) mode = 'flush';
      else ignored.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      let value: string | undefined;
      if (WITH_VALUE.has(c)) {
        value = a.slice(j + 1);
        if (value === '') {
          if (i + 1 >= argv.length) return err(`option -${c} needs a value`);
          value = argv[++i]!;
        }
        j = a.length; // the rest of this argument was the value
      }
      switch (c) {
        case 't': extractRecipients = true; break;
        case 'i': dotEnds = false; break;
        case 'v': verbose++; break;
        case 'I': mode = 'newaliases'; break;
        case 'f':
        case 'r': out.sender = value!; break;
        case 'F': out.fullName = value!; break;
        case 'C': out.config = value!; break;
        case 'b':
          switch (value![0]) {
            case 'm': mode = 'enqueue'; break;
            case 's': mode = 'smtp'; break;
            case 'p': mode = 'mailq'; break;
            case 'i': mode = 'newaliases'; break;
            case 'd': return err('-bd (daemon mode) is not how spoolgate runs: use "spoolgate start"');
            default: return err(`-b${value!} is not supported (use -bm, -bs, -bp or -bi)`);
          }
          break;
        case 'o':
          if (value === 'i') dotEnds = false;
          else if (value!.startsWith('e') && value!.length === 2) out.errorMode = value!.slice(1);
          else ignored.push(`-o${value!}`);
          break;
        case 'N': {
          const n = parseNotify(value!);
          if (n === undefined) return err(`-N ${value!}: give "never" or a comma list of success, delay, failure`);
          out.notify = n;
          break;
        }
        case 'R': {
          const r = value!.toUpperCase();
          if (r !== 'FULL' && r !== 'HDRS') return err(`-R ${value!}: give full or hdrs`);
          out.ret = r;
          break;
        }
        case 'V':
          // RFC 3461 §4.4: printable ASCII, at most 100 characters.
          if (value!.length > MAX_ENVID || !/^[!-~]+$/.test(value!)) return err(`-V: an envelope id is 1 to ${MAX_ENVID} printable ASCII characters`);
          out.envid = value!;
          break;
        case 'B': {
          const b = value!.toUpperCase();
          if (b !== '8BITMIME' && b !== '7BIT') return err(`-B ${value!}: give 8BITMIME or 7BIT`);
          out.body = b;
          break;
        }
        default:
          if (IGNORED_VALUE.has(c)) ignored.push(`-${c} ${value!}`);
          else if (IGNORED_FLAGS.has(c)) ignored.push(`-${c}`);
          else ignored.push(`-${c} (unknown)`);
      }
    }
  }
  const recipients = argv.slice(i);
  if (mode !== 'enqueue' && recipients.length > 0) return err(`${mode === 'mailq' ? 'listing the queue' : mode === 'flush' ? 'flushing the queue' : mode === 'smtp' ? 'the SMTP dialog (-bs)' : 'newaliases'} takes no recipients`);
  if (extractRecipients && mode !== 'enqueue') return err('-t can be used only when sending a message');
  return ok({ ...out, mode, extractRecipients, dotEnds, verbose, recipients, ignored });
}
