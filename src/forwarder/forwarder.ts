// The forwarder (SPEC.md §2): spool tasks read spool files, the lifecycle delivers each message
// through the targets with retry and extended retry, and the operator can suspend, resume,
// flush retries and refresh targets. Everything it touches outside memory is injected.
//
// Read-ahead is bounded by the connections: a task reads the next message only while fewer of
// its messages are in delivery (not parked in long retry) than all targets' ConnectLimits
// together. With the checkpoint written before a connection is released (lifecycle.ts), a
// crash resends at most one message per connection. A stop (SIGTERM) lets the attempts in
// flight end, bounded by DrainTimeout; everything else stays in the spool unsent.
import type { Clock, Health, Resolver, Timer } from '../core/index.js';
import { describeError } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { CheckpointPort } from './checkpoint.js';
import { Lifecycle, newCounters, queueIdOf, type ExtendedPolicy, type FinalOutcome, type ForwarderEvent, type GlobalCounters, type HoldCheck, type OperatorCommand, type RetryPolicy, type StatusNotices, type UndeliverableHandler, type WorkItem } from './lifecycle.js';
import { Target, reconcileTargets, type ConnectionRecord } from './pool.js';
import { Router } from './router.js';
import { NO_RATE_LIMITS, TargetLimiter } from './rate.js';
import { FileRetry } from './file-retry.js';
import { SpoolTask, type FileRun, type ParkingLot, type PrintReportRunner, type SpoolPort, type TaskEntry, type TaskSettings } from './task.js';
import { resolveTargets } from './targets.js';
import { SteadyTime } from './steady-time.js';
import { DkimStage, type DkimSigning } from './dkim.js';
import type { Connector, TargetServerSpec } from './types.js';
import type { RetrySummary } from '../store/queue-store.js';

export interface SpoolSource extends SpoolPort {
  list(): Promise<TaskEntry[]>;
  watch(onArrival: (e: TaskEntry) => void): void;
  /**
   * A source that hands out work on demand (the shared store: claims under leases) is told how
   * many tasks are free with nothing queued for them; the local spool hands every file at once
   * and has no need of it. `inProcess` (SUSPEND,DELAY): only files already in process, no new one.
   */
  wantMore?(free: number, inProcess?: boolean): void;
  /**
   * A file its task left unfinished (unreadable, a transient error, a lost lease): true when the
   * source takes it back (the store releases it for any node), false to have the forwarder
   * hand it out again after a back-off (file-retry.ts). `stopping`: the gateway is stopping.
   */
  giveBack?(e: TaskEntry, stopping: boolean): boolean;
  /**
   * A source whose entries are leased (the shared store) reports a lost lease here: the
   * forwarder's messages of that entry stop waiting and are not tried again (Lifecycle.abandon).
   */
  onLost?(cb: (entryId: string) => void): void;
  /**
   * `start --once` on a source that hands out work on demand (the shared store): called once,
   * after list(), it fixes what the run may take, and returns how the run takes it — up to `max`
   * entries now, none when nothing within the bound is due and free. Without it (the local spool)
   * the run is what list() returned.
   */
  once?(): Promise<(max: number) => Promise<TaskEntry[]>>;
  /**
   * FLUSHRETRY on a shared queue: the entries released for long retry are due now for every node
   * (not only this node's memory); resolves with how many entries once it is committed.
   */
  flushShared?(): Promise<number>;
  /** Messages waiting in long retry on the shared queue, held by no node (CURRENT RETRY counts them). */
  retryShared?(): number;
  /** Messages of the entries this node holds, deferred to their retry time until the entry is released (this node's own: CURRENT RETRY counts them). */
  retryHeld?(): number;
  /** The files released for long retry on the shared queue (D,SPOOL lists them; the first RELEASED_SHOWN). */
  releasedFiles?(): RetrySummary['files'];
}

/** An extended-retry record as the scheduler sees it (src/forwarder/mail-directory.ts). */
export interface ExtendedRecord {
  readonly item: WorkItem;
  readonly nextAttempt: Date;
}

export interface ExtendedSource {
  due(now: Date): Promise<ExtendedRecord[]>;
  count(): Promise<number>;
  /** FLUSHRETRY,AGE=days: make records older than days due now; returns how many. */
  makeDue(olderThanMs: number, now: Date): Promise<number>;
}

export interface ForwarderSettings {
  readonly tasks: number;
  readonly connectRetryMs: number;
  readonly idleMs: number;
  readonly retry: RetryPolicy;
  readonly extended: ExtendedPolicy;
  readonly task: TaskSettings;
  /** ChkPointSizeLimit: messages tracked at once across all tasks. */
  readonly maxTracked: number;
  /** DrainTimeout: how long a stop waits for attempts in flight (default 30 s). */
  readonly drainTimeoutMs?: number;
  /** Octets of message data parked files may hold in memory (default MAX_PARKED_BYTES). */
  readonly maxParkedBytes?: number;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** Message data that parked files (all their remaining mail in long retry) may hold in memory. */
export const MAX_PARKED_BYTES = 64 * 1024 * 1024;

export type SuspendMode = 'none' | 'immediate' | 'delay';

export class Forwarder {
  readonly counters: GlobalCounters = newCounters();
  readonly tasks: SpoolTask[] = [];
  readonly router: Router;
  readonly lifecycle: Lifecycle;
  targetWarnings: readonly string[] = [];
  suspendMode: SuspendMode = 'none';
  private targets: readonly Target[] = [];
  private limiters = new Map<string, TargetLimiter>();
  private readonly queue: TaskEntry[] = [];
  private readonly known = new Set<string>();
  private stopping = false;
  /** runOnce(): waiting for a target counts as an attempt (lifecycle noTargetIsAttempt). */
  private once = false;
  private readonly running = new Set<Promise<void>>();
  private extTimer: Timer | undefined;
  private extRunning = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly fileRetry: FileRetry;
  /** Dates for extended retry and Age that follow the monotonic clock (steady-time.ts). */
  readonly steady: SteadyTime;
  /** Files parked with all their remaining mail in long retry (task.ts), within bounds. */
  private readonly parkedRuns = new Set<FileRun>();
  private readonly parking: ParkingLot = {
    admit: (run) => {
      const s = this.deps.settings();
      // What the tasks may read is reserved: parked files and files being read together stay
      // within ChkPointSizeLimit messages, and parked mail within MAX_PARKED_BYTES of memory.
      const perTask = Math.max(1, Math.min(s.task.maxPending, Math.floor(s.maxTracked / s.tasks)));
      let messages = run.counters.pend;
      let bytes = run.bytes;
      for (const r of this.parkedRuns) { messages += r.counters.pend; bytes += r.bytes; }
      if (messages > s.maxTracked - s.tasks * perTask || bytes > (s.maxParkedBytes ?? MAX_PARKED_BYTES)) return false;
      this.parkedRuns.add(run);
      return true;
    },
    // Room in the lot: a task holding a file that could not be parked may park it now.
    leave: (run) => { if (this.parkedRuns.delete(run)) for (const t of this.tasks) t.poke(); },
  };

  constructor(
    private readonly deps: {
      clock: Clock;
      log: Logger;
      resolver: Resolver;
      connector: Connector;
      checkpoint: CheckpointPort;
      spool: SpoolSource;
      undeliverable: UndeliverableHandler;
      extended?: ExtendedSource;
      settings: () => ForwarderSettings;
      servers: () => readonly TargetServerSpec[];
      onMailFinished?: (item: WorkItem, outcome: FinalOutcome) => void;
      onFileDone?: (tkid: number, entry: TaskEntry, stats: { mailRead: number; undeliverable: number; problems: number; disposition: 'finished' | 'held' }) => void;
      /** A connection to a target ended or failed to open (CONNECT accounting). */
      onConnection?: (r: ConnectionRecord) => void;
      /** A Secure YES target negotiated TLS (the composition root logs EZD1821I). */
      onSecureTls?: (address: string) => void;
      /** Where a checkpoint that cannot be written is marked (component `checkpoint`). */
      health?: Health;
      /** Operator holds (src/queue): held messages are not tried, held extended records not run. */
      holds?: HoldCheck;
      /** Forwarder events for the journal (journal.ts); flush() at stop hands over what waits. */
      journal?: ((e: ForwarderEvent) => void) & { flush?: () => void };
      /** NOTIFY=SUCCESS / NOTIFY=DELAY notices (status-notices.ts). */
      notices?: StatusNotices;
      /** DKIM keys (the Dkim statements); absent or empty: nothing is signed. */
      dkim?: Omit<DkimSigning, 'log'>;
      /** Print-report spool entries (submit/pdf-spool.ts, wired by the gateway). */
      printReport?: PrintReportRunner;
    },
  ) {
    this.router = new Router([], deps.clock);
    if (deps.spool.retryShared !== undefined) {
      // On a shared queue CURRENT RETRY is the cluster's: this node's messages waiting in memory
      // (the lifecycle counts them up and down here) and those deferred on the entries it holds
      // until it releases them (its own), plus those released for long retry that no node holds
      // (store-source.ts; retryReleased), so D,SPOOL, metrics and status on any node count them.
      const shared = (): number => (deps.spool.retryShared?.() ?? 0) + (deps.spool.retryHeld?.() ?? 0);
      let local = this.counters.currentRetry;
      Object.defineProperty(this.counters, 'currentRetry', { enumerable: true, get: () => local + shared(), set: (v: number) => { local = v - shared(); } });
    }
    this.fileRetry = new FileRetry({ clock: deps.clock, log: deps.log, again: (e) => { this.known.delete(e.id); this.enqueue(e); } });
    const steady = new SteadyTime(deps.clock, deps.log);
    this.steady = steady;
    this.lifecycle = new Lifecycle({
      router: this.router,
      checkpoint: deps.checkpoint,
      clock: deps.clock,
      wallNow: () => steady.now(),
      log: deps.log,
      counters: this.counters,
      undeliverable: deps.undeliverable,
      retry: () => deps.settings().retry,
      extended: () => deps.settings().extended,
      // By the file: the task that read it keeps its counters, also while the file is parked.
      onWait: (o, w) => { if (o.kind === 'spool') this.task(o.tkid)?.setTargetWait(o.entryId, w); },
      noTargetIsAttempt: () => this.once,
      // A message parked in long retry frees its place in the read-ahead: wake the task.
      onRetry: (o, d) => { if (o.kind === 'spool') this.task(o.tkid)?.retryChanged(o.entryId, d); },
      onFinishing: (o, d) => { if (o.kind === 'spool') this.task(o.tkid)?.finishingChanged(o.entryId, d); },
      onFinished: deps.onMailFinished,
      health: deps.health,
      ...(deps.holds === undefined ? {} : { holds: deps.holds }),
      ...(deps.journal === undefined ? {} : { journal: deps.journal }),
      ...(deps.notices === undefined ? {} : { notices: deps.notices }),
      ...(deps.dkim === undefined ? {} : { dkim: new DkimStage({ ...deps.dkim, log: deps.log }) }),
    });
    const s = deps.settings();
    for (let i = 1; i <= s.tasks; i++) {
      this.tasks.push(new SpoolTask(i, {
        lifecycle: this.lifecycle,
        checkpoint: deps.checkpoint,
        now: () => steady.now(),
        spool: deps.spool,
        log: deps.log.forTask(i),
        settings: () => {
          const st = deps.settings();
          // ChkPointSizeLimit is shared by all tasks.
          return { ...st.task, maxPending: Math.max(1, Math.min(st.task.maxPending, Math.floor(st.maxTracked / st.tasks))), readAhead: this.capacity() };
        },
        suspended: () => this.suspendMode === 'immediate',
        stopping: () => this.stopping,
        onFileDone: (entry, stats) => deps.onFileDone?.(i, entry, stats),
        parking: this.parking,
        onFree: () => this.pump(),
        ...(deps.printReport === undefined ? {} : { printReport: deps.printReport }),
      }));
    }
  }

  /** The spool task with this TKID (found by its id, not by its position in the list). */
  private task(tkid: number): SpoolTask | undefined {
    return this.tasks.find((t) => t.tkid === tkid);
  }

  /** Files parked with all their remaining mail in long retry, by the task that read them. */
  parkedFiles(): readonly FileRun[] {
    return this.tasks.flatMap((t) => t.parked());
  }

  listTargets(): readonly Target[] {
    return this.targets;
  }

  /** Connections all targets may have open at once (their ConnectLimits together; at least 1). */
  capacity(): number {
    return Math.max(1, this.targets.reduce((n, t) => n + t.addr.server.connectLimit, 0));
  }

  /** Why sending is stopped though targets may be usable (the checkpoint cannot be written), or undefined. */
  get waitReason(): string | undefined {
    const p = this.lifecycle.checkpointProblem;
    return p === undefined ? undefined : `checkpoint cannot be written: ${p}`;
  }

  /** Resolves the targets (REFRESHIPlist does this again). Keeps state of addresses that stay. */
  async resolve(): Promise<void> {
    const { targets, warnings } = await resolveTargets(this.deps.servers(), this.deps.resolver);
    this.targetWarnings = warnings;
    for (const w of warnings) this.deps.log.warn('target.warning', { detail: w });
    const s = this.deps.settings();
    const r = reconcileTargets(this.targets, targets, (addr) => new Target(addr, this.deps.connector, this.deps.clock, {
      connectRetryMs: s.connectRetryMs,
      idleMs: s.idleMs,
      onConnection: this.deps.onConnection,
      onSecureTls: (t) => this.deps.onSecureTls?.(t.addr.address),
      onChange: (t) => {
        this.deps.log.event('target.state', { address: t.addr.address, state: t.state, detail: t.lastError || undefined });
        if (t.state === 'ACTIVE') for (const task of this.tasks) task.poke();
      },
    }));
    this.assignLimiters(r.targets);
    for (const c of r.changed) this.deps.log.event('target.settings-changed', { target: c.key, changed: c.settings.join(' ') });
    // Targets that went away or whose settings changed: close their connections (mail in flight
    // finishes on its current connection, then goes to another address or to retry). Only these.
    for (const t of r.retired) void t.close(true).catch((e: unknown) => this.deps.log.error('target.close', { address: t.addr.address, error: describeError(e) }));
    this.targets = r.targets;
    this.router.setTargets(r.targets);
    if (r.targets.length === 0) this.deps.log.error('target.none', { detail: 'no usable target address' });
  }

  /**
   * One rate limiter per TargetServer statement (rate.ts), shared by its addresses: a relay
   * counts the account, whichever of its addresses we reach. A statement is known again on
   * REFRESH by where it points (TargetIP/TargetName/TargetMx and ConnectPort); its limiter then
   * keeps its history and takes the new limits.
   */
  private assignLimiters(targets: readonly Target[]): void {
    const next = new Map<string, TargetLimiter>();
    for (const t of targets) {
      const spec = t.addr.server;
      const key = JSON.stringify([spec.targetIp, spec.targetName, spec.targetMx ?? null, spec.port]);
      let lim = next.get(key);
      if (lim === undefined) {
        lim = this.limiters.get(key) ?? new TargetLimiter(spec.rate ?? NO_RATE_LIMITS, this.deps.clock);
        lim.update(spec.rate ?? NO_RATE_LIMITS);
        next.set(key, lim);
      }
      t.limiter = lim;
    }
    this.limiters = next;
  }

  /** REFRESHTargets: reconnect to all targets and relearn their capabilities. */
  refreshTargets(): void {
    for (const t of this.targets) t.reset();
  }

  /** Starts watching the spool and processing files. */
  async start(): Promise<void> {
    await this.resolve();
    // watch() reports every entry present now, then each new one: one enumeration at start (a
    // second list() here could hand a file back after it finished: a spurious ENOENT, R3 item 7).
    this.deps.spool.onLost?.((id) => { this.lifecycle.abandon(id); });
    this.deps.spool.watch((e) => this.enqueue(e));
    // A source that hands out work on demand (wantMore) learns now that every task is free.
    if (this.deps.spool.wantMore !== undefined) this.pump();
    this.scheduleExtended(0);
  }

  /** --once: processes what is in the spool now (and due extended retries), then resolves. */
  async runOnce(): Promise<void> {
    // A run that ends: no usable target is a failed attempt, so RetryLimit bounds it.
    this.once = true;
    await this.resolve();
    this.deps.spool.onLost?.((id) => { this.lifecycle.abandon(id); });
    for (const e of await this.deps.spool.list()) this.enqueue(e);
    const take = await this.deps.spool.once?.();
    await Promise.all([this.runExtendedDue(), take === undefined ? undefined : this.drain(take)]);
    await this.idle();
  }

  /**
   * --once on the shared queue: takes entries while tasks are free, and ends when nothing more
   * is given and no file is in process. Each take is bounded (the source's bound, the free tasks).
   */
  private async drain(take: (max: number) => Promise<TaskEntry[]>): Promise<void> {
    while (!this.stopping) {
      const free = this.tasks.filter((t) => t.state === 'IDLE' && t.entry === undefined).length - this.queue.length;
      if (free > 0) {
        const got = await take(free);
        for (const e of got) this.enqueue(e);
        if (got.length > 0) continue;
        if (this.running.size === 0 && this.queue.length === 0) return;
      }
      // A file ends (a task is free again, and what another node released may be due), or, when
      // nothing runs (SUSPEND), the forwarder is idle again.
      await (this.running.size > 0 ? Promise.race(this.running) : this.idle());
    }
  }

  /** Resolves when no file is queued or in process. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0 && this.extRunning === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.queue.length === 0 && this.running.size === 0 && this.extRunning === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  enqueue(e: TaskEntry): void {
    if (this.known.has(e.id) || this.withheld.has(e.id) || this.stopping) return;
    this.known.add(e.id);
    this.queue.push(e);
    this.pump();
  }

  /** Files the operator acts on (src/queue): out of the queue, no task starts them; the entry given back on failure. */
  private readonly withheld = new Map<string, TaskEntry | undefined>();

  /**
   * (src/queue) Takes a spool file no task has started out of the forwarder's hands, so the
   * operator can hold or delete it. False when a task reads it now or it is parked (its messages
   * are in the queue then). Until returnFile() no task starts it, and the watcher's reports of it are ignored.
   */
  withholdFile(id: string): boolean {
    if (this.withheld.has(id) || this.tasks.some((t) => t.entry?.id === id) || this.parkedFiles().some((r) => r.entry.id === id)) return false;
    const i = this.queue.findIndex((e) => e.id === id);
    this.withheld.set(id, i >= 0 ? this.queue.splice(i, 1)[0] : undefined);
    this.known.add(id);
    return true;
  }

  /**
   * (src/queue) Ends withholdFile(): `moved` (held or deleted) forgets the name, so a release
   * from held/ is a new arrival; otherwise (the action failed) the file goes back in the queue
   * where it was.
   */
  returnFile(id: string, moved: boolean): void {
    if (!this.withheld.has(id)) return;
    const e = this.withheld.get(id);
    this.withheld.delete(id);
    this.known.delete(id);
    if (!moved && e !== undefined) this.enqueue(e);
  }

  private pump(): void {
    if (this.stopping || this.suspendMode === 'immediate') { this.checkIdle(); return; }
    // SUSPEND,DELAY starts no new file, but finishes those already in process: on the shared
    // queue, an entry a node read and released for long retry (TaskEntry.inProcess).
    const delay = this.suspendMode === 'delay';
    for (const task of this.tasks) {
      if (task.state !== 'IDLE' || task.entry !== undefined) continue;
      const i = delay ? this.queue.findIndex((q) => q.inProcess === true) : 0;
      const e = i < 0 ? undefined : this.queue.splice(i, 1)[0];
      if (e === undefined) break;
      const p = task.process(e).then(
        // An unfinished file (unreadable, a transient store error) stays known and is handed back
        // after a back-off (file-retry.ts); one interrupted by shutdown waits for the next start.
        (finished) => { if (finished) { this.known.delete(e.id); this.fileRetry.done(e.id); } else this.unfinished(e); },
        (err: unknown) => { this.deps.log.error('spool.task-failed', { id: e.id, error: describeError(err) }); this.unfinished(e); },
      ).finally(() => { this.running.delete(p); this.pump(); });
      this.running.add(p);
    }
    const waiting = delay ? this.queue.some((q) => q.inProcess === true) : this.queue.length > 0;
    if (!waiting && this.deps.spool.wantMore !== undefined) {
      const free = this.tasks.filter((t) => t.state === 'IDLE' && t.entry === undefined).length;
      if (free > 0) this.deps.spool.wantMore(free, delay);
    }
    this.checkIdle();
  }

  /** A file its task did not finish: the source takes it back, or it is handed out again later. */
  private unfinished(e: TaskEntry): void {
    if (this.deps.spool.giveBack?.(e, this.stopping) === true) { this.known.delete(e.id); return; }
    if (!this.stopping) this.fileRetry.unfinished(e);
  }

  suspend(mode: 'immediate' | 'delay'): void {
    this.suspendMode = mode;
    // A source that hands out work on demand (the shared queue) claims no new file here: a
    // suspended node must leave the entries to the others (pump() asks again at RESUME). Under
    // DELAY, pump() asks for the files already in process only (released for long retry).
    this.deps.spool.wantMore?.(0);
    for (const t of this.tasks) t.poke();
    if (mode === 'delay') this.pump();
  }

  resume(): void {
    this.suspendMode = 'none';
    for (const t of this.tasks) t.poke();
    this.pump();
  }

  flushRetry(tkid: number): number {
    return this.lifecycle.flushRetry(tkid);
  }

  /**
   * (ext, [P2]) The cluster's messages released for long retry on the shared queue, held by no
   * node: the part of this node's CURRENT RETRY that is not its own (the NODE table and metrics
   * show it once, docs/cluster.md); undefined when the spool is not a shared queue.
   */
  retryReleased(): number | undefined {
    return this.deps.spool.retryShared?.();
  }

  /** (ext, [P2]) Files released for long retry on the shared queue, held by no node: D,SPOOL lists them. */
  releasedFiles(): RetrySummary['files'] {
    return this.deps.spool.releasedFiles?.() ?? [];
  }

  /**
   * FLUSHRETRY,TKID=n in every form (MODIFY, HTTP, `sendmail -q`, `queue retry`): this node's
   * long-retry mail of task n (0 = all) is tried now, and with TKID=0 on a shared queue the
   * entries released for long retry are due now for every node ([P2]: idle nodes are woken).
   * Resolves once that is committed, with how many messages (here) and entries (shared).
   */
  async flushLongRetry(tkid: number): Promise<number> {
    const here = this.flushRetry(tkid);
    return here + (tkid === 0 ? (await this.deps.spool.flushShared?.()) ?? 0 : 0);
  }

  async flushExtended(ageDays: number): Promise<number> {
    if (!this.deps.extended) return 0;
    // AGE=0 is every record, whatever the clock says about their dates (a record written before
    // a backward clock step has a first attempt "in the future").
    const n = await this.deps.extended.makeDue(ageDays === 0 ? -Infinity : ageDays * 86_400_000, new Date(this.steady.now()));
    await this.runExtendedDue();
    return n;
  }

  private scheduleExtended(ms: number): void {
    this.extTimer?.cancel();
    if (this.stopping || !this.deps.extended) return;
    this.extTimer = this.deps.clock.setTimer(ms, () => {
      void this.runExtendedDue().catch((e: unknown) => this.deps.log.error('extended.failed', { error: describeError(e) })).finally(() => {
        const ext = this.deps.settings().extended;
        // Check at least every minute so records written with a shorter Interval are not late.
        this.scheduleExtended(Math.min(ext.intervalMs > 0 ? ext.intervalMs : 60_000, 60_000));
      });
    });
  }

  private async runExtendedDue(): Promise<void> {
    const ext = this.deps.extended;
    if (!ext || !this.deps.settings().extended.active) return;
    this.extRunning++;
    try {
      // Held records wait for the operator; a record already being tried (a long attempt) is not started twice.
      const due = (await ext.due(new Date(this.steady.now()))).filter((r) => this.deps.holds?.isHeld(queueIdOf(r.item)) !== true && this.lifecycle.liveEntry(queueIdOf(r.item)) === undefined);
      await Promise.all(due.map((r) => this.lifecycle.run(r.item).catch((e: unknown) => {
        this.deps.log.error('extended.failed', { error: describeError(e) });
      })));
      this.counters.extendedCurrent = await ext.count();
    } finally {
      this.extRunning--;
      this.checkIdle();
    }
  }

  /** (src/queue) Retry now: extended-retry records that are due are tried at once. */
  async retryExtendedNow(): Promise<void> {
    await this.runExtendedDue();
  }

  /**
   * (src/queue) Runs one extended-retry message now with the operator's end for it (bounce,
   * delete): the lifecycle notifies, records and removes it as for any final outcome.
   */
  async endExtended(item: WorkItem, command: OperatorCommand): Promise<FinalOutcome | undefined> {
    // The scheduler may have started this record meanwhile: the command goes to that run.
    const running = this.lifecycle.operator(queueIdOf(item), command);
    if (running !== undefined) return running;
    this.extRunning++;
    try {
      const outcome = await this.lifecycle.run(item, command);
      this.counters.extendedCurrent = (await this.deps.extended?.count()) ?? this.counters.extendedCurrent;
      return outcome;
    } finally {
      this.extRunning--;
      this.checkIdle();
    }
  }

  /**
   * SIGTERM: stop reading; attempts in flight end (bounded by DrainTimeout, then their
   * connections are cut); messages not being sent go back to the spool unsent (spool file and
   * checkpoint keep them).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.extTimer?.cancel();
    this.fileRetry.stop();
    this.lifecycle.stop();
    for (const t of this.tasks) t.poke();
    const drained = Promise.allSettled([...this.running]);
    const drainMs = this.deps.settings().drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    let timer: Timer | undefined;
    const late = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => { timer = this.deps.clock.setTimer(drainMs, () => resolve(true)); }),
    ]);
    timer?.cancel();
    if (late) {
      this.deps.log.warn('forwarder.drain-timeout', { drainTimeoutMs: drainMs, detail: 'attempts still in flight: their connections are cut, the messages stay in the spool' });
      for (const t of this.targets) t.abort();
      await drained;
    }
    await Promise.all(this.tasks.map((t) => t.closeExit()));
    for (const t of this.targets) await t.close(true);
    this.deps.checkpoint.flush();
    this.deps.journal?.flush?.();
  }
}
