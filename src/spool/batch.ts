// The batch-SMTP parser: turns the records of one spool file into messages (envelope + data) and
// problems, push-based, holding only the current message in memory (SPEC.md §1.1). The accepted
// format, every problem text and the VERB/TICK/HELP/VRFY/EXPN decisions are in
// docs/spool-format.md; the problem catalogue is batch-replies.ts.
// (Just over 600 lines: one state machine over the records, whose push() takes a decoder batch
// or single records converted once; the data writer is batch-data.ts, the replies batch-replies.ts.)
//
// RFC 5321 §4.1.1 commands, §4.1.4 order of commands, §4.5.2 transparency (dot-stuffing),
// §4.5.3.1 size limits (command line 512 with CRLF, text line 1000 with CRLF, 100 recipients
// minimum — we allow 2000 as CSSMTP does). RFC 3207 STARTTLS (here: a TLS-required mark).
// Untrusted input: every record of the file. Nothing here throws on input; nothing is persisted.
import type { Clock } from '../core/clock.js';
import type { Envelope, Recipient } from '../core/envelope.js';
import { parseForwardPath, parseReversePath, describeAddressProblem, domainKey, type ReversePath } from '../core/address.js';
import { enhancedOf } from '../smtp/protocol/codes.js';
import { BatchReplies, problemText, type ProblemDef } from './batch-replies.js';
import {
  splitPathArg, parseMailParams, parseRcptParams, type MailKeyword, type MailParams, type ParamProblem, type RcptKeyword,
} from '../smtp/protocol/esmtp-params.js';
import { DataWriter } from './batch-data.js';
import { HeaderScanner, traceStamper, missingFields, zoneOffsetFn, type OffsetFn, type TraceHeaders } from './headers.js';

import { RecordBatch, type RecordItem, type RecordProblem } from './records.js';

export interface BatchOptions {
  /**
   * JESSyntaxErrLimit: counted problems tolerated in one file; the next one stops it (seed Table 3:
   * the errors acceptable before the rest is stopped). 0 = unlimited.
   */
  syntaxErrorLimit: number;
  /** JESJobSize in thousands of bytes; 0 = unlimited. */
  jobSizeKB: number;
  /** JESMsgSize in thousands of bytes; 0 = unlimited. */
  msgSizeKB: number;
  /** Options AtSign: a byte-string character accepted as '@' in commands and header lines. */
  atSign: string;
  maxRecipients: 2000;
  header: { date: boolean; userInfo: boolean };
  instance: string;
  hostName: string;
  job: { jobName: string; jobId: string; originUser: string };
  clock: Clock;
  /** IANA zone for added Date/Received; default: the process's zone (TZ). */
  timeZone?: string;
  /**
   * 'UTF-8' when the records were translated to UTF-8 (the DBCS pages, docs/codepages.md): a
   * message without Content-Type / MIME-Version gets RFC 2045 fields declaring UTF-8 text, and a
   * message with 8-bit bytes is sent with BODY=8BITMIME (RFC 6152) unless MAIL FROM said BODY=.
   */
  translatedCharset?: 'UTF-8';
}

export interface SpoolProblem {
  code: number;
  enhanced: string;
  text: string;
  recordNo: number;
  /** 0 = not in a message */
  messageNo: number;
}

export interface ParsedMessage {
  messageNo: number;
  envelope: Envelope;
  badRecipients: { address: string; problem: SpoolProblem }[];
  data: Buffer;
  size: number;
  firstRecordNo: number;
  lastRecordNo: number;
}

export type BatchEvent =
  | { kind: 'message'; message: ParsedMessage }
  | { kind: 'problem'; problem: SpoolProblem }
  | { kind: 'stopped'; problem: SpoolProblem }
  /** Worth a line in the log, not a problem of the file (the file is finished as usual). */
  | { kind: 'warning'; problem: SpoolProblem };

/** Conservation: mailCommands = messagesEmitted + messagesRejected + messagesReset. */
export interface BatchStats {
  records: number;
  mailCommands: number;
  messagesEmitted: number;
  messagesRejected: number;
  /** Transactions the job itself cancelled with RSET (no problem is reported for these). */
  messagesReset: number;
  syntaxErrors: number;
}

// The ESMTP parameters a batch job may give (docs/spool-format.md). AUTH= is accepted and dropped:
// a spool has no authenticated submitter to vouch for (RFC 4954 §5).
const BATCH_MAIL_PARAMS: readonly MailKeyword[] = ['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH'];
const BATCH_RCPT_PARAMS: readonly RcptKeyword[] = ['NOTIFY', 'ORCPT'];

// RFC 5321 §4.5.3.1.4: command line ≤ 512 octets including CRLF.
export const MAX_COMMAND_LINE = 510;
// RFC 5321 §4.5.3.1.6: text line ≤ 1000 octets including CRLF.
export const MAX_TEXT_LINE = 998;

type CmdState = 'init' | 'ready' | 'mail' | 'rcpt' | 'rejected';
type State = CmdState | 'quit' | 'stopped';
type Mode = 'command' | 'data' | 'skip-data';
type Verb = 'HELO' | 'EHLO' | 'STARTTLS' | 'MAIL' | 'RCPT' | 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'VERB' | 'TICK' | 'HELP' | 'VRFY' | 'EXPN';

interface VerbEntry {
  readonly allowedIn: readonly CmdState[];
  /** Called instead of handle() out of sequence; default: report HeloFirst/MailFirstRcpt. */
  readonly outOfSequence?: (p: BatchParser, verb: Verb) => void;
  readonly handle: (p: BatchParser, arg: string, verb: Verb) => void;
}

const ALL: readonly CmdState[] = ['init', 'ready', 'mail', 'rcpt', 'rejected'];
// RFC 5321 §4.1.1 / obsolete RFC 821 verbs a spool cannot carry out.
const NOT_IMPLEMENTED = new Set(['SEND', 'SOML', 'SAML', 'TURN', 'ETRN', 'ATRN', 'BDAT', 'AUTH', 'BURL']);

interface Txn {
  no: number;
  firstRecordNo: number;
  from: ReversePath;
  mail: MailParams;
  requireTls: boolean;
  recipients: Recipient[];
  keys: Set<string>;
  bad: { address: string; problem: SpoolProblem }[];
  extraReported: boolean;
}

export class BatchParser {
  private static readonly VERBS: Record<Verb, VerbEntry> = {
    HELO: { allowedIn: ALL, handle: (p, a, v) => p.helo(a, v) },
    EHLO: { allowedIn: ALL, handle: (p, a, v) => p.helo(a, v) },
    STARTTLS: { allowedIn: ALL, handle: (p, a, v) => p.startTls(a, v) },
    MAIL: { allowedIn: ['ready', 'mail', 'rcpt', 'rejected'], outOfSequence: (p) => p.rejectNewMail(p.beginMail(), BatchReplies.HeloFirst, 'MAIL'), handle: (p, a) => p.mailFrom(a) },
    RCPT: { allowedIn: ['mail', 'rcpt', 'rejected'], outOfSequence: (p) => p.report(BatchReplies.MailFirstRcpt), handle: (p, a) => p.rcptTo(a) },
    DATA: { allowedIn: ['mail', 'rcpt', 'rejected'], outOfSequence: (p) => { p.report(BatchReplies.MailFirst, 'DATA'); p.mode = 'skip-data'; }, handle: (p, a, v) => p.dataCmd(a, v) },
    RSET: { allowedIn: ALL, handle: (p, a, v) => p.rset(a, v) },
    QUIT: { allowedIn: ALL, handle: (p, a, v) => p.quit(a, v) },
    // Accepted and ignored (docs/spool-format.md): NOOP by RFC 5321 §4.1.1.9; VERB and TICK only
    // shaped the batch reply file of older mainframe SMTP servers; HELP, VRFY and EXPN ask for
    // answers that nobody reads from a spool.
    NOOP: { allowedIn: ALL, handle: () => undefined },
    VERB: { allowedIn: ALL, handle: () => undefined },
    TICK: { allowedIn: ALL, handle: () => undefined },
    HELP: { allowedIn: ALL, handle: () => undefined },
    VRFY: { allowedIn: ALL, handle: () => undefined },
    EXPN: { allowedIn: ALL, handle: () => undefined },
  };

  private readonly opts: BatchOptions;
  private readonly offset: OffsetFn;
  private readonly stamp: ReturnType<typeof traceStamper>;
  private readonly msgLimit: number;
  private readonly jobLimit: number;
  private readonly atSign: string | undefined;
  private events: BatchEvent[] = [];
  private state: State = 'init';
  private mode: Mode = 'command';
  private heloSeen = false;
  private tls = false;
  private recordNo = 0;
  /** Message number problems are reported against (0 = none). */
  private curNo = 0;
  private txn: Txn | undefined;
  /**
   * The last MAIL and RCPT arguments that parsed, and what they gave (pure functions of the
   * argument): a batch job sends most of its messages from one sender, often to the same
   * recipients, so each is parsed once per run of equal commands, not per message.
   */
  private lastMail: { readonly arg: string; readonly from: ReversePath; readonly mail: MailParams } | undefined;
  private lastRcpt: { readonly arg: string; readonly utf8: boolean; readonly recipient: Recipient; readonly key: string } | undefined;
  private afterQuitReported = false;
  private limitHit = false;
  private ended = false;
  // DATA state of the current message.
  private readonly writer = new DataWriter();
  private scanner = new HeaderScanner();
  private inHeader = false;
  private dataFailed = false;
  private dataSize = 0;
  private trace: TraceHeaders | undefined;
  private readonly counters: BatchStats = { records: 0, mailCommands: 0, messagesEmitted: 0, messagesRejected: 0, messagesReset: 0, syntaxErrors: 0 };

  constructor(opts: BatchOptions) {
    this.opts = opts;
    this.offset = zoneOffsetFn(opts.timeZone);
    this.stamp = traceStamper({ ...opts.header, instance: opts.instance, hostName: opts.hostName, job: opts.job });
    this.msgLimit = opts.msgSizeKB > 0 ? opts.msgSizeKB * 1000 : 0;
    this.jobLimit = opts.jobSizeKB > 0 ? opts.jobSizeKB * 1000 : 0;
    this.atSign = opts.atSign.length === 1 && opts.atSign !== '@' ? opts.atSign : undefined;
  }

  get stats(): Readonly<BatchStats> {
    return { ...this.counters };
  }

  /**
   * Parses the next records: a RecordDecoder's batch (read here, not kept) or RecordItems. Body
   * lines are copied as bytes, in runs; only command and header lines become strings.
   */
  push(input: readonly RecordItem[] | RecordBatch): BatchEvent[] {
    const b = input instanceof RecordBatch ? input : RecordBatch.fromItems(input);
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (this.state === 'stopped' || this.ended) break;
      if (this.mode === 'data' && !this.inHeader && !this.dataFailed) {
        const next = this.bodyRun(b, i);
        if (next > i) {
          i = next;
          continue;
        }
      }
      this.counters.records++;
      this.recordNo = b.recordNo(i);
      if (this.jobLimit > 0 && b.endOffset(i) > this.jobLimit) {
        this.stop(BatchReplies.JobTooBig);
        break;
      }
      if (!b.isRecord(i)) this.recordError(b.item(i) as RecordItem & { kind: 'error' });
      else if (this.mode === 'data') this.dataLine(b.text(i));
      else if (this.mode === 'skip-data') this.skipLine(b, i);
      else this.commandLine(b.text(i));
      i++;
      if (this.limitHit) {
        this.stop(BatchReplies.SyntaxLimit);
        break;
      }
    }
    return this.take();
  }

  /**
   * The plain body lines from record i on, copied to the message in one go (each record is
   * followed by CRLF in the batch): records that are not errors, do not start with '.', fit the
   * text line limit, and keep the message and the job under their limits. Returns the index after
   * the run (i when record i is not such a line; push() then handles it alone).
   */
  private bodyRun(b: RecordBatch, i: number): number {
    const bytes = b.bytes;
    const msgLimit = this.msgLimit;
    const jobLimit = this.jobLimit;
    let size = this.dataSize;
    let j = i;
    let prevEnd = -1;
    for (; j < b.length; j++) {
      const s = b.start(j);
      if (s < 0 || (prevEnd >= 0 && s !== prevEnd + 2)) break;
      const e = b.end(j);
      // RFC 5321 §4.5.2: a line starting with '.' is the end or dot-stuffed: handled alone.
      if (e > s && bytes[s] === 0x2e) break;
      if (e - s > MAX_TEXT_LINE) break;
      if (msgLimit > 0 && size + e - s + 2 > msgLimit) break;
      if (jobLimit > 0 && b.endOffset(j) > jobLimit) break;
      size += e - s + 2;
      prevEnd = e;
    }
    if (j === i) return i;
    this.writer.bytes(bytes, b.start(i), prevEnd + 2);
    this.dataSize = size;
    this.counters.records += j - i;
    this.recordNo = b.recordNo(j - 1);
    return j;
  }

  end(): BatchEvent[] {
    if (this.ended || this.state === 'stopped') {
      this.ended = true;
      return this.take();
    }
    this.ended = true;
    if (this.mode === 'data') {
      if (!this.dataFailed) this.rejectTxn(BatchReplies.EofInData);
      this.writer.reset();
    } else if (this.mode === 'command' && this.txn !== undefined) {
      this.rejectTxn(BatchReplies.EofInTxn);
    }
    // RFC 5321 §4.1.1.10: a missing QUIT is implied at end of file. But a file that ends exactly
    // at a message boundary without QUIT may have been cut short there (R3 item 7): say so.
    else if (this.state !== 'quit' && this.counters.mailCommands > 0) this.events.push({ kind: 'warning', problem: this.mk(BatchReplies.EofWithoutQuit, undefined, 0) });
    this.txn = undefined;
    return this.take();
  }

  private take(): BatchEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  // ---- problems -------------------------------------------------------------------------------

  private mk(d: ProblemDef, arg: string | undefined, messageNo: number): SpoolProblem {
    return { code: d.rc.code, enhanced: enhancedOf(d.rc), text: problemText(d, arg), recordNo: this.recordNo, messageNo };
  }

  /** Emits a problem against the current message number. */
  private report(d: ProblemDef, arg?: string, messageNo = this.curNo): void {
    this.events.push({ kind: 'problem', problem: this.mk(d, arg, messageNo) });
    if (d.counts) {
      this.counters.syntaxErrors++;
      const limit = this.opts.syntaxErrorLimit;
      if (limit > 0 && this.counters.syntaxErrors > limit) this.limitHit = true;
    }
  }

  private stop(d: ProblemDef): void {
    let no = this.curNo;
    const open = this.txn !== undefined && !(this.mode === 'data' && this.dataFailed);
    if (this.txn !== undefined) no = this.txn.no;
    if (open) this.counters.messagesRejected++;
    this.events.push({ kind: 'stopped', problem: this.mk(d, undefined, no) });
    this.state = 'stopped';
    this.txn = undefined;
    this.writer.reset();
  }

  private baseState(): CmdState {
    return this.heloSeen ? 'ready' : 'init';
  }

  /** The open transaction fails: one problem, counted once as rejected. */
  private rejectTxn(d: ProblemDef, arg?: string): void {
    const t = this.txn;
    if (t === undefined) return;
    this.report(d, arg, t.no);
    this.counters.messagesRejected++;
    this.txn = undefined;
    this.curNo = t.no;
  }

  /** A MAIL command that itself failed: the transaction is skipped up to its DATA's final dot. */
  private rejectNewMail(no: number, d: ProblemDef, arg?: string): void {
    this.report(d, arg, no);
    this.counters.messagesRejected++;
    this.state = 'rejected';
  }

  private recordError({ problem }: { problem: RecordProblem }): void {
    if (this.state === 'quit') return this.afterQuit();
    const d = problem === 'control-character' ? BatchReplies.ControlCharacter
      : problem === 'record-too-long' ? BatchReplies.RecordTooLong
        : problem === 'bad-rdw' ? BatchReplies.BadRdw
          : problem === 'invalid-dbcs' ? BatchReplies.InvalidDbcs : BatchReplies.TruncatedRecord;
    // A data line is lost: the message cannot be sent as written.
    if (this.mode === 'data' && !this.dataFailed) this.failData(d);
    else this.report(d);
  }

  private afterQuit(): void {
    if (this.afterQuitReported) return;
    this.afterQuitReported = true;
    this.report(BatchReplies.AfterQuit, undefined, 0);
  }

  // ---- commands -------------------------------------------------------------------------------

  private commandLine(text: string): void {
    let i = 0;
    // LENIENT(RFC 5321 §4.1.1): leading blanks before a verb are skipped (card images).
    while (i < text.length && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
    if (i === text.length) return; // blank records between commands are ignored
    if (this.state === 'quit') return this.afterQuit();
    let line = i === 0 ? text : text.slice(i);
    let sp = line.search(/[ \t]/);
    if (sp < 0) sp = line.length;
    const verb = line.slice(0, sp).toUpperCase();
    if (line.length > MAX_COMMAND_LINE) {
      if (verb === 'MAIL') {
        this.rejectNewMail(this.beginMail(), BatchReplies.LineTooLong);
      } else this.report(BatchReplies.LineTooLong);
      return;
    }
    // Options AtSign: the configured character stands for '@' in commands.
    if (this.atSign !== undefined && line.includes(this.atSign)) line = line.split(this.atSign).join('@');
    const arg = line.slice(sp).replace(/^[ \t]+/, '');
    const entry = Object.hasOwn(BatchParser.VERBS, verb) ? BatchParser.VERBS[verb as Verb] : undefined;
    if (entry === undefined) {
      this.report(NOT_IMPLEMENTED.has(verb) ? BatchReplies.NotImplemented : BatchReplies.Unrecognized, verb);
      return;
    }
    const st = this.state as CmdState;
    if (!entry.allowedIn.includes(st)) {
      if (entry.outOfSequence !== undefined) entry.outOfSequence(this, verb as Verb);
      else this.report(BatchReplies.HeloFirst, verb);
      return;
    }
    entry.handle(this, arg, verb as Verb);
  }

  /** Discards an open transaction because `verb` arrived inside it. */
  private discardOpen(verb: string): void {
    if (this.txn !== undefined) this.rejectTxn(BatchReplies.Discarded, verb);
  }

  private helo(arg: string, verb: Verb): void {
    this.discardOpen(verb);
    const args = arg === '' ? [] : arg.split(/[ \t]+/);
    if (args.length === 0) this.report(BatchReplies.MissingArg, verb, 0);
    else if (args.length > 1) this.report(BatchReplies.TooManyArgs, verb, 0);
    // SPEC.md §1.1: a new HELO/EHLO ends the STARTTLS scope of the previous one.
    if (this.heloSeen) this.tls = false;
    this.heloSeen = true;
    this.state = 'ready';
    this.curNo = 0;
  }

  private startTls(arg: string, verb: Verb): void {
    if (arg !== '') this.report(BatchReplies.NoArgsAllowed, verb);
    if (this.state === 'init') {
      // Honoured anyway (a job asking for TLS gets it); the first HELO does not reset it.
      this.report(BatchReplies.HeloFirst, verb, 0);
    } else if (this.state === 'mail' || this.state === 'rcpt') {
      this.report(BatchReplies.StartTlsInTxn);
    }
    // LENIENT(RFC 3207 §4): accepted after HELO as well as EHLO; in a spool there is no
    // capability negotiation, only the job's request that the mail travel over TLS.
    this.tls = true;
  }

  /** Allocates the next message number; a MAIL inside an open transaction discards it first. */
  private beginMail(): number {
    this.discardOpen('MAIL');
    this.counters.mailCommands++;
    this.curNo = this.counters.mailCommands;
    return this.curNo;
  }

  private mailFrom(arg: string): void {
    const no = this.beginMail();
    let parsed = this.lastMail;
    if (parsed?.arg !== arg) {
      const split = splitPathArg(arg, 'FROM:');
      if (split === undefined) return this.rejectNewMail(no, BatchReplies.MailSyntax);
      const params = parseMailParams(split.params, { accept: BATCH_MAIL_PARAMS });
      if (!params.ok) return this.rejectNewMail(no, ...paramDef(params.error, 'MAIL'));
      const path = parseReversePath(split.path, { utf8: params.value.smtputf8 === true });
      if (!path.ok) return this.rejectNewMail(no, BatchReplies.BadSender, describeAddressProblem(path.error));
      parsed = this.lastMail = { arg, from: path.value, mail: params.value };
    }
    const { from, mail } = parsed;
    // RFC 1870 §6.1: a declared size above the limit fails the transaction up front.
    if (this.msgLimit > 0 && mail.size !== undefined && mail.size > this.msgLimit) {
      return this.rejectNewMail(no, BatchReplies.DeclaredTooBig);
    }
    this.txn = {
      no, firstRecordNo: this.recordNo, from, mail, requireTls: this.tls,
      recipients: [], keys: new Set(), bad: [], extraReported: false,
    };
    this.state = 'mail';
  }
  private rcptTo(arg: string): void {
    const t = this.txn;
    if (this.state === 'rejected' || t === undefined) return; // the MAIL already failed and was reported
    this.state = 'rcpt';
    const utf8 = t.mail.smtputf8 === true;
    let parsed = this.lastRcpt;
    if (parsed?.arg !== arg || parsed.utf8 !== utf8) {
      const split = splitPathArg(arg, 'TO:');
      if (split === undefined) return this.badRcpt(t, arg, BatchReplies.RcptSyntax);
      const path = parseForwardPath(split.path, { utf8 });
      if (!path.ok) return this.badRcpt(t, split.path, BatchReplies.BadRecipient, describeAddressProblem(path.error));
      const params = parseRcptParams(split.params, { accept: BATCH_RCPT_PARAMS });
      if (!params.ok) return this.badRcpt(t, split.path, ...paramDef(params.error, 'RCPT'));
      // Duplicates are delivered once (RFC 5321 §2.4: the domain is case-insensitive).
      parsed = this.lastRcpt = { arg, utf8, recipient: { mailbox: path.value, ...params.value }, key: `${path.value.local}@${domainKey(path.value.domain)}` };
    }
    const { key, recipient } = parsed;
    if (t.keys.has(key)) return;
    if (t.recipients.length >= this.opts.maxRecipients) {
      if (!t.extraReported) this.report(BatchReplies.TooManyRecipients, String(this.opts.maxRecipients), t.no);
      t.extraReported = true;
      return;
    }
    t.keys.add(key);
    t.recipients.push({ ...recipient });
  }

  /** SPEC.md §1.1: a bad RCPT is not counted; it makes that one recipient undeliverable. */
  private badRcpt(t: Txn, address: string, d: ProblemDef, arg?: string): void {
    t.bad.push({ address, problem: this.mk(d, arg, t.no) });
  }

  private dataCmd(arg: string, verb: Verb): void {
    // LENIENT(RFC 5321 §4.1.1.4): "DATA x" is reported but still starts the data, so the
    // message text is not read as commands.
    if (arg !== '') this.report(BatchReplies.NoArgsAllowed, verb);
    const t = this.txn;
    if (this.state === 'rejected' || t === undefined) {
      this.mode = 'skip-data';
      return;
    }
    if (this.state === 'mail') {
      this.rejectTxn(BatchReplies.RcptFirst);
      this.mode = 'skip-data';
      return;
    }
    if (t.recipients.length === 0) {
      for (const b of t.bad) this.events.push({ kind: 'problem', problem: b.problem });
      this.rejectTxn(BatchReplies.NoValidRecipients);
      this.mode = 'skip-data';
      return;
    }
    this.mode = 'data';
    this.dataFailed = false;
    this.dataSize = 0;
    this.inHeader = true;
    this.scanner = new HeaderScanner();
    this.trace = this.stamp(this.opts.clock.now(), this.offset);
    // RFC 5321 §4.4: the trace header goes first.
    for (const l of this.trace.received) this.writer.line(l);
  }

  private rset(arg: string, verb: Verb): void {
    if (arg !== '') this.report(BatchReplies.NoArgsAllowed, verb);
    if (this.txn !== undefined) this.counters.messagesReset++;
    this.txn = undefined;
    this.curNo = 0;
    this.state = this.baseState();
  }

  private quit(arg: string, verb: Verb): void {
    this.discardOpen(verb);
    if (arg !== '') this.report(BatchReplies.NoArgsAllowed, verb, 0);
    this.state = 'quit';
  }

  // ---- DATA -----------------------------------------------------------------------------------

  private dataLine(text: string): void {
    const n = text.length;
    let line = text;
    if (n > 0 && text.charCodeAt(0) === 0x2e) {
      // RFC 5321 §4.5.2: a line of a single "." ends the data; otherwise a leading "." is removed.
      if (n === 1) return this.finishData();
      line = text.slice(1);
    }
    if (this.dataFailed) return;
    if (n > MAX_TEXT_LINE) return this.failData(BatchReplies.TextLineTooLong);
    this.dataSize += line.length + 2;
    if (this.msgLimit > 0 && this.dataSize > this.msgLimit) return this.failData(BatchReplies.MessageTooBig);
    if (!this.inHeader) {
      this.writer.line(line);
      return;
    }
    if (line.length === 0) {
      this.endHeader(); // the message's own separator is written by endHeader
      return;
    }
    // Options AtSign applies to header lines, not to the body.
    const h = this.atSign !== undefined && line.includes(this.atSign) ? line.split(this.atSign).join('@') : line;
    if (this.scanner.accept(h)) {
      this.writer.line(h);
      return;
    }
    // The header block ended without a blank line: insert the separator before this body line.
    this.endHeader();
    this.writer.line(line);
  }

  /** Writes the missing Date / Message-ID fields and the blank header/body separator. */
  private endHeader(): void {
    this.inHeader = false;
    if (this.trace !== undefined) {
      const has = { date: this.scanner.hasDate, messageId: this.scanner.hasMessageId };
      for (const l of missingFields(this.trace, this.opts.header.date, has)) this.writer.line(l);
    }
    if (this.opts.translatedCharset !== undefined && !this.scanner.hasMime) {
      // RFC 2045 §4, §5.1, §6.1: declare the charset of the translated text.
      this.writer.line('MIME-Version: 1.0');
      this.writer.line(`Content-Type: text/plain; charset=${this.opts.translatedCharset}`);
      this.writer.line('Content-Transfer-Encoding: 8bit');
    }
    this.writer.line('');
  }

  private failData(d: ProblemDef): void {
    this.dataFailed = true;
    this.writer.reset();
    this.rejectTxn(d);
  }

  private finishData(): void {
    this.mode = 'command';
    this.state = this.baseState();
    const t = this.txn;
    if (this.dataFailed || t === undefined) {
      this.writer.reset();
      this.txn = undefined;
      return;
    }
    if (this.inHeader) this.endHeader();
    const data = this.writer.finish();
    const envelope: Envelope = {
      from: t.from,
      recipients: t.recipients,
      requireTls: t.requireTls,
      ...(t.mail.ret !== undefined || t.mail.envid !== undefined ? { dsn: { ret: t.mail.ret, envid: t.mail.envid } } : {}),
      ...(t.mail.body !== undefined ? { body8bit: t.mail.body === '8BITMIME' }
        : this.opts.translatedCharset !== undefined && data.some((b) => b >= 0x80) ? { body8bit: true } : {}),
      ...(t.mail.smtputf8 ? { smtputf8: true } : {}),
    };
    this.events.push({
      kind: 'message',
      message: { messageNo: t.no, envelope, badRecipients: t.bad, data, size: data.length, firstRecordNo: t.firstRecordNo, lastRecordNo: this.recordNo },
    });
    this.counters.messagesEmitted++;
    this.txn = undefined;
    this.trace = undefined;
    this.curNo = 0;
  }

  private skipLine(b: RecordBatch, i: number): void {
    if (b.end(i) - b.start(i) === 1 && b.bytes[b.start(i)] === 0x2e) {
      this.mode = 'command';
      if (this.state === 'rejected' || this.state === 'mail' || this.state === 'rcpt') this.state = this.baseState();
      this.curNo = 0;
    }
  }
}

/** The spool's own problem texts for the shared grammar's parameter problems. */
function paramDef(e: ParamProblem, cmd: 'MAIL' | 'RCPT'): [ProblemDef, string] {
  if (e.kind === 'unknown-parameter') return [cmd === 'MAIL' ? BatchReplies.ParamUnknown : BatchReplies.RcptParamUnknown, e.keyword];
  return [cmd === 'MAIL' ? BatchReplies.ParamBad : BatchReplies.RcptParamBad, e.keyword];
}
