// A spool task (TKID): reads one spool entry at a time — a batch entry is decoded into records
// and parsed into messages under the JES rules; a message entry (the gateway's own mail) is one
// work item, its bytes and envelope untouched — and hands each message to the lifecycle; when
// every message of the file is finished, the file is disposed of
// (SPEC.md §1.2). Reading pauses when too much is pending (state WAITS), when no target is usable
// (WAIT) and when the operator suspends (SUPND). Several tasks run concurrently.
//
// Parking (R3 item 7): a file that is read to its end and whose remaining messages are all in
// long retry (RetryLimit Count × Interval) is parked: the task is free for the next file at once,
// and the file is disposed of (finished or held, report, SPOOL record) when its last message
// reaches a final outcome. Every file has its own counters (FileRun), so what is shown and
// accounted for one file never mixes with another's. The spool file and its checkpoint are
// untouched by parking: a restart resumes a parked file exactly like one its task still held.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Envelope, Recipient } from '../core/index.js';
import { describeError, formatMailbox, formatPath, queueIdFor } from '../core/index.js';
import type { SenderPolicy } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { CodePage } from '../codepage/index.js';
import { RecordDecoder, readChunks, type RecordFormat } from '../spool/records.js';
import { isGatewayOrigin, type MessageEnvelope } from '../spool/message-entry.js';
import { BatchParser, type BatchOptions, type ParsedMessage, type SpoolProblem } from '../spool/batch.js';
import { overHopLimit } from '../spool/headers.js';
import { senderAllowed } from '../spool/sender-policy.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import type { CheckpointPort, FileCheckpoint } from './checkpoint.js';
import type { FailedRecipient, FinalOutcome, Lifecycle, WorkItem } from './lifecycle.js';
import { ExitSession, UserExitRunner, replaceFromHeader, type ExitCounters, type UserExitFailureRule } from '../userexit/index.js';

export type TaskState = 'READ' | 'IDLE' | 'ACTIVE' | 'WAIT' | 'WAITS' | 'SUPND';

/** What the task needs to know about a spool entry (a subset of spool's SpoolEntry). */
export interface TaskEntry {
  readonly id: string;
  readonly path: string;
  readonly attrs: {
    readonly jobName: string;
    readonly jobId: string;
    readonly originUser: string;
    /** The data file's owner: the identity SenderPolicy judges (spool/attributes.ts). */
    readonly originUid: number;
    readonly taskType: 'WRITER' | 'DEST';
    readonly recordFormat?: RecordFormat;
    readonly encoding?: string;
  };
  /** Set for a message entry: the envelope and origin from envelope.json. */
  readonly message?: MessageEnvelope;
  /**
   * An entry of the shared store ([P2]): true once its lease is lost (taken over, or given up
   * because the database could not be reached). The task then reads no further message of it.
   */
  readonly abandoned?: () => boolean;
  /**
   * An entry of the shared store a node has read and released after an attempt (long retry): a
   * file already in process, which SUSPEND,DELAY still finishes (Forwarder.pump).
   */
  readonly inProcess?: boolean;
}

/**
 * Print-report entries (first record `%SPOOLGATE PDFMAIL ...`, docs/pdfmail.md): the gateway wires
 * submit/pdf-spool.ts here. Undefined: the entry is batch SMTP. Sections are checkpointed as
 * message numbers, so a restart neither mails one twice nor loses one.
 */
export type PrintReportRunner = (entry: TaskEntry, ctx: {
  codepage: CodePage; recordFormat: RecordFormat; recordLength: number; nullTrnc: boolean; senderPolicy: TaskSettings['senderPolicy'];
  recorded: readonly number[]; record: (section: number) => Promise<void>; stopping: () => boolean;
}) => Promise<{ mails: number; problems: SpoolProblem[]; interrupted?: boolean } | undefined>;

export interface SpoolPort {
  /** The file is finished: delete it. */
  finish(entry: TaskEntry): Promise<void>;
  /** BadSpoolDisp Hold. */
  hold(entry: TaskEntry, reason: string): Promise<void>;
  /** Report of a bad file per the Report statement (Sysout / Admin / None). */
  report(entry: TaskEntry, problems: readonly SpoolProblem[], summary: string): Promise<void>;
}

export interface TaskSettings {
  readonly parser: Omit<BatchOptions, 'job'>;
  readonly recordFormat: RecordFormat;
  readonly recordLength: number;
  readonly codepage: (name: string | undefined) => CodePage | undefined;
  readonly nullTrnc: boolean;
  readonly badSpoolDisp: 'hold' | 'delete';
  readonly testMode: boolean;
  /** Messages of one file in flight before reading pauses (WAITS). */
  readonly maxPending: number;
  /**
   * Messages of one file in delivery (read and not finished, not counting those parked in long
   * retry) before reading pauses (WAITS): the forwarder sets it to its connection capacity, so
   * nothing is read far ahead of what can be sent. Undefined: only maxPending.
   */
  readonly readAhead?: number;
  /**
   * The largest message entry read into memory. Larger entries (only a hostile or broken local
   * producer writes them: the receiver and submission tools refuse bigger mail first) are bad
   * entries, reported and disposed of per BadSpoolDisp.
   */
  readonly maxMessageBytes: number;
  /** MaxReceivedHeaders (RFC 5321 §6.3): more Received fields than this and the message is not sent. */
  readonly maxReceivedHeaders: number;
  /**
   * Users SenderPolicy for spool files the gateway did not write (SPEC.md §7): judged by the file
   * owner; `domain` is Users DefaultDomain or HostName; files owned by `gatewayUid` are the
   * gateway's own (relayed mail, notifications, reports) and are not judged.
   */
  readonly senderPolicy: { readonly policy: SenderPolicy; readonly domain: string; readonly gatewayUid: number | undefined };
  /**
   * The user exit (SPEC.md §2.3); read when a file starts, so a change applies from the next
   * file. A new generation with the same module reloads it (USEREXIT,LEVEL=, REFRESH).
   */
  readonly userExit?: { readonly module: string | null; readonly generation: number; readonly timeoutMs: number; readonly failure: UserExitFailureRule };
}

export interface TaskCounters {
  pend: number;
  lrt: number;
  mailRead: number;
  undeliverable: number;
}

/** One spool file from the moment a task starts reading it until it is disposed of. */
export class FileRun {
  /** PEND, LRT, MAIL READ and UNDELIVERABLE of this file (D,SPOOL; the SPOOL record). */
  readonly counters: TaskCounters = { pend: 0, lrt: 0, mailRead: 0, undeliverable: 0 };
  /** Octets of message data held in memory for the file's unfinished messages. */
  bytes = 0;
  /** Messages of the file waiting for a usable target (task state WAIT). */
  waitingForTarget = 0;
  /** Messages whose target outcomes are recorded and that only write their DSN and mark. */
  finishing = 0;
  constructor(readonly entry: TaskEntry, readonly tkid: number) {}
}

/**
 * Where parked files are admitted (the forwarder bounds them: messages within ChkPointSizeLimit,
 * and the octets held in memory). admit() is asked when a file could be parked; leave() when it
 * is disposed of or interrupted.
 */
export interface ParkingLot {
  admit(run: FileRun): boolean;
  leave(run: FileRun): void;
}

const IDLE_COUNTERS: Readonly<TaskCounters> = { pend: 0, lrt: 0, mailRead: 0, undeliverable: 0 };

export class SpoolTask {
  state: TaskState = 'IDLE';
  entry: TaskEntry | undefined;
  /** The file this task read last: an IDLE task shows the previous job (seed, SPOOLSTATUS). */
  lastEntry: TaskEntry | undefined;
  /** The file being read or waited for (undefined when IDLE or after the file was parked). */
  private run: FileRun | undefined;
  /** The previous file: an IDLE task shows its MAIL READ and UNDELIVERABLE (seed). */
  private lastRun: FileRun | undefined;
  /** Files this task read and that are not disposed of yet: the current one and parked ones. */
  private readonly runs = new Map<string, FileRun>();
  private resumeWaiters: (() => void)[] = [];
  /** User exit calls, accepts, rejects and failures of this task (all files). */
  readonly exitCounters: ExitCounters = { calls: 0, accepted: 0, rejected: 0, failures: 0, mailFromReplaced: 0 };
  private exitRunner: UserExitRunner | undefined;
  private exitKey = '';

  constructor(
    readonly tkid: number,
    private readonly deps: {
      lifecycle: Lifecycle;
      checkpoint: CheckpointPort;
      now: () => number;
      spool: SpoolPort;
      log: Logger;
      settings: () => TaskSettings;
      suspended: () => boolean;
      stopping: () => boolean;
      /** Called when a file is disposed of (accounting SPOOL records). */
      onFileDone?: (entry: TaskEntry, stats: { mailRead: number; undeliverable: number; problems: number; disposition: 'finished' | 'held' }) => void;
      /** Where a file whose remaining mail is all in long retry may be parked; without it, never. */
      parking?: ParkingLot;
      /** The task was freed before its file was disposed of (parked): hand it the next file. */
      onFree?: () => void;
      printReport?: PrintReportRunner;
    },
  ) {}

  /** The counters of the file being worked on; of the previous file when IDLE (seed). */
  get counters(): Readonly<TaskCounters> {
    return (this.run ?? this.lastRun)?.counters ?? IDLE_COUNTERS;
  }

  /** Files this task read that are parked (all remaining mail in long retry), oldest first. */
  parked(): readonly FileRun[] {
    return [...this.runs.values()].filter((r) => r !== this.run);
  }

  /** Lifecycle hook: a message of file `entryId` (read by this task) waits for a usable target, or stops waiting. */
  setTargetWait(entryId: string, waiting: boolean): void {
    const run = this.runs.get(entryId);
    if (run === undefined) return;
    run.waitingForTarget += waiting ? 1 : -1;
    if (run === this.run) this.refreshState();
  }

  /** Lifecycle hook: a message of file `entryId` entered (+1) or left (-1) long retry. */
  retryChanged(entryId: string, delta: number): void {
    const run = this.runs.get(entryId);
    if (run === undefined) return;
    run.counters.lrt += delta;
    if (run === this.run) this.poke();
  }

  /** Lifecycle hook: a message of file `entryId` holds no connection any more (+1), or is done (-1). */
  finishingChanged(entryId: string, delta: number): void {
    const run = this.runs.get(entryId);
    if (run === undefined) return;
    run.finishing += delta;
    if (run === this.run) this.poke();
  }

  private refreshState(): void {
    if (this.entry === undefined || this.run === undefined) { this.state = 'IDLE'; return; }
    if (this.deps.suspended()) this.state = 'SUPND';
    else if (this.run.waitingForTarget > 0) this.state = 'WAIT';
    else if (this.state === 'WAIT' || this.state === 'SUPND') this.state = 'ACTIVE';
  }

  /** The task lets go of `run` (disposed of, interrupted or parked): IDLE, unless it already has another file. */
  private letGo(run: FileRun): void {
    if (this.run !== run) return;
    this.run = undefined;
    this.entry = undefined;
    this.state = 'IDLE';
  }

  /** Wakes a task paused by SUSPEND or WAITS. */
  poke(): void {
    this.refreshState();
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  /** The exit for a file that starts now: the task keeps one worker while the module stays. */
  private exitSession(entry: TaskEntry, settings: TaskSettings): ExitSession | undefined {
    const ux = settings.userExit;
    const key = ux?.module ? `${ux.generation}:${ux.module}` : '';
    if (key !== this.exitKey) {
      this.exitRunner?.close().catch((e: unknown) => this.deps.log.warn('userexit.close', { error: describeError(e) }));
      this.exitRunner = ux?.module ? new UserExitRunner({ module: ux.module, timeoutMs: () => this.deps.settings().userExit?.timeoutMs ?? ux.timeoutMs }) : undefined;
      this.exitKey = key;
    }
    if (this.exitRunner === undefined || ux === undefined) return undefined;
    this.exitRunner.reset();
    const { jobName, jobId, originUser, taskType } = entry.attrs;
    return new ExitSession({ exit: this.exitRunner, job: { jobName, jobId, originUser, taskType, spoolId: entry.id }, failure: ux.failure, log: this.deps.log });
  }

  /** Stops the user exit's worker (gateway stop). */
  async closeExit(): Promise<void> {
    const r = this.exitRunner;
    this.exitRunner = undefined;
    this.exitKey = '';
    await r?.close();
  }

  /**
   * Processes one spool file to its disposition. Returns false when stopped before finishing.
   * The task may be freed before this resolves: when the file is parked (see the header).
   */
  async process(entry: TaskEntry): Promise<boolean> {
    const { log } = this.deps;
    const settings = this.deps.settings();
    const run = new FileRun(entry, this.tkid);
    const c = run.counters;
    this.run = run;
    this.lastRun = run;
    this.runs.set(entry.id, run);
    this.entry = entry;
    this.lastEntry = entry;
    this.state = 'READ';
    const problems: SpoolProblem[] = [];
    const inflight = new Set<Promise<void>>();
    let stoppedEarly = false;
    let parked = false;
    /** Messages gone to long retry on the shared queue (WorkItem.deferredUntil): the file is released, not finished. */
    let deferred = 0;
    const cp = this.deps.checkpoint.load(entry.id);
    log.event('spool.start', { id: entry.id, job: entry.attrs.jobName, jobid: entry.attrs.jobId, user: entry.attrs.originUser });
    try {
      // The user exit sees customer jobs and local submissions, not the gateway's own mail
      // (relayed, notifications, reports): docs/userexit.md.
      const exit = entry.message !== undefined && isGatewayOrigin(entry.message.origin) ? undefined : this.exitSession(entry, settings);
      const exitProblem = (p: SpoolProblem): void => {
        problems.push(p);
        log.jes('spool.problem', { id: entry.id, record: p.recordNo, reply: `${p.code} ${p.enhanced} ${p.text}` });
      };
      const handle = async (events: ReturnType<BatchParser['push']>): Promise<boolean> => {
        for (const ev of events) {
          if (entry.abandoned?.() === true) { stoppedEarly = true; return false; }
          if (ev.kind === 'problem') { problems.push(ev.problem); log.jes('spool.problem', { id: entry.id, record: ev.problem.recordNo, reply: `${ev.problem.code} ${ev.problem.enhanced} ${ev.problem.text}` }); continue; }
          if (ev.kind === 'stopped') { problems.push(ev.problem); return false; }
          if (ev.kind === 'warning') { log.warn('spool.warning', { id: entry.id, record: ev.problem.recordNo, reply: `${ev.problem.code} ${ev.problem.enhanced} ${ev.problem.text}` }); continue; }
          c.mailRead++;
          let message = ev.message;
          // SenderPolicy Own: a message whose sender its file's owner may not use is never sent;
          // it is a problem of the file (report, BadSpoolDisp), like a syntax error.
          const refused = cp.messages.has(message.messageNo) ? undefined : senderRefusal(entry, message, settings.senderPolicy);
          if (refused !== undefined) { exitProblem(refused); continue; }
          // The user exit decides before anything is sent (mail finished before a restart was
          // decided then). docs/userexit.md.
          if (exit !== undefined && !cp.messages.has(message.messageNo)) {
            const env = message.envelope;
            const d = await exit.mail({ ...message, from: env.from, recipients: env.recipients, requireTls: env.requireTls });
            if (d.problem !== undefined) exitProblem(d.problem);
            if (!d.send) { if (d.stopFile) return false; continue; }
            if (d.from !== undefined) message = { ...message, envelope: { ...env, from: d.from } };
            // SMTP-Send's sender verification may also set what the recipient sees (issue #16 item 15).
            if (d.fromHeader !== undefined) { const data = replaceFromHeader(message.data, d.fromHeader); message = { ...message, data, size: data.length }; }
          }
          // TestMode delivers nothing of the jobs; its error reports (Report Admin) are its only
          // output and do go out (seed, Options TestMode).
          if (settings.testMode && entry.message?.origin.kind !== 'report') continue;
          const item = this.workItem(entry, message, cp, settings.maxReceivedHeaders);
          if (item === undefined) continue; // finished before a restart
          // An operator's bounce or delete given while it waited on the shared queue (store-source.ts);
          // held there (this message only), or not due yet by its own retry time (the file was
          // claimed for a command on another message): it waits on, untried — its attempts, retry
          // time and hold kept, as on one node —, and the file is released, not finished.
          const command = cp.commands?.get(message.messageNo);
          const until = command === undefined ? cp.waitUntil?.get(message.messageNo) : undefined;
          if (this.deps.checkpoint.keepWaiting !== undefined && (command?.action === 'hold' || until !== undefined)) {
            this.deps.checkpoint.keepWaiting(entry.id, message.messageNo, until);
            deferred++;
            log.event('spool.waiting-message', { id: entry.id, message: message.messageNo,
              detail: command?.action === 'hold' ? `held in the shared queue by ${command.operator}: not tried until released` : `long retry: not due until ${new Date(until!).toISOString()}, left untried` });
            continue;
          }
          c.pend++;
          run.bytes += item.data.length;
          const end = command === undefined || command.action === 'hold' ? undefined : { action: command.action, operator: command.operator, reason: command.reason };
          const p = this.deps.lifecycle.run(item, end).then(
            (outcome: FinalOutcome | undefined) => { if (outcome === 'undeliverable') c.undeliverable++; if (outcome === undefined && item.deferredUntil !== undefined) deferred++; },
            (e: unknown) => { log.error('mail.failed', { id: entry.id, message: message.messageNo, error: describeError(e) }); stoppedEarly = true; },
          ).finally(() => { c.pend--; run.bytes -= item.data.length; inflight.delete(p); if (this.run === run) this.poke(); });
          inflight.add(p);
          // Messages in long retry, or only writing their DSN, hold no connection and cannot be
          // resent by a crash: they do not count against the read-ahead.
          while ((inflight.size >= settings.maxPending || inflight.size - c.lrt - run.finishing >= (this.deps.settings().readAhead ?? Infinity)) && !this.deps.stopping()) {
            this.state = 'WAITS';
            await this.pause();
          }
          while (this.deps.suspended() && !this.deps.stopping()) {
            this.state = 'SUPND';
            await this.pause();
          }
          this.state = 'READ';
        }
        return true;
      };
      let reading = true;
      let records = 0;
      if (entry.message !== undefined) {
        const m = await readMessageEntry(entry, entry.message, settings.maxMessageBytes);
        if (m.ok) reading = await handle(m.value.map((message) => ({ kind: 'message' as const, message })));
        else problems.push(m.error);
      } else {
        const codepage = settings.codepage(entry.attrs.encoding);
        if (codepage === undefined) throw new Error(`unknown code page ${entry.attrs.encoding ?? ''}`);
        const report = await this.deps.printReport?.(entry, {
          codepage, recordFormat: settings.recordFormat, recordLength: settings.recordLength, nullTrnc: settings.nullTrnc, senderPolicy: settings.senderPolicy,
          recorded: [...cp.messages.keys()], record: (n) => this.deps.checkpoint.markMessage(entry.id, n, 'delivered'), stopping: this.deps.stopping,
        });
        if (report !== undefined) {
          c.mailRead += report.mails;
          if (report.interrupted === true) stoppedEarly = true;
          for (const p of report.problems) exitProblem(p);
        } else {
        const decoder = new RecordDecoder({
          format: entry.attrs.recordFormat ?? settings.recordFormat,
          recordLength: settings.recordLength,
          codepage,
          nullTrnc: settings.nullTrnc,
        });
        const parser = new BatchParser({ ...settings.parser, job: { jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, originUser: entry.attrs.originUser },
          ...(codepage.asciiCharset === 'UTF-8' ? { translatedCharset: 'UTF-8' as const } : {}) });
        const fh = await openRegular(entry.path);
        try {
          // One reused read buffer: the decoder copies what it keeps, the parser each message.
          for await (const chunk of readChunks(fh, 256 * 1024)) {
            if (this.deps.stopping()) { stoppedEarly = true; break; }
            if (!(await handle(parser.push(decoder.pushBatch(chunk))))) { reading = false; break; }
          }
        } finally {
          await fh.close();
        }
        if (reading && !stoppedEarly) reading = await handle(parser.push(decoder.endBatch()).concat(parser.end()));
        records = parser.stats.records;
        }
      }
      if (reading && !stoppedEarly && exit !== undefined) {
        const p = await exit.end(records);
        if (p !== undefined) exitProblem(p);
      }
      if (exit !== undefined) for (const k of Object.keys(this.exitCounters) as (keyof ExitCounters)[]) this.exitCounters[k] += exit.counters[k];
      this.state = 'ACTIVE';
      this.refreshState();
      // The file is read. Wait for its messages, until every one that remains is in long retry
      // (each of them waits a whole Interval): then park the file and free the task.
      while (inflight.size > 0 && !stoppedEarly && !this.deps.stopping()) {
        if (inflight.size === c.lrt && this.deps.parking?.admit(run) === true) { parked = true; break; }
        await this.pause();
      }
      if (parked) {
        log.event('spool.parked', { id: entry.id, lrt: c.lrt });
        this.letGo(run);
        this.deps.onFree?.();
      }
      // Only the file's own messages are awaited here; reading is over, so the set only shrinks.
      await Promise.allSettled([...inflight]);
    } catch (e) {
      // Unreadable (permissions, vanished) or a bug: report it and leave the file in place.
      log.error('spool.unreadable', { id: entry.id, path: entry.path, error: describeError(e) });
      await Promise.allSettled([...inflight]);
      this.end(run, parked);
      return false;
    }
    if (stoppedEarly || this.deps.stopping() || entry.abandoned?.() === true) {
      this.end(run, parked);
      log.event('spool.interrupted', { id: entry.id });
      return false;
    }
    if (deferred > 0) {
      // Long retry on the shared queue: the source releases the file to its retry time, for any
      // node; the checkpoint keeps what is finished and each waiting message's attempts.
      this.end(run, parked);
      log.event('spool.retry-released', { id: entry.id, messages: deferred });
      return false;
    }
    // The task stays busy (entry set) until the file is disposed of: an IDLE task is handed the
    // next file at once. A parked file's task is busy with another file by now; the counters
    // reported are the file's own either way (FileRun).
    try {
      await this.dispose(entry, problems, c, settings);
    } finally {
      this.end(run, parked);
    }
    return true;
  }

  /** The file is done with (disposed of or interrupted): it leaves the task and the parking lot. */
  private end(run: FileRun, parked: boolean): void {
    this.runs.delete(run.entry.id);
    if (parked) this.deps.parking?.leave(run);
    this.letGo(run);
  }

  private async dispose(entry: TaskEntry, problems: readonly SpoolProblem[], c: Readonly<TaskCounters>, settings: TaskSettings): Promise<void> {
    const { log, spool } = this.deps;
    const undeliverable = c.undeliverable;
    const summary = `job ${entry.attrs.jobName} (${entry.attrs.jobId}): ${c.mailRead} mail read, ${undeliverable} undeliverable, ${problems.length} problems${settings.testMode ? ' (TestMode: nothing delivered)' : ''}`;
    if (problems.length > 0) {
      await spool.report(entry, problems, summary);
      if (settings.badSpoolDisp === 'hold') {
        await spool.hold(entry, summary);
        log.event('spool.held', { id: entry.id, problems: problems.length });
        this.deps.onFileDone?.(entry, { mailRead: c.mailRead, undeliverable, problems: problems.length, disposition: 'held' });
        return; // checkpoint kept: a released file resumes without resending
      }
    }
    await spool.finish(entry);
    await this.deps.checkpoint.forget(entry.id);
    log.event('spool.finished', { id: entry.id, read: c.mailRead, undeliverable, problems: problems.length });
    this.deps.onFileDone?.(entry, { mailRead: c.mailRead, undeliverable, problems: problems.length, disposition: 'finished' });
  }

  /** Builds the work item for a parsed message, minus what the checkpoint says is finished. */
  private workItem(entry: TaskEntry, m: ParsedMessage, cp: FileCheckpoint, maxReceivedHeaders: number): WorkItem | undefined {
    if (cp.messages.has(m.messageNo)) return undefined;
    // RFC 5321 §6.3: a message that has been through too many hops is in a loop. It is never
    // sent: every recipient fails with 554 5.4.6 and the lifecycle makes it undeliverable (one
    // DSN, or a dead letter per Undeliverable). Both entry kinds are counted on the message as
    // it would be sent, with the Received field the gateway added on top (the batch parser's,
    // the receiver's, the submission tool's), which does not count against the limit.
    const loop = overHopLimit(m.data, maxReceivedHeaders);
    const hopReply = loop ? localReply(Codes.C554TooManyHops, `too many hops (more than ${maxReceivedHeaders} Received header fields), mail loop?`) : undefined;
    if (loop) this.deps.log.warn('mail.too-many-hops', { id: entry.id, message: m.messageNo, limit: maxReceivedHeaders });
    const marks = cp.recipients.get(m.messageNo);
    const failed: FailedRecipient[] = m.badRecipients.map((b) => ({ address: b.address, reply: { code: b.problem.code, enhanced: b.problem.enhanced, text: b.problem.text } }));
    const pending: Recipient[] = [];
    for (const r of m.envelope.recipients) {
      const mark = marks?.get(formatMailbox(r.mailbox));
      if (mark?.outcome === 'accepted') continue;
      if (mark?.outcome === 'failed') { failed.push({ address: formatMailbox(r.mailbox), recipient: r, reply: mark.reply }); continue; }
      if (hopReply !== undefined) { failed.push({ address: formatMailbox(r.mailbox), recipient: r, reply: hopReply }); continue; }
      pending.push(r);
    }
    const envelope: Envelope = m.envelope;
    return {
      origin: { kind: 'spool', entryId: entry.id, messageNo: m.messageNo, tkid: this.tkid },
      queueId: queueIdFor(entry.id, entry.attrs.jobId, m.messageNo),
      envelope,
      data: m.data,
      job: { jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, originUser: entry.attrs.originUser },
      arrival: new Date(this.deps.now()),
      pending,
      failed,
      // Long retry on the shared queue goes on counting from the attempts made on any node.
      attempts: cp.attempts?.get(m.messageNo) ?? 0,
      ...(entry.abandoned === undefined ? {} : { abandoned: entry.abandoned }),
      // Seed 001: a notification that cannot be returned becomes a dead letter (one try).
      ...(entry.message?.origin.kind === 'notification' ? { finalAttempt: true } : {}),
    };
  }
}

/**
 * SenderPolicy (spool/sender-policy.ts) for a message of a file the gateway did not write, by the
 * file's owner: the problem to report when the owner may not use the message's MAIL FROM.
 */
function senderRefusal(entry: TaskEntry, m: ParsedMessage, p: TaskSettings['senderPolicy']): SpoolProblem | undefined {
  const { originUid: uid, originUser: user } = entry.attrs;
  if (p.gatewayUid !== undefined && uid === p.gatewayUid) return undefined;
  if (senderAllowed(p.policy, { uid, user }, p.domain, m.envelope.from)) return undefined;
  const r = localReply(Codes.C553SenderNotOwned, `sender ${formatPath(m.envelope.from)} not allowed for spool file owner ${user} (uid ${uid}): SenderPolicy Own allows only ${user}@${p.domain}`);
  return { code: r.code, enhanced: r.enhanced ?? '', text: r.text, recordNo: m.firstRecordNo, messageNo: m.messageNo };
}

/**
 * A message entry as the one message of its file — or, for a batch of notifications (`parts`),
 * its messages in order, numbered from 1 (the checkpoint keeps each one's outcome) — the data
 * file read whole (bounded), the envelopes as enqueued. Problems become the file's report, like
 * a batch file's.
 */
async function readMessageEntry(entry: TaskEntry, m: MessageEnvelope, max: number): Promise<{ ok: true; value: ParsedMessage[] } | { ok: false; error: SpoolProblem }> {
  const problem = (code: number, enhanced: string, text: string): { ok: false; error: SpoolProblem } =>
    ({ ok: false, error: { code, enhanced, text, recordNo: 0, messageNo: 1 } });
  const fh = await openRegular(entry.path);
  try {
    const st = await fh.stat();
    if (st.size > max) return problem(552, '5.3.4', `message entry is ${st.size} octets, over the limit of ${max}`);
    const data = Buffer.alloc(st.size);
    let n = 0;
    while (n < data.length) {
      const { bytesRead } = await fh.read(data, n, data.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n !== st.size) return problem(451, '4.3.0', `message entry changed size while being read (${n} of ${st.size} octets)`);
    const parts = m.parts ?? [{ envelope: m.envelope, octets: data.length }];
    const total = parts.reduce((a, p) => a + p.octets, 0);
    if (total !== data.length) return problem(554, '5.3.0', `message entry holds ${data.length} octets, its ${parts.length} parts ${total}`);
    let at = 0;
    return {
      ok: true,
      value: parts.map((p, i) => {
        const part = data.subarray(at, at + p.octets);
        at += p.octets;
        return { messageNo: i + 1, envelope: p.envelope, badRecipients: [], data: part, size: part.length, firstRecordNo: 0, lastRecordNo: 0 };
      }),
    };
  } finally {
    await fh.close();
  }
}

/**
 * Opens a spool data file for reading: never follows a symbolic link, never waits on a FIFO
 * (O_NONBLOCK), and refuses anything that is not a regular file (S2 item 7: a FIFO swapped in
 * after the queue looked at the entry would otherwise hold the task, a libuv thread and SIGTERM).
 */
export async function openRegular(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let regular = false;
  try {
    regular = (await fh.stat()).isFile();
  } finally {
    if (!regular) await fh.close();
  }
  if (!regular) throw new Error(`${path} is not a regular file`);
  return fh;
}
