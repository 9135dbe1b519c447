// The web console's own JSON routes (O1 #17 item 4): what the page shows that neither the
// operator commands nor the queue API (queue-routes.ts) give as data — the instance's state in
// one answer (targets with state and last error, suspension, the log level in force, faults,
// throughput of the last hour), the configuration with its defaults, and a live tail of delivery
// events — plus the console's static assets. Every buffer here is bounded: the event ring
// (DEFAULT_EVENT_CAPACITY), the waiting long polls (DEFAULT_MAX_WAITERS, each at most
// MAX_WAIT_SECONDS), the per-minute throughput buckets (one hour).
import { hostname } from 'node:os';
import { STATEMENTS, parseConfig, type Config } from '../config/index.js';
import { instanceState } from '../control/status.js';
import type { LogRecord, LogSink } from '../log/index.js';
import { CONSOLE_CSP } from './console.js';
import { CONSOLE_VIEWS_JS } from './console-views.js';
import type { MetricsSource } from './metrics.js';
import { json, send, type Route } from './respond.js';

// ---- Delivery events: a bounded ring fed by the operator log ----

/** Events kept for the tail; older ones are dropped (the client sees `dropped`). */
export const DEFAULT_EVENT_CAPACITY = 500;
/** Long polls waiting at once; one more is answered at once (the client polls again later). */
export const DEFAULT_MAX_WAITERS = 8;
/** The longest a GET /api/v1/events?wait= is held open. */
export const MAX_WAIT_SECONDS = 20;
/** Log events the tail shows: deliveries and what happens to queued mail and targets. */
const TAIL_PREFIXES = ['mail.', 'queue.', 'deadletter.', 'target.state', 'spool.held', 'extended.'] as const;
const MAX_FIELDS = 24;
const MAX_FIELD_CHARS = 500;

export interface ConsoleEvent {
  readonly seq: number;
  readonly time: string;
  readonly level: string;
  readonly event: string;
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * The tail of delivery events, as a log sink (main.ts tees the operator log into it): what the
 * log writes at the LogLevel in force, so at a level without the event bit (4) the tail is quiet
 * as the log is. Bounded ring; long polls wait for the next event with a bound on time and number.
 */
export class ConsoleEvents implements LogSink {
  private readonly ring: ConsoleEvent[] = [];
  private seq = 0;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly opts: { capacity?: number; maxWaiters?: number } = {}) {}

  get capacity(): number { return this.opts.capacity ?? DEFAULT_EVENT_CAPACITY; }
  /** The sequence number of the newest event (0: none yet). */
  get last(): number { return this.seq; }
  get waiting(): number { return this.waiters.size; }

  write(rec: LogRecord): void {
    if (!TAIL_PREFIXES.some((p) => rec.event.startsWith(p))) return;
    const fields: Record<string, string | number | boolean | null> = {};
    for (const [k, v] of Object.entries(rec.fields).slice(0, MAX_FIELDS)) {
      if (v === undefined) continue;
      fields[k] = typeof v === 'string' && v.length > MAX_FIELD_CHARS ? `${v.slice(0, MAX_FIELD_CHARS)}…` : v;
    }
    this.ring.push({ seq: ++this.seq, time: rec.time, level: rec.level, event: rec.event, fields });
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    this.wake();
  }

  /** Events after `after`, oldest first, at most `limit`; dropped = some after `after` are no longer kept. */
  since(after: number, limit = this.capacity): { last: number; dropped: boolean; events: ConsoleEvent[] } {
    const first = this.ring[0]?.seq ?? this.seq + 1;
    const events = this.ring.filter((e) => e.seq > after).slice(-Math.max(1, limit));
    return { last: this.seq, dropped: after + 1 < first && this.seq > after, events };
  }

  /**
   * Resolves when an event after `after` exists, after `ms`, or at close(); at once when one
   * exists already, when closed, or when DEFAULT_MAX_WAITERS polls are already waiting.
   * `gone` (the client's connection closed) ends the wait early.
   */
  wait(after: number, ms: number, gone?: { once(ev: 'close', f: () => void): unknown; off(ev: 'close', f: () => void): unknown }): Promise<void> {
    if (this.seq > after || this.closed || ms <= 0 || this.waiters.size >= (this.opts.maxWaiters ?? DEFAULT_MAX_WAITERS)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        gone?.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, MAX_WAIT_SECONDS * 1000));
      this.waiters.add(done);
      gone?.once('close', done);
    });
  }

  /** Ends every waiting poll now and every later one at once (before the HTTP listener closes). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

// ---- Throughput of the last hour, per minute ----

export type ThroughputOutcome = 'delivered' | 'undeliverable' | 'extended';

/** Messages finished per minute over the last 60 minutes (60 buckets, reused as time moves). */
export class Throughput {
  private readonly buckets = Array.from({ length: 60 }, () => ({ minute: -1, delivered: 0, undeliverable: 0, extended: 0 }));

  constructor(private readonly now: () => number) {}

  observe(outcome: ThroughputOutcome): void {
    const minute = Math.floor(this.now() / 60_000);
    const b = this.buckets[minute % 60]!;
    if (b.minute !== minute) Object.assign(b, { minute, delivered: 0, undeliverable: 0, extended: 0 });
    b[outcome]++;
  }

  /** Oldest minute first; the last entry is the current minute. */
  read(): { windowSeconds: number; delivered: number; undeliverable: number; extended: number; perMinute: { delivered: number; undeliverable: number; extended: number }[] } {
    const current = Math.floor(this.now() / 60_000);
    const perMinute = Array.from({ length: 60 }, (_, i) => {
      const minute = current - 59 + i;
      const b = this.buckets[((minute % 60) + 60) % 60]!;
      return b.minute === minute ? { delivered: b.delivered, undeliverable: b.undeliverable, extended: b.extended } : { delivered: 0, undeliverable: 0, extended: 0 };
    });
    const sum = (k: 'delivered' | 'undeliverable' | 'extended'): number => perMinute.reduce((n, m) => n + m[k], 0);
    return { windowSeconds: 3600, delivered: sum('delivered'), undeliverable: sum('undeliverable'), extended: sum('extended'), perMinute };
  }
}

// ---- Configuration with defaults ----

export interface ConfigEntry {
  /** Path in the Config object: `timeout.dataTerm`, `targetServers[0].connectPort`. */
  readonly key: string;
  /** The same in the configuration file's words: `Timeout DataTerm`, `TargetServer #1 ConnectPort`. */
  readonly label: string;
  readonly value: string;
  /** The value without the statement; null = none (a required or list value, or a block that is off by default). */
  readonly default: string | null;
  readonly changed: boolean;
}

const SECRET = /password|secret/i;

/** `retryLimit.count` -> `RetryLimit Count`; a key that is no statement (configFile) stays as it is. */
export function statementLabel(key: string): string {
  const [first = '', ...rest] = key.split('.');
  const m = /^([A-Za-z0-9]+)(?:\[(\d+)\])?$/.exec(first);
  const head = m?.[1]?.toLowerCase() ?? '';
  const st = STATEMENTS.find((x) => x.name.toLowerCase() === head || `${x.name.toLowerCase()}s` === head);
  if (st === undefined) return key;
  const index = m?.[2] === undefined ? '' : ` #${Number(m[2]) + 1}`;
  const param = rest[0] === undefined ? undefined : st.params.find((p) => p.name.toLowerCase() === rest[0]!.toLowerCase())?.name ?? rest[0];
  return [`${st.name}${index}`, ...(param === undefined ? [] : [param]), ...rest.slice(1)].join(' ');
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'NONE';
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isObjectArray = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every(isPlainObject);

/**
 * Every leaf value of the configuration with its default; the values that differ from their
 * default (or have none) first, each group in the Config's own order. Passwords show as `(set)`.
 */
export function configEntries(config: Config, defaults: Config | undefined): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  const walk = (key: string, v: unknown, d: unknown, hasDefault: boolean): void => {
    if (isPlainObject(v)) {
      for (const [k, sub] of Object.entries(v)) walk(key === '' ? k : `${key}.${k}`, sub, isPlainObject(d) ? d[k] : undefined, hasDefault && isPlainObject(d));
      return;
    }
    if (isObjectArray(v)) {
      // Repeated blocks (TargetServer, Filter): each is compared with the default's first block,
      // whose values are the defaults of the block's parameters.
      const template = Array.isArray(d) && isPlainObject(d[0]) ? d[0] : undefined;
      v.forEach((item, i) => walk(`${key}[${i}]`, item, template, template !== undefined));
      return;
    }
    const secret = SECRET.test(key.slice(key.lastIndexOf('.') + 1));
    const value = secret && v !== null ? '(set)' : show(v);
    const dflt = hasDefault ? (secret && d !== null ? '(set)' : show(d)) : null;
    out.push({ key, label: statementLabel(key), value, default: dflt, changed: dflt === null ? value !== 'NONE' && value !== '(none)' : value !== dflt });
  };
  walk('', config, defaults, defaults !== undefined);
  return [...out.filter((e) => e.changed), ...out.filter((e) => !e.changed)];
}

const defaultsOf = new WeakMap<Config, Config | null>();

/**
 * The configuration a file with only a TargetServer would give, read from the same path (so the
 * directory defaults agree). TargetServer's addresses have no default.
 */
export function defaultConfig(config: Config): Config | undefined {
  let d = defaultsOf.get(config);
  if (d === undefined) {
    const r = parseConfig('TargetServer { TargetIP 127.0.0.1 }', config.configFile, {}, { hostName: hostname() });
    d = r.ok ? { ...r.value.config, targetServers: r.value.config.targetServers.map((t) => ({ ...t, targetIp: [] })) } : null;
    defaultsOf.set(config, d);
  }
  return d ?? undefined;
}

// ---- Routes ----

/** What the console's routes read from the running instance (main.ts provides it). */
export interface ConsoleSource {
  config(): Config;
  /** The LogLevel in force (LOGLEVEL and REFRESH change it). */
  logLevel(): number;
  readonly events: ConsoleEvents;
  readonly throughput: Throughput;
}


const asset = (type: string, body: string): Route => ({
  methods: ['GET'], auth: false,
  handle: (_req, res) => send(res, 200, type, body, { 'Content-Security-Policy': CONSOLE_CSP }),
});

/** The console's routes for http.ts's table. Without a source (embedded listeners, tests) the data routes answer 404. */
export function consoleRoutes(source: ConsoleSource | undefined, metrics: MetricsSource, tokenFile: string): (readonly [RegExp, Route])[] {
  const unavailable = (res: Parameters<Route['handle']>[1]): void => json(res, 404, { ok: false, error: 'the console data routes are not wired in this listener' });
  return [
    [/^\/console-views\.js$/, asset('text/javascript; charset=utf-8', CONSOLE_VIEWS_JS)],
    // What the page needs before it has a token: where the token is. The path names the state
    // directory, not any mail; the file itself is 0600 in a 0700 directory.
    [/^\/console\/hello\.json$/, {
      methods: ['GET'], auth: false,
      handle: (_req, res) => json(res, 200, { tokenFile, instance: source?.config().instance ?? null }),
    }],
    [/^\/api\/v1\/status$/, {
      methods: ['GET'], auth: true,
      handle: (_req, res) => {
        if (source === undefined) { unavailable(res); return; }
        // The same assembly as DISPLAY,STATUS (`spoolgate status`): control/status.ts.
        json(res, 200, {
          ok: true,
          ...instanceState({ forwarder: metrics.forwarder, config: () => source.config(), logLevel: source.logLevel(), ...(metrics.faults ? { faults: () => metrics.faults!() } : {}), now: metrics.now() }),
          throughput: source.throughput.read(),
        });
      },
    }],
    [/^\/api\/v1\/config$/, {
      methods: ['GET'], auth: true,
      handle: (_req, res) => {
        if (source === undefined) { unavailable(res); return; }
        const c = source.config();
        const entries = configEntries(c, defaultConfig(c));
        json(res, 200, { ok: true, configFile: c.configFile, changed: entries.filter((e) => e.changed).length, entries });
      },
    }],
    // GET /api/v1/events?after=<seq>[&wait=<s>][&limit=<n>]: events after seq; with wait, held
    // open until one arrives (at most MAX_WAIT_SECONDS).
    [/^\/api\/v1\/events$/, {
      methods: ['GET'], auth: true,
      handle: async (req, res, q) => {
        if (source === undefined) { unavailable(res); return; }
        const num = (name: string, dflt: number, max: number): number | string => {
          const s = q.get(name);
          if (s === null || s === '') return dflt;
          if (!/^[0-9]{1,15}$/.test(s)) return `${name} must be a whole number`;
          return Math.min(Number(s), max);
        };
        const after = num('after', 0, Number.MAX_SAFE_INTEGER);
        const wait = num('wait', 0, MAX_WAIT_SECONDS);
        const limit = num('limit', source.events.capacity, source.events.capacity);
        for (const v of [after, wait, limit]) if (typeof v === 'string') { json(res, 400, { ok: false, error: v }); return; }
        const ev = source.events;
        // A client that was told a higher seq than exists (the instance restarted) starts over.
        const from = (after as number) > ev.last ? 0 : (after as number);
        await ev.wait(from, (wait as number) * 1000, res);
        if (res.destroyed) return;
        json(res, 200, { ok: true, ...ev.since(from, limit as number) });
      },
    }],
  ];
}
