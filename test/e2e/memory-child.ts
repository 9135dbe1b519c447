// The parent's side of the memory tests (not a test file): servers run in a child process
// started with --expose-gc so RSS is theirs alone; the child answers one JSON line per command
// ("reset", "peak", "open", …). Used by smtp-memory.test.ts and idle-memory.test.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** From the child, after a gc: RSS, peak RSS since the reset, V8 heap in use, external (buffers). */
export interface MemorySample { rss: number; hwm: number; heapUsed: number; external: number; reset?: boolean }

export class MemoryChild {
  private lines: string[] = [];
  private wake: (() => void)[] = [];
  private exited = false;
  readonly proc: ChildProcessWithoutNullStreams;
  /** `script`: a file beside this one; `args`: its arguments. */
  constructor(script: string, args: readonly string[] = []) {
    this.proc = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', join(import.meta.dirname, script), ...args], { cwd: ROOT });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    createInterface({ input: this.proc.stdout }).on('line', (l) => { this.lines.push(l); this.notify(); });
    this.proc.once('exit', () => { this.exited = true; this.notify(); });
  }
  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }
  /** The next stdout line matching `re` (lines before it are dropped). */
  async line(re: RegExp): Promise<string> {
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l));
      if (i >= 0) return this.lines.splice(0, i + 1).pop()!;
      if (this.exited) throw new Error('child exited');
      await new Promise<void>((r) => this.wake.push(r));
    }
  }
  async ask<T = MemorySample>(cmd: string): Promise<T> {
    this.proc.stdin.write(cmd + '\n');
    return JSON.parse(await this.line(/^\{/)) as T;
  }
  stop(): void {
    this.proc.stdin.end();
    this.proc.kill('SIGKILL');
  }
}
