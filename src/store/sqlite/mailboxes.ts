// MailboxStore and Journal on SQLite. Messages are rows (id, user, size, data blob) ordered by an
// autoincrement sequence, so arrival order and ids survive restarts; the id doubles as the UIDL.
import type BetterSqlite3 from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { normaliseLineEnds } from '../../smtp/protocol/dot-stuff.js';
import { canonicalUser } from '../names.js';
import { CommitWorker } from './commit-worker.js';
import { journalEntry, StoreError, type Journal, type JournalRowFields, type JournalEntry, type JournalEvent, type JournalQuery, type MailboxStore, type MessageInfo } from '../types.js';

export class SqliteMailboxStore implements MailboxStore {
  // Prepared once: preparing per call cost about as much as reading a 50 KB row (benchmark 4).
  private readonly userRow: BetterSqlite3.Statement;
  private readonly insert: BetterSqlite3.Statement;
  private readonly listRows: BetterSqlite3.Statement;
  private readonly readRow: BetterSqlite3.Statement;
  private readonly deleteRow: BetterSqlite3.Statement;
  private readonly nextRow: BetterSqlite3.Statement;
  private readonly rowExists: BetterSqlite3.Statement;
  /**
   * Read-ahead (benchmark 4): after a read, the user's next message (by arrival) is read on the next
   * turn of the event loop, after the RETR's reply is written, while the client is still taking it
   * in; a POP3 client that RETRieves in order then finds its next message read. One entry for the
   * whole store (at most one message held), used only for exactly that user and id.
   */
  private ahead: { readonly user: string; readonly id: string; readonly data: Buffer } | undefined;
  private aheadTask: NodeJS.Immediate | undefined;
  /** Reads answered from the read-ahead (a test checks they happen). */
  aheadHits = 0;

  constructor(private readonly db: BetterSqlite3.Database, private readonly clock: Clock) {
    this.userRow = db.prepare('SELECT active FROM users WHERE name = ?');
    this.insert = db.prepare('INSERT INTO messages (id, user, size, arrived, data) VALUES (?, ?, ?, ?, ?)');
    this.listRows = db.prepare('SELECT id, size FROM messages WHERE user = ? ORDER BY seq');
    this.readRow = db.prepare('SELECT data FROM messages WHERE user = ? AND id = ?');
    this.deleteRow = db.prepare('DELETE FROM messages WHERE user = ? AND id = ?');
    this.nextRow = db.prepare('SELECT id, data FROM messages WHERE user = ? AND seq > (SELECT seq FROM messages WHERE id = ?) ORDER BY seq LIMIT 1');
    this.rowExists = db.prepare('SELECT 1 FROM messages WHERE id = ? AND user = ?').pluck();
  }

  async deliver(user: string, data: Buffer): Promise<{ id: string; size: number }> {
    const n = canonicalUser(user);
    const row = n === undefined ? undefined : (this.userRow.get(n) as { active: number } | undefined);
    if (n === undefined || row === undefined) throw new StoreError('ERR_USER_UNKNOWN', `no mailbox for "${user}"`);
    if (row.active !== 1) throw new StoreError('ERR_USER_REMOVED', `user "${n}" was removed: no more delivery`);
    const body = normaliseLineEnds(data);
    const now = this.clock.now();
    const id = newId(now);
    // synchronous=FULL: the commit is fsynced to the WAL before run() returns.
    this.insert.run(id, n, body.length, now, body);
    return { id, size: body.length };
  }

  async list(user: string): Promise<MessageInfo[]> {
    const n = canonicalUser(user);
    if (n === undefined) return [];
    const rows = this.listRows.all(n) as { id: string; size: number }[];
    return rows.map((r) => ({ id: r.id, uidl: r.id, size: r.size }));
  }

  async read(user: string, id: string): Promise<Buffer | undefined> {
    const n = canonicalUser(user);
    if (n === undefined) return undefined;
    const a = this.ahead;
    let data: Buffer | undefined;
    // A message read ahead is used if its row is still there (one index look-up: a purge of the
    // user, or a deletion by any other path, leaves no stale answer).
    if (a !== undefined && a.id === id && a.user === n && this.rowExists.get(id, n) !== undefined) {
      data = a.data;
      this.aheadHits++;
    } else {
      data = (this.readRow.get(n, id) as { data: Buffer } | undefined)?.data;
    }
    this.ahead = undefined;
    if (data !== undefined) this.readAhead(n, id);
    return data;
  }

  private readAhead(user: string, id: string): void {
    if (this.aheadTask !== undefined) clearImmediate(this.aheadTask);
    this.aheadTask = setImmediate(() => {
      this.aheadTask = undefined;
      try {
        const r = this.db.open ? (this.nextRow.get(user, id) as { id: string; data: Buffer } | undefined) : undefined;
        this.ahead = r === undefined ? undefined : { user, id: r.id, data: r.data };
      } catch {
        // Only a hint: the read itself reports the error, if it recurs.
        this.ahead = undefined;
      }
    });
    this.aheadTask.unref();
  }

  async delete(user: string, ids: readonly string[]): Promise<number> {
    const n = canonicalUser(user);
    if (n === undefined || ids.length === 0) return 0;
    const stmt = this.deleteRow;
    this.ahead = undefined;
    return this.db.transaction(() => ids.reduce((count, id) => count + stmt.run(n, id).changes, 0))();
  }
}

type JournalRow = JournalRowFields;

/**
 * The journal. Its commits (synchronous=FULL: an fsync) run on a worker thread with its own
 * connection (CommitWorker, ./commit-worker.ts), so they no longer stall the event loop; events
 * recorded while a commit is in flight (concurrent sessions, the forwarder's batches) go together
 * in the next transaction and share one fsync. record() still resolves only after its event is
 * committed: the receiver's 250 waits for it as before.
 */
export class SqliteJournal implements Journal {
  private readonly writer: CommitWorker;

  constructor(private readonly db: BetterSqlite3.Database, private readonly clock: Clock, opts: { worker?: boolean } = {}) {
    this.writer = new CommitWorker(db, ['INSERT INTO journal (at, type, message_id, sender, recipient, detail, ip, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'], opts);
  }

  /** True while commits run on the worker thread. */
  get offThread(): boolean {
    return this.writer.offThread;
  }

  record(e: JournalEvent): Promise<void> {
    return this.writer.run([0, [e.at ?? this.clock.now(), e.type, e.messageId ?? null, e.from ?? null, e.to ?? null, e.detail ?? null, e.ip ?? null, e.user ?? null]]);
  }

  /** Commits what is pending now, synchronously (shutdown). */
  flush(): void {
    this.writer.flush();
  }

  /** Flushes and stops the worker; the store closes the connection after. */
  close(): void {
    this.writer.close();
  }

  /**
   * Retention: deletes entries recorded before `cutoff` (epoch ms), oldest first, at most `max`,
   * `batch` rows per transaction with a turn of the event loop between them (a short write lock
   * each, so the receiver's journal writes go on). Uses the journal_at index.
   */
  async prune(cutoff: number, max: number, batch: number): Promise<number> {
    const del = this.db.prepare('DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE at < ? ORDER BY at LIMIT ?)');
    let n = 0;
    while (n < max) {
      const changes = del.run(cutoff, Math.min(batch, max - n)).changes;
      n += changes;
      if (changes < batch) break;
      await nextTurn();
    }
    return n;
  }

  async query(q: JournalQuery): Promise<JournalEntry[]> {
    // An event recorded before the query is in its answer (the commit runs on a worker thread).
    await this.writer.settled();
    const where: string[] = [];
    const args: (string | number)[] = [];
    // A spool entry id also finds the forwarder's events of its messages (`<id>#<n>`); a range
    // ('#' + 1 is '$') keeps the message_id index in use.
    if (q.id !== undefined) { where.push('(message_id = ? OR (message_id >= ? AND message_id < ?))'); args.push(q.id, `${q.id}#`, `${q.id}$`); }
    if (q.from !== undefined) { where.push('sender = ? COLLATE NOCASE'); args.push(q.from); }
    if (q.to !== undefined) { where.push('recipient = ? COLLATE NOCASE'); args.push(q.to); }
    if (q.user !== undefined) { where.push('user = ?'); args.push(q.user); }
    if (q.type !== undefined) { where.push('type = ?'); args.push(q.type); }
    if (q.since !== undefined) { where.push('at >= ?'); args.push(q.since); }
    const limit = Math.max(1, Math.min(q.limit ?? 10000, 100000));
    const sql = `SELECT * FROM journal${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as JournalRow[]).map(journalEntry);
  }
}
