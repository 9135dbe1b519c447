// One writer's queue (SPEC.md §1): `<root>/<WRITER>/incoming/` holds ready entries, put there
// only by rename (from `<root>/tmp/`), so everything in it is complete. New entries are noticed
// within milliseconds through fs.watch on incoming/, with a periodic rescan as the safety net for
// file systems and situations where notification is lost; each entry is reported once per open.
// One running instance per writer name: open() takes `<WRITER>/.lock` (lock.ts).
//
// Untrusted input: the names, types, owners and attrs.json of entries in incoming/ (any local
// user in the spool group can put files there). Symbolic links and multiply-linked data files are
// refused (they would let a producer pass off another user's file as its own); data is opened
// with O_NOFOLLOW.
import { constants, watch as fsWatch, type FSWatcher } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Timer } from '../core/clock.js';
import { backoffMs } from '../core/health.js';
import { ConfigError } from '../core/errors.js';
import { err, ok, type Result } from '../core/result.js';
import { readAttrsFile, readSmallFile, resolveAttributes, type AttrsFile } from './attributes.js';
import { ENVELOPE_FILE, ENVELOPE_MAX_BYTES, isGatewayOrigin, parseEnvelopeFile, type MessageEnvelope } from './message-entry.js';
import {
  deleteEntry, holdEntry, listHeld, purgeHeld, releaseHeld, validEntryId, writeSysoutReport, type HeldEntry,
} from './disposition.js';
import { acquireWriterLock, SpoolLockError, type WriterLock } from './lock.js';
import { cleanLitter, type Litter } from './litter.js';
import { ensureLayout, spoolLayout, SpoolUsageError, type SpoolEntry, type SpoolEntryProblem, type SpoolEntryRef, type SpoolLayout } from './submit.js';

export { SpoolLockError } from './lock.js';

export interface SpoolQueueOptions {
  root: string;
  writer: string;
  clock: Clock;
  /** Safety-net rescan interval (ms); default 5000 (Spool RescanInterval 5). */
  rescanMs?: number;
  /** Where errors of the background watcher go (default: process.emitWarning). */
  onError?: (e: Error) => void;
  passwdPath?: string;
  hostName?: string;
  /** The uid the gateway's own entries belong to (default: this process's). */
  gatewayUid?: number;
}

/**
 * A plain file in incoming/ younger than this (by its mtime, or unchanged for less than this) is
 * left for a later scan: it may still be written in place (R3 item 7). Producers should write in
 * tmp/ and rename; a file renamed in is only delayed this long.
 */
export const SETTLE_MS = 2000;

interface Inspected {
  entry: SpoolEntry;
  /** Name + inode: a plain file replaced under the same name is a new arrival. */
  key: string;
  ctimeMs: number;
  /** A plain file's size and mtime (for the settle check). */
  plain?: { size: number; mtimeMs: number };
}

export class SpoolQueue {
  readonly layout: SpoolLayout;
  private readonly opts: SpoolQueueOptions;
  private readonly lock: WriterLock;
  private readonly seen = new Set<string>();
  /** Entries inspected in full (attributes, envelope, data checked) since open: the cost of scans. */
  inspections = 0;
  /** Entry names looked at by scans since open (an lstat, or an inspection): what a scan costs. */
  looks = 0;
  /** Unreadable entries: failures so far and when (injected clock) to report them again. */
  private readonly unreadable = new Map<string, { failures: number; next: number }>();
  /**
   * Parsed envelope.json per entry name, valid while the file's inode, times and size stay: every
   * scan inspects every entry, and an envelope (up to 2,000 recipients) is parsed once, not per scan.
   */
  private readonly envelopes = new Map<string, { readonly stamp: string; readonly parsed: Result<MessageEnvelope, string> }>();
  private onArrival: ((e: SpoolEntry) => void) | undefined;
  private watcher: FSWatcher | undefined;
  private timer: Timer | undefined;
  private scanRunning = false;
  private scanAgain = false;
  /** A full scan (readdir) is due; otherwise only the names in `dirty` are looked at. */
  private fullScanDue = false;
  /** Names fs.watch reported since the last scan (arrivals and removals alike). */
  private readonly dirty = new Set<string>();
  private scanDone: Promise<void> = Promise.resolve();
  private closed = false;
  /** Plain files not settled yet: name -> size/mtime stamp and when (wall clock) it was first seen. */
  private readonly settling = new Map<string, { stamp: string; since: number; warned: boolean }>();
  private settleTimer: NodeJS.Timeout | undefined;
  /** What open() cleaned up after earlier crashes (the caller logs it). */
  litter: Litter = { removed: [], failed: [] };

  private constructor(layout: SpoolLayout, lock: WriterLock, opts: SpoolQueueOptions) {
    this.layout = layout;
    this.lock = lock;
    this.opts = opts;
  }

  get writer(): string {
    return this.layout.writer;
  }

  /** Creates the layout if needed and takes the writer's lock. An invalid writer name throws ConfigError. */
  static async open(opts: SpoolQueueOptions): Promise<Result<SpoolQueue, SpoolLockError>> {
    let layout: SpoolLayout;
    try {
      layout = spoolLayout(opts.root, opts.writer);
    } catch (e) {
      throw new ConfigError(`ExtWrtName: ${(e as Error).message}`, { cause: e });
    }
    await ensureLayout(layout, { gateway: true });
    const lock = await acquireWriterLock(layout.writerDir, layout.writer);
    if (!lock.ok) return lock;
    const q = new SpoolQueue(layout, lock.value, opts);
    q.litter = await cleanLitter(layout, opts.clock.now());
    return ok(q);
  }

  /** The ready entries, in arrival order (inode change time, then name). */
  async list(): Promise<SpoolEntry[]> {
    return (await this.inspectAll()).map((i) => i.entry);
  }

  private async inspectAll(): Promise<Inspected[]> {
    return this.inspectNames(await readdir(this.layout.incoming), undefined);
  }

  /**
   * The ready entries among `names` (a listing of incoming/), in arrival order. With `known`,
   * an entry whose name and inode are in it is not inspected again (one lstat instead of reading
   * its attributes and envelope): its key goes into `present` instead. A scan after each arrival
   * then costs one lstat per waiting entry, not a full inspection of every one (thousands of
   * DSN entries made every arrival inspect them all again, R3 item 7).
   */
  private async inspectNames(names: readonly string[], known: { seen: ReadonlySet<string>; present: Set<string> } | undefined, partial = false): Promise<Inspected[]> {
    const out: Inspected[] = [];
    for (const name of names) {
      // Dot-files are not entries (editors' and tools' temporary files).
      if (!validEntryId(name)) continue;
      this.looks++;
      if (known !== undefined) {
        const st = await lstatOrUndefined(join(this.layout.incoming, name));
        if (st === undefined) continue;
        const key = `${name}\0${st.ino}`;
        if (known.seen.has(key)) { known.present.add(key); continue; }
      }
      const i = await this.inspect(name);
      if (i !== undefined && this.settled(name, i)) out.push(i);
    }
    if (!partial) {
      // A full listing: forget what is no longer there.
      const listed = new Set(names);
      for (const name of this.settling.keys()) if (!listed.has(name)) this.settling.delete(name);
      for (const name of this.envelopes.keys()) if (!listed.has(name)) this.envelopes.delete(name);
    }
    out.sort((a, b) => a.ctimeMs - b.ctimeMs || (a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0));
    return out;
  }

  /**
   * Is this entry complete? Entry directories are (renamed in whole). A plain file is once its
   * mtime is SETTLE_MS old, or its size and mtime have not changed for SETTLE_MS; until then it
   * is left, and a scan is due when it may have settled. A file seen growing is logged once.
   */
  private settled(name: string, i: Inspected): boolean {
    if (i.plain === undefined || i.entry.problem !== undefined) return true; // a bad entry is reported at once
    const now = Date.now(); // file times are wall-clock times: compared with the wall clock
    const stamp = `${i.plain.size}\0${i.plain.mtimeMs}`;
    const prev = this.settling.get(name);
    if (now - i.plain.mtimeMs >= SETTLE_MS || (prev?.stamp === stamp && now - prev.since >= SETTLE_MS)) {
      this.settling.delete(name);
      return true;
    }
    const growing = prev !== undefined && prev.stamp !== stamp;
    const next = { stamp, since: prev?.stamp === stamp ? prev.since : now, warned: prev?.warned === true || growing };
    this.settling.set(name, next);
    if (growing && prev?.warned !== true) {
      this.reportError(new SpoolUsageError(`${name} is growing in incoming/: it is read once its size and time stay for ${SETTLE_MS / 1000} s; producers must write in tmp/ and rename into incoming/`));
    }
    this.scanWhenSettled(Math.max(1, Math.min(SETTLE_MS, SETTLE_MS - (now - i.plain.mtimeMs), SETTLE_MS - (now - next.since))) + 10);
    return false;
  }

  private scanWhenSettled(ms: number): void {
    if (this.closed || this.settleTimer !== undefined) return;
    this.settleTimer = setTimeout(() => { this.settleTimer = undefined; this.requestScan(); }, ms);
    this.settleTimer.unref();
  }

  /** Looks at one entry; undefined when it vanished meanwhile (finished by us, or released elsewhere). */
  private async inspect(name: string): Promise<Inspected | undefined> {
    this.inspections++;
    const entryPath = join(this.layout.incoming, name);
    const st = await lstatOrUndefined(entryPath);
    if (st === undefined) return undefined;
    let dataPath = entryPath;
    let dataSt = st;
    let file: AttrsFile | undefined;
    let message: MessageEnvelope | undefined;
    let problem: SpoolEntryProblem | undefined;
    if (st.isDirectory()) {
      dataPath = join(entryPath, 'data');
      const d = await lstatOrUndefined(dataPath);
      if (d === undefined) {
        problem = { kind: 'bad', reason: 'entry directory has no data file' };
      } else {
        dataSt = d;
        if (d.isFile() && d.uid !== st.uid) {
          problem = { kind: 'bad', reason: `data file owner (uid ${d.uid}) differs from the entry directory owner (uid ${st.uid})` };
        }
      }
      if (problem === undefined) {
        const attrsPath = join(entryPath, 'attrs.json');
        if ((await lstatOrUndefined(attrsPath)) !== undefined) {
          const a = await readAttrsFile(attrsPath);
          if (a.ok) file = a.value;
          else problem = { kind: 'bad', reason: a.error };
        }
      }
      if (problem === undefined) {
        const m = await this.readMessageEnvelope(name, entryPath, st.uid);
        if (m.ok) message = m.value;
        else problem = { kind: 'bad', reason: m.error };
      }
    }
    if (problem === undefined) problem = await checkData(dataPath, dataSt);
    const attrs = await resolveAttributes({
      fileName: name, uid: dataSt.uid, ino: dataSt.ino, mtime: dataSt.mtime,
      ...(file === undefined ? {} : { file }),
      ...(this.opts.passwdPath === undefined ? {} : { passwdPath: this.opts.passwdPath }),
      ...(this.opts.hostName === undefined ? {} : { hostName: this.opts.hostName }),
    });
    const entry: SpoolEntry = { id: name, kind: message === undefined ? 'batch' : 'message', path: dataPath, attrs, size: dataSt.isFile() ? dataSt.size : 0 };
    if (message !== undefined) entry.message = message;
    if (problem !== undefined) entry.problem = problem;
    return { entry, key: `${name}\0${st.ino}`, ctimeMs: st.ctimeMs, ...(st.isFile() ? { plain: { size: st.size, mtimeMs: st.mtimeMs } } : {}) };
  }

  /**
   * A message entry's envelope.json (message-entry.ts), or undefined for a batch entry. An origin
   * only the gateway writes (receiver, notification, report) in an entry that belongs to another
   * uid is a forgery attempt by a local producer: the entry is bad.
   */
  private async readMessageEnvelope(name: string, entryPath: string, ownerUid: number): Promise<Result<MessageEnvelope | undefined, string>> {
    const path = join(entryPath, ENVELOPE_FILE);
    const st = await lstatOrUndefined(path);
    if (st === undefined) return ok(undefined);
    const stamp = `${st.ino}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.size}`;
    let cached = this.envelopes.get(name);
    if (cached?.stamp !== stamp) {
      const bytes = await readSmallFile(path, ENVELOPE_FILE, ENVELOPE_MAX_BYTES);
      cached = { stamp, parsed: bytes.ok ? parseEnvelopeFile(bytes.value) : bytes };
      this.envelopes.set(name, cached);
    }
    const m = cached.parsed;
    if (!m.ok) return m;
    const gatewayUid = this.opts.gatewayUid ?? process.getuid?.();
    if (isGatewayOrigin(m.value.origin) && gatewayUid !== undefined && ownerUid !== gatewayUid) {
      return err(`${ENVELOPE_FILE} claims a ${m.value.origin.kind} origin but the entry belongs to uid ${ownerUid}, not the gateway's uid ${gatewayUid}`);
    }
    return ok(m.value);
  }

  /**
   * Reports every entry once: those present now, and each new one as it is renamed in.
   * onArrival must not throw (a throw is passed to onError).
   */
  watch(onArrival: (e: SpoolEntry) => void): void {
    if (this.closed) throw new SpoolUsageError('watch() on a closed spool queue');
    if (this.onArrival !== undefined) throw new SpoolUsageError('watch() is already active on this spool queue');
    this.onArrival = onArrival;
    try {
      // A notification names the entry that arrived or left: only that name is looked at (one
      // lstat, and a full inspection if it is new), not the whole directory — a scan per
      // notification cost one lstat per waiting entry, and every finished entry notifies twice
      // (its rename to a dot-name and the removal). Dot-names are never entries. Without a name,
      // or when notification is lost, the full scan (and the periodic rescan) covers everything.
      this.watcher = fsWatch(this.layout.incoming, { persistent: false }, (_event, name) => {
        if (name === null || name === undefined) this.requestScan();
        else if (validEntryId(name)) this.requestScan(name);
      });
      this.watcher.on('error', (e) => {
        // Notification lost (e.g. directory replaced): the periodic rescan keeps the queue moving.
        this.reportError(e);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (e) {
      this.reportError(e);
    }
    this.scheduleRescan();
    this.requestScan();
  }

  /** Triggers a scan now (also what the periodic rescan does). */
  rescan(): void {
    this.requestScan();
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    this.timer = this.opts.clock.setTimer(this.opts.rescanMs ?? 5000, () => {
      this.requestScan();
      this.scheduleRescan();
    });
  }

  /** A scan of the whole directory, or (with `name`) of that one entry name. */
  private requestScan(name?: string): void {
    if (this.closed || this.onArrival === undefined) return;
    if (name === undefined) this.fullScanDue = true;
    else this.dirty.add(name);
    if (this.scanRunning) {
      this.scanAgain = true;
      return;
    }
    this.scanRunning = true;
    this.scanDone = (async () => {
      do {
        this.scanAgain = false;
        if (this.fullScanDue) {
          this.fullScanDue = false;
          this.dirty.clear();
          await this.scanOnce();
        } else {
          const names = [...this.dirty];
          this.dirty.clear();
          await this.scanNames(names);
        }
      } while (this.scanAgain && !this.closed);
    })().catch((e: unknown) => this.reportError(e)).finally(() => {
      this.scanRunning = false;
    });
  }

  private async scanOnce(): Promise<void> {
    const present = new Set<string>();
    // Entries reported already are only checked to be still there (they are the forwarder's).
    const found = await this.inspectNames(await readdir(this.layout.incoming), { seen: this.seen, present });
    this.reportFound(found, present);
    // Forget entries that left incoming/, so a release or a reused name is reported again.
    for (const k of this.seen) if (!present.has(k)) this.seen.delete(k);
    for (const k of this.unreadable.keys()) if (!present.has(k)) this.unreadable.delete(k);
  }

  /** Looks at these names only (fs.watch named them): a new entry is reported, a gone one forgotten. */
  private async scanNames(names: readonly string[]): Promise<void> {
    const present = new Set<string>();
    const found = await this.inspectNames(names, { seen: this.seen, present }, true);
    this.reportFound(found, present);
    const named = new Set(names);
    const nameOf = (key: string): string => key.slice(0, key.indexOf('\0'));
    // A named entry that is gone (or replaced: another inode under its name) is forgotten, so a
    // release or a reused name is reported again. (Settle and envelope state of gone names is
    // dropped by the next full scan.)
    for (const k of this.seen) if (named.has(nameOf(k)) && !present.has(k)) this.seen.delete(k);
    for (const k of this.unreadable.keys()) if (named.has(nameOf(k)) && !present.has(k)) this.unreadable.delete(k);
  }

  private reportFound(found: readonly Inspected[], present: Set<string>): void {
    for (const i of found) {
      present.add(i.key);
      if (this.seen.has(i.key) || this.closed) continue;
      if (i.entry.problem?.kind === 'unreadable') {
        // Left in place and looked at again with back-off (an operator may fix its mode): it is
        // reported again when the back-off has passed, and as a normal arrival once readable.
        const now = this.opts.clock.now();
        const u = this.unreadable.get(i.key) ?? { failures: 0, next: 0 };
        if (now < u.next) continue;
        u.failures++;
        u.next = now + backoffMs(u.failures);
        this.unreadable.set(i.key, u);
      } else {
        this.seen.add(i.key);
      }
      try {
        this.onArrival?.(i.entry);
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  private reportError(e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    if (this.opts.onError !== undefined) this.opts.onError(error);
    else process.emitWarning(error);
  }

  /** Finished: delete the entry (the whole entry directory). */
  async finish(e: Pick<SpoolEntryRef, 'id'>): Promise<void> {
    await deleteEntry(this.layout, e.id);
  }

  /** Bad: move to held/ with the reason beside it; not processed again until released. */
  async hold(e: SpoolEntryRef, reason: string): Promise<void> {
    await holdEntry(this.layout, e, reason, new Date(this.opts.clock.now()));
  }

  /** Writes a report to `<WRITER>/sysout/`; returns its path. */
  async writeSysout(e: SpoolEntryRef, report: string): Promise<string> {
    return writeSysoutReport(this.layout, e, report);
  }

  listHeld(): Promise<HeldEntry[]> {
    return listHeld(this.layout);
  }

  release(id: string): Promise<Result<string, string>> {
    return releaseHeld(this.layout, id);
  }

  purge(id: string): Promise<Result<string, string>> {
    return purgeHeld(this.layout, id);
  }

  /** Stops watching, waits for a running scan and releases the writer lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.timer?.cancel();
    clearTimeout(this.settleTimer);
    await this.scanDone;
    await this.lock.release();
  }
}

async function lstatOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Can the gateway read this data file, and may it trust its owner? */
async function checkData(path: string, st: import('node:fs').Stats): Promise<SpoolEntryProblem | undefined> {
  if (st.isSymbolicLink()) return { kind: 'bad', reason: 'the spool file is a symbolic link' };
  if (st.isDirectory()) return { kind: 'unreadable', reason: 'the data file is a directory' };
  if (!st.isFile()) return { kind: 'bad', reason: 'the spool file is not a regular file' };
  // A hard link would let a producer submit another user's file under that user's name.
  if (st.nlink > 1) return { kind: 'bad', reason: `the spool file has ${st.nlink} hard links` };
  try {
    // O_NONBLOCK and fstat: the name may have been replaced by a FIFO since the lstat above, and
    // opening a FIFO without O_NONBLOCK waits for a writer (S2 item 7).
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) return { kind: 'bad', reason: 'the spool file is not a regular file' };
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // gone meanwhile; the reader will notice
    return { kind: 'unreadable', reason: `the spool file cannot be read (${code ?? (e as Error).message})` };
  }
  return undefined;
}
