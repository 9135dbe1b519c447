// Held spool files and the reports of bad spool files on PostgreSQL ([P2] #19, migration 10,
// docs/cluster.md "Held files and reports"): every node holds into, lists, releases and purges
// the same rows. Bounded: a held file's bytes go in and out in chunks of at most 256 KiB
// (as queue_chunks), never whole in memory; a release copies them inside the database.
import type { EntryAttributes, EntryKind } from '../queue-store.js';
import { CHUNK_BYTES } from '../queue-store.js';
import type { HeldReportRow, HeldRow, HeldTable } from '../held-table.js';
import type { PgPool } from './pool.js';
import { NOTIFY_CHANNEL } from './queue.js';

interface Row {
  id: string; name: string; entry: string; node: string; kind: EntryKind; attributes: EntryAttributes; reason: string;
  held_at: Date; job_name: string | null; job_id: string | null; size: string;
}

const COLUMNS = 'id, name, entry, node, kind, attributes, reason, held_at, job_name, job_id, size::text AS size';

function rowOf(x: Row): HeldRow {
  return {
    name: x.name, entry: x.entry, node: x.node, kind: x.kind, attributes: x.attributes, reason: x.reason, heldAt: x.held_at,
    jobName: x.job_name, jobId: x.job_id, size: Number(x.size),
  };
}

/** Re-slices a byte stream into pieces of at most CHUNK_BYTES. */
async function* rechunk(src: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const b of src) for (let o = 0; o < b.length; o += CHUNK_BYTES) yield b.subarray(o, o + CHUNK_BYTES);
}

export class PgHeldTable implements HeldTable {
  readonly where: string;

  constructor(private readonly db: PgPool, private readonly node: string) {
    this.where = `store ${db.schema} (held_files)`;
  }

  async insert(writer: string, row: Omit<HeldRow, 'node' | 'size'>, body: AsyncIterable<Buffer>): Promise<string> {
    return this.db.transaction(async (c) => {
      let id: string | undefined;
      let name = row.name;
      for (let i = 2; id === undefined; i++) {
        const r = await c.query<{ id: string }>(
          `INSERT INTO held_files (writer, name, entry, node, kind, attributes, reason, held_at, job_name, job_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (writer, name) DO NOTHING RETURNING id`,
          [writer, name, row.entry, this.node, row.kind, JSON.stringify(row.attributes), row.reason, row.heldAt, row.jobName, row.jobId],
        );
        id = r.rows[0]?.id;
        if (id === undefined) name = `${row.name}.${i}`;
      }
      let size = 0;
      let seq = 0;
      for await (const chunk of rechunk(body)) {
        if (chunk.length === 0) continue;
        await c.query('INSERT INTO held_chunks (held_id, seq, data) VALUES ($1, $2, $3)', [id, seq++, chunk]);
        size += chunk.length;
      }
      await c.query('UPDATE held_files SET size = $2, chunks = $3 WHERE id = $1', [id, size, seq]);
      return name;
    });
  }

  async list(writer: string, limit: number): Promise<HeldRow[]> {
    const r = await this.db.query<Row>(`SELECT ${COLUMNS} FROM held_files WHERE writer = $1 ORDER BY held_at, name LIMIT $2`, [writer, limit]);
    return r.rows.map(rowOf);
  }

  async *chunks(writer: string, name: string): AsyncIterable<Buffer> {
    const h = await this.db.query<{ id: string; chunks: number }>('SELECT id, chunks FROM held_files WHERE writer = $1 AND name = $2', [writer, name]);
    const row = h.rows[0];
    if (row === undefined) return;
    for (let i = 0; i < row.chunks; i++) {
      const ch = await this.db.query<{ data: Buffer }>('SELECT data FROM held_chunks WHERE held_id = $1 AND seq = $2', [row.id, i]);
      if (ch.rows[0] === undefined) throw new Error(`held file ${name}: chunk ${i} of ${row.chunks} missing (purged meanwhile?)`);
      yield ch.rows[0].data;
    }
  }

  async release(writer: string, name: string): Promise<string | undefined> {
    return this.db.transaction(async (c) => {
      // The row lock: a concurrent release or purge of the same file waits, then finds nothing.
      const h = await c.query<{ id: string; kind: EntryKind; attributes: EntryAttributes; size: string; chunks: number }>(
        'SELECT id, kind, attributes, size::text AS size, chunks FROM held_files WHERE writer = $1 AND name = $2 FOR UPDATE', [writer, name]);
      const row = h.rows[0];
      if (row === undefined) return undefined;
      const e = await c.query<{ id: string }>(
        'INSERT INTO queue_entries (writer, kind, attributes, arrived_node, size, chunks) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [writer, row.kind, JSON.stringify(row.attributes), this.node, row.size, row.chunks],
      );
      const entryId = e.rows[0]!.id;
      await c.query('INSERT INTO queue_chunks (entry_id, seq, data) SELECT $1, seq, data FROM held_chunks WHERE held_id = $2', [entryId, row.id]);
      await c.query('DELETE FROM held_files WHERE id = $1', [row.id]);
      await c.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, `${this.db.schema}:${writer}`]);
      return entryId;
    });
  }

  async purge(writer: string, name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM held_files WHERE writer = $1 AND name = $2', [writer, name]);
    return (r.rowCount ?? 0) > 0;
  }

  async insertReport(writer: string, row: Omit<HeldReportRow, 'id' | 'node'>): Promise<string> {
    const r = await this.db.query<{ id: string }>(
      'INSERT INTO held_reports (writer, node, job_id, entry, written_at, text) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [writer, this.node, row.jobId, row.entry, row.writtenAt, row.text],
    );
    return r.rows[0]!.id;
  }

  async reports(writer: string, jobId: string, entry: string): Promise<HeldReportRow[]> {
    const r = await this.db.query<{ id: string; node: string; job_id: string; entry: string; written_at: Date; text: string }>(
      'SELECT id, node, job_id, entry, written_at, text FROM held_reports WHERE writer = $1 AND job_id = $2 AND entry = $3 ORDER BY id', [writer, jobId, entry]);
    return r.rows.map((x) => ({ id: x.id, node: x.node, jobId: x.job_id, entry: x.entry, writtenAt: x.written_at, text: x.text }));
  }

  async pruneReports(cutoff: number, max: number, batch: number): Promise<number> {
    let n = 0;
    while (n < max) {
      const r = await this.db.query(
        'DELETE FROM held_reports WHERE id IN (SELECT id FROM held_reports WHERE written_at < $1 ORDER BY written_at, id LIMIT $2)',
        [new Date(cutoff), Math.min(batch, max - n)],
      );
      n += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) === 0) break;
    }
    return n;
  }
}
