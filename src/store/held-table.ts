// The row-level table behind held spool files and the reports of bad spool files on a cluster
// ([P2] #19, docs/cluster.md "Held files and reports"). The roles see spool's HeldFiles
// (spool/held-files.ts): the held/ and sysout/ directories of one node (the default), or these
// tables (store/pg/held.ts), which every node of the cluster lists and acts on.
// Untrusted input: held names and entry ids come from operators (CLI, HTTP, console): every
// statement is parameterised, callers check names before they get here.
import type { EntryAttributes, EntryKind } from './queue-store.js';

/** One held file as the table keeps it (its bytes are read with chunks()). */
export interface HeldRow {
  /** The held name: the entry id it was held under, `.2`, `.3`… on a clash (as held/ names it). */
  readonly name: string;
  /** The entry id the forwarder knew it by (its reports are filed under it). */
  readonly entry: string;
  /** The node that held it. */
  readonly node: string;
  readonly kind: EntryKind;
  /** The attributes it is queued again with on release (a message entry's envelope among them). */
  readonly attributes: EntryAttributes;
  readonly reason: string;
  readonly heldAt: Date;
  readonly jobName: string | null;
  readonly jobId: string | null;
  readonly size: number;
}

/** One report of a bad spool file: the text Report Sysout writes. */
export interface HeldReportRow {
  readonly id: string;
  readonly node: string;
  readonly jobId: string;
  readonly entry: string;
  readonly writtenAt: Date;
  readonly text: string;
}

export interface HeldTable {
  /** Where the rows are, for messages ("store <schema> (held_files)"). */
  readonly where: string;
  /**
   * Holds a file: the row and its bytes (read from `body` one chunk at a time, never whole) in one
   * transaction; returns the held name (`name`, or `name.2`… when the writer has one already).
   */
  insert(writer: string, row: Omit<HeldRow, 'node' | 'size'>, body: AsyncIterable<Buffer>): Promise<string>;
  /** The writer's held files, oldest first, at most `limit`. */
  list(writer: string, limit: number): Promise<HeldRow[]>;
  /** A held file's bytes in order, one chunk at a time. */
  chunks(writer: string, name: string): AsyncIterable<Buffer>;
  /**
   * Release: in one transaction the held file becomes an entry of the shared queue (its kind,
   * attributes and bytes; the bytes copied inside the database), due now, idle nodes woken, and
   * the held row goes. Returns the new queue entry's id, or undefined when no such held file.
   */
  release(writer: string, name: string): Promise<string | undefined>;
  /** Deletes a held file and its bytes; false when there was none. */
  purge(writer: string, name: string): Promise<boolean>;
  /** Stores a report; returns its id. */
  insertReport(writer: string, row: Omit<HeldReportRow, 'id' | 'node'>): Promise<string>;
  /** The reports filed under (job id, entry id), oldest first. */
  reports(writer: string, jobId: string, entry: string): Promise<HeldReportRow[]>;
  /** Retention: deletes reports written before `cutoff` (ms), oldest first, at most `max`, `batch` per statement. */
  pruneReports(cutoff: number, max: number, batch: number): Promise<number>;
}
