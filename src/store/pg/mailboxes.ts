// MailboxStore and Journal on PostgreSQL: the same semantics as store/sqlite/mailboxes.ts, on the
// database every node shares, so mail delivered by one node's receiver is read over POP3 on any.
//
// - A message is one mail_messages row (seq = arrival order, id = the UIDL) and its bytes in
//   mail_chunks of at most CHUNK_BYTES, written in the same transaction: deliver() resolves only
//   after COMMIT (synchronous_commit is the server's: on by default, so the commit is durable).
// - list() reads ids and sizes only (never a mailbox's bytes); read() one message's chunks, and
//   reads ahead: a POP3 client RETRieves a mailbox in order, so the statement that reads a message
//   also reads the next ones of the mailbox (arrival order, as list()), and the read that serves
//   the last of them starts reading the following ones at once, while the client is busy. A
//   mailbox of small messages then costs one round trip per READ_AHEAD_COUNT RETRs instead of one
//   each, and the database one statement. Bounded: per mailbox at most READ_AHEAD_COUNT messages
//   and READ_AHEAD_BYTES in all (a next message larger than that is read when asked for), at most
//   READ_AHEAD_MAILBOXES mailboxes (the oldest is dropped), each kept READ_AHEAD_MS unless used.
//   A message read ahead is a copy a few RETRs old: POP3 holds the maildrop lock (no other
//   session of that mailbox deletes meanwhile), and delete() on this node drops the mailbox's.
// - The journal batches the events recorded in one turn of the event loop into one INSERT (one
//   commit), as the SQLite journal does; batches are written one after the other, so seq follows
//   the order of record() calls on this node.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { normaliseLineEnds } from '../../smtp/protocol/dot-stuff.js';
import { canonicalUser } from '../names.js';
import { CHUNK_BYTES } from '../queue-store.js';
import { journalEntry, StoreError, type Journal, type JournalEntry, type JournalEvent, type JournalQuery, type MailboxStore, type MessageInfo } from '../types.js';
import type { PgPool } from './pool.js';
import { base64Of, fromBase64 } from './bytes.js';

/** The most bytes of one mailbox read ahead (a larger next message is read when asked for). */
export const READ_AHEAD_BYTES = 512 * 1024;
/** The most messages of one mailbox read ahead by one statement. */
export const READ_AHEAD_COUNT = 16;
/** Mailboxes with a message read ahead at one time (a POP3 session each). */
export const READ_AHEAD_MAILBOXES = 16;
/** How long a message read ahead is kept for its RETR. */
export const READ_AHEAD_MS = 10_000;

interface Message { readonly id: string; readonly data: Buffer }

interface Ahead {
  /** The next messages of the mailbox, in order (none: none, or too large); never rejects. */
  readonly next: Promise<readonly Message[]>;
  readonly timer: NodeJS.Timeout;
}

/**
 * The message `id` of user $1 (when $3) as ord 0, and the next ones of the mailbox by seq as ord
 * 1 — at most $5 of them, and only while their sizes add up to at most $4 — as rows of their
 * chunks in order; one statement, one snapshot: a message deleted meanwhile is whole or absent,
 * never partial. The chunks as base64 text (bytes.ts).
 */
const READ = `
  WITH m AS (SELECT seq, id FROM mail_messages WHERE username = $1 AND id = $2),
  nx AS (
    SELECT seq, id, sum(size) OVER (ORDER BY seq) AS total FROM (
      SELECT n.seq, n.id, n.size FROM mail_messages n WHERE n.username = $1 AND n.seq > (SELECT seq FROM m) ORDER BY n.seq LIMIT $5
    ) x
  ),
  pick AS (SELECT seq, id, 0 AS ord FROM m WHERE $3 UNION ALL SELECT seq, id, 1 FROM nx WHERE total <= $4)
  SELECT p.id, p.ord, ${base64Of('c.data', 'data')} FROM pick p LEFT JOIN mail_chunks c ON c.message_seq = p.seq ORDER BY p.ord, p.seq, c.no`;

export class PgMailboxStore implements MailboxStore {
  /** Per mailbox: the next message read ahead (insertion order = age, for dropping the oldest). */
  private readonly ahead = new Map<string, Ahead>();
  /** Reads of a mailbox served from what was read ahead (tests, measurements). */
  readonly readAheadStats = { hits: 0, statements: 0 };

  constructor(private readonly db: PgPool, private readonly clock: Clock) {}

  async deliver(user: string, data: Buffer): Promise<{ id: string; size: number }> {
    const n = canonicalUser(user);
    if (n === undefined) throw new StoreError('ERR_USER_UNKNOWN', `no mailbox for "${user}"`);
    const body = normaliseLineEnds(data);
    const now = this.clock.now();
    const id = newId(now);
    await this.db.transaction(async (c) => {
      // FOR SHARE: a purge of this user on another node waits for this delivery, or this one sees it gone.
      const u = (await c.query<{ active: boolean }>('SELECT active FROM mail_users WHERE name = $1 FOR SHARE', [n])).rows[0];
      if (u === undefined) throw new StoreError('ERR_USER_UNKNOWN', `no mailbox for "${user}"`);
      if (!u.active) throw new StoreError('ERR_USER_REMOVED', `user "${n}" was removed: no more delivery`);
      const chunks = Math.ceil(body.length / CHUNK_BYTES);
      const r = await c.query<{ seq: string }>('INSERT INTO mail_messages (id, username, size, arrived, chunks) VALUES ($1, $2, $3, $4, $5) RETURNING seq', [id, n, body.length, now, chunks]);
      const seq = r.rows[0]!.seq;
      for (let i = 0; i < chunks; i++) {
        await c.query('INSERT INTO mail_chunks (message_seq, no, data) VALUES ($1, $2, $3)', [seq, i, body.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)]);
      }
    });
    return { id, size: body.length };
  }

  async list(user: string): Promise<MessageInfo[]> {
    const n = canonicalUser(user);
    if (n === undefined) return [];
    const r = await this.db.query<{ id: string; size: string }>('SELECT id, size FROM mail_messages WHERE username = $1 ORDER BY seq', [n]);
    return r.rows.map((x) => ({ id: x.id, uidl: x.id, size: Number(x.size) }));
  }

  async read(user: string, id: string): Promise<Buffer | undefined> {
    const n = canonicalUser(user);
    if (n === undefined) return undefined;
    const a = this.ahead.get(n);
    if (a !== undefined) {
      this.drop(n);
      const next = await a.next;
      const i = next.findIndex((m) => m.id === id);
      if (i >= 0) {
        this.readAheadStats.hits++;
        const rest = next.slice(i + 1);
        // The last one read ahead: read the following ones while the client takes this one.
        if (rest.length > 0) this.keep(n, Promise.resolve(rest));
        else this.keep(n, this.statement(n, id, false).then((r) => r.next, () => []));
        return next[i]!.data;
      }
    }
    const r = await this.statement(n, id, true);
    if (!r.found) return undefined;
    this.keep(n, Promise.resolve(r.next));
    return r.data;
  }

  private keep(user: string, next: Ahead['next']): void {
    this.drop(user);
    if (this.ahead.size >= READ_AHEAD_MAILBOXES) this.drop(this.ahead.keys().next().value!);
    const timer = setTimeout(() => { if (this.ahead.get(user)?.timer === timer) this.ahead.delete(user); }, READ_AHEAD_MS);
    timer.unref();
    this.ahead.set(user, { next, timer });
  }

  private drop(user: string): void {
    const a = this.ahead.get(user);
    if (a === undefined) return;
    clearTimeout(a.timer);
    this.ahead.delete(user);
  }

  /** One READ statement: the message `id` (when `self`) and the next ones read ahead. */
  private async statement(user: string, id: string, self: boolean): Promise<{ found: boolean; data: Buffer; next: Message[] }> {
    this.readAheadStats.statements++;
    const r = await this.db.query<{ id: string; ord: number; data: string | null }>(READ, [user, id, self, READ_AHEAD_BYTES, READ_AHEAD_COUNT]);
    const own: Buffer[] = [];
    const next: { id: string; parts: Buffer[] }[] = [];
    let found = false;
    for (const row of r.rows) {
      let parts = own;
      if (row.ord === 0) found = true;
      else {
        if (next.at(-1)?.id !== row.id) next.push({ id: row.id, parts: [] });
        parts = next.at(-1)!.parts;
      }
      if (row.data !== null) parts.push(fromBase64(row.data));
    }
    return { found, data: Buffer.concat(own), next: next.map((m) => ({ id: m.id, data: Buffer.concat(m.parts) })) };
  }

  async delete(user: string, ids: readonly string[]): Promise<number> {
    const n = canonicalUser(user);
    if (n === undefined || ids.length === 0) return 0;
    // What was read ahead may be one of them.
    this.drop(n);
    // One statement: all or none.
    const r = await this.db.query('DELETE FROM mail_messages WHERE username = $1 AND id = ANY($2::text[])', [n, [...new Set(ids)]]);
    return r.rowCount ?? 0;
  }
}

interface JournalRow { seq: string; at: string; type: string; message_id: string | null; sender: string | null; recipient: string | null; detail: string | null; ip: string | null; username: string | null }

interface PendingEvent { readonly e: JournalEvent; readonly at: number; readonly done: () => void; readonly fail: (err: unknown) => void }

const INSERT = `INSERT INTO journal (at, type, message_id, sender, recipient, detail, ip, username)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`;

export class PgJournal implements Journal {
  private pending: PendingEvent[] = [];
  private scheduled = false;
  /** The batch being written: the next waits for it, so seq keeps the order of record(). */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly db: PgPool, private readonly clock: Clock) {}

  record(e: JournalEvent): Promise<void> {
    return new Promise((done, fail) => {
      this.pending.push({ e, at: e.at ?? this.clock.now(), done, fail });
      if (!this.scheduled) {
        this.scheduled = true;
        // write() settles every record() promise itself and never rejects.
        setImmediate(() => { this.flush().catch(() => undefined); });
      }
    });
  }

  /** Writes what is pending now; resolves when it (and every earlier batch) is committed or failed. */
  flush(): Promise<void> {
    this.scheduled = false;
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) this.writing = this.writing.then(() => this.write(rows));
    return this.writing;
  }

  private async write(rows: readonly PendingEvent[]): Promise<void> {
    const col = <T>(f: (p: PendingEvent) => T): T[] => rows.map(f);
    try {
      await this.db.query(INSERT, [
        col((r) => r.at), col((r) => r.e.type), col((r) => r.e.messageId ?? null), col((r) => r.e.from ?? null),
        col((r) => r.e.to ?? null), col((r) => r.e.detail ?? null), col((r) => r.e.ip ?? null), col((r) => r.e.user ?? null),
      ]);
    } catch (err) {
      for (const r of rows) r.fail(err);
      return;
    }
    for (const r of rows) r.done();
  }

  /** Retention: as SqliteJournal.prune — oldest first, at most `max`, `batch` per statement, a turn between. */
  async prune(cutoff: number, max: number, batch: number): Promise<number> {
    let n = 0;
    while (n < max) {
      const want = Math.min(batch, max - n);
      const r = await this.db.query('DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE at < $1 ORDER BY at LIMIT $2)', [cutoff, want]);
      const changes = r.rowCount ?? 0;
      n += changes;
      if (changes < want) break;
      await nextTurn();
    }
    return n;
  }

  async query(q: JournalQuery): Promise<JournalEntry[]> {
    // An event recorded before the query is in its answer (record() batches a turn's events).
    await this.flush().catch(() => undefined);
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number): string => { args.push(v); return `$${args.length}`; };
    // A spool entry id also finds the forwarder's events of its messages (`<id>#<n>`): a byte
    // range ('#' + 1 is '$') on the C-collated column, as in SQLite.
    if (q.id !== undefined) where.push(`(message_id = ${arg(q.id)} OR (message_id >= ${arg(`${q.id}#`)} AND message_id < ${arg(`${q.id}$`)}))`);
    if (q.from !== undefined) where.push(`lower(sender) = lower(${arg(q.from)})`);
    if (q.to !== undefined) where.push(`lower(recipient) = lower(${arg(q.to)})`);
    if (q.user !== undefined) where.push(`username = ${arg(q.user)}`);
    if (q.type !== undefined) where.push(`type = ${arg(q.type)}`);
    if (q.since !== undefined) where.push(`at >= ${arg(q.since)}`);
    const limit = Math.max(1, Math.min(q.limit ?? 10000, 100000));
    const sql = `SELECT * FROM journal${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY seq LIMIT ${limit}`;
    return (await this.db.query<JournalRow>(sql, args)).rows.map((r) => journalEntry({ ...r, seq: Number(r.seq), at: Number(r.at), user: r.username }));
  }
}
