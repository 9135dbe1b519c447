// Forwarder events in the journal (SPEC.md §8, issue #16 item 14): every attempt and every
// recipient's outcome of outbound mail, so `spoolgate journal` answers "where is my mail?" for
// mail the gateway sends as it does for mail it receives. Each entry's detail starts with the
// iSeries SMTP client journal SubType (seed 004: 8B dequeued for sending, 88 delivered, 8C first
// level retry, 8D second level retry, 83 undeliverable, 87 sent back for a notification), as the
// receiver's do (receiver/journal.ts). Events of our own with no iSeries code use 8N (notices the
// sender asked for) and 83 (dead letter, dropped).
// The message id is the forwarder's key: `<spool entry id>#<message number>` (a relayed or
// submitted message entry is `#1`), or `x:<id>` in extended retry. A journal write that fails is
// logged once per failure burst; delivery never waits for the journal.
import { formatMailbox } from '../core/index.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import type { Journal } from '../store/types.js';
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

/** The listener the forwarder calls; writes to the journal the getter returns (none: nothing). */
export function forwarderJournal(journal: () => Journal | undefined, log: Logger): (e: ForwarderEvent) => void {
  let failing = false;
  return (e) => {
    const j = journal();
    if (j === undefined) return;
    const from = e.item.envelope.from.kind === 'mailbox' ? formatMailbox(e.item.envelope.from.mailbox) : '';
    const job = e.item.job.jobName !== '' ? ` job ${e.item.job.jobName}${e.item.job.jobId ? `(${e.item.job.jobId})` : ''}` : '';
    j.record({
      type: e.type, messageId: e.key, from, ...(e.to === undefined ? {} : { to: e.to }),
      detail: `${FORWARDER_JOURNAL_CODES[e.type]} ${e.detail}${e.type === 'attempt' ? job : ''}`,
    }).then(() => { failing = false; }, (err: unknown) => {
      if (!failing) log.error('forwarder.journal-failed', { type: e.type, key: e.key, reason: describeError(err) });
      failing = true;
    });
  };
}
