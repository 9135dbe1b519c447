// store/sqlite's QueueStore (store/queue-store.ts): the same work queue in one SQLite file, for a
// single machine — the embedded default and the second implementation the contract tests
// (testing/queue-contract.ts) run against, so both backends keep the same semantics.
//
// How it differs from store/pg, and why that is enough on one machine:
// - Claims run in BEGIN IMMEDIATE transactions: SQLite's write lock serialises every claimer (in
//   any process using the file), where PostgreSQL skips locked rows. busy_timeout bounds the wait.
// - Lease times are this machine's clock (the injected Clock): every claimer shares it.
// - subscribe() wakes the subscribers of this store object only; other processes (and other store
//   objects on the file) poll — the wake-up is a hint on either backend.
// - Every operation goes through one async lock: enqueueMessage streams its body with a
//   transaction open, and nothing else may run inside that transaction meanwhile.
// Durability: WAL with synchronous=FULL (a committed arrival survives power loss before the unlink).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.js';
import {
  CHUNK_BYTES, checkpointFromRows, entryName, entryNames, identityKey, LeaseLostError, type CheckpointRecipientRow,
  type ArrivalOutcome, type ClaimedEntry, type EntryAttributes, type EntryCheckpoint, type EntryKind, type HeartbeatResult,
  type Lease, type MessageFinal, type NodeInfo, type QueueStore, type RecipientMark, type StoredEntry, type RetrySummary, type RetryView, type RetryOnly, retrySummaryOf,
} from '../queue-store.js';
import { migrate, type Migration } from './schema.js';

export const QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE queue_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT, writer TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('spool', 'message')),
        state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'held')), attributes TEXT NOT NULL DEFAULT '{}',
        size INTEGER NOT NULL DEFAULT 0, chunks INTEGER NOT NULL DEFAULT 0, arrived_node TEXT NOT NULL, arrived_at INTEGER NOT NULL,
        next_attempt INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        lease_node TEXT, lease_expires INTEGER, lease_token INTEGER, takeovers INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX queue_entries_due ON queue_entries (writer, next_attempt, id) WHERE state = 'ready';
      CREATE TABLE queue_chunks (
        entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE, seq INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (entry_id, seq)
      );
      CREATE TABLE arrivals (node TEXT NOT NULL, identity TEXT NOT NULL, entry_id INTEGER NOT NULL, arrived_at INTEGER NOT NULL, PRIMARY KEY (node, identity));
      CREATE TABLE checkpoint_messages (
        entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE, no INTEGER NOT NULL, outcome TEXT NOT NULL,
        PRIMARY KEY (entry_id, no)
      );
      CREATE TABLE checkpoint_recipients (
        entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE, no INTEGER NOT NULL, address TEXT NOT NULL,
        outcome TEXT NOT NULL, code INTEGER, enhanced TEXT, reply TEXT, PRIMARY KEY (entry_id, no, address)
      );
      CREATE TABLE nodes (name TEXT PRIMARY KEY, address TEXT, version TEXT, started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL);
      CREATE TABLE lease_tokens (last INTEGER NOT NULL);
      INSERT INTO lease_tokens (last) VALUES (0);
    `,
  },
  {
    // Long retry on the queue (QueueStore.markRetry): attempts per message over every node.
    version: 2,
    sql: `
      CREATE TABLE checkpoint_retries (
        entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE, no INTEGER NOT NULL, attempts INTEGER NOT NULL,
        PRIMARY KEY (entry_id, no)
      );
    `,
  },
  {
    // The entry's name (QueueStore: the spool entry id it is known by), unique; NULL: a row from before.
    version: 3,
    sql: `
      ALTER TABLE queue_entries ADD COLUMN name TEXT;
      CREATE UNIQUE INDEX queue_entries_name ON queue_entries (name);
    `,
  },
  {
    // Long retry in the operator's view: what the tools show of a released message, and an
    // operator's bounce or delete for the node that claims it (PG migration 11's columns).
    version: 4,
    sql: `
      ALTER TABLE checkpoint_retries ADD COLUMN view TEXT;
      ALTER TABLE checkpoint_retries ADD COLUMN command TEXT;
    `,
  },
  {
    // Each message in long retry keeps its own retry time (ms on the store's clock; NULL: due):
    // PG migration 16's column.
    version: 5,
    sql: `
      ALTER TABLE checkpoint_retries ADD COLUMN retry_at INTEGER;
    `,
  },
];

export interface SqliteQueueOptions {
  readonly node: string;
  readonly leaseSeconds: number;
  readonly clock?: Clock;
  readonly address?: string;
  readonly version?: string;
  /** Milliseconds a statement waits for another process's write lock. */
  readonly busyTimeoutMs?: number;
}

interface Row {
  id: number; name: string | null; writer: string; kind: EntryKind; attributes: string; size: number; attempts: number; arrived_at: number; arrived_node: string;
  lease_node: string | null; lease_expires: number | null; lease_token: number | null;
}

export class SqliteQueueStore implements QueueStore {
  readonly node: string;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly wakes = new EventEmitter();

  constructor(path: string, private readonly o: SqliteQueueOptions) {
    this.node = o.node;
    this.clock = o.clock ?? systemClock;
    this.db = new Database(path, { timeout: o.busyTimeoutMs ?? 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.transaction(() => migrate(this.db, 'queue', QUEUE_MIGRATIONS)).immediate();
  }

  /** Runs fn when every earlier operation of this store is finished (one at a time). */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private get leaseMs(): number {
    return this.o.leaseSeconds * 1000;
  }

  private wake(writer: string): void {
    this.wakes.emit('wake', writer);
  }

  /** The entry's row under the first of its names no other entry has (entryNames()); inside a write transaction. */
  private insertNamed(writer: string, kind: EntryKind, attributes: EntryAttributes, now: number, wanted: string | undefined): StoredEntry {
    const names = entryNames(wanted, this.node, now);
    const attrs = JSON.stringify(attributes);
    const ins = this.db.prepare('INSERT INTO queue_entries (writer, kind, attributes, arrived_node, arrived_at, next_attempt, name) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING');
    for (const name of [names.first, names.second]) {
      if (name === undefined) continue;
      const r = ins.run(writer, kind, attrs, this.node, now, now, name);
      if (r.changes === 1) return { id: String(r.lastInsertRowid), name };
    }
    const id = String(ins.run(writer, kind, attrs, this.node, now, now, null).lastInsertRowid);
    const name = names.last(id);
    this.db.prepare('UPDATE queue_entries SET name = ? WHERE id = ?').run(name, Number(id));
    return { id, name };
  }

  /** The entry an arrival row names, and its name (the entry may be finished and gone). */
  private arrived(identity: string): StoredEntry {
    const prev = this.db.prepare('SELECT a.entry_id, q.name FROM arrivals a LEFT JOIN queue_entries q ON q.id = a.entry_id WHERE a.node = ? AND a.identity = ?')
      .get(this.node, identity) as { entry_id: number; name: string | null };
    const id = String(prev.entry_id);
    return { id, name: entryName(id, prev.name) };
  }

  storeSpoolFile(writer: string, path: string, attributes: EntryAttributes, opts: { readonly kind?: EntryKind; readonly name?: string } = {}): Promise<ArrivalOutcome> {
    return this.serial(() => {
      const fd = openSync(path, 'r');
      try {
        const st = fstatSync(fd, { bigint: true });
        const identity = identityKey({ path, ino: st.ino, mtimeNs: st.mtimeNs, size: st.size });
        const now = this.clock.now();
        const out = this.db.transaction((): ArrivalOutcome => {
          const arr = this.db.prepare('INSERT INTO arrivals (node, identity, entry_id, arrived_at) VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING').run(this.node, identity, now);
          if (arr.changes === 0) {
            const prev = this.arrived(identity);
            return { stored: false, entryId: prev.id, name: prev.name, reason: 'duplicate' };
          }
          const named = this.insertNamed(writer, opts.kind ?? 'spool', attributes, now, opts.name);
          const id = Number(named.id);
          const ins = this.db.prepare('INSERT INTO queue_chunks (entry_id, seq, data) VALUES (?, ?, ?)');
          const buf = Buffer.allocUnsafe(CHUNK_BYTES);
          let size = 0;
          let seq = 0;
          for (;;) {
            const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
            if (n === 0) break;
            ins.run(id, seq++, buf.subarray(0, n));
            size += n;
          }
          this.db.prepare('UPDATE queue_entries SET size = ?, chunks = ? WHERE id = ?').run(size, seq, id);
          this.db.prepare('UPDATE arrivals SET entry_id = ? WHERE node = ? AND identity = ?').run(id, this.node, identity);
          return { stored: true, entryId: named.id, name: named.name, size };
        }).immediate();
        if (out.stored) this.wake(writer);
        return out;
      } finally {
        closeSync(fd);
      }
    });
  }

  enqueueMessage(writer: string, attributes: EntryAttributes, body: AsyncIterable<Buffer> | Buffer, opts: { readonly key?: string; readonly name?: string } = {}): Promise<StoredEntry> {
    return this.serial(async () => {
      const now = this.clock.now();
      this.db.exec('BEGIN IMMEDIATE');
      try {
        if (opts.key !== undefined) {
          const arr = this.db.prepare('INSERT INTO arrivals (node, identity, entry_id, arrived_at) VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING').run(this.node, opts.key, now);
          if (arr.changes === 0) {
            const prev = this.arrived(opts.key);
            this.db.exec('COMMIT');
            return prev;
          }
        }
        const named = this.insertNamed(writer, 'message', attributes, now, opts.name);
        const id = Number(named.id);
        const ins = this.db.prepare('INSERT INTO queue_chunks (entry_id, seq, data) VALUES (?, ?, ?)');
        let size = 0;
        let seq = 0;
        const put = (b: Buffer): void => {
          for (let o = 0; o < b.length; o += CHUNK_BYTES) {
            const piece = b.subarray(o, o + CHUNK_BYTES);
            ins.run(id, seq++, piece);
            size += piece.length;
          }
        };
        if (Buffer.isBuffer(body)) put(body);
        else for await (const b of body) put(b);
        this.db.prepare('UPDATE queue_entries SET size = ?, chunks = ? WHERE id = ?').run(size, seq, id);
        if (opts.key !== undefined) this.db.prepare('UPDATE arrivals SET entry_id = ? WHERE node = ? AND identity = ?').run(id, this.node, opts.key);
        this.db.exec('COMMIT');
        this.wake(writer);
        return named;
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  claim(writer: string, max: number, opts: { readonly upTo?: string; readonly inProcess?: boolean } = {}): Promise<ClaimedEntry[]> {
    return this.serial(() => {
      if (max <= 0) return [];
      const now = this.clock.now();
      return this.db.transaction((): ClaimedEntry[] => {
        const due = this.db.prepare(
          `SELECT id, lease_node FROM queue_entries WHERE writer = ? AND state = 'ready' AND next_attempt <= ?
             AND (lease_node IS NULL OR lease_expires < ?) AND id <= ? AND (? = 0 OR attempts > 0) ORDER BY next_attempt, id LIMIT ?`,
        ).all(writer, now, now, opts.upTo === undefined ? Number.MAX_SAFE_INTEGER : Number(opts.upTo), opts.inProcess === true ? 1 : 0, max) as { id: number; lease_node: string | null }[];
        const next = this.db.prepare('UPDATE lease_tokens SET last = last + 1 RETURNING last');
        const take = this.db.prepare(
          `UPDATE queue_entries SET lease_node = ?, lease_expires = ?, lease_token = ?, takeovers = takeovers + ? WHERE id = ?
           RETURNING id, name, writer, kind, attributes, size, attempts, arrived_at, arrived_node, lease_node, lease_expires, lease_token`,
        );
        return due.map((d) => {
          const token = (next.get() as { last: number }).last;
          const r = take.get(this.node, now + this.leaseMs, token, d.lease_node === null ? 0 : 1, d.id) as Row;
          return {
            id: String(r.id), name: entryName(String(r.id), r.name), writer: r.writer, kind: r.kind, attributes: JSON.parse(r.attributes) as EntryAttributes, size: r.size,
            attempts: r.attempts, arrivedAt: new Date(r.arrived_at), arrivedNode: r.arrived_node,
            lease: { entryId: String(r.id), node: this.node, token: String(token), expires: new Date(now + this.leaseMs) },
            takenOverFrom: d.lease_node,
          };
        });
      }).immediate();
    });
  }

  restart(writer: string, opts: { readonly cold: boolean }): Promise<{ released: number; reset: number; upTo: string }> {
    return this.serial(() => {
      const now = this.clock.now();
      const out = this.db.transaction(() => {
        // The write lock of BEGIN IMMEDIATE serialises this with every claim (store/pg skips locked rows).
        const rows = (opts.cold
          ? this.db.prepare('SELECT id, lease_node FROM queue_entries WHERE writer = ? AND (lease_node IS NULL OR lease_expires < ? OR lease_node = ?)').all(writer, now, this.node)
          : this.db.prepare('SELECT id, lease_node FROM queue_entries WHERE writer = ? AND lease_node = ?').all(writer, this.node)) as { id: number; lease_node: string | null }[];
        const free = this.db.prepare('UPDATE queue_entries SET lease_node = NULL, lease_expires = NULL, lease_token = NULL, next_attempt = MIN(next_attempt, ?) WHERE id = ?');
        for (const r of rows) {
          if (opts.cold) for (const t of ['checkpoint_messages', 'checkpoint_recipients', 'checkpoint_retries']) this.db.prepare(`DELETE FROM ${t} WHERE entry_id = ?`).run(r.id);
          free.run(now, r.id);
        }
        const m = this.db.prepare('SELECT COALESCE(MAX(id), 0) AS up_to FROM queue_entries WHERE writer = ?').get(writer) as { up_to: number };
        return { released: rows.filter((r) => r.lease_node === this.node).length, reset: opts.cold ? rows.length : 0, upTo: String(m.up_to), changed: rows.length > 0 };
      }).immediate();
      if (out.changed) this.wake(writer);
      return { released: out.released, reset: out.reset, upTo: out.upTo };
    });
  }

  count(writer: string): Promise<number> {
    return this.serial(() => (this.db.prepare('SELECT count(*) AS n FROM queue_entries WHERE writer = ?').get(writer) as { n: number }).n);
  }

  heartbeat(leases: readonly Lease[]): Promise<HeartbeatResult> {
    return this.serial(() => {
      const now = this.clock.now();
      return this.db.transaction((): HeartbeatResult => {
        this.db.prepare(
          `INSERT INTO nodes (name, address, version, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, address = excluded.address, version = excluded.version`,
        ).run(this.node, this.o.address ?? null, this.o.version ?? null, now, now);
        // Only the named leases (queue-store.ts): a forgotten one runs out and is taken over.
        const renew = this.db.prepare('UPDATE queue_entries SET lease_expires = ? WHERE id = ? AND lease_node = ? AND lease_token = ? RETURNING id, lease_token');
        const held: Lease[] = [];
        for (const l of leases) {
          if (l.node !== this.node) continue;
          const r = renew.get(now + this.leaseMs, Number(l.entryId), this.node, Number(l.token)) as { id: number; lease_token: number } | undefined;
          if (r !== undefined) held.push({ entryId: String(r.id), node: this.node, token: String(r.lease_token), expires: new Date(now + this.leaseMs) });
        }
        return { held };
      }).immediate();
    });
  }

  async *read(entryId: string): AsyncIterable<Buffer> {
    const n = await this.serial(() => (this.db.prepare('SELECT chunks FROM queue_entries WHERE id = ?').get(Number(entryId)) as { chunks: number } | undefined)?.chunks ?? 0);
    for (let seq = 0; seq < n; seq++) {
      const data = await this.serial(() => (this.db.prepare('SELECT data FROM queue_chunks WHERE entry_id = ? AND seq = ?').get(Number(entryId), seq) as { data: Buffer } | undefined)?.data);
      if (data === undefined) throw new Error(`entry ${entryId}: chunk ${seq} of ${n} is missing`);
      yield data;
    }
  }

  loadCheckpoint(entryId: string): Promise<EntryCheckpoint> {
    return this.serial(() => checkpointFromRows(
      this.db.prepare('SELECT no, outcome FROM checkpoint_messages WHERE entry_id = ?').all(Number(entryId)) as { no: number; outcome: MessageFinal }[],
      this.db.prepare('SELECT no, address, outcome, code, enhanced, reply FROM checkpoint_recipients WHERE entry_id = ?').all(Number(entryId)) as CheckpointRecipientRow[],
      this.db.prepare('SELECT no, attempts, command, retry_at - ? AS wait_ms FROM checkpoint_retries WHERE entry_id = ?').all(this.clock.now(), Number(entryId)) as { no: number; attempts: number; command: string | null; wait_ms: number | null }[],
    ));
  }

  /** Runs write when the lease is still held (checked in the same write transaction). */
  private fenced(lease: Lease, what: string, write: () => void): Promise<void> {
    return this.serial(() => {
      const ok = this.db.transaction((): boolean => {
        const held = this.db.prepare('SELECT 1 FROM queue_entries WHERE id = ? AND lease_node = ? AND lease_token = ?').get(Number(lease.entryId), lease.node, Number(lease.token));
        if (held === undefined) return false;
        write();
        return true;
      }).immediate();
      if (!ok) throw new LeaseLostError(lease, what);
    });
  }

  markRecipient(lease: Lease, no: number, mark: RecipientMark): Promise<void> {
    const reply = mark.outcome === 'failed' ? mark.reply : undefined;
    return this.fenced(lease, `checkpoint of message ${no} recipient ${mark.address}`, () => {
      this.db.prepare('INSERT OR REPLACE INTO checkpoint_recipients (entry_id, no, address, outcome, code, enhanced, reply) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(Number(lease.entryId), no, mark.address, mark.outcome, reply?.code ?? null, reply?.enhanced ?? null, reply?.text ?? null);
    });
  }

  markMessage(lease: Lease, no: number, outcome: MessageFinal): Promise<void> {
    return this.fenced(lease, `checkpoint of message ${no}`, () => {
      this.db.prepare('INSERT OR REPLACE INTO checkpoint_messages (entry_id, no, outcome) VALUES (?, ?, ?)').run(Number(lease.entryId), no, outcome);
    });
  }

  markRetry(lease: Lease, no: number, attempts: number, view?: RetryView, retryInMs?: number): Promise<void> {
    const at = retryInMs === undefined ? null : this.clock.now() + Math.max(0, retryInMs);
    return this.fenced(lease, `long retry of message ${no}`, () => {
      this.db.prepare('INSERT OR REPLACE INTO checkpoint_retries (entry_id, no, attempts, view, command, retry_at) VALUES (?, ?, ?, ?, NULL, ?)')
        .run(Number(lease.entryId), no, attempts, view === undefined ? null : JSON.stringify(view), at);
    });
  }

  complete(lease: Lease): Promise<void> {
    return this.fenced(lease, 'complete', () => {
      this.db.prepare('DELETE FROM queue_entries WHERE id = ?').run(Number(lease.entryId));
    });
  }

  async release(lease: Lease, opts: { retryAt?: Date; retryInMs?: number; attempted?: boolean } = {}): Promise<void> {
    const now = this.clock.now();
    const at = opts.retryInMs !== undefined ? now + Math.max(0, opts.retryInMs) : opts.retryAt?.getTime() ?? now;
    let writer = '';
    await this.fenced(lease, 'release', () => {
      const r = this.db.prepare(
        `UPDATE queue_entries SET lease_node = NULL, lease_expires = NULL, lease_token = NULL, next_attempt = ?, attempts = attempts + ? WHERE id = ? RETURNING writer`,
      ).get(at, opts.attempted === true ? 1 : 0, Number(lease.entryId)) as { writer: string };
      writer = r.writer;
    });
    if (at <= now) this.wake(writer);
  }

  async retryNow(writer: string, only?: RetryOnly): Promise<number> {
    const now = this.clock.now();
    // The entry made due early by its releasing node's timer: its messages' own retry times by
    // the same amount (as store/pg/queue.ts, where the two clocks can differ).
    if (only !== undefined) {
      await this.serial(() => this.db.prepare(
        `UPDATE checkpoint_retries SET retry_at = (SELECT CASE WHEN ? OR checkpoint_retries.retry_at - (q.next_attempt - ?) <= ? THEN NULL ELSE checkpoint_retries.retry_at - (q.next_attempt - ?) END FROM queue_entries q WHERE q.id = checkpoint_retries.entry_id)
         WHERE retry_at IS NOT NULL AND entry_id IN (SELECT id FROM queue_entries WHERE id = ? AND writer = ? AND attempts = ? AND state = 'ready'
           AND next_attempt > ? AND (lease_node IS NULL OR lease_expires < ?))`,
      ).run(only.flush === true ? 1 : 0, now, now, now, Number(only.entryId), writer, only.attempts, now, now));
    }
    const n = await this.serial(() => this.db.prepare(
      `UPDATE queue_entries SET next_attempt = ?
       WHERE writer = ? AND state = 'ready' AND next_attempt > ? AND (lease_node IS NULL OR lease_expires < ?)
         AND EXISTS (SELECT 1 FROM checkpoint_retries r WHERE r.entry_id = queue_entries.id)
         AND (? IS NULL OR (id = ? AND attempts = ?))`,
    ).run(now, writer, now, now, only === undefined ? null : 1, only === undefined ? null : Number(only.entryId), only?.attempts ?? null).changes);
    // FLUSHRETRY: every waiting message of those entries is due now, not only the entry (its
    // releasing node's timer, `only`, shifted them above by what it shifted the entry).
    if (only === undefined) {
      await this.serial(() => this.db.prepare(
        `UPDATE checkpoint_retries SET retry_at = NULL WHERE retry_at > ? AND entry_id IN (SELECT id FROM queue_entries
           WHERE writer = ? AND state = 'ready' AND (lease_node IS NULL OR lease_expires < ?))`,
      ).run(now, writer, now));
    }
    if (n > 0) this.wake(writer);
    return n;
  }

  retrySummary(writer: string, limit: number): Promise<RetrySummary> {
    const now = this.clock.now();
    return this.serial(() => retrySummaryOf((this.db.prepare(
      `SELECT q.id AS entry_id, q.attributes, count(*) AS n, q.next_attempt, q.state, NULL AS last_node
       FROM checkpoint_retries r JOIN queue_entries q ON q.id = r.entry_id
       WHERE q.writer = ? AND (q.lease_node IS NULL OR q.lease_expires < ?)
         AND NOT EXISTS (SELECT 1 FROM checkpoint_messages m WHERE m.entry_id = r.entry_id AND m.no = r.no)
       GROUP BY q.id ORDER BY q.arrived_at, q.id`,
    ).all(writer, now) as { entry_id: number; attributes: string; n: number; next_attempt: number; state: string; last_node: string | null }[])
      .map((x) => ({ ...x, entry_id: String(x.entry_id), attributes: JSON.parse(x.attributes) as EntryAttributes })), limit));
  }

  subscribe(writer: string, onWake: () => void): Promise<() => Promise<void>> {
    const e = this.wakes;
    const listener = (w: string): void => { if (w === writer) onWake(); };
    e.on('wake', listener);
    return Promise.resolve(() => { e.off('wake', listener); return Promise.resolve(); });
  }

  pruneArrivals(before: Date, limit: number): Promise<number> {
    return this.serial(() => this.db.prepare(
      'DELETE FROM arrivals WHERE rowid IN (SELECT rowid FROM arrivals WHERE node = ? AND arrived_at < ? LIMIT ?)',
    ).run(this.node, before.getTime(), limit).changes);
  }

  nodes(): Promise<NodeInfo[]> {
    return this.serial(() => {
      const now = this.clock.now();
      const rows = this.db.prepare(
        `SELECT n.name, n.address, n.version, n.heartbeat_at,
                (SELECT count(*) FROM queue_entries q WHERE q.lease_node = n.name AND q.lease_expires >= ?) AS claimed
         FROM nodes n ORDER BY n.name`,
      ).all(now) as { name: string; address: string | null; version: string | null; heartbeat_at: number; claimed: number }[];
      return rows.map((x) => ({ name: x.name, address: x.address, version: x.version, heartbeatAge: Math.max(0, (now - x.heartbeat_at) / 1000), claimed: x.claimed }));
    });
  }

  close(): Promise<void> {
    return this.serial(() => { this.db.close(); });
  }
}
