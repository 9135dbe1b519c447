// /metrics families beyond the forwarder's displays (O2 #18 item 6): the receiver's and POP3's
// counters (core/service-counters.ts, counted by the roles), the targets' final replies by
// class, and process facts: memory, CPU, event-loop delay (perf_hooks monitorEventLoopDelay)
// and garbage collections (a PerformanceObserver on 'gc' entries). No dependency beyond node.
// Kept apart from metrics.ts so the forwarder's families and these change independently.
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import type { ServiceCounters } from '../core/index.js';
import type { TargetView } from '../control/index.js';

export type Labels = Readonly<Record<string, string | number>>;
export type Sample = readonly [labels: Labels, value: number, suffix?: string];
export interface FamilyWriter {
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: readonly Sample[]): void;
}

const none: Labels = {};

export function renderServiceCounters(x: FamilyWriter, c: ServiceCounters): void {
  const r = c.receiver;
  x.family('spoolgate_receiver_connections_total', 'counter', 'SMTP connections the receiver took (greeted or refused).', [[none, r.connections]]);
  x.family('spoolgate_receiver_messages_accepted_total', 'counter', 'Messages the receiver answered 250 at the end of DATA.', [[none, r.accepted]]);
  x.family('spoolgate_receiver_relay_refused_total', 'counter', 'Recipients refused because relaying is not allowed for the client.', [[none, r.relayRefused]]);
  x.family('spoolgate_receiver_filtered_total', 'counter', 'Messages a Filter rule discarded or kept in quarantine (dry runs not counted).', [[none, r.filtered]]);
  x.family('spoolgate_receiver_dnsbl_hits_total', 'counter', 'Connections refused because a Dnsbl zone lists the client.', [[none, r.dnsblHits]]);
  x.family('spoolgate_receiver_replies_total', 'counter', 'Negative replies the receiver sent, by class.', [[{ class: '4xx' }, r.replies4xx], [{ class: '5xx' }, r.replies5xx]]);
  const p = c.pop3;
  x.family('spoolgate_pop3_logins_total', 'counter', 'POP3 logins that opened the maildrop.', [[none, p.logins]]);
  x.family('spoolgate_pop3_login_failures_total', 'counter', 'POP3 logins refused for a wrong user name or password.', [[none, p.failures]]);
  x.family('spoolgate_pop3_login_throttled_total', 'counter', 'POP3 logins refused unchecked: the client address failed too often (lockout).', [[none, p.throttled]]);
}

/** Final replies per recipient from each target, by class (a lost attempt has none). */
export function renderTargetReplies(x: FamilyWriter, targets: readonly TargetView[]): void {
  x.family('spoolgate_target_replies_total', 'counter', 'Final replies per recipient from each target server, by class.',
    targets.flatMap((t) => (['2xx', '4xx', '5xx'] as const).map((cls): Sample => [{ address: t.addr.address, port: t.addr.port, class: cls }, t.replies?.[cls] ?? 0])));
}

export interface StoreFacts {
  readonly held: number;
  /** undefined: the directory cannot be read now (its fault is in spoolgate_fault): no sample. */
  readonly deadLetters: number | undefined;
  readonly oldestExtended: Date | undefined;
}

/** Held spool files, stored dead letters, and the age of the oldest extended-retry mail (0 when none). */
export function renderStoreGauges(x: FamilyWriter, f: StoreFacts, nowMs: number): void {
  x.family('spoolgate_held_files', 'gauge', 'Spool files held (bad entries, BadSpoolDisp HOLD): never read again until released (spoolgate queue).', [[none, f.held]]);
  if (f.deadLetters !== undefined) x.family('spoolgate_dead_letters_stored', 'gauge', 'Dead letters stored now (the DeadLetterDirectory; with Store Backend PostgreSQL the table every node shares).', [[none, f.deadLetters]]);
  x.family('spoolgate_extended_retry_oldest_age_seconds', 'gauge', 'Seconds since the first attempt of the oldest mail in extended retry (0 when none).',
    [[none, f.oldestExtended === undefined ? 0 : Math.max(0, (nowMs - f.oldestExtended.getTime()) / 1000)]]);
}

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Event-loop delay and garbage collections of this process, measured from start() to stop().
 * The delay histogram resolution is 20 ms (its own timer, unref'd); GC entries are counted as
 * they arrive (no buffer grows).
 */
export class ProcessMetrics {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private readonly gc = new Map<string, { runs: number; seconds: number }>(Object.values(GC_KINDS).map((k) => [k, { runs: 0, seconds: 0 }]));
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const s = this.gc.get(kind) ?? { runs: 0, seconds: 0 };
      s.runs++;
      s.seconds += e.duration / 1000;
      this.gc.set(kind, s);
    }
  });

  start(): void {
    this.delay.enable();
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.delay.disable();
    this.observer.disconnect();
  }

  render(x: FamilyWriter): void {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    x.family('process_cpu_user_seconds_total', 'counter', 'User CPU time of the process.', [[none, cpu.user / 1e6]]);
    x.family('process_cpu_system_seconds_total', 'counter', 'System CPU time of the process.', [[none, cpu.system / 1e6]]);
    x.family('process_resident_memory_bytes', 'gauge', 'Resident memory of the process.', [[none, m.rss]]);
    x.family('process_start_time_seconds', 'gauge', 'When the process started (Unix time).', [[none, Math.round(Date.now() / 1000 - process.uptime())]]);
    x.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap allocated.', [[none, m.heapTotal]]);
    x.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use.', [[none, m.heapUsed]]);
    x.family('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript (buffers).', [[none, m.external]]);
    // The histogram is in nanoseconds; with no sample yet its min is a huge sentinel: report 0.
    const d = this.delay;
    const ns = (v: number): number => (d.count === 0 || !Number.isFinite(v) ? 0 : v / 1e9);
    x.family('nodejs_eventloop_lag_seconds', 'gauge', 'Event-loop delay since start, by statistic (resolution 20 ms).',
      [[{ stat: 'mean' }, ns(d.mean)], [{ stat: 'p50' }, ns(d.percentile(50))], [{ stat: 'p99' }, ns(d.percentile(99))], [{ stat: 'max' }, ns(d.max)]]);
    x.family('nodejs_gc_runs_total', 'counter', 'Garbage collections, by kind.', [...this.gc].map(([kind, s]): Sample => [{ kind }, s.runs]));
    x.family('nodejs_gc_duration_seconds_total', 'counter', 'Time spent in garbage collection, by kind.', [...this.gc].map(([kind, s]): Sample => [{ kind }, s.seconds]));
  }
}
