// One running instance per writer name (SPEC.md §1): `<root>/<WRITER>/.lock` holds the owner's
// PID. The lock is taken atomically: the PID is written to a private temporary file which is then
// hard-linked to the lock name (link(2) fails with EEXIST when the name exists), so the lock file
// is never seen half-written. A lock whose PID is dead is stale and taken over.
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
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

function parsePid(text: string): number | undefined {
  const t = text.trim();
  if (!/^[1-9][0-9]{0,9}$/.test(t)) return undefined;
  return Number(t);
}

async function readPid(path: string): Promise<{ exists: boolean; pid: number | undefined }> {
  try {
    return { exists: true, pid: parsePid(await readFile(path, 'utf8')) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, pid: undefined };
    throw e;
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Takes `<writerDir>/.lock` for this process. A lock naming a dead PID (or holding no valid PID)
 * is stale: it is renamed aside (only one contender wins that rename), checked again, and removed.
 */
export async function acquireWriterLock(writerDir: string, writer: string, pid: number = process.pid): Promise<Result<WriterLock, SpoolLockError>> {
  const path = join(writerDir, '.lock');
  const tmp = join(writerDir, `.lock.${pid}.tmp`);
  await unlink(tmp).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  await writeSynced(tmp, `${pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(tmp, path);
        return ok(makeLock(path, pid));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const cur = await readPid(path);
      if (!cur.exists) continue; // released meanwhile: try again
      if (cur.pid !== undefined && pidAlive(cur.pid)) return err(new SpoolLockError(writer, cur.pid, path));
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
      if (moved.pid !== undefined && moved.pid !== cur.pid && pidAlive(moved.pid)) {
        // We took a live lock by accident: put it back (if the name is free) and refuse.
        await link(aside, path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
        await unlink(aside);
        return err(new SpoolLockError(writer, moved.pid, path));
      }
      await unlink(aside);
    }
    const last = await readPid(path);
    return err(new SpoolLockError(writer, last.pid, path));
  } finally {
    await unlink(tmp).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }
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

