// The types of held spool files and reports (SPEC.md §1.2, [P2] #19): what a held file is
// (HeldEntry), what holding one needs (HoldRequest) and the one interface every role uses
// (HeldFiles). The two forms are in held-files.ts; the directory functions in disposition.ts.
import type { Result } from '../core/result.js';
import type { EntryAttributes } from '../store/queue-store.js';
import type { SpoolEntryRef } from './submit.js';

export interface HeldEntry {
  id: string;
  /** The held entry (a directory or a plain file). */
  path: string;
  reason: string;
  heldAt: Date | undefined;
  jobName: string | undefined;
  jobId: string | undefined;
  /** The entry id it was held under, when not its held name (the shared tables: its reports are filed under it). */
  entry?: string;
  /** The node that held it (the shared tables). */
  node?: string;
  /** Its size in bytes (the shared tables). */
  size?: number;
}

/** What holding a file needs: the entry, what it is, and (on a cluster) what it is queued again with. */
export interface HoldRequest {
  readonly entry: SpoolEntryRef;
  readonly kind: 'spool' | 'message';
  /** The attributes of an entry of the shared queue (kept by the table form for the release). */
  readonly attributes: EntryAttributes;
  /** The file to hold when it is not the entry in incoming/ (a claimed copy of a shared-queue entry). */
  readonly from?: string;
}

export interface HeldFiles {
  /** Where held files are, for messages ("held/ of writer X", "store s (held_files)"). */
  readonly where: string;
  /** Holds the file (never read again until released) with its reason; returns the held name. */
  hold(req: HoldRequest, reason: string, now: Date): Promise<string>;
  /** Writes a report of a bad spool file; returns where it went (a path, or the report row). */
  writeReport(e: SpoolEntryRef, text: string, now: Date): Promise<string>;
  /** Every held file of the writer, oldest first (on a cluster: every node's). */
  list(): Promise<HeldEntry[]>;
  /** A held file's problem report for `show` (a line with its reason when none was written). */
  report(h: Pick<HeldEntry, 'id' | 'jobId' | 'reason' | 'entry'>, maxBytes?: number): Promise<string>;
  /** The reports written of entry `id` of job `jobId`, joined; undefined when none. */
  reportOf(e: { readonly id: string; readonly jobId: string }, maxBytes?: number): Promise<string | undefined>;
  /** Queues a held file again as new (the directory: back to incoming/; a cluster: the shared queue). */
  release(id: string): Promise<Result<string, string>>;
  /** Deletes a held file and its reason. */
  purge(id: string): Promise<Result<string, string>>;
  /** Retention of reports (held files themselves are never pruned: they wait for the operator). */
  pruneReports(cutoff: number, max: number, batch: number): Promise<number>;
}

