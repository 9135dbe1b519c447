// Forwarder events in the journal (SPEC.md §8, issue #16 item 14): every attempt and every
// recipient's outcome of outbound mail, so `spoolgate journal` answers "where is my mail?" for
// mail the gateway sends as it does for mail it receives. Each entry's detail starts with the
// iSeries SMTP client journal SubType (seed 004: 8B dequeued for sending, 88 delivered, 8C first
// level retry, 8D second level retry, 83 undeliverable, 87 sent back for a notification), as the
// receiver's do (receiver/journal.ts). Events of our own with no iSeries code use 8N (notices the
// sender asked for) and 83 (dead letter, dropped).
// The message id is the forwarder's key: `<spool entry id>#<message number>` (a relayed or
// submitted message entry is `#1`), or `x:<id>` in extended retry. A journal write that fails is
// logged once per failure burst; delivery never waits for the journal, and events are handed
// over in batches (one journal commit per batch, not per turn of the event loop).
import { formatMailbox } from '../core/index.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import type { Journal, JournalEvent } from '../store/types.js';
import type { ForwarderEvent } from './lifecycle.js';

export const FORWARDER_JOURNAL_CODES: Readonly<Record<ForwarderEvent['type'], string>> = {
  attempt: '8B',
  delivered: '88',
  deferred: '8C',
  extended: '8D',
  undeliverable: '83',
  notified: '87',
  'dead-letter': '83',
  dropped: '83',
  'relayed-notice': '8N',
  'delay-notice': '8N',
};

/**
 * How long a forwarder event waits to be handed to the journal, and how many wait at most. Each
 * hand-over is one journal transaction; its commit (an fsync) runs on the journal's worker thread
 * (store/sqlite/commit-worker.ts), but each hand-over still costs a message to that thread, and
 * one per turn of the loop cost the forwarder about a sixth of its busy time while the commit
 * ran on the event loop (docs/perf/forwarding-profile.md). Delivery never waits for the journal,
 * so its events are gathered for up to this long.
 */
export const JOURNAL_BATCH_MS = 50;
export const JOURNAL_BATCH_MAX = 1000;

/** The forwarder's journal listener; flush() hands over what waits (the forwarder's stop calls it). */
export interface ForwarderJournal {
  (e: ForwarderEvent): void;
  flush(): void;
}

/**
 * The listener the forwarder calls; writes to the journal the getter returns (none: nothing).
 * Events keep the time they happened (`now`, the gateway's clock) and are handed over in
 * batches (JOURNAL_BATCH_MS, JOURNAL_BATCH_MAX), in order.
 */
export function forwarderJournal(journal: () => Journal | undefined, log: Logger, opts: { now?: () => number; batchMs?: number } = {}): ForwarderJournal {
  const now = opts.now ?? Date.now;
  const batchMs = opts.batchMs ?? JOURNAL_BATCH_MS;
  let failing = false;
  let pending: JournalEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    const j = journal();
    if (j === undefined) return;
    // Recorded in one turn of the event loop: one transaction (store/sqlite/mailboxes.ts).
    for (const ev of batch) {
      j.record(ev).then(() => { failing = false; }, (err: unknown) => {
        if (!failing) log.error('forwarder.journal-failed', { type: ev.type, key: ev.messageId, reason: describeError(err) });
        failing = true;
      });
    }
  };
  const listener = (e: ForwarderEvent): void => {
    if (journal() === undefined) return;
    const from = e.item.envelope.from.kind === 'mailbox' ? formatMailbox(e.item.envelope.from.mailbox) : '';
    const job = e.item.job.jobName !== '' ? ` job ${e.item.job.jobName}${e.item.job.jobId ? `(${e.item.job.jobId})` : ''}` : '';
    pending.push({
      type: e.type, messageId: e.key, from, ...(e.to === undefined ? {} : { to: e.to }),
      detail: `${FORWARDER_JOURNAL_CODES[e.type]} ${e.detail}${e.type === 'attempt' ? job : ''}`, at: now(),
    });
    if (pending.length >= JOURNAL_BATCH_MAX) flush();
    else if (timer === undefined) {
      timer = setTimeout(flush, batchMs);
      timer.unref();
    }
  };
  return Object.assign(listener, { flush });
}
