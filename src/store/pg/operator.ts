// store/pg's OperatorStore (store/operator-store.ts): node status rows, control requests and
// replies, and the shared queue's rows for the operator ([P2] item 4, migration 8).
//
// Waking: NOTIFY spoolgate_control '<schema>:req:<id>' in the transaction that records a request
// (delivered at COMMIT) and '<schema>:rep:<id>' with each reply; listen() LISTENs on a dedicated
// connection and reconnects after a bounded delay. A notification is a hint: the asking node
// polls the replies too, and a node whose LISTEN connection is down at that moment does not
// answer (reported by the asking node as silent).
//
// Untrusted input: commands and replies come from nodes of the same cluster (they hold the
// database's credentials); the node carrying a request out checks the command (cluster.ts).
// All SQL is parameterised.
import { entryName, retryCommandOf, type JsonValue, type RetryCommand } from '../queue-store.js';
import type { ControlReply, ControlRequest, NodeStatusRow, OperatorStore, RetryMessageRow, RowActionOutcome, RowHold, StoreEntryRow } from '../operator-store.js';
import type { PgPool, Queryable } from './pool.js';
import { listenReconnecting } from './listen.js';
import { NOTIFY_CHANNEL } from './queue.js';

export const CONTROL_CHANNEL = 'spoolgate_control';

/** Requests older than this are deleted when a new one is made (their replies with them). */
const KEEP_REQUESTS = '1 hour';
/** The most lines and bytes of data one reply stores (a listing is bounded by its LIMIT too). */
const MAX_REPLY_BYTES = 8 * 1024 * 1024;

/**
 * Locks the writer's entry `id` in the transaction of `c` if no live node holds it; 'missing' or
 * 'leased' otherwise. The row lock serialises with a claim (FOR UPDATE SKIP LOCKED skips it meanwhile).
 */
async function lockFreeRow(c: Queryable, writer: string, id: string): Promise<'missing' | 'leased' | undefined> {
  const cur = await c.query<{ live: boolean }>(
    'SELECT (lease_node IS NOT NULL AND lease_expires >= now()) AS live FROM queue_entries WHERE id = $1 AND writer = $2 FOR UPDATE', [id, writer],
  );
  const row = cur.rows[0];
  if (row === undefined) return 'missing';
  return row.live ? 'leased' : undefined;
}

export class PgOperatorStore implements OperatorStore {
  constructor(private readonly db: PgPool, readonly node: string, private readonly opts: { readonly reconnectMs?: number } = {}) {}

  private payload(kind: 'req' | 'rep', id: string): string {
    return `${this.db.schema}:${kind}:${id}`;
  }

  async publishStatus(status: JsonValue): Promise<void> {
    await this.db.query(
      `INSERT INTO node_status (node, status) VALUES ($1, $2)
       ON CONFLICT (node) DO UPDATE SET status = EXCLUDED.status, updated_at = now()`,
      [this.node, JSON.stringify(status)],
    );
  }

  async statuses(): Promise<NodeStatusRow[]> {
    const r = await this.db.query<{ node: string; age: number; status: JsonValue }>(
      'SELECT node, extract(epoch FROM now() - updated_at)::float AS age, status FROM node_status ORDER BY node',
    );
    return r.rows.map((x) => ({ node: x.node, age: Math.max(0, x.age), status: x.status }));
  }

  async liveNodes(withinSeconds: number): Promise<string[]> {
    const r = await this.db.query<{ name: string }>(
      `SELECT name FROM nodes WHERE name <> $1 AND heartbeat_at >= now() - make_interval(secs => $2) ORDER BY name`,
      [this.node, withinSeconds],
    );
    return r.rows.map((x) => x.name);
  }

  async request(command: string, nodes: readonly string[]): Promise<string> {
    return this.db.transaction(async (c) => {
      await c.query(`DELETE FROM control_requests WHERE created_at < now() - interval '${KEEP_REQUESTS}'`);
      const r = await c.query<{ id: string }>('INSERT INTO control_requests (origin, command, nodes) VALUES ($1, $2, $3) RETURNING id', [this.node, command, [...nodes]]);
      const id = r.rows[0]!.id;
      await c.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, this.payload('req', id)]);
      return id;
    });
  }

  async requestFor(id: string): Promise<ControlRequest | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const r = await this.db.query<{ id: string; origin: string; command: string; nodes: string[] }>(
      'SELECT id::text AS id, origin, command, nodes FROM control_requests WHERE id = $1 AND $2 = ANY(nodes)', [id, this.node],
    );
    return r.rows[0];
  }

  async answer(id: string, reply: Omit<ControlReply, 'node'>): Promise<void> {
    let data = JSON.stringify(reply.data ?? null);
    let lines = reply.lines;
    if (data.length > MAX_REPLY_BYTES) { data = JSON.stringify({ error: `reply data larger than ${MAX_REPLY_BYTES} bytes left out` }); lines = lines.slice(0, 1000); }
    await this.db.transaction(async (c) => {
      await c.query(
        `INSERT INTO control_replies (request_id, node, ok, lines, data) SELECT id, $2, $3, $4, $5 FROM control_requests WHERE id = $1
         ON CONFLICT (request_id, node) DO NOTHING`,
        [id, this.node, reply.ok, JSON.stringify(lines), data],
      );
      await c.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, this.payload('rep', id)]);
    });
  }

  async replies(id: string): Promise<ControlReply[]> {
    const r = await this.db.query<{ node: string; ok: boolean; lines: string[]; data: unknown }>(
      'SELECT node, ok, lines, data FROM control_replies WHERE request_id = $1 ORDER BY node', [id],
    );
    return r.rows.map((x) => ({ node: x.node, ok: x.ok, lines: x.lines, data: x.data }));
  }

  async listen(h: { onRequest(id: string): void; onReply(id: string): void }): Promise<() => Promise<void>> {
    const prefix = `${this.db.schema}:`;
    return listenReconnecting(this.db, CONTROL_CHANNEL, (payload) => {
      if (!payload.startsWith(prefix)) return;
      const [kind, id] = payload.slice(prefix.length).split(':');
      if (id === undefined) return;
      if (kind === 'req') h.onRequest(id);
      else if (kind === 'rep') h.onReply(id);
    }, { reconnectMs: this.opts.reconnectMs ?? 2_000 });
  }

  async entries(writer: string, limit: number): Promise<StoreEntryRow[]> {
    const r = await this.db.query<{
      id: string; name: string | null; kind: 'spool' | 'message'; state: 'ready' | 'held'; attributes: StoreEntryRow['attributes']; size: string;
      arrived_node: string; arrived_at: Date; next_attempt: Date; attempts: number; lease_node: string | null;
      last_node: string | null; retry_attempts: number; hold_note: RowHold | null;
    }>(
      `SELECT q.id::text AS id, q.name, q.kind, q.state, q.attributes, q.size, q.arrived_node, q.arrived_at, q.next_attempt, q.attempts,
              CASE WHEN q.lease_expires >= now() THEN q.lease_node END AS lease_node, q.last_node, q.hold_note,
              COALESCE((SELECT max(r.attempts) FROM checkpoint_retries r WHERE r.entry_id = q.id), 0)::int AS retry_attempts
       FROM queue_entries q WHERE q.writer = $1 ORDER BY q.arrived_at, q.id LIMIT $2`,
      [writer, limit],
    );
    return r.rows.map((x) => ({
      id: x.id, name: entryName(x.id, x.name), kind: x.kind, state: x.state, attributes: x.attributes, size: Number(x.size), arrivedNode: x.arrived_node,
      arrivedAt: x.arrived_at, nextAttempt: x.next_attempt, attempts: x.attempts, leaseNode: x.lease_node,
      lastNode: x.last_node, retryAttempts: x.retry_attempts, hold: x.hold_note,
    }));
  }

  async actOnRow(writer: string, id: string, action: 'hold' | 'release' | 'retry' | 'delete', note?: RowHold): Promise<RowActionOutcome> {
    if (!/^\d{1,18}$/.test(id)) return 'missing';
    return this.db.transaction(async (c) => {
      const locked = await lockFreeRow(c, writer, id);
      if (locked !== undefined) return locked;
      const free = 'lease_node = NULL, lease_expires = NULL, lease_token = NULL';
      switch (action) {
        case 'hold': await c.query(`UPDATE queue_entries SET state = 'held', hold_note = $2, ${free} WHERE id = $1`, [id, note === undefined ? null : JSON.stringify(note)]); break;
        case 'release': await c.query(`UPDATE queue_entries SET state = 'ready', hold_note = NULL, next_attempt = now(), ${free} WHERE id = $1`, [id]); break;
        case 'retry': await c.query(`UPDATE queue_entries SET next_attempt = now(), ${free} WHERE id = $1 AND state = 'ready'`, [id]); break;
        case 'delete': await c.query('DELETE FROM queue_entries WHERE id = $1', [id]); break;
      }
      // A retry or release of the row tries its waiting messages now, not at their own retry times.
      if (action === 'release' || action === 'retry') await c.query('UPDATE checkpoint_retries SET retry_at = NULL WHERE entry_id = $1 AND retry_at IS NOT NULL', [id]);
      // Work may be due now: wake the idle nodes (the queue's own channel).
      if (action === 'release' || action === 'retry') await c.query(`SELECT pg_notify($1, $2)`, [NOTIFY_CHANNEL, `${this.db.schema}:${writer}`]);
      return 'done';
    });
  }

  async readHead(writer: string, id: string, max: number): Promise<{ data: Buffer; truncated: boolean } | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const n = await this.db.query<{ chunks: number }>('SELECT chunks FROM queue_entries WHERE id = $1 AND writer = $2', [id, writer]);
    const chunks = n.rows[0]?.chunks;
    if (chunks === undefined) return undefined;
    const parts: Buffer[] = [];
    let size = 0;
    // One chunk per query (at most 256 KiB), and no further than max + 1 bytes.
    for (let seq = 0; seq < chunks && size <= max; seq++) {
      const r = await this.db.query<{ data: Buffer }>('SELECT data FROM queue_chunks WHERE entry_id = $1 AND seq = $2', [id, seq]);
      const data = r.rows[0]?.data;
      if (data === undefined) return undefined; // deleted meanwhile
      parts.push(data);
      size += data.length;
    }
    const all = Buffer.concat(parts);
    return { data: all.subarray(0, Math.min(all.length, max)), truncated: all.length > max };
  }

  async retryMessages(writer: string, limit: number): Promise<RetryMessageRow[]> {
    const r = await this.db.query<{ entry_id: string; no: number; attempts: number; view: RetryMessageRow['view']; command: boolean; hold: unknown }>(
      `SELECT r.entry_id::text AS entry_id, r.no, r.attempts, r.view,
         (r.command IS NOT NULL AND r.command->>'action' IS DISTINCT FROM 'hold') AS command,
         CASE WHEN r.command->>'action' = 'hold' THEN r.command END AS hold
       FROM checkpoint_retries r JOIN queue_entries q ON q.id = r.entry_id
       WHERE q.writer = $1
         AND NOT EXISTS (SELECT 1 FROM checkpoint_messages m WHERE m.entry_id = r.entry_id AND m.no = r.no)
       ORDER BY q.arrived_at, r.entry_id, r.no LIMIT $2`,
      [writer, limit],
    );
    return r.rows.map((x) => {
      const h = x.hold === null ? undefined : retryCommandOf(x.hold);
      const hold = h === undefined ? undefined : { operator: h.operator, reason: h.reason, at: h.at ?? '' };
      return { entryId: x.entry_id, no: x.no, attempts: x.attempts, view: x.view, command: x.command, ...(hold === undefined ? {} : { hold }) };
    });
  }

  async commandRetry(writer: string, id: string, no: number, command: RetryCommand | null): Promise<RowActionOutcome> {
    if (!/^\d{1,18}$/.test(id)) return 'missing';
    return this.db.transaction(async (c) => {
      const locked = await lockFreeRow(c, writer, id);
      if (locked !== undefined) return locked;
      if (command === null) {
        // A release of a held message: tried at once (by the node that claims the entry).
        const clear = await c.query(`UPDATE checkpoint_retries SET command = NULL, retry_at = NULL WHERE entry_id = $1 AND no = $2 AND command->>'action' = 'hold'`, [id, no]);
        if (clear.rowCount === 0) return 'missing';
      } else {
        const set = await c.query('UPDATE checkpoint_retries SET command = $3 WHERE entry_id = $1 AND no = $2', [id, no, JSON.stringify(command)]);
        if (set.rowCount === 0) return 'missing';
        // A hold of one message: the entry keeps its time (its other messages are not tried sooner).
        if (command.action === 'hold') return 'done';
      }
      // The node that claims it next carries the command out (a held entry is released for it).
      await c.query(`UPDATE queue_entries SET state = 'ready', next_attempt = now() WHERE id = $1`, [id]);
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, `${this.db.schema}:${writer}`]);
      return 'done';
    });
  }
}
