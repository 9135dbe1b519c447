// store/pg's ExtendedRecordStore (store/extended-store.ts): extended-retry records in the shared
// database ([P2]), one row per message (control record, bytes, next attempt, claim). Claims use
// FOR UPDATE SKIP LOCKED on the database's clock, like the queue's leases (queue.ts).
// Untrusted input: the control record and bytes are stored opaque; SQL is parameterised.
import { EXTENDED_CLAIM_SECONDS, type ExtendedRecordStore, type ExtendedRow } from '../extended-store.js';
import type { PgPool } from './pool.js';
import { base64Of, fromBase64 } from './bytes.js';

interface Row { id: string; control: string; next_attempt: Date; size: number }

function toRow(r: Row): ExtendedRow {
  return { id: r.id, control: r.control, nextAttempt: r.next_attempt, size: r.size };
}

export class PgExtendedStore implements ExtendedRecordStore {
  constructor(private readonly db: PgPool, private readonly node: string, private readonly claimSeconds = EXTENDED_CLAIM_SECONDS) {}

  async put(writer: string, id: string, control: string, data: Buffer, nextAttempt: Date): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO extended_retry (writer, id, control, data, size, next_attempt) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [writer, id, control, data, data.length, nextAttempt],
    );
    return r.rowCount === 1;
  }

  async list(writer: string): Promise<ExtendedRow[]> {
    const r = await this.db.query<Row>('SELECT id, control, next_attempt, size FROM extended_retry WHERE writer = $1 ORDER BY next_attempt, id', [writer]);
    return r.rows.map(toRow);
  }

  async claimDue(writer: string, now: Date, max: number): Promise<ExtendedRow[]> {
    const r = await this.db.query<Row>(
      `WITH due AS (
         SELECT writer, id FROM extended_retry
         WHERE writer = $1 AND next_attempt <= $2 AND (claim_node IS NULL OR claim_expires < now())
         ORDER BY next_attempt, id LIMIT $3 FOR UPDATE SKIP LOCKED
       )
       UPDATE extended_retry x SET claim_node = $4, claim_expires = now() + make_interval(secs => $5)
       FROM due WHERE x.writer = due.writer AND x.id = due.id
       RETURNING x.id, x.control, x.next_attempt, x.size`,
      [writer, now, max, this.node, this.claimSeconds],
    );
    return r.rows.map(toRow).sort((a, b) => a.nextAttempt.getTime() - b.nextAttempt.getTime() || (a.id < b.id ? -1 : 1));
  }

  async get(writer: string, id: string): Promise<ExtendedRow | undefined> {
    const r = await this.db.query<Row>('SELECT id, control, next_attempt, size FROM extended_retry WHERE writer = $1 AND id = $2', [writer, id]);
    return r.rows[0] === undefined ? undefined : toRow(r.rows[0]);
  }

  async readData(writer: string, id: string): Promise<Buffer | undefined> {
    const r = await this.db.query<{ data: string }>(`SELECT ${base64Of('data', 'data')} FROM extended_retry WHERE writer = $1 AND id = $2`, [writer, id]);
    const data = r.rows[0]?.data;
    return data === undefined ? undefined : fromBase64(data);
  }

  async update(writer: string, id: string, control: string, nextAttempt: Date): Promise<boolean> {
    const r = await this.db.query(
      'UPDATE extended_retry SET control = $3, next_attempt = $4, claim_node = NULL, claim_expires = NULL WHERE writer = $1 AND id = $2',
      [writer, id, control, nextAttempt],
    );
    return r.rowCount === 1;
  }

  async remove(writer: string, id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM extended_retry WHERE writer = $1 AND id = $2', [writer, id]);
    return r.rowCount === 1;
  }
}
