// A plain, JSON-serialisable picture of the running forwarder, taken once per command, so the
// displays (render.ts) are pure functions and golden tests need no sockets. `--json` and the
// HTTP API return (parts of) this object.
import type { Config, DisplayCompat, DisplayRuntime } from '../config/index.js';
import type { Result } from '../core/result.js';
import type { RateSnapshot } from '../forwarder/index.js';

export type TaskStateName = 'READ' | 'IDLE' | 'ACTIVE' | 'WAIT' | 'WAITS' | 'SUPND';
export type TargetStateName = 'UNKNOWN' | 'ACTIVE' | 'NOT USABLE';

export interface TaskSnapshot {
  readonly tkid: number;
  readonly type: 'WRITER' | 'DEST';
  readonly state: TaskStateName;
  /** null while IDLE when the forwarder does not remember the previous job. */
  readonly jobName: string | null;
  readonly jobId: string | null;
  readonly pend: number;
  readonly lrt: number;
  readonly mailRead: number;
  readonly undeliverable: number;
}

/**
 * (ext, [P2]) A file released for long retry on the shared queue (docs/cluster.md): no node holds
 * it; any node makes its next attempt.
 */
export interface ReleasedSnapshot {
  readonly entry: string;
  readonly jobName: string;
  readonly jobId: string;
  /** Its messages waiting in long retry. */
  readonly lrt: number;
  /** ISO 8601. */
  readonly nextAttempt: string;
  readonly held: boolean;
  readonly lastNode: string | null;
}

/** (ext) A spool file parked with all its remaining mail in long retry; its task took another file. */
export interface ParkedSnapshot {
  /** The task that read it (FLUSHRETRY,TKID= of that task includes it). */
  readonly tkid: number;
  readonly jobName: string;
  readonly jobId: string;
  readonly lrt: number;
  readonly mailRead: number;
  readonly undeliverable: number;
}

export interface TargetSnapshot {
  readonly address: string;
  readonly port: number;
  readonly source:
    | { readonly kind: 'TargetIP' }
    | { readonly kind: 'TargetName'; readonly name: string }
    | { readonly kind: 'TargetMx'; readonly name: string; readonly exchange: string; readonly preference: number };
  readonly connectLimit: number;
  readonly maxMsgSent: number;
  /** Configured MessageSize (bytes). */
  readonly messageSize: number;
  readonly secure: boolean;
  readonly state: TargetStateName;
  /** null while the capabilities are not learned (state UNKNOWN). */
  readonly esmtp: boolean | null;
  readonly startTls: boolean | null;
  /** SIZE learned from EHLO (0 = no limit), else the configured MessageSize (seed: MESSAGE SIZE). */
  readonly effectiveMessageSize: number;
  readonly mailAttempts: number;
  readonly mailSent: number;
  readonly connectFail: number;
  /** Attempts that ended without a reply (no answer in time, or the connection dropped). */
  readonly lostAttempts: number;
  readonly lastError: string;
  /**
   * (ext) The statement's rate limits and their state now (src/forwarder/rate.ts). Absent when no
   * limit is set and the target never answered "rate": nothing to show.
   */
  readonly rate?: TargetRateSnapshot;
}

/** Limits (null = none) and what they see now; the statement's addresses share one (forwarder/rate.ts). */
export type TargetRateSnapshot = RateSnapshot;

export interface CountersSnapshot {
  readonly mailSent: number;
  readonly totalRetry: number;
  readonly currentRetry: number;
  readonly deadLetter: number;
  readonly undeliver: number;
  readonly extendedCurrent: number;
  readonly extendedTotal: number;
  /**
   * (ext, [P2]) On a shared queue: how many of currentRetry are the cluster's messages released
   * for long retry (held by no node, counted by every node); currentRetry minus this is the node's
   * own. Absent with SQLite (currentRetry is all this node's).
   */
  readonly retryReleased?: number;
}

export interface Snapshot {
  /** The instance name as the messages show it (upper case). */
  readonly instance: string;
  /** DisplayCompat: `ibm` = the seed's labels and no (ext) lines. Default spoolgate. */
  readonly compat?: DisplayCompat;
  /** Why sending is stopped though targets may be usable (the checkpoint), shown with WAIT tasks. */
  readonly waitReason?: string;
  readonly logLevel: number;
  readonly userExit: string | null;
  readonly suspendMode: 'none' | 'immediate' | 'delay';
  readonly counters: CountersSnapshot;
  readonly tasks: readonly TaskSnapshot[];
  /** (ext) Parked spool files (absent: none, or a view that does not park). */
  readonly parked?: readonly ParkedSnapshot[];
  /** (ext, [P2]) Files released for long retry on the shared queue (absent: none, or Backend SQLite). */
  readonly released?: readonly ReleasedSnapshot[];
  readonly targets: readonly TargetSnapshot[];
  /** For Display,CONFig only (large): the configuration in force and the process values. */
  readonly config?: Config;
  readonly runtime?: DisplayRuntime;
}

// ---- What control needs from the forwarder (structural: src/forwarder's classes satisfy it) ----

export interface TaskView {
  readonly tkid: number;
  readonly state: TaskStateName;
  readonly entry?: { readonly attrs: { readonly jobName: string; readonly jobId: string; readonly taskType: 'WRITER' | 'DEST' } } | undefined;
  /** The previous job: an IDLE task shows it (seed: "If the task is in the IDLE state, ... the previous job"). */
  readonly lastEntry?: { readonly attrs: { readonly jobName: string; readonly jobId: string; readonly taskType: 'WRITER' | 'DEST' } } | undefined;
  readonly counters: { readonly pend: number; readonly lrt: number; readonly mailRead: number; readonly undeliverable: number };
}

export interface TargetView {
  readonly addr: {
    readonly address: string;
    readonly port: number;
    readonly source: TargetSnapshot['source'];
    readonly server: { readonly connectLimit: number; readonly maxMsgSent: number; readonly messageSize: number; readonly secure: boolean };
  };
  readonly state: TargetStateName;
  readonly capabilities: { readonly esmtp: boolean; readonly size: number | undefined; readonly startTls: boolean } | undefined;
  readonly counters: { readonly mailAttempts: number; readonly mailSent: number; readonly connectFail: number; readonly lostAttempts?: number };
  /** Final replies per recipient by class (/metrics); absent in views that do not count them. */
  readonly replies?: Readonly<Record<'2xx' | '4xx' | '5xx', number>>;
  readonly lastError: string;
  /** (ext) The statement's rate limiter (src/forwarder/rate.ts); absent in views without one. */
  readonly limiter?: { snapshot(): TargetRateSnapshot } | undefined;
  /** Opens (or reuses) a connection: REFRESHTargets uses it to relearn capabilities at once. */
  acquire(tls: boolean): Promise<Result<{ release(usable: boolean): void }, { readonly detail: string }>>;
}

export interface ForwarderView {
  readonly counters: CountersSnapshot;
  readonly tasks: readonly TaskView[];
  readonly suspendMode: 'none' | 'immediate' | 'delay';
  /** Why sending is stopped though targets may be usable (the checkpoint cannot be written). */
  readonly waitReason?: string | undefined;
  listTargets(): readonly TargetView[];
  /** (ext) Spool files parked with all their remaining mail in long retry (src/forwarder/task.ts). */
  parkedFiles?(): readonly { readonly tkid: number; readonly entry: { readonly attrs: { readonly jobName: string; readonly jobId: string } }; readonly counters: { readonly lrt: number; readonly mailRead: number; readonly undeliverable: number } }[];
  suspend(mode: 'immediate' | 'delay'): void;
  resume(): void;
  /** Long-retry mail of one task (0 = all) back to the send queue now; returns how many. */
  flushRetry(tkid: number): number;
  /** FLUSHRETRY in every form: flushRetry, and with TKID=0 on a shared queue its released entries due now for every node. */
  flushLongRetry?(tkid: number): Promise<number>;
  /** (ext, [P2]) The released long-retry messages counted in counters.currentRetry (forwarder.ts retryReleased). */
  retryReleased?(): number | undefined;
  /** (ext, [P2]) Files released for long retry on the shared queue (forwarder.ts releasedFiles). */
  releasedFiles?(): readonly { readonly entryId: string; readonly jobName: string; readonly jobId: string; readonly messages: number; readonly nextAttempt: Date; readonly held: boolean; readonly lastNode: string | null }[];
  /** Extended-retry mail older than `days` (0 = all) made due and sent; returns how many. */
  flushExtended(days: number): Promise<number>;
  /** REFRESHIPlist: re-resolve TargetName / TargetMx. */
  resolve(): Promise<void>;
  /** REFRESHTargets: drop connections and learned capabilities. */
  refreshTargets(): void;
}

export function taskSnapshot(t: TaskView): TaskSnapshot {
  const idle = t.state === 'IDLE';
  const job = t.entry ?? t.lastEntry;
  return {
    tkid: t.tkid,
    type: job?.attrs.taskType ?? 'WRITER',
    state: t.state,
    jobName: job?.attrs.jobName ?? null,
    jobId: job?.attrs.jobId ?? null,
    // Seed: PEND and LRT of an IDLE task are always 0; MAIL READ / UNDELIVERABLE are the previous job's.
    pend: idle ? 0 : t.counters.pend,
    lrt: idle ? 0 : t.counters.lrt,
    mailRead: t.counters.mailRead,
    undeliverable: t.counters.undeliverable,
  };
}

function releasedSnapshots(f: ForwarderView): { released?: readonly ReleasedSnapshot[] } {
  const r = f.releasedFiles?.() ?? [];
  if (r.length === 0) return {};
  return { released: r.map((x) => ({ entry: `db-${x.entryId}`, jobName: x.jobName, jobId: x.jobId, lrt: x.messages, nextAttempt: x.nextAttempt.toISOString(), held: x.held, lastNode: x.lastNode })) };
}

function parkedSnapshots(f: ForwarderView): { parked?: readonly ParkedSnapshot[] } {
  const p = f.parkedFiles?.() ?? [];
  if (p.length === 0) return {};
  return { parked: p.map((r) => ({ tkid: r.tkid, jobName: r.entry.attrs.jobName, jobId: r.entry.attrs.jobId, lrt: r.counters.lrt, mailRead: r.counters.mailRead, undeliverable: r.counters.undeliverable })) };
}

export function targetSnapshot(t: TargetView): TargetSnapshot {
  const c = t.capabilities;
  const s = t.addr.server;
  const src = t.addr.source;
  return {
    address: t.addr.address,
    port: t.addr.port,
    source: src.kind === 'TargetIP' ? { kind: 'TargetIP' } : src.kind === 'TargetName' ? { kind: 'TargetName', name: src.name } : { kind: 'TargetMx', name: src.name, exchange: src.exchange, preference: src.preference },
    connectLimit: s.connectLimit,
    maxMsgSent: s.maxMsgSent,
    messageSize: s.messageSize,
    secure: s.secure,
    state: t.state,
    esmtp: c?.esmtp ?? null,
    startTls: c === undefined ? null : c.esmtp && c.startTls,
    // Seed: ESMTP shows the SIZE extension's value (0 = no limit); SMTP shows the configured MessageSize.
    effectiveMessageSize: c?.esmtp === true ? (c.size ?? 0) : s.messageSize,
    mailAttempts: t.counters.mailAttempts,
    mailSent: t.counters.mailSent,
    connectFail: t.counters.connectFail,
    lostAttempts: t.counters.lostAttempts ?? 0,
    lastError: t.lastError,
    ...rateOf(t),
  };
}

function rateOf(t: TargetView): { rate?: TargetRateSnapshot } {
  const r = t.limiter?.snapshot();
  if (r === undefined) return {};
  const limited = r.msgPerSecond !== null || r.msgPerMinute !== null || r.rcptPerMsg !== null || r.connectPerMinute !== null;
  return limited || r.rateReplies > 0 || !r.backoff ? { rate: r } : {};
}

export function takeSnapshot(opts: {
  forwarder: ForwarderView;
  instance: string;
  logLevel: number;
  userExit: string | null;
  compat?: DisplayCompat;
  withConfig?: { config: Config; runtime: DisplayRuntime };
}): Snapshot {
  const f = opts.forwarder;
  const c = f.counters;
  const released = f.retryReleased?.();
  return {
    instance: opts.instance.toUpperCase(),
    ...(opts.compat === undefined ? {} : { compat: opts.compat }),
    ...(f.waitReason === undefined ? {} : { waitReason: f.waitReason }),
    logLevel: opts.logLevel,
    userExit: opts.userExit,
    suspendMode: f.suspendMode,
    counters: { mailSent: c.mailSent, totalRetry: c.totalRetry, currentRetry: c.currentRetry, deadLetter: c.deadLetter, undeliver: c.undeliver, extendedCurrent: c.extendedCurrent, extendedTotal: c.extendedTotal, ...(released === undefined ? {} : { retryReleased: released }) },
    tasks: f.tasks.map(taskSnapshot),
    ...parkedSnapshots(f),
    ...releasedSnapshots(f),
    targets: f.listTargets().map(targetSnapshot),
    ...(opts.withConfig === undefined ? {} : { config: opts.withConfig.config, runtime: opts.withConfig.runtime }),
  };
}
