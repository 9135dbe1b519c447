// Group commit of `message` entries on PostgreSQL ([P2] #19): the receiver's relayed mail, DSNs,
// the HTTP send API (spool/message-queue.ts StoreMessageQueue → PgQueueStore.enqueueMessage).
//
// One transaction per message costs one commit — one WAL flush — and one round trip per message.
// Instead, as the SQLite commit worker and the journal do: the first message is written at once;
// the messages handed in while that commit is in flight wait and are written together by the next
// single statement (its own implicit transaction: every entry row, every chunk and the wake-up),
// and so on. No timer: an idle gateway writes each message at once.
//
// - Each caller's promise resolves only after the COMMIT of the statement holding ITS message
//   (the receiver's 250 therefore still means "in the database"), and rejects with the database's
//   error when that statement fails: a failed batch refuses exactly its messages (4xx upstream),
//   stores none of them (one statement: all or nothing) and acknowledges none.
// - A batch is bounded: at most `maxEntries` messages and `maxBytes` of their bytes (a message
//   larger than maxBytes is not batched: PgQueueStore writes it alone, chunk by chunk); and one
//   writer (one NOTIFY payload). What does not fit waits for the next batch. The waiting list is
//   bounded by the callers themselves: each waits for its own message (the receiver's sessions,
//   ConnectLimit), and each statement by StatementTimeout.
// - A name another entry already has (entryNames(): a new spool entry id, so only by accident)
//   resolves `undefined`: PgQueueStore then takes the long way (insertNamed) for that message.
import { CHUNK_BYTES, type StoredEntry } from '../queue-store.js';
import type { Queryable } from './pool.js';

export interface EnqueueBatchLimits {
  /** Most messages in one statement (each takes 5 parameters plus 3 per chunk). */
  readonly maxEntries: number;
  /** Most message bytes in one statement (sent once, as binary parameters). */
  readonly maxBytes: number;
}

export const ENQUEUE_BATCH_LIMITS: EnqueueBatchLimits = { maxEntries: 100, maxBytes: 4 * 1024 * 1024 };

interface Pending {
  readonly writer: string;
  readonly attributes: string;
  readonly body: Buffer;
  readonly name: string;
  readonly done: (e: StoredEntry | undefined) => void;
  readonly fail: (err: unknown) => void;
}

export interface EnqueueBatchStats {
  /** Statements (= transactions, commits) committed so far. */
  batches: number;
  /** Messages they held. */
  entries: number;
  /** The largest batch. */
  largest: number;
}

export class PgEnqueueBatcher {
  private pending: Pending[] = [];
  private running = false;
  readonly stats: EnqueueBatchStats = { batches: 0, entries: 0, largest: 0 };

  constructor(
    private readonly db: Queryable,
    private readonly node: string,
    /** The NOTIFY channel and payload that wake the writer's idle nodes. */
    private readonly wake: (writer: string) => readonly [channel: string, payload: string],
    readonly limits: EnqueueBatchLimits = ENQUEUE_BATCH_LIMITS,
  ) {}

  /** Whether a body goes through the batch (else the caller writes it alone). */
  fits(body: Buffer): boolean {
    return body.length > 0 && body.length <= this.limits.maxBytes;
  }

  /** Stores one message entry with the next batch; undefined: its name was taken (not stored). */
  enqueue(writer: string, attributes: string, body: Buffer, name: string): Promise<StoredEntry | undefined> {
    if (!this.fits(body)) return Promise.reject(new RangeError(`enqueue batch: ${body.length} bytes is not in 1..${this.limits.maxBytes}`));
    return new Promise((done, fail) => {
      this.pending.push({ writer, attributes, body, name, done, fail });
      // write() settles every promise itself (a statement that fails fails its batch): run() never rejects.
      if (!this.running) this.run().catch(() => undefined);
    });
  }

  /** Writes batches one after the other until nothing waits; settles every promise, never rejects. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.take();
        await this.write(batch);
      }
    } finally {
      this.running = false;
    }
  }

  /** The next batch: oldest first, one writer, distinct names, within the limits (at least one). */
  private take(): Pending[] {
    const writer = this.pending[0]!.writer;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const names = new Set<string>();
    let bytes = 0;
    for (const p of this.pending) {
      const room = batch.length < this.limits.maxEntries && (batch.length === 0 || bytes + p.body.length <= this.limits.maxBytes);
      if (room && p.writer === writer && !names.has(p.name)) {
        batch.push(p);
        names.add(p.name);
        bytes += p.body.length;
      } else {
        rest.push(p);
      }
    }
    this.pending = rest;
    return batch;
  }

  private async write(batch: readonly Pending[]): Promise<void> {
    let rows: { id: string; name: string }[];
    try {
      rows = await this.statement(batch);
    } catch (err) {
      for (const p of batch) p.fail(err);
      return;
    }
    this.stats.batches++;
    this.stats.entries += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    const ids = new Map(rows.map((r) => [r.name, r.id]));
    for (const p of batch) {
      const id = ids.get(p.name);
      p.done(id === undefined ? undefined : { id, name: p.name });
    }
  }

  /** The batch's one statement; resolves with the rows stored (name → id) after its COMMIT. */
  private async statement(batch: readonly Pending[]): Promise<{ id: string; name: string }[]> {
    const params: unknown[] = [];
    const arg = (v: unknown, type: string): string => { params.push(v); return `$${params.length}::${type}`; };
    const [channel, payload] = this.wake(batch[0]!.writer);
    const writer = arg(batch[0]!.writer, 'text');
    const node = arg(this.node, 'text');
    const entries: string[] = [];
    const chunks: string[] = [];
    batch.forEach((p, i) => {
      const count = Math.ceil(p.body.length / CHUNK_BYTES);
      entries.push(`(${i}, ${arg(p.name, 'text')}, ${arg(p.attributes, 'jsonb')}, ${arg(p.body.length, 'bigint')}, ${arg(count, 'int')})`);
      for (let seq = 0; seq < count; seq++) {
        chunks.push(`(${arg(p.name, 'text')}, ${seq}, ${arg(p.body.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES), 'bytea')})`);
      }
    });
    // One statement, one implicit transaction: the entries (in arrival order), their chunks by
    // name, and the wake-up (delivered at COMMIT). A name already taken inserts nothing for it.
    const sql = `
      WITH v (ord, name, attributes, size, chunks) AS (VALUES ${entries.join(', ')}),
      e AS (
        INSERT INTO queue_entries (writer, kind, attributes, arrived_node, size, chunks, name)
        SELECT ${writer}, 'message', v.attributes, ${node}, v.size, v.chunks, v.name FROM v ORDER BY v.ord
        ON CONFLICT (name) DO NOTHING RETURNING id, name
      ), c AS (
        INSERT INTO queue_chunks (entry_id, seq, data)
        SELECT e.id, d.seq, d.data FROM e JOIN (VALUES ${chunks.join(', ')}) AS d (name, seq, data) ON d.name = e.name
      ), n AS (
        SELECT pg_notify(${arg(channel, 'text')}, ${arg(payload, 'text')})
      )
      SELECT e.id::text AS id, e.name FROM e CROSS JOIN n`;
    return (await this.db.query<{ id: string; name: string }>(sql, params)).rows;
  }
}
