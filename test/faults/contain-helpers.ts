// Small helpers of the containment fault scenarios (contain.test.ts): a log that the test can
// read, a tmpfs for ENOSPC, and an errno error for injected faults.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Logger, type LogRecord } from '../../src/log/index.js';

/** A logger whose records the test reads (level: everything). */
export function recordingLog(): { log: Logger; records: LogRecord[]; events: (name: string) => LogRecord[] } {
  const records: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => { records.push(r); } }, instance: 'T', level: 255 });
  return { log, records, events: (name) => records.filter((r) => r.event === name) };
}

/** An error as node:fs throws it. */
export function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall}`);
  e.code = code;
  e.syscall = syscall;
  return e;
}

/**
 * A small tmpfs at dir/name (for ENOSPC), unmounted after the test. Skips the test with the
 * reason when mount is not allowed; fails under CI=true (CI runs as root and must run it).
 */
export function smallTmpfs(t: TestContext, size = '64k'): string | undefined {
  const mnt = mkdtempSync(join(tmpdir(), 'spoolgate-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    const why = `mount -t tmpfs is not allowed here (${(e as Error).message.split('\n')[0]})`;
    if (process.env.CI === 'true') throw new Error(why, { cause: e });
    rmdirSync(mnt);
    t.skip(why);
    return undefined;
  }
  t.after(() => { execFileSync('umount', ['-l', mnt], { stdio: 'pipe' }); rmdirSync(mnt); });
  return mnt;
}
