// The user exit's view of one spool file: for each parsed mail, the command events (MAIL, each
// RCPT, DATA) and then the mail event go to the exit until it answers something other than
// CONTINUE; the answers become a decision for the spool task (send, possibly with a new MAIL
// FROM, or reject with a spool problem). A failing exit is decided by UserExitFailure.
// The parser has already consumed HELO/EHLO/STARTTLS/RSET/NOOP; the command events are rebuilt
// from the parsed message (docs/userexit.md), and QUIT is sent once when the file ends.
import type { Mailbox, ReversePath } from '../core/index.js';
import { formatMailbox } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { Codes, enhancedOf, type ReplyCode } from '../smtp/protocol/codes.js';
import { formatReversePath, headerSection, type ExitEvent, type ExitJob } from './events.js';
import type { ExitCaller, ExitCallResult } from './runner.js';

export type UserExitFailureRule = 'rejectFile' | 'rejectMail' | 'continue';

/** Same shape as the spool's SpoolProblem, so the task reports it like any spool problem. */
export interface ExitProblem {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
  readonly recordNo: number;
  readonly messageNo: number;
}

export interface ExitMail {
  readonly messageNo: number;
  readonly from: ReversePath;
  readonly recipients: readonly { readonly mailbox: Mailbox }[];
  readonly data: Buffer;
  readonly size: number;
  readonly requireTls: boolean;
  readonly firstRecordNo: number;
  readonly lastRecordNo: number;
}

export type MailDecision =
  /** Send the mail; `from` replaces MAIL FROM; `problem` = the exit failed under CONTINUE. */
  | { readonly send: true; readonly from?: ReversePath; readonly fromHeader?: string; readonly problem?: ExitProblem }
  /** Do not send; `stopFile` = the rest of the file is not processed either. */
  | { readonly send: false; readonly problem: ExitProblem; readonly stopFile: boolean };

export interface ExitCounters {
  calls: number;
  accepted: number;
  rejected: number;
  failures: number;
  mailFromReplaced: number;
}

const FAILURE_NAMES: Record<UserExitFailureRule, string> = { rejectFile: 'REJECT_FILE', rejectMail: 'REJECT_MAIL', continue: 'CONTINUE' };

export class ExitSession {
  readonly counters: ExitCounters = { calls: 0, accepted: 0, rejected: 0, failures: 0, mailFromReplaced: 0 };

  constructor(
    private readonly opts: {
      readonly exit: ExitCaller;
      readonly job: ExitJob;
      readonly failure: UserExitFailureRule;
      readonly log: Logger;
    },
  ) {}

  private *events(m: ExitMail): Generator<ExitEvent> {
    const job = this.opts.job;
    const messageNo = m.messageNo;
    yield { kind: 'command', job, messageNo, verb: 'MAIL', argument: `FROM:<${formatReversePath(m.from)}>`, recordNo: m.firstRecordNo };
    for (const r of m.recipients) yield { kind: 'command', job, messageNo, verb: 'RCPT', argument: `TO:<${formatMailbox(r.mailbox)}>` };
    yield { kind: 'command', job, messageNo, verb: 'DATA', argument: '' };
    yield {
      kind: 'mail', job, messageNo, mailFrom: formatReversePath(m.from), recipients: m.recipients.map((r) => formatMailbox(r.mailbox)),
      size: m.size, headers: headerSection(m.data), requireTls: m.requireTls, firstRecordNo: m.firstRecordNo, lastRecordNo: m.lastRecordNo,
    };
  }

  /** Asks the exit about one mail. Never throws. */
  async mail(m: ExitMail): Promise<MailDecision> {
    let from: ReversePath | undefined;
    let fromHeader: string | undefined;
    for (const ev of this.events(m)) {
      this.counters.calls++;
      const r = await this.opts.exit.call(ev);
      if (!r.ok) return this.failed(r, m.messageNo, m.firstRecordNo, from);
      const a = r.answer;
      if (a.mailFrom !== undefined) from = a.mailFrom;
      if (a.fromHeader !== undefined) fromHeader = a.fromHeader;
      if (a.action === 'CONTINUE') continue;
      if (a.action === 'ACCEPT') break;
      return this.rejected(m, a.action === 'REJECT_FILE', a.reason);
    }
    // CONTINUE after the mail event: nothing more to ask, the mail is accepted.
    this.counters.accepted++;
    if (fromHeader !== undefined) {
      this.opts.log.event('userexit.fromheader', { exit: this.opts.exit.name, spool: this.opts.job.spoolId, message: m.messageNo, to: fromHeader });
    }
    const header = fromHeader === undefined ? {} : { fromHeader };
    if (from !== undefined) {
      this.counters.mailFromReplaced++;
      this.opts.log.event('userexit.mailfrom', { exit: this.opts.exit.name, spool: this.opts.job.spoolId, message: m.messageNo, from: formatReversePath(m.from), to: formatReversePath(from) });
      return { send: true, from, ...header };
    }
    return { send: true, ...header };
  }

  /** QUIT at the end of a file read to its end: only a failure matters (nothing is left to reject). */
  async end(lastRecordNo: number): Promise<ExitProblem | undefined> {
    this.counters.calls++;
    const r = await this.opts.exit.call({ kind: 'command', job: this.opts.job, messageNo: 0, verb: 'QUIT', argument: '' });
    if (r.ok) return undefined;
    const d = this.failed(r, 0, lastRecordNo, undefined);
    return d.problem;
  }

  private rejected(m: ExitMail, wholeFile: boolean, reason: string | undefined): MailDecision {
    this.counters.rejected++;
    const name = this.opts.exit.name;
    this.opts.log.event('userexit.rejected', { exit: name, spool: this.opts.job.spoolId, message: m.messageNo, file: wholeFile, reason });
    // RFC 3463 X.7.1: delivery not authorized, message refused (by local policy: the exit).
    return {
      send: false, stopFile: wholeFile,
      problem: {
        ...problemCode(Codes.C550PolicyRejected), recordNo: m.firstRecordNo, messageNo: m.messageNo,
        text: `Rejected by user exit ${name}: ${reason ?? 'no reason given'}${wholeFile ? '; the rest of the spool file is not processed' : ''}`,
      },
    };
  }

  private failed(r: Extract<ExitCallResult, { ok: false }>, messageNo: number, recordNo: number, from: ReversePath | undefined): MailDecision {
    this.counters.failures++;
    const rule = this.opts.failure;
    const name = this.opts.exit.name;
    this.opts.log.error('userexit.failed', { exit: name, spool: this.opts.job.spoolId, message: messageNo, cause: r.cause, detail: r.detail, rule: FAILURE_NAMES[rule] });
    const outcome = rule === 'continue'
      ? 'mail sent without the exit\'s decision'
      : rule === 'rejectMail' ? 'mail not sent' : 'mail and the rest of the spool file not sent';
    // RFC 3463 X.3.0: a local system problem (the exit), transient: fixed and released, it goes.
    const problem: ExitProblem = {
      ...problemCode(Codes.C451LocalError), recordNo, messageNo,
      text: `User exit ${name} failed (${r.cause}): ${r.detail}; ${messageNo === 0 ? 'at end of file' : outcome} (UserExitFailure ${FAILURE_NAMES[rule]})`,
    };
    if (rule === 'continue') return from === undefined ? { send: true, problem } : { send: true, from, problem };
    return { send: false, problem, stopFile: rule === 'rejectFile' };
  }
}

/** Code and full enhanced code of a catalogue entry, for a spool problem. */
function problemCode(rc: ReplyCode): { code: number; enhanced: string } {
  return { code: rc.code, enhanced: enhancedOf(rc) };
}
