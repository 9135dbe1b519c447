// Spool file attributes: what JES keeps beside a SYSOUT data set (SPEC.md §1). How each one
// travels is documented in docs/spool.md. The origin user id always comes from the data file's
// owner (stat uid → /etc/passwd name): it is the one attribute a producer cannot forge, so sender
// policy may rely on it. attrs.json is untrusted input: bounded, typed and length-checked; a bad
// one makes the entry a bad spool file with a reason, never a crash.
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { err, ok, type Result } from '../core/result.js';
import type { RecordFormat } from './records.js';

/** Record formats of a spool file (records.ts `RecordFormat`). */
export type SpoolRecordFormat = RecordFormat;
export const RECORD_FORMATS: readonly SpoolRecordFormat[] = ['text', 'nl', 'fixed', 'variable'];

export type SpoolTaskType = 'WRITER' | 'DEST';

export interface SpoolAttributes {
  jobName: string;
  jobId: string;
  originUser: string;
  originUid: number;
  originNode: string;
  taskType: SpoolTaskType;
  created: Date;
  recordFormat?: SpoolRecordFormat;
  /** Code page name; absent = the instance's Translate default. */
  encoding?: string;
}

/** The fields attrs.json may carry (originUser/originUid/created are never taken from callers of submit). */
export interface AttrsFile {
  jobName?: string;
  jobId?: string;
  originNode?: string;
  taskType?: SpoolTaskType;
  created?: Date;
  recordFormat?: SpoolRecordFormat;
  encoding?: string;
}

export const ATTRS_MAX_BYTES = 4096;

const NAME_RE = /^[A-Z0-9$#@]{1,8}$/;
const JOBID_RE = /^[A-Z0-9]{1,8}$/;
const NODE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENCODING_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** ExtWrtName / job name rule: 1–8 chars A-Z 0-9 $ # @, case-insensitive (returned upper-cased). */
export function normalizeName(name: string): Result<string, string> {
  const up = name.toUpperCase();
  if (!NAME_RE.test(up)) return err(`"${printable(name)}" is not 1-8 characters A-Z 0-9 $ # @`);
  return ok(up);
}

/** Job name of a plain file: the file name's stem, upper-cased, its first 8 chars of [A-Z0-9$#@]. */
export function jobNameFromFileName(fileName: string): string {
  const base = fileName.replace(/^.*\//, '');
  const dot = base.indexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const name = stem.toUpperCase().replace(/[^A-Z0-9$#@]/g, '').slice(0, 8);
  return name === '' ? 'NONAME' : name;
}

/** Job id generated from the data file's inode: `J` + 7 digits (stable across rename, hold, release). */
export function jobIdFromInode(ino: number | bigint): string {
  const n = BigInt(ino) % 10_000_000n;
  return 'J' + n.toString().padStart(7, '0');
}

/** Escapes anything outside printable ASCII so untrusted text can go into reasons and reports. */
export function printable(s: string, max = 200): string {
  const cut = s.length > max ? s.slice(0, max) + '...' : s;
  return cut.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Validates attrs.json bytes. Unknown keys are ignored (newer tools); originUser/originUid claims are ignored by design. */
export function parseAttrsJson(bytes: Buffer): Result<AttrsFile, string> {
  if (bytes.length > ATTRS_MAX_BYTES) return err(`attrs.json is ${bytes.length} bytes (limit ${ATTRS_MAX_BYTES})`);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return err(`attrs.json is not valid JSON: ${printable((e as Error).message)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return err('attrs.json is not a JSON object');
  const o = raw as Record<string, unknown>;
  const out: AttrsFile = {};
  const str = (key: string): Result<string | undefined, string> => {
    const v = o[key];
    if (v === undefined) return ok(undefined);
    if (typeof v !== 'string') return err(`attrs.json: ${key} must be a string`);
    return ok(v);
  };
  const jobName = str('jobName');
  if (!jobName.ok) return jobName;
  if (jobName.value !== undefined) {
    const n = normalizeName(jobName.value);
    if (!n.ok) return err(`attrs.json: jobName ${n.error}`);
    out.jobName = n.value;
  }
  const jobId = str('jobId');
  if (!jobId.ok) return jobId;
  if (jobId.value !== undefined) {
    if (!JOBID_RE.test(jobId.value)) return err(`attrs.json: jobId "${printable(jobId.value)}" is not 1-8 characters A-Z 0-9`);
    out.jobId = jobId.value;
  }
  const node = str('originNode');
  if (!node.ok) return node;
  if (node.value !== undefined) {
    if (!NODE_RE.test(node.value)) return err(`attrs.json: originNode "${printable(node.value)}" is not a host name of 1-64 characters`);
    out.originNode = node.value;
  }
  const task = str('taskType');
  if (!task.ok) return task;
  if (task.value !== undefined) {
    if (task.value !== 'WRITER' && task.value !== 'DEST') return err(`attrs.json: taskType "${printable(task.value)}" is not WRITER or DEST`);
    out.taskType = task.value;
  }
  const created = str('created');
  if (!created.ok) return created;
  if (created.value !== undefined) {
    const d = /^\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})$/.test(created.value) ? new Date(created.value) : new Date(NaN);
    if (Number.isNaN(d.getTime())) return err(`attrs.json: created "${printable(created.value)}" is not an ISO 8601 time`);
    out.created = d;
  }
  const rf = str('recordFormat');
  if (!rf.ok) return rf;
  if (rf.value !== undefined) {
    const f = RECORD_FORMATS.find((x) => x === rf.value);
    if (f === undefined) return err(`attrs.json: recordFormat "${printable(rf.value)}" is not one of ${RECORD_FORMATS.join(', ')}`);
    out.recordFormat = f;
  }
  const enc = str('encoding');
  if (!enc.ok) return enc;
  if (enc.value !== undefined) {
    if (!ENCODING_RE.test(enc.value)) return err(`attrs.json: encoding "${printable(enc.value)}" is not a code page name`);
    out.encoding = enc.value;
  }
  return ok(out);
}

/** attrs.json text for the given fields (written by our own submit tools). */
export function formatAttrsJson(a: AttrsFile): string {
  const o: Record<string, string> = {};
  if (a.jobName !== undefined) o.jobName = a.jobName;
  if (a.jobId !== undefined) o.jobId = a.jobId;
  if (a.originNode !== undefined) o.originNode = a.originNode;
  if (a.taskType !== undefined) o.taskType = a.taskType;
  if (a.created !== undefined) o.created = a.created.toISOString();
  if (a.recordFormat !== undefined) o.recordFormat = a.recordFormat;
  if (a.encoding !== undefined) o.encoding = a.encoding;
  return JSON.stringify(o, null, 2) + '\n';
}

/** User name of a uid from a passwd(5) file; the numeric uid as text when not listed or unreadable. */
export async function userNameOf(uid: number, passwdPath = '/etc/passwd'): Promise<string> {
  let text: string;
  try {
    text = await readFile(passwdPath, 'utf8');
  } catch {
    // No passwd file (minimal container): the numeric uid is still an unforgeable identity.
    return String(uid);
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[2] === String(uid) && f[0] !== undefined && f[0] !== '') return f[0];
  }
  return String(uid);
}

/** Reads attrs.json without following symlinks, refusing anything over ATTRS_MAX_BYTES. */
export async function readAttrsFile(path: string): Promise<Result<AttrsFile, string>> {
  const bytes = await readSmallFile(path, 'attrs.json', ATTRS_MAX_BYTES);
  return bytes.ok ? parseAttrsJson(bytes.value) : bytes;
}

/**
 * Reads a producer-written control file (attrs.json, envelope.json) whole: no symbolic links,
 * regular files only, at most `max` bytes. Problems are reason texts naming `label`.
 */
export async function readSmallFile(path: string, label: string, max: number): Promise<Result<Buffer, string>> {
  let fh;
  try {
    // O_NONBLOCK: a FIFO put here by a producer must not block the open (and a libuv thread,
    // the scan, start and SIGTERM with it) until a writer appears; fstat then refuses it.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return err(`${label} is a symbolic link`);
    return err(`${label} cannot be read: ${code ?? (e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return err(`${label} is not a regular file`);
    if (st.size > max) return err(`${label} is ${st.size} bytes (limit ${max})`);
    const buf = Buffer.alloc(Math.min(max + 1, st.size + 1));
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0 || n + bytesRead >= buf.length) { n += bytesRead; break; }
      n += bytesRead;
    }
    if (n !== st.size) return err(`${label} changed while being read`);
    return ok(buf.subarray(0, n));
  } finally {
    await fh.close();
  }
}

/** Combines what the file system says (owner, inode, mtime) with attrs.json fields and defaults. */
export async function resolveAttributes(opts: {
  fileName: string; uid: number; ino: number | bigint; mtime: Date; file?: AttrsFile; passwdPath?: string; hostName?: string;
  /** The owner's name for a uid (a caller that queues many entries keeps it); default: userNameOf. */
  userName?: (uid: number) => Promise<string>;
}): Promise<SpoolAttributes> {
  const f = opts.file ?? {};
  const a: SpoolAttributes = {
    jobName: f.jobName ?? jobNameFromFileName(opts.fileName),
    jobId: f.jobId ?? jobIdFromInode(opts.ino),
    originUser: await (opts.userName ?? ((uid: number) => userNameOf(uid, opts.passwdPath)))(opts.uid),
    originUid: opts.uid,
    originNode: f.originNode ?? opts.hostName ?? hostname(),
    taskType: f.taskType ?? 'WRITER',
    created: f.created ?? opts.mtime,
  };
  if (f.recordFormat !== undefined) a.recordFormat = f.recordFormat;
  if (f.encoding !== undefined) a.encoding = f.encoding;
  return a;
}
