// Where a user-exit module may come from (issue #15 item 8). An exit runs with the gateway's
// rights, so whoever can write the module, or the folders that lead to it, can act as the
// gateway. Modules are taken only from UserExitDirectory (default: the configuration file's
// folder), at any depth, and only when that folder, each folder on the way down and the module
// itself belong to the gateway's user or root and are writable by nobody else. Symbolic links
// are followed first, so a link cannot lead out of the folder.
import { realpath, stat } from 'node:fs/promises';
import { dirname, relative, isAbsolute, sep } from 'node:path';
import { describeError } from '../core/errors.js';

/** Owner and mode problems of one path; undefined when it is fine. */
function unsafe(path: string, st: { uid: number; mode: number }, uid: number | undefined): string | undefined {
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) return `${path} is owned by uid ${st.uid}, not by the gateway's user (uid ${uid}) or root`;
  if ((st.mode & 0o022) !== 0) return `${path} is writable by ${(st.mode & 0o002) !== 0 ? 'everybody' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}); chmod go-w it`;
  return undefined;
}

/**
 * ok when `module` lies inside `directory` and nobody but the gateway's user (or root) can change
 * it or the folders between. err = why not ("NOT LOADED: ..." or "REFUSED: ..."), with the fix.
 */
export async function checkExitLocation(module: string, directory: string, uid: number | undefined = process.getuid?.()): Promise<{ ok: true } | { ok: false; error: string }> {
  let dir: string;
  let mod: string;
  try {
    dir = await realpath(directory);
  } catch (e) {
    return { ok: false, error: `REFUSED: UserExitDirectory ${directory} cannot be used: ${describeError(e)}` };
  }
  try {
    mod = await realpath(module);
  } catch (e) {
    return { ok: false, error: `NOT LOADED: ${describeError(e)}` };
  }
  const rel = relative(dir, mod);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    return { ok: false, error: `REFUSED: not inside UserExitDirectory ${directory}; put the module there or change UserExitDirectory` };
  }
  const chain: string[] = [];
  for (let p = dirname(mod); ; p = dirname(p)) {
    chain.unshift(p);
    if (p === dir || dirname(p) === p) break;
  }
  for (const p of [...chain, mod]) {
    const st = await stat(p);
    if (p === mod && !st.isFile()) return { ok: false, error: 'REFUSED: not a regular file' };
    const why = unsafe(p, st, uid);
    if (why !== undefined) return { ok: false, error: `REFUSED: ${why}` };
  }
  return { ok: true };
}

/**
 * At each load of an admitted module: it and its folder still belong to the gateway's user or
 * root and are writable by nobody else. err = "REFUSED: ..." with the fix.
 */
export async function checkExitFile(module: string, uid: number | undefined = process.getuid?.()): Promise<{ ok: true } | { ok: false; error: string }> {
  for (const p of [dirname(module), module]) {
    // A path that cannot be read is left to the loader, whose error names what is missing.
    const st = await stat(p).catch(() => undefined);
    if (st === undefined) return { ok: true };
    const why = unsafe(p, st, uid);
    if (why !== undefined) return { ok: false, error: `REFUSED: ${why}` };
  }
  return { ok: true };
}
