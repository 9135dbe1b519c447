// What a user exit sees and may answer (docs/userexit.md). The events are plain, structured-
// clonable objects: they cross into the exit's worker thread by postMessage. The answer comes
// back from untrusted code and is checked here before anything acts on it.
import { formatMailbox, parseMailbox, parseReversePath, type ReversePath } from '../core/index.js';

/** The spool file's job attributes (SPEC.md §1), the same for every event of one file. */
export interface ExitJob {
  readonly jobName: string;
  readonly jobId: string;
  /** The file owner's user id: producers cannot forge it (SPEC.md §1). */
  readonly originUser: string;
  readonly taskType: 'WRITER' | 'DEST';
  /** The spool entry id. */
  readonly spoolId: string;
}

export type ExitVerb = 'MAIL' | 'RCPT' | 'DATA' | 'QUIT';

/** One batch-SMTP command of the file, as the parser accepted it. */
export interface CommandEvent {
  readonly kind: 'command';
  readonly job: ExitJob;
  readonly verb: ExitVerb;
  /** `FROM:<a@b>` for MAIL, `TO:<c@d>` for RCPT, '' for DATA and QUIT. */
  readonly argument: string;
  /** Record number of the command when known (MAIL), else absent. */
  readonly recordNo?: number;
  /** Message number in the file (1-based); 0 for QUIT. */
  readonly messageNo: number;
}

/** One complete mail of the file, after its final dot. */
export interface MailEvent {
  readonly kind: 'mail';
  readonly job: ExitJob;
  readonly messageNo: number;
  /** The MAIL FROM address, '' for the null reverse-path. */
  readonly mailFrom: string;
  readonly recipients: readonly string[];
  /** Bytes of the message as it will be sent (with the headers the gateway added). */
  readonly size: number;
  /** The header section, latin1-decoded (lossless for any byte), at most HEADER_LIMIT bytes. */
  readonly headers: string;
  readonly requireTls: boolean;
  readonly firstRecordNo: number;
  readonly lastRecordNo: number;
}

export type ExitEvent = CommandEvent | MailEvent;

export const EXIT_ACTIONS = ['CONTINUE', 'ACCEPT', 'REJECT_FILE', 'REJECT_MAIL'] as const;
export type ExitAction = (typeof EXIT_ACTIONS)[number];

export interface ExitAnswer {
  readonly action: ExitAction;
  /** Replacement MAIL FROM for this mail (sender verification). */
  readonly mailFrom?: ReversePath;
  /**
   * Replacement value of the From: header field (SMTP-Send's sender verification exit replaces
   * what the recipient sees, not only the envelope), e.g. `"Payroll" <payroll@corp.test>`.
   */
  readonly fromHeader?: string;
  /** For REJECT_*: why, shown in the spool report (control characters removed, at most 200). */
  readonly reason?: string;
}

/** Headers handed to the exit: the first 64 KB of the header section. */
export const HEADER_LIMIT = 64 * 1024;

/** The header section of a message (up to the empty line), at most HEADER_LIMIT bytes. */
export function headerSection(data: Buffer): string {
  const head = data.subarray(0, HEADER_LIMIT);
  const end = head.indexOf('\r\n\r\n');
  return head.subarray(0, end < 0 ? head.length : end + 2).toString('latin1');
}

export function formatReversePath(p: ReversePath): string {
  return p.kind === 'null' ? '' : formatMailbox(p.mailbox);
}

function cleanReason(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200);
}

/**
 * Checks an exit's answer: a bare action string, or `{ action, mailFrom?, reason? }`.
 * mailFrom is an address (`a@b` or `<a@b>`); the null path `<>` is allowed only as `<>`.
 */
export function parseAnswer(raw: unknown): { ok: true; value: ExitAnswer } | { ok: false; error: string } {
  if (typeof raw === 'string') raw = { action: raw };
  if (typeof raw !== 'object' || raw === null) return { ok: false, error: `answer is ${raw === null ? 'null' : typeof raw}, not an action` };
  const o = raw as Record<string, unknown>;
  const action = o.action;
  if (typeof action !== 'string' || !(EXIT_ACTIONS as readonly string[]).includes(action)) {
    return { ok: false, error: `action ${JSON.stringify(action) ?? 'undefined'} is not one of ${EXIT_ACTIONS.join(', ')}` };
  }
  let mailFrom: ReversePath | undefined;
  if (o.mailFrom !== undefined) {
    if (typeof o.mailFrom !== 'string') return { ok: false, error: 'mailFrom is not a string' };
    const text = o.mailFrom.startsWith('<') ? o.mailFrom : `<${o.mailFrom}>`;
    const p = parseReversePath(text);
    if (!p.ok) return { ok: false, error: `mailFrom ${JSON.stringify(o.mailFrom)} is not an address` };
    mailFrom = p.value;
  }
  let fromHeader: string | undefined;
  if (o.fromHeader !== undefined) {
    const f = checkFromHeader(o.fromHeader);
    if (!f.ok) return f;
    fromHeader = f.value;
  }
  if (o.reason !== undefined && typeof o.reason !== 'string') return { ok: false, error: 'reason is not a string' };
  const reason = typeof o.reason === 'string' ? cleanReason(o.reason) : undefined;
  return { ok: true, value: { action: action as ExitAction, ...(mailFrom ? { mailFrom } : {}), ...(fromHeader ? { fromHeader } : {}), ...(reason ? { reason } : {}) } };
}

/** RFC 5322 §2.1.1: a line is at most 998 characters; "From: " takes 6 of them. */
export const MAX_FROM_HEADER = 992;

/**
 * A From: value from untrusted code: one line of printable ASCII (RFC 2047 encoded words for
 * anything else), at most MAX_FROM_HEADER characters, naming one valid mailbox — `a@b`, or a
 * display name and `<a@b>` (RFC 5322 §3.6.2, §3.4).
 */
function checkFromHeader(v: unknown): { ok: true; value: string } | { ok: false; error: string } {
  if (typeof v !== 'string') return { ok: false, error: 'fromHeader is not a string' };
  const value = v.trim();
  if (value === '' || value.length > MAX_FROM_HEADER || !/^[\x20-\x7e]+$/.test(value)) {
    return { ok: false, error: `fromHeader must be one line of printable ASCII, 1 to ${MAX_FROM_HEADER} characters` };
  }
  const angle = /<([^<>]*)>\s*$/.exec(value);
  if (angle === null && /[<>]/.test(value)) return { ok: false, error: `fromHeader ${JSON.stringify(value.slice(0, 100))} is not a mailbox` };
  const addr = parseMailbox(angle !== null ? angle[1]! : value);
  if (!addr.ok) return { ok: false, error: `fromHeader ${JSON.stringify(value.slice(0, 100))} does not name a valid address` };
  return { ok: true, value };
}

/**
 * The message with its From: field (and the field's continuation lines) replaced by
 * `From: <value>`; a message without one gets it at the end of its header section. Nothing else
 * of the message changes.
 */
export function replaceFromHeader(data: Buffer, value: string): Buffer {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const headEnd = end < 0 ? text.length : end + 2;
  const lines = text.slice(0, headEnd).split('\r\n');
  lines.pop(); // after the last CRLF of the header section
  const out: string[] = [];
  let replaced = false;
  let skipping = false;
  for (const line of lines) {
    if (skipping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    skipping = false;
    if (!replaced && /^from[ \t]*:/i.test(line)) {
      out.push(`From: ${value}`);
      replaced = true;
      skipping = true;
      continue;
    }
    out.push(line);
  }
  if (!replaced) out.push(`From: ${value}`);
  return Buffer.concat([Buffer.from(out.join('\r\n') + '\r\n', 'latin1'), data.subarray(headEnd)]);
}
