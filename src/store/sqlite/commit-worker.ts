// Group commit off the JavaScript thread, for writes whose caller waits for durability but whose
// commit (an fsync: WAL, synchronous=FULL) must not stall the event loop — every SMTP session of
// the process waits while it runs. A worker thread with its own connection to the same database
// file runs the queued statements, one transaction per batch; while a commit is in flight, new
// writes wait and go together in the next transaction, so the batch grows with the load without
// a timer. Each write's promise resolves only after the worker reports the transaction holding
// it committed, so what a caller was told is durable is exactly what it was before (the same
// synchronous=FULL commit, on another thread). Writes commit in the order they were queued.
//
// flush() is synchronous (close, shutdown): it waits for the commit in flight (Atomics.wait on a
// shared status word) and commits the rest on the caller's connection. An in-memory database, a
// worker that cannot start or that dies: commits run on the caller's connection instead.
//
// The one mechanism for both durable records of SQLite: the journal (store/sqlite/mailboxes.ts,
// the receiver's and forwarder's record of events) and the forwarder's checkpoint
// (forwarder/checkpoint.ts, which messages and recipients of a spool file are finished).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** One write: the index of a statement given to the constructor, and its parameters. */
export type Write = readonly [statement: number, args: readonly (string | number | bigint | null)[]];

/** One caller's writes (one or more statements: they commit in the same transaction) and its promise. */
interface Pending { readonly w: Write | readonly Write[]; readonly many: boolean; readonly resolve: () => void; readonly reject: (e: unknown) => void }

/** The writes of a batch, in order, as one flat list (what the worker and commitHere() apply). */
function writesOf(batch: readonly Pending[]): Write[] {
  const out: Write[] = [];
  for (const b of batch) {
    if (b.many) out.push(...(b.w as readonly Write[]));
    else out.push(b.w as Write);
  }
  return out;
}

export interface CommitWorkerOptions {
  /** false: commit on the caller's thread (as an in-memory database always does). */
  readonly worker?: boolean;
  /** SQLite busy_timeout of the worker's connection (default 5000 ms). */
  readonly busyMs?: number;
  /**
   * How long an idle writer waits before committing the first write, to collect more (default
   * 0: the next turn of the event loop). Under load the batch is whatever queued while the
   * previous commit was in flight, whatever this is.
   */
  readonly batchMs?: number;
  /** Names the writer in the errors of a failed commit ("<label> commit failed: …"). */
  readonly label?: string;
}

/** How many batches were committed and how many writes they held (the group commit's batch sizes). */
export interface CommitStats {
  batches: number;
  writes: number;
  largest: number;
}

// status[0]: sequence number of the last batch the worker finished; status[1]: 1 if it failed.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = ' + workerData.busyMs);
db.pragma('synchronous = FULL');
const stmts = workerData.statements.map((s) => db.prepare(s));
const status = new Int32Array(workerData.status);
const apply = db.transaction((writes) => { for (const w of writes) stmts[w[0]].run(...w[1]); });
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.close(); return; }
  let error;
  try { apply(m.writes); } catch (e) { error = e instanceof Error ? e.message : String(e); }
  Atomics.store(status, 1, error === undefined ? 0 : 1);
  Atomics.store(status, 0, m.seq);
  Atomics.notify(status, 0);
  parentPort.postMessage({ seq: m.seq, error });
});
`;

/** How long flush() waits for a commit in flight before committing the rest itself. */
const FLUSH_WAIT_MS = 10_000;

export class CommitWorker {
  private queue: Pending[] = [];
  private timer: { readonly kind: 'timeout'; readonly t: NodeJS.Timeout } | { readonly kind: 'immediate'; readonly t: NodeJS.Immediate } | undefined;
  private worker: Worker | undefined;
  private readonly status = new Int32Array(new SharedArrayBuffer(8));
  private seq = 0;
  /** The batch the worker is committing (at most one at a time, to keep the order). */
  private inFlight: { seq: number; batch: Pending[] } | undefined;
  private readonly applyHere: (writes: readonly Write[]) => void;
  private readonly batchMs: number;
  /** "<label> commit failed", "<label> worker exited" ("commit failed", "commit worker …" without a label). */
  private readonly failed: string;
  private readonly workerName: string;
  /** Batches committed so far (on the worker or here) and their sizes, in writes. */
  readonly stats: CommitStats = { batches: 0, writes: 0, largest: 0 };

  /**
   * `db`: the caller's connection (WAL, synchronous=FULL; used when there is no worker and by
   * flush()); `statements`: the SQL of the writes, prepared on both connections.
   */
  constructor(db: BetterSqlite3.Database, statements: readonly string[], opts: CommitWorkerOptions = {}) {
    const stmts = statements.map((s) => db.prepare(s));
    this.applyHere = db.transaction((writes: readonly Write[]) => { for (const [i, args] of writes) stmts[i]!.run(...args); });
    this.batchMs = opts.batchMs ?? 0;
    this.failed = opts.label === undefined ? 'commit failed' : `${opts.label} commit failed`;
    this.workerName = `${opts.label ?? 'commit'} worker`;
    // Started at once, not at the first write: the thread's start (loading better-sqlite3,
    // opening the database) then falls in the process's start-up, not in the first message's way.
    if (opts.worker !== false && !db.memory) this.start(db.name, statements, opts.busyMs ?? 5000);
  }

  /** True while commits run on the worker thread (false: on the caller's thread). */
  get offThread(): boolean {
    return this.worker !== undefined;
  }

  private start(path: string, statements: readonly string[], busyMs: number): void {
    try {
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, path, statements, busyMs, status: this.status.buffer } });
      w.unref();
      w.on('message', (m: { seq: number; error?: string }) => this.committed(m.seq, m.error));
      const lost = (e: unknown): void => {
        if (this.worker !== w) return;
        this.worker = undefined;
        const f = this.inFlight;
        this.inFlight = undefined;
        // A batch whose commit was not reported is failed (its writes may or may not be on disk).
        if (f !== undefined) for (const b of f.batch) b.reject(e instanceof Error ? e : new Error(`${this.workerName}: ${String(e)}`));
        this.schedule();
      };
      w.on('error', lost);
      w.on('exit', (code) => lost(new Error(`${this.workerName} exited with ${code}`)));
      this.worker = w;
    } catch {
      this.worker = undefined;
    }
  }

  /** The promise of the last write queued (batches commit in order: it settles last). */
  private last: Promise<void> = Promise.resolve();

  /** Queues a write; resolves when the transaction holding it is committed. */
  run(w: Write): Promise<void> {
    return this.enqueue(w, false);
  }

  /** Queues writes that commit together (in one transaction, in this order); resolves when committed. */
  runAll(writes: readonly Write[]): Promise<void> {
    return this.enqueue(writes, true);
  }

  private enqueue(w: Write | readonly Write[], many: boolean): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ w, many, resolve, reject });
      this.schedule();
    });
    this.last = p;
    return p;
  }

  /**
   * Resolves once every write queued before the call is committed or failed (never rejects): a
   * reader that must see what was written before it (read your writes) awaits this first.
   */
  settled(): Promise<void> {
    return this.last.then(() => undefined, () => undefined);
  }

  /** Starts a commit of the queue soon, unless one is in flight (its completion starts the next). */
  private schedule(): void {
    if (this.timer !== undefined || this.inFlight !== undefined || this.queue.length === 0) return;
    this.timer = this.batchMs > 0 ? { kind: 'timeout', t: setTimeout(() => this.send(), this.batchMs) } : { kind: 'immediate', t: setImmediate(() => this.send()) };
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    if (this.timer.kind === 'timeout') clearTimeout(this.timer.t);
    else clearImmediate(this.timer.t);
    this.timer = undefined;
  }

  private count(writes: number): void {
    this.stats.batches++;
    this.stats.writes += writes;
    if (writes > this.stats.largest) this.stats.largest = writes;
  }

  /** Hands the queue to the worker as one transaction (or commits it here without a worker). */
  private send(): void {
    this.clearTimer();
    if (this.inFlight !== undefined || this.queue.length === 0) return;
    const w = this.worker;
    if (w === undefined) { this.commitHere(); return; }
    const batch = this.queue;
    this.queue = [];
    this.inFlight = { seq: ++this.seq, batch };
    const writes = writesOf(batch);
    this.count(writes.length);
    w.ref(); // a commit in flight keeps the process alive until its promises settle
    w.postMessage({ seq: this.seq, writes });
  }

  private committed(seq: number, error: string | undefined): void {
    const f = this.inFlight;
    if (f === undefined || f.seq !== seq) return; // already settled by a synchronous flush()
    this.inFlight = undefined;
    this.worker?.unref();
    if (error === undefined) for (const b of f.batch) b.resolve();
    else for (const b of f.batch) b.reject(new Error(`${this.failed}: ${error}`));
    this.schedule();
  }

  private commitHere(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const writes = writesOf(batch);
    this.count(writes.length);
    try {
      this.applyHere(writes);
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    for (const b of batch) b.resolve();
  }

  /** Synchronously commits everything queued: waits for the commit in flight, then commits the rest here. */
  flush(): void {
    this.clearTimer();
    const f = this.inFlight;
    if (f !== undefined && this.worker !== undefined) {
      const deadline = Date.now() + FLUSH_WAIT_MS;
      while (Atomics.load(this.status, 0) < f.seq && Date.now() < deadline) {
        Atomics.wait(this.status, 0, Atomics.load(this.status, 0), Math.max(1, deadline - Date.now()));
      }
      if (Atomics.load(this.status, 0) >= f.seq) this.committed(f.seq, Atomics.load(this.status, 1) === 0 ? undefined : 'see the worker');
      this.clearTimer(); // committed() may have scheduled the rest: commit it here instead
    }
    if (this.inFlight === undefined) this.commitHere();
  }

  /** Flushes, then stops the worker (the caller closes its own connection after). */
  close(): void {
    this.flush();
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) { w.postMessage({ close: true }); w.unref(); }
  }
}
