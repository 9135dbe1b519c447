// Putting a file on the spool (the IEBGENER step), and the spool directory layout that producers
// and the gateway share. Arrival is atomic (SPEC.md §1): the entry directory is built under
// `<root>/tmp/<id>/`, its data and attrs.json are fsynced, and only then is the whole directory
// renamed into `<root>/<WRITER>/incoming/`. A producer killed at any point leaves at most a
// partial entry in tmp/, which the gateway never reads. When submitToSpool returns, the entry and
// the directory entries naming it are on disk.
import { mkdir, open, rename, rm, chmod, chown, lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolgateError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { MessageEnvelope } from './message-entry.js';
import { fsyncDir } from '../store/atomic.js';
import {
  formatAttrsJson, jobIdFromInode, jobNameFromFileName, normalizeName, parseAttrsJson, resolveAttributes,
  userNameOf, type AttrsFile, type SpoolAttributes,
} from './attributes.js';

export interface SpoolEntryProblem {
  /** 'bad': hold or delete per BadSpoolDisp. 'unreadable': report and leave in place. */
  kind: 'bad' | 'unreadable';
  reason: string;
}

export interface SpoolEntry {
  /** Entry name in incoming/: the directory name of an entry directory, or a plain file's name. */
  id: string;
  /**
   * 'batch': a customer job's batch-SMTP records, read under the JES rules. 'message': the
   * gateway's own mail, raw RFC 5322 bytes plus envelope.json (message-entry.ts), passed through
   * untouched.
   */
  kind: 'batch' | 'message';
  /** For a 'message' entry: its envelope and origin. */
  message?: MessageEnvelope;
  /** The data file. */
  path: string;
  attrs: SpoolAttributes;
  size: number;
  /** Set when the entry cannot be processed; attrs then hold what could be determined. */
  problem?: SpoolEntryProblem;
}

/** What disposition needs of an entry (the forwarder passes a subset of SpoolEntry). */
export interface SpoolEntryRef {
  readonly id: string;
  readonly attrs: Pick<SpoolAttributes, 'jobName' | 'jobId' | 'originUser'>;
}

export interface SpoolLayout {
  root: string;
  writer: string;
  tmp: string;
  writerDir: string;
  incoming: string;
  held: string;
  sysout: string;
}

/** A bad argument to a spool operation (writer name, attribute, entry id). */
export class SpoolUsageError extends SpoolgateError {
  constructor(message: string) {
    super('ERR_SPOOL_USAGE', message);
  }
}

/** Paths of one writer's queue. Throws SpoolUsageError for an invalid writer name. */
export function spoolLayout(root: string, writer: string): SpoolLayout {
  const w = normalizeName(writer);
  if (!w.ok) throw new SpoolUsageError(`writer name ${w.error}`);
  const writerDir = join(root, w.value);
  return {
    root, writer: w.value, tmp: join(root, 'tmp'), writerDir,
    incoming: join(writerDir, 'incoming'), held: join(writerDir, 'held'), sysout: join(writerDir, 'sysout'),
  };
}

// Who may read and write what (docs/spool.md "Producers and the gateway"). Producers are not
// members of the gateway's group; they reach the spool through the group of the root (and of
// each writer directory, which an administrator may narrow per writer).
// - tmp/ and incoming/: the gateway's, group = the gateway's own group, mode 3777 (as /tmp, plus
//   setgid): producers create entries in them; setgid, so every entry gets the gateway's group,
//   which is how the gateway reads it while other producers, with no rights on it, do not;
//   sticky, so no producer removes, renames or replaces another's entry. Producers may list them
//   (names only): a producer must be able to open them to fsync its rename (durable arrival).
//   Hard links to another's entry need fs.protected_hardlinks = 1 (every distribution's default).
// - <WRITER>/: 0710, at most 2710: producers of this writer (its group) may only pass through
//   to incoming/; nobody but the gateway creates, renames or removes anything in it (.lock,
//   held/, sysout/, incoming/ itself).
// - held/ and sysout/: 0700, the gateway's only.
const PRODUCER_DIR_MODE = 0o3777;
const WRITER_DIR_MODE = 0o710;
const WRITER_DIR_MAX = 0o2710;
const GATEWAY_DIR_MODE = 0o700;
/** The spool root when the gateway creates it; an administrator gives it the producers' group. */
const ROOT_DIR_MODE = 0o710;
/** An entry directory: the gateway (its group) may remove and hold it, no one else may enter. */
const ENTRY_DIR_MODE = 0o2770;

/** The spool directories are not the gateway's, or could be changed by others. */
export class SpoolLayoutError extends SpoolgateError {
  constructor(message: string) {
    super('ERR_SPOOL_LAYOUT', message);
  }
}

async function mkdirMode(path: string, mode: number): Promise<void> {
  const made = await mkdir(path, { recursive: true });
  // mkdir's mode is filtered by the umask; set it exactly, but only on directories we created.
  if (made !== undefined) await chmod(path, mode);
}

/** Creates the layout's directories that are missing; the gateway also checks and tightens them (secureLayout). */
export async function ensureLayout(l: SpoolLayout, opts: { gateway: boolean }): Promise<void> {
  await mkdirMode(l.root, ROOT_DIR_MODE);
  await mkdirMode(l.tmp, PRODUCER_DIR_MODE);
  await mkdirMode(l.writerDir, WRITER_DIR_MODE);
  await mkdirMode(l.incoming, PRODUCER_DIR_MODE);
  if (opts.gateway) {
    await mkdirMode(l.held, GATEWAY_DIR_MODE);
    await mkdirMode(l.sysout, GATEWAY_DIR_MODE);
    await secureLayout(l);
  }
}

/**
 * The gateway's check when it opens a writer's queue: every directory of the layout is a real
 * directory owned by the gateway's uid (one a producer made would let it list, remove or replace
 * entries: refused with SpoolLayoutError), the root cannot be changed by others, and the modes
 * and groups are set as above — so a layout made by an older version is tightened in place.
 */
export async function secureLayout(l: SpoolLayout): Promise<void> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return; // no POSIX owners (not Linux)
  const root = await lstat(l.root);
  // Whoever may write to the root may rename tmp/ or a writer directory away (unless sticky).
  if (!root.isDirectory()) throw new SpoolLayoutError(`spool root ${l.root} is not a directory (a symbolic link?)`);
  if ((root.mode & 0o022) !== 0 && (root.mode & 0o1000) === 0) {
    throw new SpoolLayoutError(`spool root ${l.root} is writable by its group or others (mode ${(root.mode & 0o7777).toString(8)}): they could replace tmp/ or a writer's queue; chmod go-w ${l.root}`);
  }
  const dirs: readonly (readonly [string, 'producer' | 'writer' | 'private'])[] = [
    [l.tmp, 'producer'], [l.writerDir, 'writer'], [l.incoming, 'producer'], [l.held, 'private'], [l.sysout, 'private'],
  ];
  for (const [path, kind] of dirs) {
    const st = await lstat(path);
    if (!st.isDirectory()) throw new SpoolLayoutError(`${path} is not a directory (a symbolic link?); remove it, the gateway creates it`);
    if (st.uid !== uid) {
      throw new SpoolLayoutError(`${path} belongs to uid ${st.uid}, not to the gateway's uid ${uid}: its owner could list, remove or replace the entries in it; remove it (the gateway creates it) or chown it to the gateway's user`);
    }
    const mode = st.mode & 0o7777;
    let want: number;
    if (kind === 'producer') {
      want = PRODUCER_DIR_MODE;
      if (st.gid !== gid) await chown(path, uid, gid);
    } else if (kind === 'writer') {
      want = (mode & WRITER_DIR_MAX) | 0o700;
    } else {
      want = GATEWAY_DIR_MODE;
    }
    if (mode !== want || (kind === 'producer' && st.gid !== gid)) await chmod(path, want);
  }
}

/** fsync(2) on a directory, so a rename or create inside it is durable (the one in store/atomic.ts). */
export const syncDir = fsyncDir;

export interface SubmitOptions {
  root: string;
  writer: string;
  data: Buffer | AsyncIterable<Buffer>;
  attrs: Partial<Omit<SpoolAttributes, 'originUser' | 'originUid' | 'created'>>;
  /** Overrides for tests: passwd file, host name, time source. */
  passwdPath?: string;
  hostName?: string;
  now?: () => number;
  /**
   * Fault injection (crash tests): called after each durable step of the write protocol; a test
   * kills the process there. Steps: data, attrs, extra:<name>, tmpdir, rename, incoming, tmp.
   */
  afterStep?: (step: string) => Promise<void>;
  /**
   * A caller-chosen entry id (a print report's section mail, submit/pdf-spool.ts), instead of a
   * new one: a stale tmp/<id> left by a crash is removed first.
   */
  id?: string;
  /**
   * Called once tmp/<id> is complete and durable, before it is renamed into incoming/: the caller
   * records that the entry exists (a checkpoint). From then on a failure leaves tmp/<id> in place
   * for the caller to rename (commitStaged), rather than removing it.
   */
  beforeRename?: (id: string) => Promise<void>;
}

/** Files written beside data and attrs.json (a message entry's envelope.json). */
export interface ExtraFile {
  readonly name: string;
  readonly data: Buffer;
}

/** Puts one batch entry on the writer's spool, atomically and durably. Throws SpoolUsageError for bad attributes. */
export async function submitToSpool(opts: SubmitOptions): Promise<SpoolEntry> {
  return submitEntry(opts);
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o640);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The one write protocol of spool entries (batch and message): tmp/<id>/ with data, attrs.json
 * and any extra files, each fsynced; the directory fsynced; renamed into incoming/; incoming/
 * and tmp/ fsynced. Returns the entry as a batch entry (message-entry.ts sets kind and message).
 */
export async function submitEntry(opts: SubmitOptions & { extraFiles?: readonly ExtraFile[] }): Promise<SpoolEntry> {
  const staged = await stageEntry(opts);
  const [done] = await publishStaged([staged]);
  if (done!.ok) return done!.entry;
  throw done!.error;
}

/**
 * An entry complete and durable under tmp/<id>/, not yet renamed into incoming/ (the first half
 * of submitEntry). publishStaged() finishes it; until then no reader sees it.
 */
export interface StagedEntry {
  readonly layout: SpoolLayout;
  readonly id: string;
  readonly tmpDir: string;
  readonly size: number;
  readonly uid: number;
  readonly ino: bigint;
  readonly file: AttrsFile;
  readonly opts: SubmitOptions;
  /** beforeRename recorded it: a failure leaves tmp/<id> for the caller (commitStaged). */
  readonly recorded: boolean;
}

/**
 * Writes tmp/<id>/ (data, attrs.json, extra files, each fsynced; the directory fsynced). On
 * failure tmp/<id> is removed (unless beforeRename recorded it) and the error thrown.
 * `layoutReady`: the caller knows the directories exist (a group of entries checks them once).
 */
export async function stageEntry(opts: SubmitOptions & { extraFiles?: readonly ExtraFile[] }, layoutReady = false): Promise<StagedEntry> {
  const step = opts.afterStep ?? (async () => undefined);
  const l = spoolLayout(opts.root, opts.writer);
  const given: AttrsFile = {};
  const a = opts.attrs;
  if (a.jobName !== undefined) given.jobName = a.jobName.toUpperCase();
  if (a.jobId !== undefined) given.jobId = a.jobId;
  if (a.originNode !== undefined) given.originNode = a.originNode;
  if (a.taskType !== undefined) given.taskType = a.taskType;
  if (a.recordFormat !== undefined) given.recordFormat = a.recordFormat;
  if (a.encoding !== undefined) given.encoding = a.encoding;
  // Our own tools must write what the gateway will accept: validate with the reader's rules.
  const checked = parseAttrsJson(Buffer.from(formatAttrsJson(given)));
  if (!checked.ok) throw new SpoolUsageError(checked.error.replace(/^attrs\.json: /, ''));

  if (!layoutReady) await ensureLayout(l, { gateway: false });
  const now = opts.now ?? Date.now;
  const id = opts.id ?? newId(now());
  if (opts.id !== undefined && !/^[0-9a-z]{20}$/.test(id)) throw new SpoolUsageError(`entry id ${id} is not 20 base-36 characters`);
  const tmpDir = join(l.tmp, id);
  if (opts.id !== undefined) await rm(tmpDir, { recursive: true, force: true });
  let staged = false;
  // Inherits tmp/'s group (setgid): the gateway's. Only the owner and the gateway may enter it.
  await mkdir(tmpDir, { mode: 0o750 });
  try {
    const dataPath = join(tmpDir, 'data');
    // Without fault injection, a Buffer's entry writes its files at once (stageAtOnce): their
    // fsyncs overlap. The steps below stay one after another for the crash tests' hooks.
    if (opts.afterStep === undefined && Buffer.isBuffer(opts.data)) {
      const at = await stageAtOnce(tmpDir, dataPath, opts.data, checked.value, opts, now);
      if (opts.beforeRename !== undefined) {
        await opts.beforeRename(id);
        staged = true;
      }
      return { layout: l, id, tmpDir, size: opts.data.length, ...at, opts, recorded: staged };
    }
    let size = 0;
    if (Buffer.isBuffer(opts.data)) {
      await writeDurably(dataPath, opts.data);
      size = opts.data.length;
    } else {
      const fh = await open(dataPath, 'wx', 0o640);
      try {
        for await (const chunk of opts.data) {
          await fh.writeFile(chunk);
          size += chunk.length;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await step('data');
    const st = await stat(dataPath, { bigint: true });
    const file: AttrsFile = {
      ...checked.value,
      jobId: checked.value.jobId ?? jobIdFromInode(st.ino),
      taskType: checked.value.taskType ?? 'WRITER',
      created: new Date(now()),
    };
    if (file.jobName === undefined) {
      // Default job name: the submitting user's name, as TSO job names start with the user id.
      file.jobName = jobNameFromFileName(await userNameOf(Number(st.uid), opts.passwdPath));
    }
    await writeDurably(join(tmpDir, 'attrs.json'), Buffer.from(formatAttrsJson(file)));
    await step('attrs');
    for (const x of opts.extraFiles ?? []) {
      await writeDurably(join(tmpDir, x.name), x.data);
      await step(`extra:${x.name}`);
    }
    // Group write lets a gateway that is not root remove or hold the entry (a change in the
    // directory); set after the files are made, since a producer outside the gateway's group
    // cannot keep the setgid bit on chmod (the files already have the group).
    await chmod(tmpDir, ENTRY_DIR_MODE);
    await syncDir(tmpDir);
    await step('tmpdir');
    if (opts.beforeRename !== undefined) {
      await opts.beforeRename(id);
      staged = true;
    }
    return { layout: l, id, tmpDir, size, uid: Number(st.uid), ino: st.ino, file, opts, recorded: staged };
  } catch (e) {
    if (!staged) await rm(tmpDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The files of tmp/<id>/ written at once (B2 #20 goal 3): data is created first (its inode is the
 * job id), then data, attrs.json and the extra files are written and fsynced concurrently (their
 * fsyncs share the file system's journal commits instead of waiting for one another), and only
 * when every one of them is durable is the directory chmod'ed and fsynced. Nothing is renamed
 * before that, so what the entry promises is what stageEntry's one-at-a-time steps promise: all
 * files durable, then the directory, then (publishStaged) the rename.
 */
async function stageAtOnce(tmpDir: string, dataPath: string, data: Buffer, given: AttrsFile, opts: SubmitOptions & { extraFiles?: readonly ExtraFile[] }, now: () => number): Promise<{ uid: number; ino: bigint; file: AttrsFile }> {
  const fh = await open(dataPath, 'wx', 0o640);
  let file: AttrsFile;
  let st: { uid: bigint; ino: bigint };
  try {
    st = await fh.stat({ bigint: true });
    file = { ...given, jobId: given.jobId ?? jobIdFromInode(st.ino), taskType: given.taskType ?? 'WRITER', created: new Date(now()) };
    // Default job name: the submitting user's name, as TSO job names start with the user id.
    if (file.jobName === undefined) file.jobName = jobNameFromFileName(await userNameOf(Number(st.uid), opts.passwdPath));
  } catch (e) {
    await fh.close();
    throw e;
  }
  const writeData = async (): Promise<void> => {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  const all = await Promise.allSettled([
    writeData(),
    writeDurably(join(tmpDir, 'attrs.json'), Buffer.from(formatAttrsJson(file))),
    ...(opts.extraFiles ?? []).map((x) => writeDurably(join(tmpDir, x.name), x.data)),
  ]);
  const failed = all.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  await chmod(tmpDir, ENTRY_DIR_MODE);
  await syncDir(tmpDir);
  return { uid: Number(st.uid), ino: st.ino, file };
}

export type Published = { readonly ok: true; readonly entry: SpoolEntry } | { readonly ok: false; readonly error: unknown };

/**
 * The second half: renames staged entries of ONE writer into incoming/, then fsyncs incoming/
 * and tmp/ once for all of them (a group commit: n entries, two directory fsyncs). An entry is
 * durable, and its result ok, only after both fsyncs; if they fail, every entry of the group
 * fails (it may still be in incoming/: the caller's client retries, a duplicate, never a loss).
 * `userName` resolves the owner's name for the attributes (default: reading the passwd file).
 */
export async function publishStaged(entries: readonly StagedEntry[], userName?: (uid: number) => Promise<string>): Promise<Published[]> {
  const first = entries[0];
  if (first === undefined) return [];
  const l = first.layout;
  if (entries.some((s) => s.layout.incoming !== l.incoming || s.layout.tmp !== l.tmp)) throw new RangeError('publishStaged: entries of one writer only');
  const results: (Published | undefined)[] = entries.map(() => undefined);
  const renamed: number[] = [];
  for (const [i, s] of entries.entries()) {
    try {
      await rename(s.tmpDir, join(l.incoming, s.id));
      await (s.opts.afterStep ?? (async () => undefined))('rename');
      renamed.push(i);
    } catch (e) {
      if (!s.recorded) await rm(s.tmpDir, { recursive: true, force: true });
      results[i] = { ok: false, error: e };
    }
  }
  if (renamed.length > 0) {
    const steps = (name: string): Promise<unknown> => Promise.all(renamed.map((i) => (entries[i]!.opts.afterStep ?? (async () => undefined))(name)));
    try {
      if (renamed.some((i) => entries[i]!.opts.afterStep !== undefined)) {
        await syncDir(l.incoming);
        await steps('incoming');
        await syncDir(l.tmp);
        await steps('tmp');
      } else {
        // No fault injection: both fsyncs at once (one journal commit of the file system, not
        // two in a row); the entries are durable, and their results ok, only when both are done.
        await Promise.all([syncDir(l.incoming), syncDir(l.tmp)]);
      }
    } catch (e) {
      for (const i of renamed) results[i] = { ok: false, error: e };
      return results.map((r) => r!);
    }
    const mtime = new Date();
    for (const i of renamed) {
      const s = entries[i]!;
      try {
        const file = s.file;
        const attrs = await resolveAttributes({ fileName: s.id, uid: s.uid, ino: s.ino, mtime, file, ...pass(s.opts), ...(userName === undefined ? {} : { userName }) });
        results[i] = { ok: true, entry: { id: s.id, kind: 'batch', path: join(l.incoming, s.id, 'data'), attrs, size: s.size } };
      } catch (e) {
        results[i] = { ok: false, error: e };
      }
    }
  }
  return results.map((r) => r!);
}

/**
 * Finishes an entry whose tmp/<id> was recorded by beforeRename and not yet renamed (a crash
 * between the two): renames it into incoming/ and makes that durable. False when there is no
 * tmp/<id> (it was renamed before the crash).
 */
export async function commitStaged(root: string, writer: string, id: string): Promise<boolean> {
  const l = spoolLayout(root, writer);
  try {
    await rename(join(l.tmp, id), join(l.incoming, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  await syncDir(l.incoming);
  await syncDir(l.tmp);
  return true;
}

function pass(opts: SubmitOptions): { passwdPath?: string; hostName?: string } {
  const o: { passwdPath?: string; hostName?: string } = {};
  if (opts.passwdPath !== undefined) o.passwdPath = opts.passwdPath;
  if (opts.hostName !== undefined) o.hostName = opts.hostName;
  return o;
}
