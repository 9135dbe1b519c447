// Journal entries of the receiver (SPEC.md §8), with the two-character iSeries mail journal
// SubType codes (function 9 = SMTP server, B = local delivery, O = filtering) at the start of
// each entry's detail, so an operator who knows the QZMF journal recognises them.
// Journaling never decides a message's fate: a journal write that fails is logged and the mail
// goes on (the message itself is already durable).
import { describeError } from '../core/errors.js';
import type { Logger } from '../log/index.js';
import type { Journal, JournalEvent } from '../store/types.js';

/** Journal type → iSeries SubType code. */
export const JOURNAL_CODES = {
  /** Message received for a local recipient (iSeries 94). */
  received: '94',
  /** Message received for a relay recipient (iSeries 95). */
  'received-relay': '95',
  /** Message put into a local mailbox (iSeries B8). */
  delivered: 'B8',
  /** Relay recipients put on the forwarder's spool (iSeries 96, "into QTMSOUTQ"). */
  queued: '96',
  /** A relay attempt refused by the relay restrictions (iSeries 9V). */
  'relay-refused': '9V',
  /** A connection refused by the connection restrictions (iSeries 9S). */
  'connection-refused': '9S',
  /** A filter matched (iSeries OW): kept, discarded or dry run. */
  filtered: 'OW',
} as const;

export type ReceiverJournalType = keyof typeof JOURNAL_CODES;

export class ReceiverJournal {
  constructor(private readonly journal: Journal, private readonly log: Logger) {}

  async record(type: ReceiverJournalType, e: Omit<JournalEvent, 'type'> & { detail: string }): Promise<void> {
    try {
      await this.journal.record({ ...e, type, detail: `${JOURNAL_CODES[type]} ${e.detail}` });
    } catch (err) {
      this.log.error('receiver.journal-failed', { type, messageId: e.messageId, reason: describeError(err) });
    }
  }
}
