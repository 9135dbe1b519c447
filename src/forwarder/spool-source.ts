// The forwarder's view of the spool queue (SpoolSource), and the bad-entry policy for entries the
// queue itself finds bad (unreadable, bad attrs.json or envelope.json, a forged origin): they are
// reported (Report Sysout/Admin/None) and then held or deleted (BadSpoolDisp) — never silently
// dropped, never retried in a loop. Files with problems found while reading are reported the
// same way through report().
import type { Clock } from '../core/index.js';
import { describeError } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { SpoolQueue } from '../spool/queue.js';
import { deleteEntry, disposeBadEntry, reportBadEntry, type BadEntryPolicy } from '../spool/disposition.js';
import type { HeldFiles } from '../spool/held-files.js';
import type { SpoolEntry } from '../spool/submit.js';
import type { SpoolSource } from './forwarder.js';
import type { TaskEntry } from './task.js';
import type { EntryAttributes } from '../store/queue-store.js';
import { ENVELOPE_ATTRIBUTE } from '../spool/message-queue.js';
import { formatEnvelopeFile } from '../spool/message-entry.js';

export interface SpoolSourceOptions {
  readonly queue: SpoolQueue;
  readonly clock: Clock;
  readonly log: Logger;
  /** BadSpoolDisp, Report and the admin report settings in force now (REFRESH may change them). */
  readonly policy: () => BadEntryPolicy;
  /** Where bad files are held and their reports written (this node's directories, or a cluster's tables). */
  readonly held: HeldFiles;
  /**
   * A good entry for which this returns true is not handed to a task: it went elsewhere (with
   * Store Backend PostgreSQL, a batch file is stored in the shared queue: store-source.ts).
   */
  readonly divert?: (e: SpoolEntry) => boolean;
}

/** The spool attributes stored with an entry (JSON) and read back when it is claimed; a message entry's envelope.json text too. */
export function attributesOf(e: SpoolEntry): EntryAttributes {
  const a = e.attrs;
  return {
    file: e.id, jobName: a.jobName, jobId: a.jobId, originUser: a.originUser, originUid: a.originUid, originNode: a.originNode,
    taskType: a.taskType, created: a.created.toISOString(),
    ...(a.recordFormat === undefined ? {} : { recordFormat: a.recordFormat }), ...(a.encoding === undefined ? {} : { encoding: a.encoding }),
    ...(e.message === undefined ? {} : { [ENVELOPE_ATTRIBUTE]: formatEnvelopeFile(e.message) }),
  };
}

function toTaskEntry(e: SpoolEntry): TaskEntry {
  return { id: e.id, path: e.path, attrs: e.attrs, ...(e.message === undefined ? {} : { message: e.message }) };
}

export interface QueueSource {
  readonly source: SpoolSource;
  /** Reports and disposes of the bad entries present now (at start). */
  disposeBadEntries(): Promise<void>;
}

export function spoolSource(o: SpoolSourceOptions): QueueSource {
  const { queue, clock, log, held } = o;
  // The forwarder sees a TaskEntry; the report needs the full attributes, so the entry handed
  // over is remembered here until the file is finished or held.
  const handed = new Map<string, SpoolEntry>();
  const hand = (e: SpoolEntry): TaskEntry => { handed.set(e.id, e); unreadable.delete(e.id); return toTaskEntry(e); };

  // Unreadable entries are reported once; the queue shows them again with back-off until readable.
  const unreadable = new Set<string>();
  const badEntry = async (e: SpoolEntry): Promise<void> => {
    if (e.problem?.kind === 'unreadable' && unreadable.has(e.id)) { log.warn('spool.still-unreadable', { id: e.id, problem: e.problem.reason }); return; }
    if (e.problem?.kind === 'unreadable') unreadable.add(e.id);
    log.error('spool.bad-entry', { id: e.id, problem: e.problem?.reason });
    await disposeBadEntry({
      layout: queue.layout, held, attributes: attributesOf(e), entry: e, summary: `spool entry ${e.id}: ${e.problem?.reason ?? 'bad entry'}`, now: new Date(clock.now()),
      problems: [{ code: 554, enhanced: '5.3.0', text: e.problem?.reason ?? 'bad spool entry', recordNo: 0, messageNo: 0 }],
      policy: o.policy(),
    }).catch((err: unknown) => log.error('spool.bad-entry', { id: e.id, error: describeError(err) }));
  };

  const source: SpoolSource = {
    list: async () => (await queue.list()).filter((e) => e.problem === undefined && o.divert?.(e) !== true).map(hand),
    // eslint-disable-next-line no-restricted-syntax -- badEntry() catches and logs its own errors
    watch: (cb) => queue.watch((e) => { if (e.problem !== undefined) void badEntry(e); else if (o.divert?.(e) !== true) cb(hand(e)); }),
    finish: async (e) => { await deleteEntry(queue.layout, e.id); handed.delete(e.id); },
    hold: async (e, reason) => {
      const entry = handed.get(e.id);
      await held.hold({ entry: e, kind: entry?.kind === 'message' ? 'message' : 'spool', attributes: entry === undefined ? {} : attributesOf(entry) }, reason, new Date(clock.now()));
      handed.delete(e.id);
    },
    report: async (e, problems, summary) => {
      const entry = handed.get(e.id);
      if (entry === undefined) { log.error('spool.report', { id: e.id, error: 'entry was not handed to the forwarder' }); return; }
      const out = await reportBadEntry({
        layout: queue.layout, held, entry, summary, now: new Date(clock.now()),
        problems: problems.map((p) => ({ code: p.code, enhanced: p.enhanced, text: p.text, recordNo: p.recordNo, messageNo: p.messageNo })),
        policy: o.policy(),
      });
      for (const w of out.warnings) log.warn('spool.report', { id: e.id, detail: w });
      log.event('spool.reported', { id: e.id, report: out.report.kind });
    },
  };
  return {
    source,
    disposeBadEntries: async () => { for (const e of await queue.list()) if (e.problem !== undefined) await badEntry(e); },
  };
}
