// Send-mail API (QtmmSendMail analog, SPEC.md §7, seed 004): the caller hands over a file holding
// a complete RFC 5322 / MIME message, an originator and recipients of type normal / cc / bcc; the
// message goes on the spool as batch SMTP. Validation follows the seed: the file exists and has a
// header/body separator, the originator and each address are at most 256 bytes, and there is at
// least one recipient. Every refusal is a SendMailError with a stable code (docs/submission.md
// maps them to the seed's CPF message ids).
//
// Deviation from the seed: QtmmSendMail unlinks the file after the framework has read it; here
// the file is left untouched unless `remove` is set (then it is unlinked after the spool entry is
// durable).
import { readFile, unlink } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { isAbsolute, normalize } from 'node:path';
import {
  SpoolgateError, describeAddressProblem, describeError, parseMailbox, formatMailbox, MAX_PATH,
  type Mailbox, type Recipient, type Result, ok, err,
} from '../core/index.js';
import { messageEntryLimit, type Config } from '../config/index.js';
import { decideSender, localDomain, type Caller } from './policy.js';
import { putOnSpool, type SpoolTarget } from './spool.js';
import type { SpoolEntry } from '../spool/submit.js';

export type RecipientType = 'normal' | 'cc' | 'bcc';

export interface SendMailRecipient {
  readonly address: string;
  readonly type: RecipientType;
}

export interface SendMailOptions {
  /** Absolute path of the message file, at most 255 bytes (seed 004: the entire path). */
  readonly file: string;
  /** Envelope sender, "local@domain" or "<local@domain>", at most 256 bytes. */
  readonly originator: string;
  readonly recipients: readonly SendMailRecipient[];
  /** Spool target and sender policy from a configuration (Spool Directory, ExtWrtName, HostName, Users). */
  readonly config?: Config;
  /** Or an explicit spool target (no sender policy is applied: the caller is trusted). */
  readonly spool?: SpoolTarget;
  /** Unlink the message file once it is on the spool (the seed's behaviour). Default false. */
  readonly remove?: boolean;
  /** Job name of the spool entry; default the calling user's name. */
  readonly jobName?: string;
  /** Who is calling, for SenderPolicy Own; default the process's user. */
  readonly caller?: Caller;
}

export interface SendMailReceipt {
  readonly entry: SpoolEntry;
  readonly envelope: { readonly from: string; readonly recipients: readonly string[] };
  /** True when the file was unlinked (remove: true). */
  readonly removed: boolean;
  /** Why remove failed (the mail is on the spool all the same). */
  readonly removeProblem?: string;
  /** A Bcc: header field was found in the file and left out of the spooled copy. */
  readonly bccHeaderStripped: boolean;
}

export type SendMailErrorCode =
  | 'SG_SENDMAIL_NO_TARGET'
  | 'SG_SENDMAIL_BAD_FILE_NAME'
  | 'SG_SENDMAIL_FILE_NOT_FOUND'
  | 'SG_SENDMAIL_FILE_UNREADABLE'
  | 'SG_SENDMAIL_FILE_TOO_LARGE'
  | 'SG_SENDMAIL_NO_HEADER'
  | 'SG_SENDMAIL_NO_SEPARATOR'
  | 'SG_SENDMAIL_ORIGINATOR_TOO_LONG'
  | 'SG_SENDMAIL_BAD_ORIGINATOR'
  | 'SG_SENDMAIL_SENDER_NOT_ALLOWED'
  | 'SG_SENDMAIL_NO_RECIPIENT'
  | 'SG_SENDMAIL_TOO_MANY_RECIPIENTS'
  | 'SG_SENDMAIL_RECIPIENT_TOO_LONG'
  | 'SG_SENDMAIL_BAD_RECIPIENT'
  | 'SG_SENDMAIL_BAD_RECIPIENT_TYPE'
  | 'SG_SENDMAIL_SPOOL_FAILED';

export class SendMailError extends SpoolgateError {
  declare readonly code: SendMailErrorCode;
  constructor(code: SendMailErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Seed 004: an address (originator or recipient) is at most 256 bytes. */
export const MAX_ADDRESS_BYTES = MAX_PATH;
/** The batch parser's limit of recipients per message (spool/batch.ts maxRecipients). */
export const MAX_RECIPIENTS = 2000;
/** Seed 004: the file name is the entire path, at most 255 bytes. */
export const MAX_FILE_NAME_BYTES = 255;
/** Default size limit when the configuration sets no JESMsgSize. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;
const TYPES: readonly RecipientType[] = ['normal', 'cc', 'bcc'];

/** "a@b" or "<a@b>" → mailbox; the length limit applies to the text as given. */
function parseAddress(text: string, what: string, long: SendMailErrorCode, bad: SendMailErrorCode): Result<Mailbox, SendMailError> {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_ADDRESS_BYTES) return err(new SendMailError(long, `${what} is ${bytes} bytes long (at most ${MAX_ADDRESS_BYTES})`));
  const bare = text.startsWith('<') && text.endsWith('>') ? text.slice(1, -1) : text;
  const mb = parseMailbox(bare);
  if (!mb.ok) return err(new SendMailError(bad, `${what} "${text}" is not a valid address: ${describeAddressProblem(mb.error)}`));
  return mb;
}

/** Checks originator and recipients (no file access). Returns the envelope parts. */
export function validateAddresses(originator: string, recipients: readonly SendMailRecipient[]): Result<{ from: Mailbox; recipients: Recipient[] }, SendMailError> {
  const from = parseAddress(originator, 'originator', 'SG_SENDMAIL_ORIGINATOR_TOO_LONG', 'SG_SENDMAIL_BAD_ORIGINATOR');
  if (!from.ok) return from;
  if (recipients.length === 0) return err(new SendMailError('SG_SENDMAIL_NO_RECIPIENT', 'no recipient: at least one is required'));
  if (recipients.length > MAX_RECIPIENTS) return err(new SendMailError('SG_SENDMAIL_TOO_MANY_RECIPIENTS', `${recipients.length} recipients (at most ${MAX_RECIPIENTS})`));
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const [i, r] of recipients.entries()) {
    if (!TYPES.includes(r.type)) return err(new SendMailError('SG_SENDMAIL_BAD_RECIPIENT_TYPE', `recipient ${i + 1}: type "${String(r.type)}" is not one of ${TYPES.join(', ')}`));
    const mb = parseAddress(r.address, `recipient ${i + 1}`, 'SG_SENDMAIL_RECIPIENT_TOO_LONG', 'SG_SENDMAIL_BAD_RECIPIENT');
    if (!mb.ok) return mb;
    const key = formatMailbox(mb.value).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ mailbox: mb.value });
  }
  return ok({ from: from.value, recipients: out });
}

// RFC 5322 §2.2: field-name = 1*ftext, ftext = %d33-57 / %d59-126 (printable except ":").
const FIELD = /^[!-9;-~]+[ \t]*:/;

/**
 * Checks that `data` is a complete message (header fields, a blank line, a body) and returns it
 * with any Bcc: field removed. RFC 5322 §3.6.3: Bcc addresses must not reach the other recipients.
 */
export function checkMessage(data: Buffer): Result<{ data: Buffer; bccHeaderStripped: boolean }, SendMailError> {
  if (data.length === 0) return err(new SendMailError('SG_SENDMAIL_NO_HEADER', 'the file is empty'));
  const text = data.toString('latin1');
  const lines = text.split('\n');
  let separator = -1;
  let bcc = false;
  const keep: string[] = [];
  let skipping = false;
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      if (i === lines.length - 1) break; // text after the last newline: not a line
      separator = i;
      break;
    }
    if (i === 0 && !FIELD.test(line)) return err(new SendMailError('SG_SENDMAIL_NO_HEADER', 'the file does not start with a header field ("Name: value")'));
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // RFC 5322 §2.2.3: a folded continuation belongs to the field above.
      if (!skipping) keep.push(raw);
      continue;
    }
    if (!FIELD.test(line)) return err(new SendMailError('SG_SENDMAIL_NO_SEPARATOR', `line ${i + 1} is neither a header field nor the blank line that ends the header`));
    skipping = /^bcc[ \t]*:/i.test(line);
    if (skipping) bcc = true;
    else keep.push(raw);
  }
  if (separator < 0) return err(new SendMailError('SG_SENDMAIL_NO_SEPARATOR', 'the file has no blank line between the header and the body'));
  if (!bcc) return ok({ data, bccHeaderStripped: false });
  const rest = lines.slice(separator).join('\n');
  return ok({ data: Buffer.from([...keep, rest].join('\n'), 'latin1'), bccHeaderStripped: true });
}

function fileError(path: string, e: unknown): SendMailError {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SendMailError('SG_SENDMAIL_FILE_NOT_FOUND', `${path}: no such file`, { cause: e });
  return new SendMailError('SG_SENDMAIL_FILE_UNREADABLE', `${path}: cannot be read: ${describeError(e)}`, { cause: e });
}

/** Puts the message in `opts.file` on the spool for the given recipients. */
export async function sendMail(opts: SendMailOptions): Promise<Result<SendMailReceipt, SendMailError>> {
  let target: SpoolTarget;
  if (opts.spool !== undefined) target = opts.spool;
  else if (opts.config !== undefined) target = { root: opts.config.spool.directory, writer: opts.config.extWrtName, hostName: opts.config.hostName, instance: opts.config.instance, header: opts.config.header };
  else return err(new SendMailError('SG_SENDMAIL_NO_TARGET', 'give a configuration or a spool target'));

  if (opts.file === '' || opts.file.includes('\0')) return err(new SendMailError('SG_SENDMAIL_BAD_FILE_NAME', 'the file name is empty or contains a NUL character'));
  // Seed 004: the caller gives the entire path; a relative one would depend on the working
  // directory of whoever reads it, so it is refused rather than guessed.
  if (!isAbsolute(opts.file)) return err(new SendMailError('SG_SENDMAIL_BAD_FILE_NAME', `${opts.file}: not an absolute path (give the entire path, starting with /)`));
  const nameBytes = Buffer.byteLength(opts.file);
  if (nameBytes > MAX_FILE_NAME_BYTES) return err(new SendMailError('SG_SENDMAIL_BAD_FILE_NAME', `the file name is ${nameBytes} bytes long (at most ${MAX_FILE_NAME_BYTES})`));
  const addrs = validateAddresses(opts.originator, opts.recipients);
  if (!addrs.ok) return addrs;
  if (opts.config !== undefined && opts.spool === undefined) {
    const caller = opts.caller ?? currentCaller();
    const policy = decideSender({ policy: opts.config.users.senderPolicy, caller, domain: localDomain(opts.config), from: formatMailbox(addrs.value.from) });
    if (!policy.ok) return err(new SendMailError('SG_SENDMAIL_SENDER_NOT_ALLOWED', policy.error.message));
  }

  const path = normalize(opts.file);
  // The forwarder reads message entries up to this size; refuse bigger ones now, not after queueing.
  const max = opts.config !== undefined ? messageEntryLimit(opts.config) : DEFAULT_MAX_FILE_BYTES;
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EISDIR') return err(new SendMailError('SG_SENDMAIL_FILE_UNREADABLE', `${path}: is a directory`, { cause: e }));
    return err(fileError(path, e));
  }
  if (data.length > max) return err(new SendMailError('SG_SENDMAIL_FILE_TOO_LARGE', `${path}: ${data.length} bytes (at most ${max})`));
  const msg = checkMessage(data);
  if (!msg.ok) return err(new SendMailError(msg.error.code, `${path}: ${msg.error.message}`));

  let entry: SpoolEntry;
  try {
    entry = await putOnSpool({
      target, tool: 'sendmail', user: (opts.caller ?? currentCaller()).user,
      envelope: { from: { kind: 'mailbox', mailbox: addrs.value.from }, recipients: addrs.value.recipients, requireTls: false },
      data: msg.value.data,
      ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }),
    });
  } catch (e) {
    return err(new SendMailError('SG_SENDMAIL_SPOOL_FAILED', `cannot put the mail on the spool: ${describeError(e)}`, { cause: e }));
  }
  let removed = false;
  let removeProblem: string | undefined;
  if (opts.remove === true) {
    try {
      await unlink(path);
      removed = true;
    } catch (e) {
      removeProblem = `${path}: not removed: ${describeError(e)}`;
    }
  }
  return ok({
    entry,
    envelope: { from: formatMailbox(addrs.value.from), recipients: addrs.value.recipients.map((r) => formatMailbox(r.mailbox)) },
    removed,
    ...(removeProblem === undefined ? {} : { removeProblem }),
    bccHeaderStripped: msg.value.bccHeaderStripped,
  });
}

/** The process's user, for SenderPolicy Own. */
export function currentCaller(): Caller {
  const u = userInfo();
  return { uid: u.uid, user: u.username };
}
