// Runs one user-exit module in a worker thread, one call at a time, each bounded by a timeout.
// The exit is untrusted code: a throw, a bad answer, a failure to load, an out-of-memory or an
// endless loop is returned as a failure value; after a timeout or a crash the worker is
// terminated and the next call starts a fresh one. The gateway's own event loop never runs exit
// code, so `while (true) {}` in an exit stops only that exit's worker.
import { Worker } from 'node:worker_threads';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError, type Clock } from '../core/index.js';
import { parseAnswer, type ExitAnswer, type ExitEvent } from './events.js';
import { checkExitFile, checkExitLocation } from './location.js';

export type ExitFailureCause = 'load' | 'throw' | 'timeout' | 'bad-answer';

export type ExitCallResult =
  | { readonly ok: true; readonly answer: ExitAnswer }
  | { readonly ok: false; readonly cause: ExitFailureCause; readonly detail: string };

/** What the per-file session needs from a runner (a fake in tests). */
export interface ExitCaller {
  /** Short name for reply texts and logs: the module's file name. */
  readonly name: string;
  call(event: ExitEvent): Promise<ExitCallResult>;
}

// The worker's source, evaluated as a script (eval: true) so no file path has to be resolved
// in both tsx and dist/. It imports the exit (plain JavaScript ES module) and answers
// { id, ok, answer } or { id, ok: false, cause, detail } to each { id, event }.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const text = (e) => { try { return e instanceof Error ? e.name + ': ' + e.message : String(e); } catch { return 'unprintable error'; } };
import(workerData.url).then((m) => {
  const fn = typeof m.exit === 'function' ? m.exit : m.default;
  if (typeof fn !== 'function') {
    parentPort.postMessage({ type: 'loaded', ok: false, detail: 'the module exports no function (default export or named export exit)' });
    return;
  }
  parentPort.on('message', (msg) => {
    Promise.resolve().then(() => fn(msg.event)).then(
      (answer) => {
        try { parentPort.postMessage({ id: msg.id, ok: true, answer }); }
        catch (e) { parentPort.postMessage({ id: msg.id, ok: false, cause: 'bad-answer', detail: 'answer cannot be passed back: ' + text(e) }); }
      },
      (e) => parentPort.postMessage({ id: msg.id, ok: false, cause: 'throw', detail: text(e) }),
    );
  });
  parentPort.postMessage({ type: 'loaded', ok: true });
}, (e) => parentPort.postMessage({ type: 'loaded', ok: false, detail: text(e) }));
`;

type WorkerReply =
  | { type: 'loaded'; ok: boolean; detail?: string }
  | { id: number; ok: true; answer: unknown }
  | { id: number; ok: false; cause: ExitFailureCause; detail: string };

interface Pending {
  resolve(r: ExitCallResult): void;
}

export interface RunnerOptions {
  /** Absolute path of the exit module. */
  readonly module: string;
  /** UserExitTimeout, read at each call so REFRESH applies. */
  readonly timeoutMs: () => number;
  /** Heap limit of the worker (MB): an exit that hoards memory dies alone. */
  readonly maxHeapMb?: number;
  /** The timeouts' clock (default: real time, holding the process while a call waits). */
  readonly clock?: Clock;
}

// The worker is unref'd so it never keeps the gateway alive; a call in progress does, through
// its timer (systemClock's timers are unref'd, so this one is not: `start --once` with a slow
// exit must wait for the answer or the timeout, not exit in between).
const waitingClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

const MAX_DETAIL = 300;

function short(s: string): string {
  // eslint-disable-next-line no-control-regex
  const one = s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return one.length > MAX_DETAIL ? one.slice(0, MAX_DETAIL) + '...' : one;
}

export class UserExitRunner implements ExitCaller {
  readonly module: string;
  readonly name: string;
  /** Workers started (the first, then one after each timeout or crash). */
  starts = 0;
  private worker: Worker | undefined;
  private ready: Promise<ExitCallResult | undefined> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** A module that failed to load is not retried for every mail: only after reset(). */
  private loadFailure: ExitCallResult | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: RunnerOptions) {
    this.module = opts.module;
    this.name = basename(opts.module);
    this.clock = opts.clock ?? waitingClock;
  }

  /**
   * Loads the module (if not yet loaded): undefined when it is ready, else the failure. Each load
   * checks again that nobody but the gateway's user (or root) can change the module or its folder
   * (location.ts): it was admitted from UserExitDirectory, but may have been made writable since.
   */
  load(): Promise<ExitCallResult | undefined> {
    if (this.closed) return Promise.resolve({ ok: false, cause: 'load', detail: 'user exit runner closed' });
    if (this.loadFailure) return Promise.resolve(this.loadFailure);
    if (this.ready) return this.ready;
    this.starts++;
    const ready = checkExitFile(this.module).then((file) => (file.ok ? this.startWorker() : { ok: false as const, cause: 'load' as const, detail: short(file.error) }));
    this.ready = ready.then((r) => { if (r !== undefined) this.loadFailure = r; return r; });
    return this.ready;
  }

  private startWorker(): Promise<ExitCallResult | undefined> {
    if (this.closed) return Promise.resolve({ ok: false, cause: 'load', detail: 'user exit runner closed' });
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { url: pathToFileURL(this.module).href },
        // The exit is plain JavaScript: no loader hooks (tsx) of the gateway process.
        execArgv: [],
        resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 256 },
        stdout: false,
        stderr: false,
      });
    } catch (e) {
      return Promise.resolve({ ok: false, cause: 'load', detail: short(describeError(e)) });
    }
    // A worker must never keep the gateway from exiting; calls in progress hold their own timer.
    worker.unref();
    this.worker = worker;
    const ready = new Promise<ExitCallResult | undefined>((resolve) => {
      const loadMs = this.opts.timeoutMs();
      const timer = this.clock.setTimer(loadMs, () => {
        this.kill(worker, 'timeout', `loading took longer than ${loadMs} ms`);
        resolve({ ok: false, cause: 'timeout', detail: `loading took longer than ${loadMs} ms` });
      });
      worker.on('message', (m: WorkerReply) => {
        if ('type' in m) {
          timer.cancel();
          if (m.ok) resolve(undefined);
          else {
            const detail = short(m.detail ?? 'not loaded');
            this.kill(worker, 'load', detail);
            resolve({ ok: false, cause: 'load', detail });
          }
          return;
        }
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if (!m.ok) { p.resolve({ ok: false, cause: m.cause, detail: short(m.detail) }); return; }
        const a = parseAnswer(m.answer);
        p.resolve(a.ok ? { ok: true, answer: a.value } : { ok: false, cause: 'bad-answer', detail: short(a.error) });
      });
      // An uncaught error (e.g. thrown from a timer in the exit) or out-of-memory ends the worker.
      worker.on('error', (e) => {
        timer.cancel();
        const detail = short(describeError(e));
        resolve({ ok: false, cause: 'load', detail });
        this.kill(worker, 'throw', `worker failed: ${detail}`);
      });
      worker.on('exit', (code) => {
        timer.cancel();
        resolve({ ok: false, cause: 'load', detail: `worker exited with code ${code} while loading` });
        this.kill(worker, 'throw', `worker exited with code ${code}`);
      });
    });
    return ready;
  }

  /** Forgets a load failure: the next call loads the module again (a new spool file). */
  reset(): void {
    this.loadFailure = undefined;
  }

  /** Calls the exit with one event; never throws, never takes longer than the timeout (plus loading). */
  call(event: ExitEvent): Promise<ExitCallResult> {
    // One call at a time: a timeout then means exactly this call.
    const run = this.chain.then(() => this.callNow(event));
    this.chain = run;
    return run;
  }

  private async callNow(event: ExitEvent): Promise<ExitCallResult> {
    const failed = await this.load();
    if (failed !== undefined) return failed;
    const worker = this.worker;
    if (worker === undefined) return { ok: false, cause: 'load', detail: 'worker not running' };
    const id = this.nextId++;
    const ms = this.opts.timeoutMs();
    return new Promise<ExitCallResult>((resolve) => {
      const timer = this.clock.setTimer(ms, () => {
        this.pending.delete(id);
        resolve({ ok: false, cause: 'timeout', detail: `no answer within ${ms} ms` });
        this.kill(worker, 'timeout', `no answer within ${ms} ms`);
      });
      this.pending.set(id, { resolve: (r) => { timer.cancel(); resolve(r); } });
      try {
        worker.postMessage({ id, event });
      } catch (e) {
        this.pending.delete(id);
        timer.cancel();
        resolve({ ok: false, cause: 'throw', detail: short(`event not passed to the exit: ${describeError(e)}`) });
      }
    });
  }

  /** Ends a worker; calls still waiting on it fail; the next call starts a fresh worker. */
  private kill(worker: Worker, cause: ExitFailureCause, detail: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.resolve({ ok: false, cause, detail });
    }
    // eslint-disable-next-line no-restricted-syntax -- Worker.terminate() resolves with the exit code; it does not reject
    void worker.terminate();
  }

  /** Stops the worker. Later calls fail with cause 'load'. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (w) this.kill(w, 'load', 'user exit runner closed');
  }
}

/**
 * USEREXIT,LEVEL= check: loads the module in a throwaway worker. err = why it cannot be used.
 */
export async function checkUserExit(module: string, timeoutMs: number, clock?: Clock): Promise<{ ok: true } | { ok: false; error: string }> {
  const r = new UserExitRunner({ module, timeoutMs: () => timeoutMs, ...(clock === undefined ? {} : { clock }) });
  try {
    const failed = await r.load();
    return failed === undefined || failed.ok ? { ok: true } : { ok: false, error: `${failed.cause === 'timeout' ? 'TIMEOUT' : 'NOT LOADED'}: ${failed.detail}` };
  } finally {
    await r.close();
  }
}

/**
 * A module for UserExit (start, REFRESH) or USEREXIT,LEVEL=: it must lie in `directory`
 * (UserExitDirectory, owner-only: location.ts) and load. err = why not.
 */
export async function admitUserExit(module: string, directory: string, timeoutMs: number, clock?: Clock): Promise<{ ok: true } | { ok: false; error: string }> {
  const where = await checkExitLocation(module, directory);
  return where.ok ? checkUserExit(module, timeoutMs, clock) : where;
}

/**
 * USEREXIT,LEVEL=<value>: the absolute module path to use (relative paths against `directory`,
 * UserExitDirectory), after checking where it lies and that it loads.
 */
export async function prepareUserExit(value: string, directory: string, timeoutMs: number, clock?: Clock): Promise<{ ok: true; value: string } | { ok: false; error: string }> {
  if (/^VERSION[0-9]$/i.test(value)) return { ok: false, error: `${value} NAMES AN MVS EXIT INTERFACE; USE NONE OR A MODULE PATH` };
  const module = resolve(directory, value);
  const checked = await admitUserExit(module, directory, timeoutMs, clock);
  return checked.ok ? { ok: true, value: module } : { ok: false, error: `${module} ${checked.error}` };
}
