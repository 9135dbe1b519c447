// One running instance per writer name (SPEC.md §1): `<root>/<WRITER>/.lock` holds the owner's
// PID. The lock is taken atomically: the PID is written to a private temporary file which is then
// hard-linked to the lock name (link(2) fails with EEXIST when the name exists), so the lock file
// is never seen half-written. A lock whose PID is dead is stale and taken over.
import { link, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import { SpoolgateError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';

/** Another live process holds the writer's lock. */
export class SpoolLockError extends SpoolgateError {
  readonly writer: string;
  readonly pid: number | undefined;
  readonly lockPath: string;
  constructor(writer: string, pid: number | undefined, lockPath: string) {
    super('ERR_SPOOL_LOCK',
      `writer ${writer} is already in use by process ${pid ?? '(unknown)'} (lock file ${lockPath}); ` +
      'one instance per writer name: stop that instance or choose another ExtWrtName');
    this.writer = writer;
    this.pid = pid;
    this.lockPath = lockPath;
  }
}

export interface WriterLock {
  readonly path: string;
  readonly pid: number;
  /** Removes the lock file if it still names this process. */
  release(): Promise<void>;
}

/** True when a process with this PID exists (EPERM: exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of this process (ms since the epoch, rounded to seconds). */
function processStart(): number {
  return Math.round((Date.now() - process.uptime() * 1000) / 1000) * 1000;
}

interface LockContent { exists: boolean; pid: number | undefined; startMs: number | undefined }

/** Lock file text: "PID START-MS"; a bare PID (older or hand-written locks) is accepted. */
function parseLock(text: string): { pid: number | undefined; startMs: number | undefined } {
  const m = /^([1-9][0-9]{0,9})(?: ([0-9]{1,16}))?$/.exec(text.trim());
  if (m === null) return { pid: undefined, startMs: undefined };
  return { pid: Number(m[1]), startMs: m[2] === undefined ? undefined : Number(m[2]) };
}

async function readPid(path: string): Promise<LockContent> {
  try {
    return { exists: true, ...parseLock(await readFile(path, 'utf8')) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, pid: undefined, startMs: undefined };
    throw e;
  }
}

/**
 * Is the lock's owner running? A lock naming our own PID but an earlier start time was left by a
 * previous incarnation that had the same PID (containers restart the gateway as PID 1): stale.
 */
function ownerAlive(c: LockContent, ownPid: number): boolean {
  if (c.pid === undefined) return false;
  if (c.pid === process.pid && ownPid === process.pid && c.startMs !== undefined && Math.abs(c.startMs - processStart()) > 2000) return false;
  return pidAlive(c.pid);
}

/**
 * Takes `<writerDir>/.lock` for this process. A lock naming a dead PID (or holding no valid PID)
 * is stale: it is renamed aside (only one contender wins that rename), checked again, and removed.
 */
export async function acquireWriterLock(writerDir: string, writer: string, pid: number = process.pid): Promise<Result<WriterLock, SpoolLockError>> {
  const path = join(writerDir, '.lock');
  const content = `${pid} ${processStart()}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      // Written whole and synced under a temp name, then link(2)ed: the lock appears complete
      // or not at all, and only one contender's link succeeds.
      await writeFileAtomic(writerDir, '.lock', [content], { mode: 0o644, noReplace: true, syncDir: false });
      return ok(makeLock(path, pid));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const cur = await readPid(path);
    if (!cur.exists) continue; // released meanwhile: try again
    if (ownerAlive(cur, pid)) return err(new SpoolLockError(writer, cur.pid, path));
    // Stale. Move it aside under a name of our own; then make sure what we moved is the stale
    // lock we judged, not a fresh lock another contender linked in the meantime.
    const aside = join(writerDir, `.lock.stale.${pid}`);
    try {
      await rename(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = await readPid(aside);
    if (moved.pid !== cur.pid && ownerAlive(moved, pid)) {
      // We took a live lock by accident: put it back (if the name is free) and refuse.
      await link(aside, path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
      await unlink(aside);
      return err(new SpoolLockError(writer, moved.pid, path));
    }
    await unlink(aside);
  }
  const last = await readPid(path);
  return err(new SpoolLockError(writer, last.pid, path));
}

function makeLock(path: string, pid: number): WriterLock {
  return {
    path,
    pid,
    async release() {
      const cur = await readPid(path);
      if (cur.pid === pid) await unlink(path);
    },
  };
}

