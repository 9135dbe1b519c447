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
  CHUNK_BYTES, checkpointFromRows, identityKey, LeaseLostError, type CheckpointRecipientRow,
  type ArrivalOutcome, type ClaimedEntry, type EntryAttributes, type EntryCheckpoint, type EntryKind, type HeartbeatResult,
  type Lease, type MessageFinal, type NodeInfo, type QueueStore, type RecipientMark,
} from '../queue-store.js';
import type { PgPool } from './pool.js';
import { listenReconnecting } from './listen.js';
import { base64Of, fromBase64 } from './bytes.js';

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
}

interface EntryRow {
  id: string;
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
    ORDER BY next_attempt, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  UPDATE queue_entries q
  SET lease_node = $3, lease_expires = now() + make_interval(secs => $4), lease_token = nextval('lease_tokens'),
      takeovers = q.takeovers + (CASE WHEN due.prev_node IS NULL THEN 0 ELSE 1 END)
  FROM due WHERE q.id = due.id
  RETURNING q.id, q.writer, q.kind, q.attributes, q.size, q.attempts, q.arrived_at, q.arrived_node,
            q.lease_node, q.lease_token::text AS lease_token, q.lease_expires, due.prev_node`;

/** A message entry of one chunk, with its wake-up, in one statement (enqueueMessage). */
const ENQUEUE_ONE = `
  WITH e AS (
    INSERT INTO queue_entries (writer, kind, attributes, arrived_node, size, chunks) VALUES ($1, 'message', $2, $3, $4, 1) RETURNING id
  ), c AS (
    INSERT INTO queue_chunks (entry_id, seq, data) SELECT id, 0, $5 FROM e
  ), n AS (
    SELECT pg_notify($6, $7)
  )
  SELECT e.id FROM e CROSS JOIN n`;

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

  constructor(private readonly db: PgPool, private readonly opts: PgQueueOptions) {
    this.node = opts.node;
    this.leaseSeconds = opts.leaseSeconds;
  }

  private wakePayload(writer: string): string {
    return `${this.db.schema}:${writer}`;
  }

  async storeSpoolFile(writer: string, path: string, attributes: EntryAttributes, kind: EntryKind = 'spool'): Promise<ArrivalOutcome> {
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
          const prev = await c.query<{ entry_id: string }>('SELECT entry_id FROM arrivals WHERE node = $1 AND identity = $2', [this.node, identity]);
          return { stored: false, entryId: prev.rows[0]?.entry_id ?? '0', reason: 'duplicate' } as const;
        }
        const e = await c.query<{ id: string }>(
          `INSERT INTO queue_entries (writer, kind, attributes, arrived_node) VALUES ($1, $4, $2, $3) RETURNING id`,
          [writer, JSON.stringify(attributes), this.node, kind],
        );
        const id = e.rows[0]!.id;
        const { size, count } = await insertChunks(c, id, fileChunks(fh));
        await c.query('UPDATE queue_entries SET size = $2, chunks = $3 WHERE id = $1', [id, size, count]);
        await c.query('UPDATE arrivals SET entry_id = $3 WHERE node = $1 AND identity = $2', [this.node, identity, id]);
        await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
        return { stored: true, entryId: id, size } as const;
      });
    } finally {
      await fh.close();
    }
  }

  async enqueueMessage(writer: string, attributes: EntryAttributes, body: AsyncIterable<Buffer> | Buffer, opts: { readonly key?: string } = {}): Promise<string> {
    // The common case — a message of one chunk, no key — is ONE statement in its own implicit
    // transaction: the entry, its chunk and the wake-up (delivered at commit) in one round trip
    // instead of six (BEGIN, INSERT, chunk, UPDATE, NOTIFY, COMMIT).
    if (opts.key === undefined && Buffer.isBuffer(body) && body.length > 0 && body.length <= CHUNK_BYTES) {
      const r = await this.db.query<{ id: string }>(ENQUEUE_ONE, [writer, JSON.stringify(attributes), this.node, body.length, body, NOTIFY_CHANNEL, this.wakePayload(writer)]);
      return r.rows[0]!.id;
    }
    return this.db.transaction(async (c) => {
      if (opts.key !== undefined) {
        // As a spool file's identity: a concurrent store with the key waits for our commit here.
        const arr = await c.query('INSERT INTO arrivals (node, identity, entry_id) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [this.node, opts.key]);
        if (arr.rowCount === 0) {
          const prev = await c.query<{ entry_id: string }>('SELECT entry_id FROM arrivals WHERE node = $1 AND identity = $2', [this.node, opts.key]);
          return prev.rows[0]?.entry_id ?? '0';
        }
      }
      const e = await c.query<{ id: string }>(
        `INSERT INTO queue_entries (writer, kind, attributes, arrived_node) VALUES ($1, 'message', $2, $3) RETURNING id`,
        [writer, JSON.stringify(attributes), this.node],
      );
      const id = e.rows[0]!.id;
      const { size, count } = await insertChunks(c, id, rechunk(body));
      await c.query('UPDATE queue_entries SET size = $2, chunks = $3 WHERE id = $1', [id, size, count]);
      if (opts.key !== undefined) await c.query('UPDATE arrivals SET entry_id = $3 WHERE node = $1 AND identity = $2', [this.node, opts.key, id]);
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(writer)]);
      return id;
    });
  }

  async claim(writer: string, max: number): Promise<ClaimedEntry[]> {
    if (max <= 0) return [];
    const r = await this.db.query<EntryRow>(CLAIM, [writer, max, this.node, this.leaseSeconds]);
    return r.rows.map(toClaimed).sort((a, b) => Number(a.id) - Number(b.id));
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
    const rt = await this.db.query<{ no: number; attempts: number }>('SELECT no, attempts FROM checkpoint_retries WHERE entry_id = $1', [entryId]);
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

  async markRetry(lease: Lease, no: number, attempts: number): Promise<void> {
    const r = await this.db.query(
      `INSERT INTO checkpoint_retries (entry_id, no, attempts)
       SELECT q.id, $4, $5 FROM queue_entries q
       WHERE q.id = $1 AND q.lease_node = $2 AND q.lease_token = $3 FOR SHARE OF q
       ON CONFLICT (entry_id, no) DO UPDATE SET attempts = EXCLUDED.attempts`,
      [lease.entryId, lease.node, lease.token, no, attempts],
    );
    if (r.rowCount === 0) throw new LeaseLostError(lease, `long retry of message ${no}`);
  }

  async complete(lease: Lease): Promise<void> {
    const r = await this.db.query('DELETE FROM queue_entries WHERE id = $1 AND lease_node = $2 AND lease_token = $3', [lease.entryId, lease.node, lease.token]);
    if (r.rowCount === 0) throw new LeaseLostError(lease, 'complete');
  }

  async release(lease: Lease, opts: { retryAt?: Date; attempted?: boolean } = {}): Promise<void> {
    await this.db.transaction(async (c) => {
      const r = await c.query<{ writer: string; due: boolean }>(
        `UPDATE queue_entries SET lease_node = NULL, lease_expires = NULL, lease_token = NULL,
           next_attempt = COALESCE($4::timestamptz, now()), attempts = attempts + $5,
           last_node = CASE WHEN $5 > 0 THEN lease_node ELSE last_node END
         WHERE id = $1 AND lease_node = $2 AND lease_token = $3
         RETURNING writer, next_attempt <= now() AS due`,
        [lease.entryId, lease.node, lease.token, opts.retryAt ?? null, opts.attempted === true ? 1 : 0],
      );
      const row = r.rows[0];
      if (row === undefined) throw new LeaseLostError(lease, 'release');
      if (row.due) await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.wakePayload(row.writer)]);
    });
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
