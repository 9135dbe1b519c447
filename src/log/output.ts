// Where the operator log goes: standard error or a LogFile, in Text or Json (LogFile, LogFormat).
// One LogOutput is the sink of the process's Logger and of every child logger (forTask), so a
// REFRESH that changes the file or the format swaps the destination for all of them at once:
// the next line is written in the new form to the new place, and the old file stream is ended
// (its buffered lines are flushed, none is lost or written twice).
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { describeError } from '../core/errors.js';
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

  /** Opens the destination; a LogFile's directory is created, the file appended to (mode 0600). */
  constructor(dest: LogDestination, private readonly stderr: Writable = process.stderr) {
    this.dest = dest;
    this.file = this.open(dest.logFile);
    this.sink = this.sinkFor(dest.logFormat, this.file ?? stderr);
  }

  get destination(): LogDestination {
    return this.dest;
  }

  write(rec: LogRecord): void {
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
    this.dest = next;
    this.file = file;
    this.sink = this.sinkFor(next.logFormat, file ?? this.stderr);
    return old === undefined ? Promise.resolve(undefined) : end(old).then(() => undefined);
  }

  /** Ends the log file (standard error stays open); resolves when its lines are on disk. */
  async close(): Promise<void> {
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
      this.file = undefined;
      this.sink = this.sinkFor(this.dest.logFormat, this.stderr);
      this.stderr.write(`spoolgate: LogFile ${path} failed (${describeError(e)}); logging to standard error\n`);
    });
    return s;
  }

  private sinkFor(format: LogDestination['logFormat'], out: Writable): LogSink {
    return format === 'json' ? jsonSink(out) : textSink(out);
  }
}

function end(s: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.writableFinished) { resolve(); return; }
    s.once('close', () => resolve());
    s.end();
  });
}
