// Retention (issue #18 item 7): the journal, accounting records, dead letters and sysout error
// reports are pruned by age (the Retention statement, days; 0 = kept for ever). One run at start,
// then one every Retention Interval minutes on the injected Clock (its timers do not keep the
// process alive; stop() cancels the next one). The ages are read at every run, so REFRESH applies
// at the next run without a restart.
//
// Never pruned: what is younger than its age, the accounting file being written, held spool files
// (they wait for the operator). A run is bounded: at most `maxPerKind` rows or files of each kind,
// deleted in batches of `batch` with a turn of the event loop between batches, so a first run over
// years of data neither blocks the gateway nor holds a long SQLite write lock; what is left over
// goes at the next run (the log line says `more=true`).
//
// Each run is logged (`retention.pruned`, counts per kind) and kept for the display (D,CONFIG).
// What a kind is and how it is pruned lives in its role (Prunable); this file only schedules.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock, Timer } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { displayOne, displayTwo } from '../config/display.js';
import type { Logger } from './logger.js';

export const RETENTION_KINDS = ['journal', 'accounting', 'deadLetters', 'reports'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** Days per kind (0 = keep for ever) and minutes between runs: Config.retention. */
export type RetentionAges = Readonly<Record<RetentionKind, number>> & { readonly interval: number };

/** Rows or files deleted in one transaction / between two turns of the event loop. */
export const RETENTION_BATCH = 500;
/** At most this many of one kind per run. */
export const RETENTION_MAX_PER_RUN = 20_000;

export interface Prunable {
  /**
   * Deletes what is older than `cutoff` (epoch ms), at most `max`, `batch` at a time with a turn
   * of the event loop between batches; returns how many went.
   */
  prune(cutoff: number, max: number, batch: number): Promise<number>;
}

/**
 * What a run prunes at an age of its own, not configured ([P2] #19): a cluster node's arrival
 * identities (QueueStore.pruneArrivals), needed only until the node has rescanned its spool after
 * a crash, so kept far beyond any restart (cluster.ts ARRIVALS_KEPT_DAYS).
 */
export const FIXED_KINDS = ['arrivals'] as const;
export type FixedKind = (typeof FIXED_KINDS)[number];
export interface FixedPrunable extends Prunable {
  /** Days kept. */
  readonly days: number;
}

/** Every kind a run may prune: the configured ones and the fixed ones. */
export type PrunedKind = RetentionKind | FixedKind;

export interface RetentionRun {
  /** When the run started (epoch ms). */
  readonly at: number;
  /** Deleted per kind; a kind kept for ever (age 0) or not present is absent. */
  readonly pruned: Partial<Record<PrunedKind, number>>;
  /** Kinds that hit the per-run bound: more is left for the next run. */
  readonly more: readonly PrunedKind[];
  /** Kinds whose pruning failed, with why (the next run tries again). */
  readonly failed: Partial<Record<PrunedKind, string>>;
}

export interface RetentionOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Read at every run (REFRESH). */
  readonly ages: () => RetentionAges;
  readonly kinds: Partial<Record<RetentionKind, Prunable>>;
  /** Pruned at every run at their own age, whatever the Retention statement says. */
  readonly fixed?: Partial<Record<FixedKind, FixedPrunable>>;
  readonly maxPerKind?: number;
  readonly batch?: number;
}

const DAY = 86_400_000;

export class Retention {
  private timer: Timer | undefined;
  private stopped = false;
  private running: Promise<RetentionRun> | undefined;
  private lastRun: RetentionRun | undefined;

  constructor(private readonly o: RetentionOptions) {}

  /** Runs now, then every Interval minutes until stop(). */
  start(): void {
    this.runAndArm();
  }

  /** The last finished run, for the display. */
  last(): RetentionRun | undefined {
    return this.lastRun;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  // The next run is armed before this one starts (so the log line of a run means the next one is
  // already due); a run still going when the timer fires is joined, not doubled (runOnce).
  private runAndArm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(this.o.ages().interval * 60_000, () => this.runAndArm());
    this.runOnce().catch((e: unknown) => this.o.log.error('retention.failed', { kind: 'all', error: describeError(e) }));
  }

  /** One pruning run (one at a time: a second call waits for the first). */
  runOnce(): Promise<RetentionRun> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<RetentionRun> {
    await Promise.resolve(); // runOnce stores this promise before the run can end (and clear it)
    const at = this.o.clock.now();
    const ages = this.o.ages();
    const max = this.o.maxPerKind ?? RETENTION_MAX_PER_RUN;
    const batch = this.o.batch ?? RETENTION_BATCH;
    const pruned: Partial<Record<PrunedKind, number>> = {};
    const failed: Partial<Record<PrunedKind, string>> = {};
    const more: PrunedKind[] = [];
    const todo: [PrunedKind, Prunable | undefined, number][] = [
      ...RETENTION_KINDS.map((k): [PrunedKind, Prunable | undefined, number] => [k, this.o.kinds[k], ages[k]]),
      ...FIXED_KINDS.map((k): [PrunedKind, Prunable | undefined, number] => [k, this.o.fixed?.[k], this.o.fixed?.[k]?.days ?? 0]),
    ];
    for (const [kind, p, days] of todo) {
      if (p === undefined || days <= 0 || this.stopped) continue;
      try {
        const n = await p.prune(at - days * DAY, max, batch);
        pruned[kind] = n;
        if (n >= max) more.push(kind);
      } catch (e) {
        failed[kind] = describeError(e);
        this.o.log.error('retention.failed', { kind, error: failed[kind] });
      }
    }
    const run: RetentionRun = { at, pruned, more, failed };
    this.lastRun = run;
    // Cleared before the log line: whoever waits on it may start the next run at once.
    this.running = undefined;
    this.o.log.event('retention.pruned', {
      journal: pruned.journal ?? null, accounting: pruned.accounting ?? null, deadLetters: pruned.deadLetters ?? null, reports: pruned.reports ?? null,
      // [P2] a cluster node's arrival identities (null with Store Backend SQLite).
      arrivals: pruned.arrivals ?? null,
      more: more.length > 0 ? more.join(',') : null,
    });
    return run;
  }
}

/** Lines for D,CONFIG after its RETENTION: ages: when the last run was and what it pruned. */
export function formatRetentionRun(run: RetentionRun | undefined): string[] {
  if (run === undefined) return [displayOne('LASTPRUNED', 'NOT YET')];
  const n = (k: PrunedKind): string => (run.failed[k] !== undefined ? 'FAILED' : run.pruned[k] === undefined ? 'KEPT' : String(run.pruned[k]));
  const lines = [
    displayOne('LASTPRUNED', new Date(run.at).toISOString()),
    displayTwo('PRUNEDJOURNAL', n('journal'), 'PRUNEDACCOUNTING', n('accounting')),
    displayTwo('PRUNEDDEADLETTERS', n('deadLetters'), 'PRUNEDREPORTS', n('reports')),
  ];
  if (run.pruned.arrivals !== undefined || run.failed.arrivals !== undefined) lines.push(displayOne('PRUNEDARRIVALS', n('arrivals')));
  if (run.more.length > 0) lines.push(displayOne('MORETOPRUNE', run.more.map((k) => k.toUpperCase()).join(',')));
  return lines;
}

/**
 * The one file-pruning rule (dead letters, sysout reports, rotated accounting files): files in
 * `dir` whose name `accept`s and whose mtime is before `cutoff` are unlinked, oldest first, at
 * most `max`, a turn of the event loop after every `batch`. The mtime is the time of the last
 * write (our files are written once, atomically), so nothing written since the cutoff goes.
 * A missing directory prunes nothing.
 */
export async function pruneOldFiles(dir: string, accept: (name: string) => boolean, cutoff: number, max: number, batch: number): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(accept);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const old: { path: string; mtime: number }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const s = await stat(path);
      if (s.isFile() && s.mtimeMs < cutoff) old.push({ path, mtime: s.mtimeMs });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // gone meanwhile (an operator, a resend)
    }
  }
  old.sort((a, b) => a.mtime - b.mtime);
  let n = 0;
  for (const f of old.slice(0, max)) {
    try {
      await unlink(f.path);
      n++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (n % batch === 0) await nextTurn();
  }
  return n;
}
