// GET /metrics (SPEC.md §8, ext): the forwarder's counters and states, the spool's depth and
// oldest file, and a delivery latency histogram, in the Prometheus text exposition format 0.0.4.
// The same facts as DISPLAY,TARGETS / DISPLAY,SPOOLSTATUS (taken through control's snapshot
// functions, so the two never disagree).
import { stat } from 'node:fs/promises';
import type { ForwarderView } from '../control/index.js';
import { targetSnapshot, taskSnapshot, type TargetStateName, type TaskStateName } from '../control/snapshot.js';
import { COMPONENTS, type Fault, type ServiceCounters } from '../core/index.js';
import { renderServiceCounters, renderStoreGauges, renderTargetReplies, type ProcessMetrics, type StoreFacts } from './service-metrics.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds (seconds) of the latency buckets: seconds for a direct send up to a day of retries. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];

const OUTCOMES = ['delivered', 'undeliverable'] as const;
export type LatencyOutcome = (typeof OUTCOMES)[number];
const TASK_STATES: readonly TaskStateName[] = ['READ', 'IDLE', 'ACTIVE', 'WAIT', 'WAITS', 'SUPND'];
const TARGET_STATES: readonly TargetStateName[] = ['UNKNOWN', 'ACTIVE', 'NOT USABLE'];
const SUSPEND_MODES = ['none', 'immediate', 'delay'] as const;

/** Time from when a spool task read a message to its final outcome, per outcome. */
export class DeliveryLatency {
  private readonly series = new Map<LatencyOutcome, { buckets: number[]; sum: number; count: number }>(
    OUTCOMES.map((o) => [o, { buckets: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 }]),
  );

  observe(outcome: LatencyOutcome, seconds: number): void {
    const s = this.series.get(outcome);
    if (s === undefined || !Number.isFinite(seconds)) return;
    const v = Math.max(0, seconds); // a clock step backwards must not make a negative latency
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => { if (v <= le) s.buckets[i]!++; });
    s.sum += v;
    s.count++;
  }

  /** Cumulative bucket counts per outcome (as the exposition format wants them). */
  read(): { outcome: LatencyOutcome; buckets: readonly number[]; sum: number; count: number }[] {
    return OUTCOMES.map((outcome) => {
      const s = this.series.get(outcome)!;
      return { outcome, buckets: [...s.buckets], sum: s.sum, count: s.count };
    });
  }
}

export interface MetricsSource {
  readonly forwarder: ForwarderView;
  /** Spool files waiting to be read (the queue); their data files' mtimes give the oldest age. */
  spoolEntries?(): Promise<readonly { readonly path: string; readonly size: number }[]>;
  readonly latency?: DeliveryLatency;
  /** Contained faults now (R3 item 2): /readyz and spoolgate_fault. */
  faults?(): readonly Fault[];
  now(): number;
  /** The receiver's and POP3's counters (service-metrics.ts). */
  readonly services?: ServiceCounters;
  /** Memory, CPU, event-loop delay and GC of the process (service-metrics.ts). */
  readonly process?: ProcessMetrics;
  /** Held files, dead letters, oldest extended-retry mail (service-metrics.ts). */
  stores?(): Promise<StoreFacts>;
  /** (ext, [P2]) Store Node: every sample carries `node="<name>"`, so a cluster's nodes can be told apart. */
  readonly node?: string;
}

type Labels = Readonly<Record<string, string | number>>;
type Sample = readonly [labels: Labels, value: number, suffix?: string];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

class Exposition {
  private readonly out: string[] = [];
  /** Labels every sample carries (the cluster's `node`). */
  constructor(private readonly common: Labels = {}) {}

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: readonly Sample[]): void {
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value, suffix] of samples) {
      const l = Object.entries({ ...this.common, ...labels }).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',');
      this.out.push(`${name}${suffix ?? ''}${l === '' ? '' : `{${l}}`} ${formatValue(value)}`);
    }
  }

  text(): string {
    return this.out.join('\n') + '\n';
  }
}

async function spoolFacts(src: MetricsSource): Promise<{ files: number; bytes: number; oldestSeconds: number } | undefined> {
  if (src.spoolEntries === undefined) return undefined;
  const entries = await src.spoolEntries();
  let oldest = Infinity;
  await Promise.all(entries.map(async (e) => {
    try {
      // Read oldest only after the await: `Math.min(oldest, await ...)` would take the value from
      // before the stat, and the last stat to finish would win over an older file.
      const mtime = (await stat(e.path)).mtimeMs;
      oldest = Math.min(oldest, mtime);
    } catch (err) {
      // Finished and deleted between the listing and now: no longer waiting.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }));
  return {
    files: entries.length,
    bytes: entries.reduce((n, e) => n + e.size, 0),
    oldestSeconds: oldest === Infinity ? 0 : Math.max(0, (src.now() - oldest) / 1000),
  };
}

/** The exposition text for one scrape. */
export async function renderMetrics(src: MetricsSource): Promise<string> {
  const f = src.forwarder;
  const c = f.counters;
  const x = new Exposition(src.node === undefined ? {} : { node: src.node });
  const none: Labels = {};
  x.family('spoolgate_mail_sent_total', 'counter', 'Messages sent to a target server (DISPLAY,TARGETS MAIL SENT).', [[none, c.mailSent]]);
  x.family('spoolgate_retries_total', 'counter', 'Messages put into long retry (TOTAL RETRY).', [[none, c.totalRetry]]);
  // [P2] On a shared queue CURRENT RETRY includes the cluster's released long retry, which every
  // node counts: the gauge is this node's own (summed over nodes: no double count), the released
  // ones are a gauge of their own (the cluster's: the same on every node, not to be summed).
  const released = f.retryReleased?.();
  x.family('spoolgate_retry_current', 'gauge', 'Messages in long retry now (CURRENT RETRY; in a cluster this node\'s own).', [[none, c.currentRetry - (released ?? 0)]]);
  if (released !== undefined) x.family('spoolgate_retry_released', 'gauge', 'Messages released for long retry on the shared queue, no node holds them (the cluster\'s: every node reports the same figure; do not sum).', [[none, released]]);
  x.family('spoolgate_dead_letters_total', 'counter', 'Messages stored as dead letters (DEADLETTER).', [[none, c.deadLetter]]);
  x.family('spoolgate_undeliverable_total', 'counter', 'Messages found undeliverable (UNDELIVER).', [[none, c.undeliver]]);
  x.family('spoolgate_extended_retry_current', 'gauge', 'Messages in extended retry now (EXTENDED RETRY CURRENT).', [[none, c.extendedCurrent]]);
  x.family('spoolgate_extended_retry_total', 'counter', 'Messages put into extended retry (EXTENDED RETRY TOTAL).', [[none, c.extendedTotal]]);

  const targets = f.listTargets().map(targetSnapshot);
  const per = (t: { address: string; port: number }): Labels => ({ address: t.address, port: t.port });
  x.family('spoolgate_target_mail_attempts_total', 'counter', 'Mail transactions attempted per target server (MAIL ATTEMPTS).', targets.map((t) => [per(t), t.mailAttempts]));
  x.family('spoolgate_target_mail_sent_total', 'counter', 'Messages sent per target server (MAIL SENT).', targets.map((t) => [per(t), t.mailSent]));
  x.family('spoolgate_target_connect_failures_total', 'counter', 'Failed connections per target server (CONNECT FAIL).', targets.map((t) => [per(t), t.connectFail]));
  x.family('spoolgate_target_lost_attempts_total', 'counter', 'Attempts per target server that ended without a reply: no answer in time, or the connection dropped (LOST ATTEMPTS).', targets.map((t) => [per(t), t.lostAttempts]));
  // (ext) Rate limits (docs/rate-limits.md): only targets whose statement has a limiter state to show.
  const rated = targets.filter((t) => t.rate !== undefined);
  x.family('spoolgate_target_rate_backoff_level', 'gauge', 'Back-off step on rate replies per target server (0 = none; each step doubles the spacing between transactions).', rated.map((t) => [per(t), t.rate?.backoffLevel ?? 0]));
  x.family('spoolgate_target_rate_replies_total', 'counter', 'Replies per target server saying it is rate limiting (421/451/454 "rate", 4.7.28, ...), counted per statement.', rated.map((t) => [per(t), t.rate?.rateReplies ?? 0]));
  x.family('spoolgate_target_state', 'gauge', 'Target server state (UNKNOWN, ACTIVE, NOT_USABLE): 1 for the state it is in, 0 for the others.',
    targets.flatMap((t) => TARGET_STATES.map((s): Sample => [{ ...per(t), state: s.replace(/ /g, '_') }, t.state === s ? 1 : 0])));

  const tasks = f.tasks.map(taskSnapshot);
  x.family('spoolgate_tasks', 'gauge', 'Spool tasks in each state (DISPLAY,SPOOLSTATUS).', TASK_STATES.map((s) => [{ state: s }, tasks.filter((t) => t.state === s).length]));
  x.family('spoolgate_task_pending', 'gauge', 'Messages of the current spool file not yet finished, per task (PEND).', tasks.map((t) => [{ tkid: t.tkid }, t.pend]));
  x.family('spoolgate_task_long_retry', 'gauge', 'Messages of the current spool file in long retry, per task (LRT).', tasks.map((t) => [{ tkid: t.tkid }, t.lrt]));
  x.family('spoolgate_suspended', 'gauge', 'SUSPEND mode in force: 1 for the mode, 0 for the others.', SUSPEND_MODES.map((m) => [{ mode: m }, f.suspendMode === m ? 1 : 0]));

  if (src.faults !== undefined) {
    const faults = src.faults();
    x.family('spoolgate_fault', 'gauge', 'A part whose storage fails (log fault.raised; retried with back-off): 1 while it fails, 0 when it works.',
      COMPONENTS.map((c) => [{ component: c }, faults.some((f) => f.component === c) ? 1 : 0]));
  }

  const spool = await spoolFacts(src);
  if (spool !== undefined) {
    x.family('spoolgate_spool_files', 'gauge', 'Spool files waiting to be read or being read (queue depth).', [[none, spool.files]]);
    x.family('spoolgate_spool_bytes', 'gauge', 'Bytes in those spool files.', [[none, spool.bytes]]);
    x.family('spoolgate_spool_oldest_file_age_seconds', 'gauge', 'Age of the oldest spool file on the queue (0 when empty).', [[none, spool.oldestSeconds]]);
  }

  if (src.latency !== undefined) {
    const samples: Sample[] = [];
    for (const s of src.latency.read()) {
      LATENCY_BUCKETS_SECONDS.forEach((le, i) => samples.push([{ outcome: s.outcome, le: String(le) }, s.buckets[i]!, '_bucket']));
      samples.push([{ outcome: s.outcome, le: '+Inf' }, s.count, '_bucket'], [{ outcome: s.outcome }, s.sum, '_sum'], [{ outcome: s.outcome }, s.count, '_count']);
    }
    x.family('spoolgate_delivery_latency_seconds', 'histogram', 'Time from when a spool task read the message to its final outcome (delivered, or undeliverable after retries).', samples);
  }
  renderTargetReplies(x, f.listTargets());
  if (src.services !== undefined) renderServiceCounters(x, src.services);
  if (src.stores !== undefined) renderStoreGauges(x, await src.stores(), src.now());
  src.process?.render(x);
  return x.text();
}
