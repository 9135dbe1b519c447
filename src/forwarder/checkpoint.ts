// Checkpoint (SPEC.md §2.2, ext mechanics with the seed's semantics): a durable record of which
// messages, and which recipients, of each in-process spool file are finished. A warm start
// re-reads unfinished spool files and skips what is recorded here; `-f` (cold start) discards it.
//
// Storage: one SQLite file per writer (`<StateDirectory>/<WRITER>.checkpoint.db`), WAL with
// synchronous=FULL, so a committed transaction survives power loss.
// Group commit: writes are queued and committed together at most `batchMs` (default 2 ms) after
// the first one; every caller's promise resolves only after the transaction holding its write is
// committed. A crash therefore loses only writes whose promises had not resolved, i.e. messages
// still in flight — they are re-sent on warm start (the duplicates SPEC.md allows).
import Database from 'better-sqlite3';

export type MessageFinal = 'delivered' | 'undeliverable' | 'extended' | 'rejected';

export interface RecipientMark {
  readonly address: string;
  readonly outcome: 'accepted' | 'failed';
  readonly reply?: string;
}

export interface FileCheckpoint {
  /** message number → final outcome */
  readonly messages: ReadonlyMap<number, MessageFinal>;
  /** message number → recipient address → mark */
  readonly recipients: ReadonlyMap<number, ReadonlyMap<string, RecipientMark>>;
}

type Op =
  | { kind: 'msg'; entry: string; no: number; outcome: MessageFinal }
  | { kind: 'rcpt'; entry: string; no: number; mark: RecipientMark }
  | { kind: 'forget'; entry: string };

export class Checkpoint {
  private readonly db: Database.Database;
  private queue: { op: Op; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly insMsg: Database.Statement;
  private readonly insRcpt: Database.Statement;
  private readonly delMsgs: Database.Statement;
  private readonly delRcpts: Database.Statement;

  private constructor(path: string, private readonly batchMs: number) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS messages (entry TEXT NOT NULL, no INTEGER NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (entry, no));
      CREATE TABLE IF NOT EXISTS recipients (entry TEXT NOT NULL, no INTEGER NOT NULL, address TEXT NOT NULL, outcome TEXT NOT NULL, reply TEXT,
        PRIMARY KEY (entry, no, address));
    `);
    this.insMsg = this.db.prepare('INSERT OR REPLACE INTO messages (entry, no, outcome) VALUES (?, ?, ?)');
    this.insRcpt = this.db.prepare('INSERT OR REPLACE INTO recipients (entry, no, address, outcome, reply) VALUES (?, ?, ?, ?, ?)');
    this.delMsgs = this.db.prepare('DELETE FROM messages WHERE entry = ?');
    this.delRcpts = this.db.prepare('DELETE FROM recipients WHERE entry = ?');
  }

  static open(path: string, opts: { cold?: boolean; batchMs?: number } = {}): Checkpoint {
    const cp = new Checkpoint(path, opts.batchMs ?? 2);
    if (opts.cold) cp.db.exec('DELETE FROM messages; DELETE FROM recipients;');
    return cp;
  }

  load(entry: string): FileCheckpoint {
    const messages = new Map<number, MessageFinal>();
    for (const r of this.db.prepare('SELECT no, outcome FROM messages WHERE entry = ?').all(entry) as { no: number; outcome: MessageFinal }[]) {
      messages.set(r.no, r.outcome);
    }
    const recipients = new Map<number, Map<string, RecipientMark>>();
    for (const r of this.db.prepare('SELECT no, address, outcome, reply FROM recipients WHERE entry = ?').all(entry) as { no: number; address: string; outcome: 'accepted' | 'failed'; reply: string | null }[]) {
      let m = recipients.get(r.no);
      if (!m) recipients.set(r.no, (m = new Map()));
      m.set(r.address, { address: r.address, outcome: r.outcome, reply: r.reply ?? undefined });
    }
    return { messages, recipients };
  }

  /** Entries with checkpoint records (for diagnostics and cleanup of vanished files). */
  entries(): string[] {
    return (this.db.prepare('SELECT DISTINCT entry FROM messages UNION SELECT DISTINCT entry FROM recipients').all() as { entry: string }[]).map((r) => r.entry);
  }

  markRecipient(entry: string, no: number, mark: RecipientMark): Promise<void> {
    return this.enqueue({ kind: 'rcpt', entry, no, mark });
  }

  markMessage(entry: string, no: number, outcome: MessageFinal): Promise<void> {
    return this.enqueue({ kind: 'msg', entry, no, outcome });
  }

  /** The spool file is finished and deleted: its records are no longer needed. */
  forget(entry: string): Promise<void> {
    return this.enqueue({ kind: 'forget', entry });
  }

  private enqueue(op: Op): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.batchMs);
    });
  }

  /** Commits everything queued in one transaction. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const { op } of batch) {
          if (op.kind === 'msg') this.insMsg.run(op.entry, op.no, op.outcome);
          else if (op.kind === 'rcpt') this.insRcpt.run(op.entry, op.no, op.mark.address, op.mark.outcome, op.mark.reply ?? null);
          else { this.delMsgs.run(op.entry); this.delRcpts.run(op.entry); }
        }
      })();
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    for (const b of batch) b.resolve();
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
