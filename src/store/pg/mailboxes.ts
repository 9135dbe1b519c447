// MailboxStore and Journal on PostgreSQL: the same semantics as store/sqlite/mailboxes.ts, on the
// database every node shares, so mail delivered by one node's receiver is read over POP3 on any.
//
// - A message is one mail_messages row (seq = arrival order, id = the UIDL) and its bytes in
//   mail_chunks of at most CHUNK_BYTES, written in the same transaction: deliver() resolves only
//   after COMMIT (synchronous_commit is the server's: on by default, so the commit is durable).
// - list() reads ids and sizes only (never a mailbox's bytes); read() one message's chunks.
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

export class PgMailboxStore implements MailboxStore {
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
    // One statement (one snapshot): a message deleted meanwhile is whole or absent, never partial.
    // The chunks as base64 text (store/pg/bytes.ts: node-postgres would read hex).
    const r = await this.db.query<{ data: string | null }>(
      `SELECT ${base64Of('c.data', 'data')} FROM mail_messages m LEFT JOIN mail_chunks c ON c.message_seq = m.seq WHERE m.username = $1 AND m.id = $2 ORDER BY c.no`, [n, id]);
    if (r.rows.length === 0) return undefined;
    return Buffer.concat(r.rows.flatMap((x) => (x.data === null ? [] : [fromBase64(x.data)])));
  }

  async delete(user: string, ids: readonly string[]): Promise<number> {
    const n = canonicalUser(user);
    if (n === undefined || ids.length === 0) return 0;
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
