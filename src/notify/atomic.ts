// Durable, atomic file creation: write a temp file in the same directory, fsync it, rename it
// over the final name, fsync the directory. After a crash the final name either does not exist or
// holds the complete content; only a temp file (name starting with TEMP_PREFIX) can be partial.
import { open, rename, unlink, mkdir } from 'node:fs/promises';
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

/**
 * Writes parts (concatenated) to dir/name atomically and durably. `syncDir` false lets a caller
 * that writes several files fsync the directory once at the end.
 */
export async function writeFileAtomic(dir: string, name: string, parts: readonly (string | Uint8Array)[], syncDir = true): Promise<string> {
  const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${name}`);
  const final = join(dir, name);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      for (const p of parts) await fh.write(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  } catch (e) {
    await unlink(tmp).catch(() => undefined); // best effort; the original error is what matters
    throw e;
  }
  if (syncDir) await fsyncDir(dir);
  return final;
}
