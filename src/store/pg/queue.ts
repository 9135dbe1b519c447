// store/pg's QueueStore (store/queue-store.ts): the shared work queue on PostgreSQL ([P2]).
//
// Claiming: one statement — select due entries whose lease is free or expired, FOR UPDATE SKIP
// LOCKED (a row another node is claiming right now is skipped, not waited for), and set the lease
// (node, database now() + lease time, a new token from the lease_tokens sequence). Two claimers
// therefore never get the same entry: the row lock serialises them, and the second sees the first
// one's unexpired lease.
//
// Fencing: every write about a claimed entry (checkpoint marks, complete, release) names the lease
// token in its WHERE clause; 0 rows = the lease is lost (LeaseLostError). A mark takes a share lock
// on the entry row, so it cannot interleave with a takeover's claim.
//
// Waking: NOTIFY spoolgate_queue '<schema>:<writer>' in the transaction that makes work due (it is
// delivered at COMMIT); subscribe() LISTENs on a dedicated connection and reconnects after a loss.
//
// Untrusted input: the spool file's bytes (stored opaque), attributes (JSON). All SQL is
// parameterised; the schema name is checked (pool.ts). Safe to crash at any point: each operation
// is one transaction, and a crashed node's leases run out.
import { open } from 'node:fs/promises';
import pg from 'pg';
import {
  CHUNK_BYTES, checkpointFromRows, entryName, entryNames, identityKey, LeaseLostError, type CheckpointRecipientRow,
  type ArrivalOutcome, type ClaimedEntry, type EntryAttributes, type EntryCheckpoint, type EntryKind, type HeartbeatResult,
  type Lease, type MessageFinal, type NodeInfo, type QueueStore, type RecipientMark, type StoredEntry, type RetrySummary, type RetryView, type RetryOnly, retrySummaryOf,
} from '../queue-store.js';
import type { PgPool } from './pool.js';
import { listenReconnecting } from './listen.js';
import { base64Of, fromBase64 } from './bytes.js';
import { PgEnqueueBatcher, type EnqueueBatchLimits } from './enqueue-batch.js';

export const NOTIFY_CHANNEL = 'spoolgate_queue';

export interface PgQueueOptions {
  /** This node's name (Store Node). */
  readonly node: string;
  /** Seconds a lease lasts without a heartbeat (Store LeaseTime). */
  readonly leaseSeconds: number;
  /** Shown in D,NODES: where this node can be reached, and its version. */
  readonly address?: string;
  readonly version?: string;
  /** Milliseconds before a lost LISTEN connection is opened again. */
  readonly reconnectMs?: number;
  /** Bounds of one group commit of message entries (enqueue-batch.ts); default ENQUEUE_BATCH_LIMITS. */
  readonly enqueueBatch?: EnqueueBatchLimits;
}

interface EntryRow {
  id: string;
  name: string | null;
  writer: string;
  kind: EntryKind;
  attributes: EntryAttributes;
  size: string;
  attempts: number;
  arrived_at: Date;
  arrived_node: string;
  lease_node: string;
  lease_token: string;
  lease_expires: Date;
  prev_node: string | null;
}

function toClaimed(r: EntryRow): ClaimedEntry {
  return {
    id: r.id,
    name: entryName(r.id, r.name),
    writer: r.writer,
    kind: r.kind,
    attributes: r.attributes,
    size: Number(r.size),
    attempts: r.attempts,
    arrivedAt: r.arrived_at,
    arrivedNode: r.arrived_node,
    lease: { entryId: r.id, node: r.lease_node, token: r.lease_token, expires: r.lease_expires },
    takenOverFrom: r.prev_node,
  };
}

const CLAIM = `
  WITH due AS (
    SELECT id, lease_node AS prev_node FROM queue_entries
    WHERE writer = $1 AND state = 'ready' AND next_attempt <= now()
      AND (lease_node IS NULL OR lease_expires < now())
      AND ($5::bigint IS NULL OR id <= $5::bigint)
      AND (NOT $6::boolean OR attempts > 0)
    ORDER BY next_attempt, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  UPDATE queue_entries q
  SET lease_node = $3, lease_expires = now() + make_interval(secs => $4), lease_token = nextval('lease_tokens'),
      takeovers = q.takeovers + (CASE WHEN due.prev_node IS NULL THEN 0 ELSE 1 END)
  FROM due WHERE q.id = due.id
  RETURNING q.id, q.name, q.writer, q.kind, q.attributes, q.size, q.attempts, q.arrived_at, q.arrived_node,
            q.lease_node, q.lease_token::text AS lease_token, q.lease_expires, due.prev_node`;

/** restart(): the leases under this node's name (a previous life's) given back, due now. */
const WARM_RESTART = `
  WITH r AS (
    SELECT id, lease_node AS was FROM queue_entries WHERE writer = $1 AND lease_node = $2
    FOR UPDATE SKIP LOCKED
  )
  UPDATE queue_entries q SET lease_node = NULL, lease_expires = NULL, lease_token = NULL, next_attempt = LEAST(q.next_attempt, now())
  FROM r WHERE q.id = r.id
  RETURNING r.was`;

/**
 * restart() cold: every entry of the writer no other live node holds (no lease, an expired one, or
 * this node's name) loses its checkpoint and its lease and is due now. A fenced write of the old
 * lease then matches no row (LeaseLostError).
 */
const COLD_RESTART = `
  WITH r AS (
    SELECT id, lease_node AS was FROM queue_entries
    WHERE writer = $1 AND (lease_node IS NULL OR lease_expires < now() OR lease_node = $2)
    FOR UPDATE SKIP LOCKED
  ), m AS (
    DELETE FROM checkpoint_messages WHERE entry_id IN (SELECT id FROM r)
  ), rc AS (
    DELETE FROM checkpoint_recipients WHERE entry_id IN (SELECT id FROM r)
  ), rt AS (
    DELETE FROM checkpoint_retries WHERE entry_id IN (SELECT id FROM r)
  )
  UPDATE queue_entries q SET lease_node = NULL, lease_expires = NULL, lease_token = NULL, next_attempt = LEAST(q.next_attempt, now())
  FROM r WHERE q.id = r.id
  RETURNING r.was`;

/**
 * Inserts an entry's row under the first of its names (entryNames()) no other entry has; the
 * unique index decides (a concurrent insert of the same name waits for the other's commit).
 */
async function insertNamed(c: pg.PoolClient, writer: string, kind: EntryKind, attributes: EntryAttributes, node: string, wanted: string | undefined): Promise<StoredEntry> {
  const names = entryNames(wanted, node, Date.now());
  const attrs = JSON.stringify(attributes);
  for (const name of [names.first, names.second]) {
    if (name === undefined) continue;
    const r = await c.query<{ id: string }>(
      'INSERT INTO queue_entries (writer, kind, attributes, arrived_node, name) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id',
      [writer, kind, attrs, node, name],
    );
    const id = r.rows[0]?.id;
    if (id !== undefined) return { id, name };
  }
  const r = await c.query<{ id: string }>('INSERT INTO queue_entries (writer, kind, attributes, arrived_node) VALUES ($1, $2, $3, $4) RETURNING id', [writer, kind, attrs, node]);
  const id = r.rows[0]!.id;
  const name = names.last(id);
  await c.query('UPDATE queue_entries SET name = $2 WHERE id = $1', [id, name]);
  return { id, name };
}

/** Reads a file by its descriptor in chunks and inserts them; returns the byte count and chunks. */
async function insertChunks(c: pg.PoolClient, entryId: string, chunks: AsyncIterable<Buffer>): Promise<{ size: number; count: number }> {
  let size = 0;
  let count = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    await c.query('INSERT INTO queue_chunks (entry_id, seq, data) VALUES ($1, $2, $3)', [entryId, count, chunk]);
    size += chunk.length;
    count++;
  }
  return { size, count };
}

/** Re-slices any byte stream into pieces of at most CHUNK_BYTES (one piece in memory at a time). */
async function* rechunk(src: AsyncIterable<Buffer> | Buffer): AsyncIterable<Buffer> {
  if (Buffer.isBuffer(src)) {
    for (let o = 0; o < src.length; o += CHUNK_BYTES) yield src.subarray(o, o + CHUNK_BYTES);
    return;
  }
  for await (const b of src) {
    for (let o = 0; o < b.length; o += CHUNK_BYTES) yield b.subarray(o, o + CHUNK_BYTES);
  }
}

export class PgQueueStore implements QueueStore {
  readonly node: string;
  private readonly leaseSeconds: number;
  /** Group commit of message entries across the node's sessions (enqueue-batch.ts). */
  readonly enqueueBatch: PgEnqueueBatcher;

  constructor(private readonly db: PgPool, private readonly opts: PgQueueOptions) {
    this.node = opts.node;
    this.leaseSeconds = opts.leaseSeconds;
    this.enqueueBatch = new PgEnqueueBatcher(db, opts.node, (writer) => [NOTIFY_CHANNEL, this.wakePayload(writer)], opts.enqueueBatch);
  }

  private wakePayload(writer: string): string {
    return `${this.db.schema}:${writer}`;
  }

  async storeSpoolFile(writer: string, path: string, attributes: EntryAttributes, opts: { readonly kind?: EntryKind; readonly name?: string } = {}): Promise<ArrivalOutcome> {
    const fh = await open(path, 'r');
    try {
      // The identity of the file actually opened (not of whatever the path names later).
      const st = await fh.stat({ bigint: true });
      const identity = identityKey({ path, ino: st.ino, mtimeNs: st.mtimeNs, size: st.size });
      return await this.db.transaction(async (c) => {
        // The arrival row first: a concurrent store of the same file waits here for our commit
        // and then finds the conflict; a second store after a crash finds it at once.
        const arr = await c.query('INSERT INTO arrivals (node, identity, entry_id) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [this.node, identity]);
        if (arr.rowCount === 0) {
          const prev = await this.arrived(c, identity);
          return { stored: false, entryId: prev.id, name: prev.name, reason: 'duplicate' } as const;
        }
        const { id, name } = await insertNamed(c, writer, opts.kind ?? 'spool', attributes, this.node, opts.name);
        const { size, count } = await insertChunks(c, id, fileChunks(fh));
        await c.query('UPDATE queue_entries SET size = $2, chunks = $3 WHERE id = $1', [id, size, count]);
        await c.query('UPDATE arrivals SET entry_id = $3 WHERE node = $1 AND identity = $2', [this.node, identity, id]);
        await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
        return { stored: true, entryId: id, name, size } as const;
      });
    } finally {
      await fh.close();
    }
  }

  /** The entry an arrival row names, and its name (the entry may be finished and gone). */
  private async arrived(c: pg.PoolClient, identity: string): Promise<StoredEntry> {
    const prev = await c.query<{ entry_id: string; name: string | null }>(
      'SELECT a.entry_id::text AS entry_id, q.name FROM arrivals a LEFT JOIN queue_entries q ON q.id = a.entry_id WHERE a.node = $1 AND a.identity = $2',
      [this.node, identity],
    );
    const id = prev.rows[0]?.entry_id ?? '0';
    return { id, name: entryName(id, prev.rows[0]?.name) };
  }

  async enqueueMessage(writer: string, attributes: EntryAttributes, body: AsyncIterable<Buffer> | Buffer, opts: { readonly key?: string; readonly name?: string } = {}): Promise<StoredEntry> {
    // The common case — a message in memory, no key — goes with the group commit: the messages of
    // all sessions handed in while a commit is in flight share the next one (one statement: the
    // entries, their chunks, the wake-up). Its name taken, or too large for a batch: the long way.
    if (opts.key === undefined && Buffer.isBuffer(body) && this.enqueueBatch.fits(body)) {
      const stored = await this.enqueueBatch.enqueue(writer, JSON.stringify(attributes), body, entryNames(opts.name, this.node, Date.now()).first);
      if (stored !== undefined) return stored;
    }
    return this.db.transaction(async (c) => {
      if (opts.key !== undefined) {
        // As a spool file's identity: a concurrent store with the key waits for our commit here.
        const arr = await c.query('INSERT INTO arrivals (node, identity, entry_id) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [this.node, opts.key]);
        if (arr.rowCount === 0) return this.arrived(c, opts.key);
      }
      const { id, name } = await insertNamed(c, writer, 'message', attributes, this.node, opts.name);
      const { size, count } = await insertChunks(c, id, rechunk(body));
      await c.query('UPDATE queue_entries SET size = $2, chunks = $3 WHERE id = $1', [id, size, count]);
      if (opts.key !== undefined) await c.query('UPDATE arrivals SET entry_id = $3 WHERE node = $1 AND identity = $2', [this.node, opts.key, id]);
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
      return { id, name };
    });
  }

  async claim(writer: string, max: number, opts: { readonly upTo?: string; readonly inProcess?: boolean } = {}): Promise<ClaimedEntry[]> {
    if (max <= 0) return [];
    const r = await this.db.query<EntryRow>(CLAIM, [writer, max, this.node, this.leaseSeconds, opts.upTo ?? null, opts.inProcess === true]);
    return r.rows.map(toClaimed).sort((a, b) => Number(a.id) - Number(b.id));
  }

  async restart(writer: string, opts: { readonly cold: boolean }): Promise<{ released: number; reset: number; upTo: string }> {
    return this.db.transaction(async (c) => {
      // SKIP LOCKED: a row another node is claiming this moment becomes that node's work.
      const r = await c.query<{ was: string | null }>(opts.cold ? COLD_RESTART : WARM_RESTART, [writer, this.node]);
      const released = r.rows.filter((x) => x.was === this.node).length;
      const reset = opts.cold ? r.rows.length : 0;
      if (r.rows.length > 0) await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
      const m = await c.query<{ up_to: string }>('SELECT COALESCE(max(id), 0)::text AS up_to FROM queue_entries WHERE writer = $1', [writer]);
      return { released, reset, upTo: m.rows[0]!.up_to };
    });
  }

  async count(writer: string): Promise<number> {
    const r = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries WHERE writer = $1', [writer]);
    return r.rows[0]!.n;
  }

  async heartbeat(leases: readonly Lease[]): Promise<HeartbeatResult> {
    return this.db.transaction(async (c) => {
      await c.query(
        `INSERT INTO nodes (name, address, version) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), address = EXCLUDED.address, version = EXCLUDED.version`,
        [this.node, this.opts.address ?? null, this.opts.version ?? null],
      );
      // A named lease still ours is renewed even if it ran out (nobody took it: the row lock of a
      // concurrent claim serialises with this update, which then finds another node's name).
      const mine = leases.filter((l) => l.node === this.node);
      if (mine.length === 0) return { held: [] };
      const r = await c.query<{ id: string; lease_token: string; lease_expires: Date }>(
        `UPDATE queue_entries SET lease_expires = now() + make_interval(secs => $2)
         WHERE lease_node = $1 AND id = ANY($3::bigint[]) AND lease_token = ANY($4::bigint[])
         RETURNING id, lease_token::text AS lease_token, lease_expires`,
        [this.node, this.leaseSeconds, mine.map((l) => l.entryId), mine.map((l) => l.token)],
      );
      const named = new Set(mine.map((l) => `${l.entryId}:${l.token}`));
      return { held: r.rows.filter((x) => named.has(`${x.id}:${x.lease_token}`)).map((x) => ({ entryId: x.id, node: this.node, token: x.lease_token, expires: x.lease_expires })) };
      return { held: r.rows.map((x) => ({ entryId: x.id, node: this.node, token: x.lease_token, expires: x.lease_expires })) };
    });
  }

  async *read(entryId: string): AsyncIterable<Buffer> {
    const n = await this.db.query<{ chunks: number }>('SELECT chunks FROM queue_entries WHERE id = $1', [entryId]);
    const chunks = n.rows[0]?.chunks ?? 0;
    for (let seq = 0; seq < chunks; seq++) {
      const r = await this.db.query<{ data: string }>(`SELECT ${base64Of('data', 'data')} FROM queue_chunks WHERE entry_id = $1 AND seq = $2`, [entryId, seq]);
      const data = r.rows[0]?.data;
      if (data === undefined) throw new Error(`entry ${entryId}: chunk ${seq} of ${chunks} is missing`);
      yield fromBase64(data);
    }
  }

  async loadCheckpoint(entryId: string): Promise<EntryCheckpoint> {
    const m = await this.db.query<{ no: number; outcome: MessageFinal }>('SELECT no, outcome FROM checkpoint_messages WHERE entry_id = $1', [entryId]);
    const rc = await this.db.query<CheckpointRecipientRow>('SELECT no, address, outcome, code, enhanced, reply FROM checkpoint_recipients WHERE entry_id = $1', [entryId]);
    // wait_ms: how long each message still waits for its own retry time, on the database's clock.
    const rt = await this.db.query<{ no: number; attempts: number; command: unknown; wait_ms: number | null }>(
      'SELECT no, attempts, command, (extract(epoch FROM retry_at - now()) * 1000)::float8 AS wait_ms FROM checkpoint_retries WHERE entry_id = $1', [entryId],
    );
    return checkpointFromRows(m.rows, rc.rows, rt.rows);
  }

  async markRecipient(lease: Lease, no: number, mark: RecipientMark): Promise<void> {
    const reply = mark.outcome === 'failed' ? mark.reply : undefined;
    const r = await this.db.query(
      `INSERT INTO checkpoint_recipients (entry_id, no, address, outcome, code, enhanced, reply)
       SELECT q.id, $4, $5, $6, $7, $8, $9 FROM queue_entries q
       WHERE q.id = $1 AND q.lease_node = $2 AND q.lease_token = $3 FOR SHARE OF q
       ON CONFLICT (entry_id, no, address) DO UPDATE SET outcome = EXCLUDED.outcome, code = EXCLUDED.code, enhanced = EXCLUDED.enhanced, reply = EXCLUDED.reply`,
      [lease.entryId, lease.node, lease.token, no, mark.address, mark.outcome, reply?.code ?? null, reply?.enhanced ?? null, reply?.text ?? null],
    );
    if (r.rowCount === 0) throw new LeaseLostError(lease, `checkpoint of message ${no} recipient ${mark.address}`);
  }

  async markMessage(lease: Lease, no: number, outcome: MessageFinal): Promise<void> {
    const r = await this.db.query(
      `INSERT INTO checkpoint_messages (entry_id, no, outcome)
       SELECT q.id, $4, $5 FROM queue_entries q
       WHERE q.id = $1 AND q.lease_node = $2 AND q.lease_token = $3 FOR SHARE OF q
       ON CONFLICT (entry_id, no) DO UPDATE SET outcome = EXCLUDED.outcome`,
      [lease.entryId, lease.node, lease.token, no, outcome],
    );
    if (r.rowCount === 0) throw new LeaseLostError(lease, `checkpoint of message ${no}`);
  }

  async markRetry(lease: Lease, no: number, attempts: number, view?: RetryView, retryInMs?: number): Promise<void> {
    // A command the operator gave while the message waited was carried out by this pass: cleared.
    // Its own retry time on the database's clock (a node's skew does not shift it).
    const r = await this.db.query(
      `INSERT INTO checkpoint_retries (entry_id, no, attempts, view, retry_at)
       SELECT q.id, $4, $5, $6, CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $7::float8) END FROM queue_entries q
       WHERE q.id = $1 AND q.lease_node = $2 AND q.lease_token = $3 FOR SHARE OF q
       ON CONFLICT (entry_id, no) DO UPDATE SET attempts = EXCLUDED.attempts, view = EXCLUDED.view, command = NULL, retry_at = EXCLUDED.retry_at`,
      [lease.entryId, lease.node, lease.token, no, attempts, view === undefined ? null : JSON.stringify(view), retryInMs === undefined ? null : Math.max(0, retryInMs) / 1000],
    );
    if (r.rowCount === 0) throw new LeaseLostError(lease, `long retry of message ${no}`);
  }

  async complete(lease: Lease): Promise<void> {
    const r = await this.db.query('DELETE FROM queue_entries WHERE id = $1 AND lease_node = $2 AND lease_token = $3', [lease.entryId, lease.node, lease.token]);
    if (r.rowCount === 0) throw new LeaseLostError(lease, 'complete');
  }

  async release(lease: Lease, opts: { retryAt?: Date; retryInMs?: number; attempted?: boolean } = {}): Promise<void> {
    await this.db.transaction(async (c) => {
      const r = await c.query<{ writer: string; due: boolean }>(
        `UPDATE queue_entries SET lease_node = NULL, lease_expires = NULL, lease_token = NULL,
           next_attempt = CASE WHEN $6::float8 IS NOT NULL THEN now() + make_interval(secs => $6::float8) ELSE COALESCE($4::timestamptz, now()) END,
           attempts = attempts + $5,
           last_node = CASE WHEN $5 > 0 THEN lease_node ELSE last_node END
         WHERE id = $1 AND lease_node = $2 AND lease_token = $3
         RETURNING writer, next_attempt <= now() AS due`,
        [lease.entryId, lease.node, lease.token, opts.retryAt ?? null, opts.attempted === true ? 1 : 0, opts.retryInMs === undefined ? null : Math.max(0, opts.retryInMs) / 1000],
      );
      const row = r.rows[0];
      if (row === undefined) throw new LeaseLostError(lease, 'release');
      if (row.due) await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(row.writer)]);
    });
  }

  async retryNow(writer: string, only?: RetryOnly): Promise<number> {
    if (only !== undefined && !/^\d{1,18}$/.test(only.entryId)) return 0;
    return this.db.transaction(async (c) => {
      // The releasing node's timer (`only`) says, on its clock, that the entry's time has come,
      // while the database's clock may not have got there (skew, or an injected clock): the
      // entry is made due that much early, and so are its messages' own retry times (markRetry's
      // retry_at, on the database's clock) — else the claiming node would find the messages of
      // that pass not due and leave them untried (store-source.ts withWaits), again and again.
      if (only !== undefined) {
        await c.query(
          `UPDATE checkpoint_retries r SET retry_at = CASE WHEN $4 OR r.retry_at - (q.next_attempt - now()) <= now() THEN NULL ELSE r.retry_at - (q.next_attempt - now()) END
           FROM queue_entries q
           WHERE q.id = r.entry_id AND r.retry_at IS NOT NULL AND q.writer = $1 AND q.state = 'ready' AND q.next_attempt > now()
             AND (q.lease_node IS NULL OR q.lease_expires < now()) AND q.id = $2 AND q.attempts = $3`,
          [writer, only.entryId, only.attempts, only.flush === true],
        );
      }
      const r = await c.query(
        `UPDATE queue_entries q SET next_attempt = now()
         WHERE q.writer = $1 AND q.state = 'ready' AND q.next_attempt > now()
           AND (q.lease_node IS NULL OR q.lease_expires < now())
           AND EXISTS (SELECT 1 FROM checkpoint_retries r WHERE r.entry_id = q.id)
           AND ($2::bigint IS NULL OR (q.id = $2 AND q.attempts = $3))`,
        [writer, only?.entryId ?? null, only?.attempts ?? null],
      );
      const n = r.rowCount ?? 0;
      // FLUSHRETRY: every waiting message of those entries is due now, not only the entry (its
      // releasing node's timer, `only`, shifted them above by what it shifted the entry).
      if (only === undefined) {
        await c.query(
          `UPDATE checkpoint_retries r SET retry_at = NULL FROM queue_entries q
           WHERE q.id = r.entry_id AND r.retry_at > now() AND q.writer = $1 AND q.state = 'ready'
             AND (q.lease_node IS NULL OR q.lease_expires < now())`, [writer],
        );
      }
      if (n > 0) await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
      return n;
    });
  }

  async retrySummary(writer: string, limit: number): Promise<RetrySummary> {
    const r = await this.db.query<{ entry_id: string; attributes: EntryAttributes; n: number; next_attempt: Date; state: string; last_node: string | null }>(
      `SELECT q.id::text AS entry_id, q.attributes, count(*)::int AS n, q.next_attempt, q.state, q.last_node
       FROM checkpoint_retries r JOIN queue_entries q ON q.id = r.entry_id
       WHERE q.writer = $1 AND (q.lease_node IS NULL OR q.lease_expires < now())
         AND NOT EXISTS (SELECT 1 FROM checkpoint_messages m WHERE m.entry_id = r.entry_id AND m.no = r.no)
       GROUP BY q.id ORDER BY q.arrived_at, q.id`,
      [writer],
    );
    return retrySummaryOf(r.rows.map((x) => ({ ...x, next_attempt: x.next_attempt.getTime() })), limit);
  }

  async subscribe(writer: string, onWake: () => void): Promise<() => Promise<void>> {
    const want = this.wakePayload(writer);
    // The wake-up after reconnecting covers the notifications missed meanwhile.
    return listenReconnecting(this.db, NOTIFY_CHANNEL, (p) => { if (p === want) onWake(); }, { reconnectMs: this.opts.reconnectMs ?? 2_000, onReconnected: onWake });
  }

  async pruneArrivals(before: Date, limit: number): Promise<number> {
    const r = await this.db.query(
      `DELETE FROM arrivals WHERE (node, identity) IN (SELECT node, identity FROM arrivals WHERE node = $1 AND arrived_at < $2 LIMIT $3)`,
      [this.node, before, limit],
    );
    return r.rowCount ?? 0;
  }

  async nodes(): Promise<NodeInfo[]> {
    const r = await this.db.query<{ name: string; address: string | null; version: string | null; age: number; claimed: number }>(
      `SELECT n.name, n.address, n.version, extract(epoch FROM now() - n.heartbeat_at)::float AS age,
              (SELECT count(*) FROM queue_entries q WHERE q.lease_node = n.name AND q.lease_expires >= now())::int AS claimed
       FROM nodes n ORDER BY n.name`,
    );
    return r.rows.map((x) => ({ name: x.name, address: x.address, version: x.version, heartbeatAge: Math.max(0, x.age), claimed: x.claimed }));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

async function* fileChunks(fh: import('node:fs/promises').FileHandle): AsyncIterable<Buffer> {
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
    if (bytesRead === 0) return;
    yield buf.subarray(0, bytesRead);
  }
}
