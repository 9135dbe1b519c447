// Spool file outcome (SPEC.md §1.2): a finished entry is deleted; a bad one is held
// (`<WRITER>/held/<id>`, never read again until released, with `<id>.reason.json` beside it) or
// deleted per BadSpoolDisp, and reported per Report (Sysout file, a mail to the administrators, or
// nothing). An entry the gateway cannot read is reported and left where it is. These functions
// take the writer's layout, not a lock, so the `spoolgate spool` command can list, release and
// purge held entries while the gateway runs (the gateway never looks into held/).
import { readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { printable } from './attributes.js';
import { buildAdminReportMail, formatReport, REPORT_JOB_NAME, type ReportProblem } from './report.js';
import { fsyncDir as syncDir, isTempName, writeFileAtomic } from '../store/atomic.js';
import { pruneOldFiles } from '../log/retention.js';
import { enqueueMessage } from './enqueue.js';
import { ENVELOPE_FILE } from './message-entry.js';
import type { SpoolEntry, SpoolEntryRef, SpoolLayout } from './submit.js';
import type { HeldEntry, HeldFiles, HoldRequest } from './held.js';

type HoldRequestAttributes = HoldRequest['attributes'];

const REASON_SUFFIX = '.reason.json';

export type { HeldEntry } from './held.js';

/** An entry name usable as a single path component inside the queue. */
export function validEntryId(id: string): boolean {
  return id.length > 0 && id.length <= 255 && !id.startsWith('.') && !id.includes('/') && !id.includes('\0');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The prefix of an entry being deleted: a dot-name, which the scanner never reads as an entry. */
export const DELETING_PREFIX = '.deleting.';

/**
 * Deletes an entry of incoming/ (the whole entry directory, or the plain file). The entry is first
 * renamed to a dot-name (one atomic step, made durable), then removed: a crash in the middle of
 * the removal leaves a dot-name that start-up cleans (litter.ts), never a half-deleted entry that
 * the next start would read as a bad one and hold.
 */
export async function deleteEntry(l: SpoolLayout, id: string): Promise<void> {
  const gone = join(l.incoming, `${DELETING_PREFIX}${id}`);
  try {
    await rename(join(l.incoming, id), gone);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await syncDir(l.incoming);
  await removeEntry(gone);
}

/** The files an entry directory holds (submit.ts, message-entry.ts). */
const ENTRY_FILES = ['data', 'attrs.json', ENVELOPE_FILE];

/**
 * Removes an entry renamed away: its known files and then the directory (four calls, where a
 * recursive rm lists, stats and tries the directory first), a plain file by unlink; anything
 * unexpected inside through the recursive rm.
 */
async function removeEntry(path: string): Promise<void> {
  const skip = (e: unknown): void => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
  };
  await Promise.all(ENTRY_FILES.map((f) => unlink(join(path, f)).catch(skip)));
  try {
    await rmdir(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') { await unlink(path).catch(skip); return; }
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * Moves an incoming entry to held/ and records why. Returns the held name (the id, or id.N on a
 * clash). `from`: the file to hold when it is not incoming/<id> (an entry of the shared store,
 * copied to this node when claimed: forwarder/store-source.ts); on the spool's file system.
 */
export async function holdEntry(l: SpoolLayout, e: SpoolEntryRef, reason: string, now: Date, from?: string): Promise<string> {
  let name = e.id.endsWith(REASON_SUFFIX) ? `${e.id}.1` : e.id;
  for (let i = 2; await exists(join(l.held, name)); i++) name = `${e.id}.${i}`;
  await rename(from ?? join(l.incoming, e.id), join(l.held, name));
  await syncDir(l.held);
  if (from === undefined) await syncDir(l.incoming);
  // Written after the move: a crash in between leaves a held entry whose reason is "not recorded",
  // never a reason file for an entry that is still being processed.
  const info = { reason, heldAt: now.toISOString(), jobName: e.attrs.jobName, jobId: e.attrs.jobId, originUser: e.attrs.originUser };
  await writeFileAtomic(l.held, name + REASON_SUFFIX, [JSON.stringify(info, null, 2) + '\n'], { mode: 0o640 });
  return name;
}

async function readReason(path: string): Promise<{ reason: string; heldAt: Date | undefined; jobName: string | undefined; jobId: string | undefined }> {
  const none = { reason: '(reason not recorded)', heldAt: undefined, jobName: undefined, jobId: undefined };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return none;
    throw e;
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const at = s(o.heldAt);
    return { reason: s(o.reason) ?? none.reason, heldAt: at === undefined ? undefined : new Date(at), jobName: s(o.jobName), jobId: s(o.jobId) };
  } catch (e) {
    return { ...none, reason: `(reason file unreadable: ${(e as Error).message})` };
  }
}

/** Held entries, oldest first. */
export async function listHeld(l: SpoolLayout): Promise<HeldEntry[]> {
  let names: string[];
  try {
    names = await readdir(l.held);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: HeldEntry[] = [];
  for (const id of names) {
    if (!validEntryId(id) || id.endsWith(REASON_SUFFIX)) continue;
    out.push({ id, path: join(l.held, id), ...(await readReason(join(l.held, id + REASON_SUFFIX))) });
  }
  out.sort((a, b) => (a.heldAt?.getTime() ?? 0) - (b.heldAt?.getTime() ?? 0) || a.id.localeCompare(b.id));
  return out;
}

/**
 * A held entry's problem report: its sysout report file(s) (`<jobId>.<entry>.report.txt`, written
 * by writeSysoutReport), or a line with its reason when none was written (Report None or Admin).
 * At most maxBytes of each file.
 */
export async function readHeldReport(l: SpoolLayout, h: Pick<HeldEntry, 'id' | 'jobId' | 'reason'>, maxBytes = 1024 * 1024, reportsOnly = false): Promise<string> {
  const base = `${h.jobId ?? ''}.${h.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}`;
  let names: string[] = [];
  try {
    names = (await readdir(l.sysout)).filter((n) => n === `${base}.report.txt` || (n.startsWith(`${base}.`) && /^\.\d+\.report\.txt$/.test(n.slice(base.length)))).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const parts: string[] = [];
  for (const n of names) parts.push((await readFile(join(l.sysout, n), 'utf8')).slice(0, maxBytes));
  if (reportsOnly) return parts.join('\n');
  return parts.length > 0 ? parts.join('\n') : `(no report file in ${l.sysout}: Report None or Admin) reason: ${h.reason}`;
}

/** Moves a held entry back to incoming/ (processed again as new). */
export async function releaseHeld(l: SpoolLayout, id: string): Promise<Result<string, string>> {
  if (!validEntryId(id) || id.endsWith(REASON_SUFFIX)) return err(`"${printable(id)}" is not a spool entry name`);
  const from = join(l.held, id);
  if (!(await exists(from))) return err(`no held entry ${printable(id)} for writer ${l.writer}`);
  const to = join(l.incoming, id);
  if (await exists(to)) return err(`an entry named ${printable(id)} is already in incoming/ of writer ${l.writer}`);
  await rename(from, to);
  await syncDir(l.incoming);
  await rm(join(l.held, id + REASON_SUFFIX), { force: true });
  await syncDir(l.held);
  return ok(id);
}

/** Deletes a held entry and its reason. */
export async function purgeHeld(l: SpoolLayout, id: string): Promise<Result<string, string>> {
  if (!validEntryId(id) || id.endsWith(REASON_SUFFIX)) return err(`"${printable(id)}" is not a spool entry name`);
  const path = join(l.held, id);
  if (!(await exists(path))) return err(`no held entry ${printable(id)} for writer ${l.writer}`);
  await rm(path, { recursive: true, force: true });
  await rm(path + REASON_SUFFIX, { force: true });
  await syncDir(l.held);
  return ok(id);
}

/**
 * Retention of sysout reports: removes `*.report.txt` in `<WRITER>/sysout/` written before
 * `cutoff`. Held spool files (held/) are never pruned: they wait for the operator.
 */
export async function pruneSysoutReports(l: SpoolLayout, cutoff: number, max: number, batch: number): Promise<number> {
  const n = await pruneOldFiles(l.sysout, (name) => name.endsWith('.report.txt') && !isTempName(name), cutoff, max, batch);
  if (n > 0) await syncDir(l.sysout);
  return n;
}

/** Writes a report as `<WRITER>/sysout/<jobId>.<entryId>.report.txt` (never overwriting: `.2`, `.3`, ... on a clash). */
export async function writeSysoutReport(l: SpoolLayout, e: SpoolEntryRef, report: string): Promise<string> {
  const entry = e.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  const base = `${e.attrs.jobId}.${entry}`;
  for (let i = 1; ; i++) {
    const name = i === 1 ? `${base}.report.txt` : `${base}.${i}.report.txt`;
    try {
      return await writeFileAtomic(l.sysout, name, [report], { mode: 0o640, noReplace: true }); // never replaces an existing report
    } catch (x) {
      if ((x as NodeJS.ErrnoException).code !== 'EEXIST') throw x;
    }
  }
}

export interface BadEntryPolicy {
  /** BadSpoolDisp: Hold (default) or Delete. */
  badSpoolDisp: 'hold' | 'delete';
  /** Report: Sysout (default), Admin, None. */
  report: 'sysout' | 'admin' | 'none';
  /** For Report Admin: MailAdministrator addresses, the report sender ('' = `<>`), our host name. */
  admin?: { from: string; to: readonly string[]; hostName: string };
}

export type ReportOutcome = { kind: 'sysout'; path: string } | { kind: 'admin'; entry: SpoolEntry } | { kind: 'none' };

export interface DisposeOutcome {
  disposition: 'held' | 'deleted' | 'left';
  heldId?: string;
  report: ReportOutcome;
  /** Why a report went to sysout instead of the administrators, etc. */
  warnings: string[];
}

/**
 * Reports a bad entry per the Report statement: a sysout file, one batch-SMTP mail to all
 * MailAdministrators (put on the same writer's spool as a DEST entry), or nothing. Report Admin
 * falls back to sysout (with a warning) when no valid administrator address is configured and
 * when the bad entry is itself one of our reports.
 */
export async function reportBadEntry(opts: {
  layout: SpoolLayout; held: HeldFiles; entry: Pick<SpoolEntry, 'id' | 'attrs'>; problems: readonly ReportProblem[]; summary: string; policy: Pick<BadEntryPolicy, 'report' | 'admin'>;
  /** When the report is made (default: now). */
  now?: Date;
}): Promise<{ report: ReportOutcome; warnings: string[] }> {
  const { layout: l, entry: e, policy } = opts;
  const warnings: string[] = [];
  const text = formatReport({ attrs: e.attrs, problems: opts.problems, summary: opts.summary, entryId: e.id });
  if (policy.report === 'none') return { report: { kind: 'none' }, warnings };
  if (policy.report === 'admin') {
    // Never mail a report about a report (SPEC.md §2.2: no loops): it goes to sysout instead.
    const isReport = e.attrs.taskType === 'DEST' && e.attrs.jobName === REPORT_JOB_NAME;
    const mail = isReport
      ? err('the bad entry is itself an error report')
      : policy.admin === undefined
        ? err('no MailAdministrator configured')
        : buildAdminReportMail({ ...policy.admin, report: text, attrs: e.attrs, now: opts.now ?? new Date() });
    if (mail.ok) {
      const entry = await enqueueMessage({
        root: l.root, writer: l.writer, envelope: mail.value.envelope, data: mail.value.data, origin: { kind: 'report' }, jobName: REPORT_JOB_NAME,
      });
      return { report: { kind: 'admin', entry }, warnings };
    }
    warnings.push(`Report Admin not possible (${mail.error}); report written to sysout`);
  }
  return { report: { kind: 'sysout', path: await opts.held.writeReport(e, text, opts.now ?? new Date()) }, warnings };
}

/**
 * Reports a bad entry, then holds or deletes it (an unreadable one is left in place). The report
 * comes first: after a crash in between the entry is still queued and is reported again, rather
 * than disposed of without a report.
 */
export async function disposeBadEntry(opts: {
  layout: SpoolLayout; held: HeldFiles; entry: SpoolEntry;
  /** The attributes the entry is queued again with on release (the shared tables keep them). */
  attributes: HoldRequestAttributes; problems: readonly ReportProblem[]; summary: string; policy: BadEntryPolicy; now: Date;
}): Promise<DisposeOutcome> {
  const { layout: l, entry: e, policy } = opts;
  const { report, warnings } = await reportBadEntry(opts);
  if (e.problem?.kind === 'unreadable') return { disposition: 'left', report, warnings };
  if (policy.badSpoolDisp === 'delete') {
    await deleteEntry(l, e.id);
    return { disposition: 'deleted', report, warnings };
  }
  const reason = e.problem?.reason ?? printable(opts.summary, 400);
  const heldId = await opts.held.hold({ entry: e, kind: e.kind === 'message' ? 'message' : 'spool', attributes: opts.attributes }, reason, opts.now);
  return { disposition: 'held', heldId, report, warnings };
}
