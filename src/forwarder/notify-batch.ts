// Notifications written close together share one spool entry (R3 item 7). Every undeliverable
// message's DSN used to be its own message entry: five fsyncs to write, a spool task, a delete and
// a checkpoint commit to dispose of, and one more entry for every scan to look at. 5,000 rejected
// recipients made thousands of entries.
//
// Group commit, no timer: the first notification is written at once; those handed in while a
// write is on its way go together into the next write (bounded by MAX_ENTRY_PARTS mails and by
// the message entry size limit). So a notification waits at most for the write before its own,
// and under load the entries grow with the load. submit() resolves only when the entry holding
// the notification is durable (enqueueNotifications: fsync + rename): the lifecycle marks the
// original undeliverable after that, so a crash (kill -9) can at worst send a notification twice,
// never lose one.
import type { Envelope } from '../core/index.js';
import { MAX_ENTRY_PARTS } from '../spool/message-entry.js';

export interface NotificationMail {
  readonly envelope: Envelope;
  readonly data: Buffer;
}

interface Waiting {
  readonly mail: NotificationMail;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class NotificationBatcher {
  private readonly pending: Waiting[] = [];
  private writing = false;
  /** Entries written and notifications in them, since start (for logs and tests). */
  readonly stats = { entries: 0, notifications: 0 };

  constructor(
    private readonly o: {
      /** Writes the mails as one spool entry; resolves when it is durable. */
      write: (mails: readonly NotificationMail[]) => Promise<void>;
      /** The largest entry in octets (the spool's message entry limit, read at each write). */
      maxBytes: () => number;
      maxMails?: number;
    },
  ) {}

  /** Resolves when the notification is on the spool, durably. */
  submit(mail: NotificationMail): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ mail, resolve, reject });
      // drain() catches each write's failure; anything else fails the notifications still waiting.
      if (!this.writing) this.drain().catch((e: unknown) => { for (const w of this.pending.splice(0)) w.reject(e); });
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.take();
        try {
          await this.o.write(batch.map((w) => w.mail));
          this.stats.entries++;
          this.stats.notifications += batch.length;
          for (const w of batch) w.resolve();
        } catch (e) {
          // Each waiting lifecycle handles the failure as before (the original stays unfinished).
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** The next batch: at least one mail, then as many as fit the count and size bounds. */
  private take(): Waiting[] {
    const maxMails = Math.min(this.o.maxMails ?? MAX_ENTRY_PARTS, MAX_ENTRY_PARTS);
    const maxBytes = this.o.maxBytes();
    let bytes = this.pending[0]!.mail.data.length;
    let n = 1;
    while (n < this.pending.length && n < maxMails && bytes + this.pending[n]!.mail.data.length <= maxBytes) {
      bytes += this.pending[n]!.mail.data.length;
      n++;
    }
    return this.pending.splice(0, n);
  }
}
