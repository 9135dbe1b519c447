// The operator log (SPEC.md §8): LogLevel bits 1 error, 2 warning, 4 event, 8 info,
// 16 JES (spool records and parser replies), 32 network (SMTP dialog; never AUTH secrets or
// bodies), 64 debug, 128 trace. Each line carries time, instance, level word, TKID and a fixed
// event name with stable fields. Text or JSON form. Start-up logs at 127 until the configuration
// is read (as CSSMTP does); setLevel() changes it live (LOGLEVEL command, REFRESH).
import type { Writable } from 'node:stream';

export const LogBits = {
  error: 1,
  warning: 2,
  event: 4,
  info: 8,
  jes: 16,
  network: 32,
  debug: 64,
  trace: 128,
} as const;

export type LogKind = keyof typeof LogBits;

export const STARTUP_LEVEL = 127;

export type LogFields = Readonly<Record<string, string | number | boolean | undefined | null>>;

export interface LogRecord {
  readonly time: string;
  readonly instance: string;
  readonly level: LogKind;
  readonly tkid?: number;
  readonly event: string;
  readonly fields: LogFields;
}

export interface LogSink {
  write(rec: LogRecord): void;
}

/**
 * The syslog priority (RFC 5424 §6.2.1 severity) of a log kind: error 3, warning 4, event 5
 * (notice), info 6, the rest 7 (debug). journald reads a `<N>` line prefix as the priority
 * (sd-daemon(3)), so `journalctl -p warning` finds the gateway's warnings and errors.
 */
export function syslogPriority(level: LogKind): number {
  switch (level) {
    case 'error': return 3;
    case 'warning': return 4;
    case 'event': return 5;
    case 'info': return 6;
    default: return 7;
  }
}

/** Options of the line sinks: `priorityPrefix` writes `<N>` before each line (journald). */
export interface SinkOptions { readonly priorityPrefix?: boolean }

/** Writes text lines: `2026-11-22T12:00:00.000Z CSSMTP1 event tkid=3 spool.finished id=... file=...` */
export function textSink(out: Writable, opts: SinkOptions = {}): LogSink {
  return {
    write(r) {
      const pri = opts.priorityPrefix === true ? `<${syslogPriority(r.level)}>` : '';
      const fields = Object.entries(r.fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v ?? null)}`)
        .join(' ');
      const tk = r.tkid === undefined ? '' : ` tkid=${r.tkid}`;
      out.write(`${pri}${r.time} ${r.instance} ${r.level}${tk} ${r.event}${fields ? ' ' + fields : ''}\n`);
    },
  };
}

export function jsonSink(out: Writable, opts: SinkOptions = {}): LogSink {
  return { write: (r) => out.write((opts.priorityPrefix === true ? `<${syslogPriority(r.level)}>` : '') + JSON.stringify({ ...r.fields, time: r.time, instance: r.instance, level: r.level, tkid: r.tkid, event: r.event }) + '\n') };
}

function formatValue(v: string | number | boolean | null): string {
  if (typeof v !== 'string') return String(v);
  return /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
}

/** Shared, mutable level holder so every child logger follows LOGLEVEL changes. */
class LevelHolder {
  constructor(public bits: number) {}
}

export class Logger {
  private constructor(
    private readonly sink: LogSink,
    private readonly instance: string,
    private readonly holder: LevelHolder,
    private readonly tkid: number | undefined,
    private readonly now: () => Date,
  ) {}

  static create(opts: { sink: LogSink; instance: string; level?: number; now?: () => Date }): Logger {
    return new Logger(opts.sink, opts.instance, new LevelHolder(opts.level ?? STARTUP_LEVEL), undefined, opts.now ?? (() => new Date()));
  }

  /** A logger that writes nothing (tests, tools). */
  static silent(): Logger {
    return Logger.create({ sink: { write: () => undefined }, instance: '-', level: 0 });
  }

  /** Same sink and level, lines tagged with a spool task id. */
  forTask(tkid: number): Logger {
    return new Logger(this.sink, this.instance, this.holder, tkid, this.now);
  }

  /** Same level, instance and task; every line written also goes to `also` (the web console's event tail). */
  tee(also: LogSink): Logger {
    const sink = this.sink;
    return new Logger({ write: (r) => { sink.write(r); also.write(r); } }, this.instance, this.holder, this.tkid, this.now);
  }

  get level(): number {
    return this.holder.bits;
  }

  setLevel(bits: number): void {
    this.holder.bits = bits & 0xff;
  }

  enabled(kind: LogKind): boolean {
    return (this.holder.bits & LogBits[kind]) !== 0;
  }

  log(kind: LogKind, event: string, fields: LogFields = {}): void {
    if (kind !== 'error' && !this.enabled(kind)) return;
    // Errors are always written: an operator must never miss them (LogLevel 0 silences the rest).
    this.sink.write({ time: this.now().toISOString(), instance: this.instance, level: kind, tkid: this.tkid, event, fields });
  }

  error(event: string, fields?: LogFields): void { this.log('error', event, fields); }
  warn(event: string, fields?: LogFields): void { this.log('warning', event, fields); }
  event(event: string, fields?: LogFields): void { this.log('event', event, fields); }
  info(event: string, fields?: LogFields): void { this.log('info', event, fields); }
  jes(event: string, fields?: LogFields): void { this.log('jes', event, fields); }
  network(event: string, fields?: LogFields): void { this.log('network', event, fields); }
  debug(event: string, fields?: LogFields): void { this.log('debug', event, fields); }
}
