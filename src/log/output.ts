// Where the operator log goes: standard error or a LogFile, in Text or Json (LogFile, LogFormat).
// One LogOutput is the sink of the process's Logger and of every child logger (forTask), so a
// REFRESH that changes the file or the format swaps the destination for all of them at once:
// the next line is written in the new form to the new place, and the old file stream is ended
// (its buffered lines are flushed, none is lost or written twice).
//
// A LogFile that fails (disk full, file system gone, directory not writable) never stops the
// gateway (R3 item 2): from the error on, lines go to standard error; the file is tried again
// with back-off (1 s doubling to 5 min), and onFault() hears the problem and its end (the
// gateway marks it in health: /readyz, metrics). Lines buffered in the failed stream are lost
// with it; every later line is on standard error until the file works again.
import { createWriteStream, fstatSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { describeError } from '../core/errors.js';
import { backoffMs } from '../core/health.js';
import { jsonSink, textSink, type LogRecord, type LogSink } from './logger.js';

export interface LogDestination {
  /** null = standard error. */
  readonly logFile: string | null;
  readonly logFormat: 'text' | 'json';
}

export class LogOutput implements LogSink {
  private dest: LogDestination;
  private file: WriteStream | undefined;
  private sink: LogSink;
  private failures = 0;
  private problem: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private listener: ((problem: string | undefined) => void) | undefined;
  private closed = false;
  private instance = '-';

  /**
   * Opens the destination; a LogFile's directory is created, the file appended to (mode 0600).
   * A LogFile that cannot be opened is a fault (standard error meanwhile), not an exception.
   */
  /** Standard error is journald's stream: its lines carry a `<N>` priority prefix. */
  private readonly journald: boolean;

  constructor(dest: LogDestination, private readonly stderr: Writable = process.stderr, private readonly retryMs: (failures: number) => number = backoffMs,
    opts: { journald?: boolean } = {}) {
    this.journald = opts.journald ?? (stderr === process.stderr && stderrIsJournal(process.env.JOURNAL_STREAM));
    this.dest = dest;
    this.sink = this.sinkFor(dest.logFormat, stderr);
    try {
      this.file = this.open(dest.logFile);
      this.sink = this.sinkFor(dest.logFormat, this.file ?? stderr);
    } catch (e) {
      this.failed(dest.logFile ?? '', e);
    }
  }

  /** Hears the LogFile's problem (now, if there is one) and undefined when the file works again. */
  onFault(fn: (problem: string | undefined) => void): void {
    this.listener = fn;
    if (this.problem !== undefined) fn(this.problem);
  }

  /** The file failed: standard error from now on, and the file again after a back-off. */
  private failed(path: string, e: unknown): void {
    this.file = undefined;
    this.sink = this.sinkFor(this.dest.logFormat, this.stderr);
    this.failures++;
    const ms = this.retryMs(this.failures);
    this.problem = `LogFile ${path} failed (${describeError(e)}); logging to standard error, the file is tried again in ${Math.round(ms / 1000)} s`;
    this.stderr.write(`spoolgate: ${this.problem}\n`);
    this.listener?.(this.problem);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.retry(path), ms);
    this.retryTimer.unref();
  }

  private retry(path: string): void {
    this.retryTimer = undefined;
    if (this.closed || this.dest.logFile !== path || this.file !== undefined) return;
    let s: WriteStream | undefined;
    try {
      s = this.open(path);
    } catch (e) {
      this.failed(path, e);
      return;
    }
    if (s === undefined) return;
    this.file = s;
    this.sink = this.sinkFor(this.dest.logFormat, s);
    // The file works once a line lands: this one says where the gap in the file is.
    let line = '';
    const rec: LogRecord = { time: new Date().toISOString(), instance: this.instance, level: 'event', event: 'log.file-resumed', fields: { failures: this.failures, detail: 'lines since the failure are on standard error' } };
    this.sinkFor(this.dest.logFormat, { write: (t: string) => { line += t; return true; } } as unknown as Writable).write(rec);
    s.write(line, (e) => {
      if (e !== undefined && e !== null) return; // the 'error' listener has taken it
      if (this.file !== s || this.problem === undefined) return;
      this.failures = 0;
      this.problem = undefined;
      this.listener?.(undefined);
    });
  }

  get destination(): LogDestination {
    return this.dest;
  }

  write(rec: LogRecord): void {
    this.instance = rec.instance;
    this.sink.write(rec);
  }

  /**
   * REFRESH: the next line goes to the new destination. A new file is opened before the old one
   * is closed; if its directory cannot be created the old destination stays and the error is
   * returned (the caller logs it).
   */
  apply(next: LogDestination): Promise<string | undefined> {
    if (next.logFile === this.dest.logFile && next.logFormat === this.dest.logFormat) return Promise.resolve(undefined);
    let file: WriteStream | undefined;
    if (next.logFile === this.dest.logFile) file = this.file;
    else {
      try {
        file = this.open(next.logFile);
      } catch (e) {
        return Promise.resolve(`LogFile ${next.logFile ?? 'none'} cannot be used: ${describeError(e)}`);
      }
    }
    const old = file === this.file ? undefined : this.file;
    if (file !== this.file && this.problem !== undefined) {
      // A new LogFile replaces the failing one: its fault ends here.
      clearTimeout(this.retryTimer);
      this.failures = 0;
      this.problem = undefined;
      this.listener?.(undefined);
    }
    this.dest = next;
    this.file = file;
    this.sink = this.sinkFor(next.logFormat, file ?? this.stderr);
    return old === undefined ? Promise.resolve(undefined) : end(old).then(() => undefined);
  }

  /** Ends the log file (standard error stays open); resolves when its lines are on disk. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const f = this.file;
    this.file = undefined;
    this.sink = this.sinkFor(this.dest.logFormat, this.stderr);
    if (f !== undefined) await end(f);
  }

  private open(path: string | null): WriteStream | undefined {
    if (path === null) return undefined;
    mkdirSync(dirname(path), { recursive: true });
    const s = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // A write error (disk full, file system gone) must not stop the gateway: the line goes to
    // standard error instead, with the reason, and so does every later line until the next REFRESH.
    s.on('error', (e) => {
      if (this.file !== s) return;
      s.destroy();
      this.failed(path, e);
    });
    return s;
  }

  private sinkFor(format: LogDestination['logFormat'], out: Writable): LogSink {
    const opts = { priorityPrefix: this.journald && out === this.stderr };
    return format === 'json' ? jsonSink(out, opts) : textSink(out, opts);
  }
}

/**
 * systemd sets JOURNAL_STREAM=<device>:<inode> for a service whose standard error is connected to
 * the journal (systemd.exec(5)); it is the journal only if file descriptor 2 is still that stream
 * (a child whose stderr was redirected inherits the variable but not the stream).
 */
export function stderrIsJournal(journalStream: string | undefined, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

function end(s: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.writableFinished) { resolve(); return; }
    s.once('close', () => resolve());
    s.end();
  });
}
