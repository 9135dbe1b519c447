// Start-up cleanup of what crashes leave in the spool (R3 item 7): the gateway's own temp files
// (`.tmp-*`, from the atomic writes of the writer lock, sysout reports and held reasons), a
// `.lock.stale.<pid>` moved aside by a contender that died, and producers' partial entries in
// tmp/ older than a bound (a producer killed mid-write; a live submit is far younger), and
// entries caught half-deleted by a crash (`incoming/.deleting.*`). Runs
// while the writer lock is held, so no other gateway writes these files now.
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempName } from '../store/atomic.js';
import { pidAlive } from './lock.js';
import { DELETING_PREFIX } from './disposition.js';
import type { SpoolLayout } from './submit.js';

/** tmp/ entries older than this are abandoned (no submit takes a day). */
export const TMP_MAX_AGE_MS = 24 * 3600_000;

export interface Litter {
  readonly removed: readonly string[];
  /** Paths that could not be removed, with the reason (logged; never fatal). */
  readonly failed: readonly string[];
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function cleanLitter(l: SpoolLayout, nowMs: number, tmpMaxAgeMs = TMP_MAX_AGE_MS): Promise<Litter> {
  const removed: string[] = [];
  const failed: string[] = [];
  const remove = async (path: string): Promise<void> => {
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch (e) {
      failed.push(`${path}: ${(e as Error).message}`);
    }
  };
  for (const dir of [l.writerDir, l.sysout, l.held]) {
    for (const n of await names(dir)) {
      const stale = /^\.lock\.stale\.(\d+)$/.exec(n);
      if (isTempName(n) || (stale !== null && !pidAlive(Number(stale[1])))) await remove(join(dir, n));
    }
  }
  // Entries a crash caught while they were being deleted (disposition.ts deleteEntry).
  for (const n of await names(l.incoming)) if (n.startsWith(DELETING_PREFIX)) await remove(join(l.incoming, n));
  for (const n of await names(l.tmp)) {
    const p = join(l.tmp, n);
    try {
      // The newest write in it: the entry's mtime, and for a directory its files' (a data file
      // still being streamed is younger than its directory).
      const st = await lstat(p);
      let newest = st.mtimeMs;
      if (st.isDirectory()) for (const c of await names(p)) newest = Math.max(newest, (await lstat(join(p, c)).catch(() => st)).mtimeMs);
      if (nowMs - newest > tmpMaxAgeMs) await remove(p);
    } catch {
      // gone meanwhile (renamed into incoming/ by its producer)
    }
  }
  return { removed, failed };
}
