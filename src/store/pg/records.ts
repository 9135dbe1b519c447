// Accounting records, dead letters and HTTP token hashes on PostgreSQL ([P2] #19, migration 5):
// the tables every node of a cluster shares, so `spoolgate accounting`, the dead-letter tools and
// the HTTP API answer the same on any node. Row level only: the roles' own interfaces (log's
// AccountingSink, notify's DeadLetters, web's HttpTokens) are built over these in the roles.
// Bounded: dead-letter bytes in chunks of at most 256 KiB; accounting read in pages; deletes in
// batches. Every statement is parameterised.
import type { DeadLetterRow, DeadLetterTable, HttpTokenKind, HttpTokenTable } from '../records.js';
import type { PgPool } from './pool.js';
import { base64Of, fromBase64 } from './bytes.js';

/** Largest piece of a dead letter's bytes in one row (as queue_chunks). */
export const DEAD_LETTER_CHUNK = 256 * 1024;

/** The accounting table (log/accounting.ts AccountingTable): one row per record, with its node. */
export class PgAccountingTable {
  constructor(private readonly db: PgPool, private readonly node: string) {}

  /** One INSERT for the batch (arrays unnested server-side). */
  async insert(rows: readonly { readonly time: Date; readonly type: number; readonly record: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO accounting (node, time, type, record)
       SELECT $1, t, ty, r FROM unnest($2::timestamptz[], $3::smallint[], $4::text[]) AS x(t, ty, r)`,
      [this.node, rows.map((r) => r.time), rows.map((r) => r.type), rows.map((r) => r.record)],
    );
  }

  /** Records after `after` in (time, id) order, at most `limit`: one page of a query. */
  async select(q: { readonly since?: Date; readonly types?: readonly number[]; readonly after?: { readonly time: Date; readonly id: string } }, limit: number): Promise<{ id: string; node: string; time: Date; record: string }[]> {
    const r = await this.db.query<{ id: string; node: string; time: Date; record: string }>(
      // a.id, not id: ORDER BY a bare name would take the output column (text: '1000' < '998').
      `SELECT a.id::text AS id, a.node, a.time, a.record FROM accounting a
        WHERE ($1::timestamptz IS NULL OR a.time >= $1)
          AND ($2::smallint[] IS NULL OR a.type = ANY($2))
          AND ($3::timestamptz IS NULL OR (a.time, a.id) > ($3, $4::bigint))
        ORDER BY a.time, a.id LIMIT $5`,
      [q.since ?? null, q.types === undefined ? null : [...q.types], q.after?.time ?? null, q.after?.id ?? null, limit],
    );
    return r.rows;
  }

  /** Retention: deletes records older than `cutoff` (ms), at most `max`, `batch` per statement. */
  async prune(cutoff: number, max: number, batch: number): Promise<number> {
    let n = 0;
    while (n < max) {
      const r = await this.db.query(
        'DELETE FROM accounting WHERE id IN (SELECT id FROM accounting WHERE time < $1 ORDER BY time, id LIMIT $2)',
        [new Date(cutoff), Math.min(batch, max - n)],
      );
      n += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) === 0) break;
    }
    return n;
  }
}

export class PgDeadLetterTable implements DeadLetterTable {
  constructor(private readonly db: PgPool, private readonly node: string) {}

  async insert(row: { readonly id: string; readonly stored: Date; readonly header: string }, data: Buffer): Promise<void> {
    const chunks = Math.ceil(data.length / DEAD_LETTER_CHUNK);
    await this.db.transaction(async (c) => {
      await c.query('INSERT INTO dead_letters (id, node, stored, header, size, chunks) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.id, this.node, row.stored, row.header, data.length, chunks]);
      for (let i = 0; i < chunks; i++) {
        await c.query('INSERT INTO dead_letter_chunks (letter, seq, bytes) VALUES ($1, $2, $3)', [row.id, i, data.subarray(i * DEAD_LETTER_CHUNK, (i + 1) * DEAD_LETTER_CHUNK)]);
      }
    });
  }

  async list(limit: number): Promise<DeadLetterRow[]> {
    const r = await this.db.query<{ id: string; node: string; stored: Date; header: string; size: string }>(
      'SELECT id, node, stored, header, size::text AS size FROM dead_letters ORDER BY stored, id LIMIT $1', [limit]);
    return r.rows.map((x) => ({ ...x, size: Number(x.size) }));
  }

  async count(): Promise<number> {
    const r = await this.db.query<{ n: string }>('SELECT count(*)::text AS n FROM dead_letters');
    return Number(r.rows[0]?.n ?? 0);
  }

  async read(id: string): Promise<{ row: DeadLetterRow; data: Buffer } | undefined> {
    return this.db.transaction(async (c) => {
      // One snapshot for the row and its chunks (a concurrent remove sees both or neither).
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const r = await c.query<{ id: string; node: string; stored: Date; header: string; size: string; chunks: number }>(
        'SELECT id, node, stored, header, size::text AS size, chunks FROM dead_letters WHERE id = $1', [id]);
      const x = r.rows[0];
      if (x === undefined) return undefined;
      const parts: Buffer[] = [];
      for (let i = 0; i < x.chunks; i++) {
        const ch = await c.query<{ bytes: string }>(`SELECT ${base64Of('bytes', 'bytes')} FROM dead_letter_chunks WHERE letter = $1 AND seq = $2`, [id, i]);
        if (ch.rows[0] === undefined) throw new Error(`dead letter ${id}: chunk ${i} of ${x.chunks} missing`);
        parts.push(fromBase64(ch.rows[0].bytes));
      }
      return { row: { id: x.id, node: x.node, stored: x.stored, header: x.header, size: Number(x.size) }, data: Buffer.concat(parts) };
    });
  }

  async prune(cutoff: number, max: number, batch: number): Promise<number> {
    let n = 0;
    while (n < max) {
      const r = await this.db.query(
        'DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE stored < $1 ORDER BY stored, id LIMIT $2)',
        [new Date(cutoff), Math.min(batch, max - n)],
      );
      n += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) === 0) break;
    }
    return n;
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM dead_letters WHERE id = $1', [id]);
    return (r.rowCount ?? 0) > 0;
  }
}

export class PgHttpTokenTable implements HttpTokenTable {
  constructor(private readonly db: PgPool, private readonly node: string) {}

  async register(kind: HttpTokenKind, hash: Buffer): Promise<void> {
    await this.db.query(
      `INSERT INTO http_tokens (node, kind, hash) VALUES ($1, $2, $3)
       ON CONFLICT (node, kind) DO UPDATE SET hash = EXCLUDED.hash, created_at = now() WHERE http_tokens.hash <> EXCLUDED.hash`,
      [this.node, kind, hash]);
  }

  async hashes(kind: HttpTokenKind): Promise<Buffer[]> {
    const r = await this.db.query<{ hash: Buffer }>('SELECT hash FROM http_tokens WHERE kind = $1', [kind]);
    return r.rows.map((x) => x.hash);
  }
}
