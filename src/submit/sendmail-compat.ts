// `sendmail -t -i -f …` for Linux batch jobs (cron, scripts, ERP exports, mailx, git send-email):
// one message on standard input becomes one `message` spool entry (spool/enqueue.ts) through the
// same submission path as `note` and `spoolgate sendmail FILE` (submit/spool.ts putOnSpool: our
// Received field, Date and Message-ID when missing). The options are parsed in sendmail-args.ts.
//
// What happens to the input, as Postfix's sendmail + cleanup do it:
// - Input ends at EOF, or (without -i / -oi) at a line holding only "." (the classic rule).
// - A leading mbox "From " line is dropped (it is not a header field).
// - Input that does not start with a header field is all body: an empty line is put before it.
// - RFC 5322 §3.6.3: Bcc: (and Resent-Bcc:) fields never reach the queued copy.
// - -t takes the recipients from To:, Cc:, Bcc: (RFC 5322 §3.6.6: from the Resent- fields
//   instead when the message has any); command-line recipients are added (Postfix ≥ 2.1).
// - RFC 5322 §3.6.2: a message without From: gets one naming the sender (and -F's full name).
// Everything else, body included, is queued byte for byte.
import addressparser from 'nodemailer/lib/addressparser/index.js';
import {
  type Recipient, type ReversePath, type Result, ok, err, parseMailbox, formatMailbox, describeAddressProblem,
} from '../core/index.js';
import type { Envelope } from '../core/envelope.js';
import { headerSection, isHeaderFieldLine, fieldName } from '../spool/headers.js';
import type { SpoolEntry } from '../spool/submit.js';
import { EX, type ExitCode, type SendmailArgs } from './sendmail-args.js';
import { decideSender, type Caller } from './policy.js';
import type { SenderPolicy } from '../config/index.js';
import { MAX_RECIPIENTS } from './sendmail.js';
import { putOnSpool, type SpoolTarget } from './spool.js';

export interface SendmailFailure {
  readonly exit: ExitCode;
  readonly message: string;
}

const fail = (exit: ExitCode, message: string): { ok: false; error: SendmailFailure } => err({ exit, message });

/**
 * Reads the message from `input` up to `limit` octets. Without -i a line holding only "." (with
 * or without CR) ends the message and is not part of it; reading stops there, so a caller that
 * keeps its end of the pipe open is not waited for.
 */
export async function readMessage(input: AsyncIterable<Buffer>, opts: { dotEnds: boolean; limit: number }): Promise<Result<Buffer, SendmailFailure>> {
  const chunks: Buffer[] = [];
  let size = 0;
  // The line being read so far when it could still be the "." line: its first bytes only.
  let lineStart = true;
  let candidate = '';
  for await (const chunk of input) {
    if (opts.dotEnds) {
      for (let k = 0; k < chunk.length; k++) {
        const b = chunk[k]!;
        if (b === 0x0a) {
          if (lineStart && (candidate === '.' || candidate === '.\r')) {
            // The message ends before this line; drop the "." line itself.
            const taken = Buffer.concat([...chunks, chunk.subarray(0, k)]);
            return ok(taken.subarray(0, taken.length - candidate.length));
          }
          lineStart = true;
          candidate = '';
        } else if (lineStart) {
          candidate += String.fromCharCode(b);
          if (candidate.length > 2 || (candidate !== '.' && candidate !== '.\r')) lineStart = false;
        }
      }
    }
    size += chunk.length;
    if (size > opts.limit) return fail(EX.UNAVAILABLE, `message too large: more than ${opts.limit} octets (the spool's message entry limit)`);
    chunks.push(chunk);
  }
  const all = Buffer.concat(chunks);
  // "." as the very last line, without a line end, also ends the message.
  if (opts.dotEnds && lineStart && (candidate === '.' || candidate === '.\r')) return ok(all.subarray(0, all.length - candidate.length));
  return ok(all);
}

interface HeaderLine { readonly start: number; readonly end: number; readonly name: string | null }

/** The header block's lines (null name: a folded continuation) and where the body starts. */
function headerBlock(data: Buffer): { lines: HeaderLine[]; bodyStart: number; separator: boolean } {
  const h = headerSection(data);
  const lines = h.lines.map((l) => ({ start: l.start, end: l.end, name: isHeaderFieldLine(l.text) ? fieldName(l.text) : null }));
  return { lines, bodyStart: h.end, separator: h.blankLine };
}

/** The unfolded value of each field (name → values), for the address fields. */
function fieldValues(data: Buffer, lines: readonly HeaderLine[], names: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const l of lines) {
    const raw = data.subarray(l.start, l.end).toString('utf8').replace(/\r?\n$/, '');
    if (l.name !== null) {
      current = null;
      if (!names.has(l.name)) continue;
      const list = out.get(l.name) ?? [];
      list.push(raw.slice(raw.indexOf(':') + 1));
      out.set(l.name, list);
      current = list;
    } else if (current !== null) {
      // RFC 5322 §2.2.3 unfolding: the CRLF goes, the white space stays.
      current[current.length - 1] += raw;
    }
  }
  return out;
}

/** RFC 5322 §3.4 address lists (groups flattened, display names dropped) → addr-specs. */
export function addressesOf(list: string): string[] {
  return addressparser(list, { flatten: true }).map((a) => a.address).filter((a) => a !== '');
}

const RECIPIENT_FIELDS = ['to', 'cc', 'bcc'];
const RESENT_FIELDS = ['resent-to', 'resent-cc', 'resent-bcc'];

export interface PreparedMessage {
  readonly data: Buffer;
  /** Addresses from To/Cc/Bcc (or the Resent- fields) when -t was given. */
  readonly headerRecipients: readonly string[];
  readonly hasFrom: boolean;
}

/** Header work on the input: mbox line, missing separator, Bcc removal, -t recipients. */
export function prepareMessage(input: Buffer, extract: boolean): PreparedMessage {
  let data = input;
  // Postfix's sendmail drops leading mbox "From " lines (also ">From ").
  while (/^>*From /.test(data.subarray(0, 64).toString('latin1'))) {
    const nl = data.indexOf(0x0a);
    data = nl < 0 ? Buffer.alloc(0) : data.subarray(nl + 1);
  }
  const block = headerBlock(data);
  const names = block.lines.flatMap((l) => (l.name === null ? [] : [l.name]));
  const resent = names.some((n) => n.startsWith('resent-'));
  let headerRecipients: string[] = [];
  if (extract) {
    const wanted = new Set(resent ? RESENT_FIELDS : RECIPIENT_FIELDS);
    const values = fieldValues(data, block.lines, wanted);
    headerRecipients = [...wanted].flatMap((n) => (values.get(n) ?? []).flatMap(addressesOf));
  }
  // Drop Bcc / Resent-Bcc fields with their continuation lines.
  const parts: Buffer[] = [];
  let dropping = false;
  for (const l of block.lines) {
    if (l.name !== null) dropping = l.name === 'bcc' || l.name === 'resent-bcc';
    if (!dropping) parts.push(data.subarray(l.start, l.end));
  }
  const header = Buffer.concat(parts);
  const eol = data.indexOf('\r\n') >= 0 && data.indexOf('\r\n') <= data.indexOf(0x0a) ? '\r\n' : '\n';
  // A header block cut by EOF without a line end gets one before anything follows it.
  const headerEol = header.length > 0 && header[header.length - 1] !== 0x0a ? Buffer.from(eol) : Buffer.alloc(0);
  const body = data.subarray(block.bodyStart);
  // RFC 5322 §2.1: the body is separated from the header by an empty line; input whose first
  // line is not a header field is all body.
  const separator = block.separator ? Buffer.alloc(0) : Buffer.from(eol);
  return {
    data: Buffer.concat([header, headerEol, separator, body]),
    headerRecipients,
    hasFrom: names.includes('from'),
  };
}

/** RFC 5322 §3.4 display name: an atom phrase as is, else a quoted-string, else RFC 2047. */
function displayName(name: string): string {
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return name;
  if (/^[\x20-\x7e]+$/.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
}

export interface EnqueueInput {
  readonly args: SendmailArgs;
  readonly message: Buffer;
  readonly target: SpoolTarget;
  readonly policy: SenderPolicy;
  readonly domain: string;
  readonly caller: Caller;
  readonly now?: () => number;
}

function parseSender(args: SendmailArgs, input: EnqueueInput): Result<ReversePath, SendmailFailure> {
  const given = args.sender;
  // The null sender (RFC 5321 §4.5.5) names nobody: SenderPolicy allows it (spool/sender-policy.ts).
  if (given !== undefined && (given === '' || given === '<>')) return ok({ kind: 'null' });
  const bare = given !== undefined && given.startsWith('<') && given.endsWith('>') ? given.slice(1, -1) : given;
  const d = decideSender({ policy: input.policy, caller: input.caller, domain: input.domain, ...(bare === undefined ? {} : { from: bare }) });
  if (!d.ok) return fail(d.error.code === 'SG_NOTE_SENDER_NOT_ALLOWED' ? EX.NOPERM : EX.DATAERR, d.error.message.replace('--from', '-f'));
  return ok({ kind: 'mailbox', mailbox: d.value });
}

/** Queues one message read by readMessage(); resolves once the spool entry is durable. */
export async function enqueueSendmail(input: EnqueueInput): Promise<Result<{ entry: SpoolEntry; envelope: Envelope }, SendmailFailure>> {
  const { args } = input;
  const from = parseSender(args, input);
  if (!from.ok) return from;
  const prepared = prepareMessage(input.message, args.extractRecipients);
  const wanted: string[] = [];
  for (const arg of args.recipients) {
    const found = addressesOf(arg);
    if (found.length === 0) return fail(EX.DATAERR, `recipient "${arg}" is not a valid address`);
    wanted.push(...found);
  }
  wanted.push(...prepared.headerRecipients);
  if (wanted.length === 0) {
    return fail(EX.USAGE, args.extractRecipients ? 'no recipient addresses found in the message header (To:, Cc:, Bcc:) or on the command line' : 'no recipients: name them on the command line or use -t');
  }
  const recipients: Recipient[] = [];
  const seen = new Set<string>();
  for (const text of wanted) {
    const mb = parseMailbox(text);
    if (!mb.ok) return fail(EX.DATAERR, `recipient "${text}" is not a valid address: ${describeAddressProblem(mb.error)}`);
    const key = formatMailbox(mb.value).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    recipients.push({ mailbox: mb.value, ...(args.notify === undefined ? {} : { notify: args.notify }) });
  }
  if (recipients.length > MAX_RECIPIENTS) return fail(EX.DATAERR, `${recipients.length} recipients (at most ${MAX_RECIPIENTS} per message)`);

  let data = prepared.data;
  if (!prepared.hasFrom) {
    const who = from.value.kind === 'mailbox' ? formatMailbox(from.value.mailbox) : `MAILER-DAEMON@${input.domain}`;
    const field = args.fullName !== undefined && args.fullName !== '' ? `From: ${displayName(args.fullName)} <${who}>` : `From: ${who}`;
    const eol = data.indexOf('\r\n') >= 0 ? '\r\n' : '\n';
    data = Buffer.concat([Buffer.from(field + eol, 'utf8'), data]);
  }
  const envelope: Envelope = {
    from: from.value,
    recipients,
    requireTls: false,
    ...(args.ret !== undefined || args.envid !== undefined ? { dsn: { ...(args.ret === undefined ? {} : { ret: args.ret }), ...(args.envid === undefined ? {} : { envid: args.envid }) } } : {}),
    // RFC 6152: -B says; otherwise 8-bit octets anywhere mean an 8-bit body.
    ...(args.body === '8BITMIME' || (args.body === undefined && data.some((b) => b >= 0x80)) ? { body8bit: true } : {}),
  };
  try {
    const entry = await putOnSpool({
      target: input.target, tool: 'sendmail', user: input.caller.user, envelope, data,
      ...(input.now === undefined ? {} : { now: input.now }),
    });
    return ok({ entry, envelope });
  } catch (e) {
    return fail(EX.TEMPFAIL, `cannot put the mail on the spool: ${e instanceof Error ? e.message : String(e)}`);
  }
}

