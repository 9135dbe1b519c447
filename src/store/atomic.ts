// The one atomic-write helper (STYLE.md §8, chasquid's safeio.WriteFile): write a temp file in the
// same directory, fsync it, move it to the final name, fsync the directory. After a crash the
// final name either does not exist or holds the complete content; only a temp file (name starting
// with TEMP_PREFIX) can be partial, and every listing in the gateway ignores such names.
// Used by every role that writes files: dead letters (notify), the extended-retry mail directory
// (forwarder), held-entry reasons, sysout reports and the writer lock (spool), quarantine
// (receiver), the HTTP token (web). It lives in store/ because it is the file half of persistence.
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Every temporary file starts with this; listings ignore such names. */
export const TEMP_PREFIX = '.tmp-';

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** fsyncs a directory so that a rename/unlink/create in it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates dir (and parents) with owner-only access if it does not exist. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export interface WriteAtomicOptions {
  /** Permission bits of the new file (default 0600). */
  readonly mode?: number;
  /** false: the caller writes several files and fsyncs the directory once at the end. */
  readonly syncDir?: boolean;
  /**
   * true: never replace an existing file — the final name is created with link(2), which fails
   * with EEXIST (thrown, the temp file removed) when the name is taken. For lock files and
   * reports that must not overwrite each other.
   */
  readonly noReplace?: boolean;
}

/**
 * Writes parts (concatenated; strings as UTF-8) to dir/name atomically and durably. Returns the
 * final path.
 */
export async function writeFileAtomic(dir: string, name: string, parts: readonly (string | Uint8Array)[], opts: WriteAtomicOptions = {}): Promise<string> {
  const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${name}`);
  const final = join(dir, name);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o600);
  try {
    try {
      for (const p of parts) await fh.write(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.noReplace) {
      await link(tmp, final);
      await unlink(tmp);
    } else {
      await rename(tmp, final);
    }
  } catch (e) {
    await unlink(tmp).catch(() => undefined); // best effort; the original error is what matters
    throw e;
  }
  if (opts.syncDir ?? true) await fsyncDir(dir);
  return final;
}
