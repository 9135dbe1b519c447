// Held spool files and the reports of bad spool files (SPEC.md §1.2, [P2] #19): one interface,
// HeldFiles, for every place that holds a file or writes a report of a bad one (the forwarder's
// spool sources, the queue's hold of an unread file) and every place that lists, shows, releases
// or purges them (queue service, console, HTTP, MODIFY displays, `spoolgate spool`). Two forms:
// - DirectoryHeldFiles: `<WRITER>/held/` and `<WRITER>/sysout/` of this node (disposition.ts;
//   the default, Backend SQLite: layout and behaviour as they always were);
// - TableHeldFiles: the tables every node of a cluster shares (store/held-table.ts; PostgreSQL):
//   the file's bytes are stored in chunks and then the local copy is removed, the report text
//   is a row beside it; any node lists them, and a release queues the file again on the shared
//   queue (any node sends it).
// Untrusted input: held names from operators (checked by validEntryId before any path or query);
// a bad spool file may be a symbolic link or a FIFO: the table form never follows or reads those.
import { constants } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { HeldTable } from '../store/held-table.js';
import { CHUNK_BYTES } from '../store/queue-store.js';
import { printable } from './attributes.js';
import {
  deleteEntry, holdEntry, listHeld, pruneSysoutReports, purgeHeld, readHeldReport, releaseHeld, validEntryId, writeSysoutReport,
} from './disposition.js';
import type { HeldEntry, HeldFiles, HoldRequest } from './held.js';
import type { SpoolEntryRef, SpoolLayout } from './submit.js';

export type { HeldEntry, HeldFiles, HoldRequest } from './held.js';

const REASON_SUFFIX = '.reason.json';

/** The held/ and sysout/ directories of this node (the default). */
export class DirectoryHeldFiles implements HeldFiles {
  readonly where: string;

  constructor(private readonly layout: SpoolLayout) {
    this.where = `${layout.held} (writer ${layout.writer})`;
  }

  hold(req: HoldRequest, reason: string, now: Date): Promise<string> {
    return holdEntry(this.layout, req.entry, reason, now, req.from);
  }

  writeReport(e: SpoolEntryRef, text: string): Promise<string> {
    return writeSysoutReport(this.layout, e, text);
  }

  list(): Promise<HeldEntry[]> {
    return listHeld(this.layout);
  }

  report(h: Pick<HeldEntry, 'id' | 'jobId' | 'reason'>, maxBytes?: number): Promise<string> {
    return readHeldReport(this.layout, h, maxBytes);
  }

  async reportOf(e: { readonly id: string; readonly jobId: string }, maxBytes?: number): Promise<string | undefined> {
    const text = await readHeldReport(this.layout, { id: e.id, jobId: e.jobId, reason: '' }, maxBytes, true);
    return text === '' ? undefined : text;
  }

  release(id: string): Promise<Result<string, string>> {
    return releaseHeld(this.layout, id);
  }

  purge(id: string): Promise<Result<string, string>> {
    return purgeHeld(this.layout, id);
  }

  pruneReports(cutoff: number, max: number, batch: number): Promise<number> {
    return pruneSysoutReports(this.layout, cutoff, max, batch);
  }
}

/** At most this many held files are listed (more wait for the operator all the same). */
export const MAX_HELD_LISTED = 10_000;

/**
 * A bad spool file's bytes, one chunk at a time: only a regular file, opened without following a
 * symbolic link and without waiting on a FIFO (a bad file may be either); anything else holds no
 * bytes (its reason says what it was).
 */
async function* fileBytes(path: string): AsyncIterable<Buffer> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'ENOENT') return;
    throw e;
  }
  try {
    if (!(await fh.stat()).isFile()) return;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** The tables a cluster shares (PostgreSQL): every node holds into them and acts on every node's. */
export class TableHeldFiles implements HeldFiles {
  readonly where: string;

  constructor(private readonly table: HeldTable, private readonly layout: SpoolLayout) {
    this.where = `${table.where} (writer ${layout.writer})`;
  }

  async hold(req: HoldRequest, reason: string, now: Date): Promise<string> {
    const e = req.entry;
    let path = req.from;
    if (path === undefined) {
      const inIncoming = join(this.layout.incoming, e.id);
      const st = await stat(inIncoming).catch(() => undefined);
      path = st?.isDirectory() === true ? join(inIncoming, 'data') : inIncoming;
    }
    const name = await this.table.insert(this.layout.writer, {
      name: e.id.endsWith(REASON_SUFFIX) ? `${e.id}.1` : e.id, entry: e.id, kind: req.kind, attributes: req.attributes, reason, heldAt: now,
      jobName: e.attrs.jobName, jobId: e.attrs.jobId,
    }, fileBytes(path));
    // Stored: the local copy goes (a crash in between holds it again at the next start: a second
    // held row with the same bytes, never none).
    if (req.from === undefined) await deleteEntry(this.layout, e.id);
    else await rm(req.from, { force: true });
    return name;
  }

  async writeReport(e: SpoolEntryRef, text: string, now: Date): Promise<string> {
    const id = await this.table.insertReport(this.layout.writer, { jobId: e.attrs.jobId, entry: e.id, writtenAt: now, text });
    return `${this.table.where} report ${id}`;
  }

  async list(): Promise<HeldEntry[]> {
    return (await this.table.list(this.layout.writer, MAX_HELD_LISTED)).map((r) => ({
      id: r.name, path: `${this.table.where} ${r.name}`, reason: r.reason, heldAt: r.heldAt, jobName: r.jobName ?? undefined, jobId: r.jobId ?? undefined,
      entry: r.entry, node: r.node, size: r.size,
    }));
  }

  async report(h: Pick<HeldEntry, 'id' | 'jobId' | 'reason' | 'entry'>, maxBytes?: number): Promise<string> {
    const text = await this.reportOf({ id: h.entry ?? h.id, jobId: h.jobId ?? '' }, maxBytes);
    return text ?? `(no report in ${this.table.where}: Report None or Admin) reason: ${h.reason}`;
  }

  async reportOf(e: { readonly id: string; readonly jobId: string }, maxBytes = 1024 * 1024): Promise<string | undefined> {
    const rows = await this.table.reports(this.layout.writer, e.jobId, e.id);
    return rows.length === 0 ? undefined : rows.map((r) => r.text.slice(0, maxBytes)).join('\n');
  }

  async release(id: string): Promise<Result<string, string>> {
    if (!validEntryId(id) || id.endsWith(REASON_SUFFIX)) return err(`"${printable(id)}" is not a spool entry name`);
    const entry = await this.table.release(this.layout.writer, id);
    return entry === undefined ? err(`no held entry ${printable(id)} for writer ${this.layout.writer}`) : ok(id);
  }

  async purge(id: string): Promise<Result<string, string>> {
    if (!validEntryId(id) || id.endsWith(REASON_SUFFIX)) return err(`"${printable(id)}" is not a spool entry name`);
    return (await this.table.purge(this.layout.writer, id)) ? ok(id) : err(`no held entry ${printable(id)} for writer ${this.layout.writer}`);
  }

  pruneReports(cutoff: number, max: number, batch: number): Promise<number> {
    return this.table.pruneReports(cutoff, max, batch);
  }
}
