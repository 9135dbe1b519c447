// Versioned schema migrations of the PostgreSQL store, run by `spoolgate db migrate` ([P2] item 5).
//
// - One row per applied version in spoolgate_schema; each migration runs in its own transaction
//   with its row, so a failure leaves the database at the last whole version.
// - Concurrent migrators (two nodes upgraded at once) queue on a transaction-scoped advisory
//   lock keyed by the schema name; the second finds the work done.
// - No superuser rights: only CREATE TABLE/INDEX/SEQUENCE in a schema the role owns (or may
//   create in). No extensions, no large objects, no event triggers.
// - Migrations are append-only: a released version is never edited, a change is a new version.
// - A database at a version newer than this program knows is refused (an older node must not run
//   against a schema it does not understand).
import { quoteIdent, type PgPool, type Queryable } from './pool.js';

export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'nodes',
    sql: `
      -- The gateway nodes sharing this database (D,NODES): one row per Store Node name.
      CREATE TABLE nodes (
        name          text PRIMARY KEY,
        address       text,
        version       text,
        started_at    timestamptz NOT NULL DEFAULT now(),
        heartbeat_at  timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'queue entries, chunks, arrivals',
    sql: `
      -- Queue entries of both kinds: 'spool' (a batch job's file, stored as it arrived, with the
      -- attributes of its owner) and 'message' (an envelope and a message the gateway received or
      -- wrote). writer = ExtWrtName: one logical CSSMTP instance, served by every node.
      CREATE SEQUENCE lease_tokens;
      CREATE TABLE queue_entries (
        id             bigserial PRIMARY KEY,
        writer         text NOT NULL,
        kind           text NOT NULL CHECK (kind IN ('spool', 'message')),
        state          text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'held')),
        attributes     jsonb NOT NULL DEFAULT '{}',
        size           bigint NOT NULL DEFAULT 0,
        chunks         integer NOT NULL DEFAULT 0,
        arrived_node   text NOT NULL,
        arrived_at     timestamptz NOT NULL DEFAULT now(),
        next_attempt   timestamptz NOT NULL DEFAULT now(),
        attempts       integer NOT NULL DEFAULT 0,
        -- The lease: who works on the entry and until when (database time). lease_token is a
        -- fencing token, new at every claim: a node whose lease was taken over cannot write.
        lease_node     text,
        lease_expires  timestamptz,
        lease_token    bigint,
        takeovers      integer NOT NULL DEFAULT 0
      );
      CREATE INDEX queue_entries_due ON queue_entries (writer, next_attempt, id) WHERE state = 'ready';
      CREATE INDEX queue_entries_lease ON queue_entries (lease_node) WHERE lease_node IS NOT NULL;
      -- The bytes, in order, in chunks of at most 256 KiB: never whole in memory on either side.
      CREATE TABLE queue_chunks (
        entry_id  bigint NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
        seq       integer NOT NULL,
        data      bytea NOT NULL,
        PRIMARY KEY (entry_id, seq)
      );
      -- The identity of every spool file stored (node, path, inode, mtime in ns, size): a node
      -- that crashed between the commit and the unlink finds the file here and only unlinks it.
      -- Kept after the entry is finished (no entry_id foreign key), pruned by age.
      CREATE TABLE arrivals (
        node        text NOT NULL,
        identity    text NOT NULL,
        entry_id    bigint NOT NULL,
        arrived_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (node, identity)
      );
    `,
  },
  {
    version: 3,
    name: 'checkpoint',
    sql: `
      -- The checkpoint per message and recipient of an entry (SPEC.md §2.2): what a node taking
      -- over an entry must not send again. Replies kept structured (code, enhanced, text).
      CREATE TABLE checkpoint_messages (
        entry_id  bigint NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
        no        integer NOT NULL,
        outcome   text NOT NULL CHECK (outcome IN ('delivered', 'undeliverable', 'extended', 'rejected')),
        PRIMARY KEY (entry_id, no)
      );
      CREATE TABLE checkpoint_recipients (
        entry_id  bigint NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
        no        integer NOT NULL,
        address   text NOT NULL,
        outcome   text NOT NULL CHECK (outcome IN ('accepted', 'failed')),
        code      integer,
        enhanced  text,
        reply     text,
        PRIMARY KEY (entry_id, no, address)
      );
    `,
  },  {
    version: 5,
    name: 'accounting, dead letters, http token hashes',
    sql: `
      -- Accounting records (SMF 119 analog) of every node: the record as the file form writes
      -- it (one JSON text, keys in order), its time and type for queries and retention.
      CREATE TABLE accounting (
        id      bigserial PRIMARY KEY,
        node    text NOT NULL,
        time    timestamptz NOT NULL,
        type    smallint NOT NULL,
        record  text NOT NULL
      );
      CREATE INDEX accounting_time ON accounting (time, id);
      -- Dead letters (DeadLetterAction Store): the header notify writes as line 1 of the file
      -- form, and the message bytes in chunks of at most 256 KiB.
      CREATE TABLE dead_letters (
        id      text PRIMARY KEY,
        node    text NOT NULL,
        stored  timestamptz NOT NULL,
        header  text NOT NULL,
        size    bigint NOT NULL,
        chunks  integer NOT NULL
      );
      CREATE INDEX dead_letters_stored ON dead_letters (stored, id);
      CREATE TABLE dead_letter_chunks (
        letter  text NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
        seq     integer NOT NULL,
        bytes   bytea NOT NULL,
        PRIMARY KEY (letter, seq)
      );
      -- SHA-256 of each node's HTTP tokens (never the tokens): any node accepts any of them.
      CREATE TABLE http_tokens (
        node        text NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('api', 'send')),
        hash        bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (node, kind)
      );
    `,
  },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

const CREATE_VERSIONS = `
  CREATE TABLE IF NOT EXISTS spoolgate_schema (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`;

/** The lock every migrator of this schema takes (transaction-scoped: released at COMMIT/ROLLBACK). */
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('spoolgate.migrate.' || current_schema()))`;

export interface SchemaStatus {
  /** Highest applied version; 0 = none (a fresh database). */
  readonly current: number;
  /** The version this program needs. */
  readonly latest: number;
  readonly applied: readonly { version: number; name: string; appliedAt: Date }[];
  readonly pending: readonly PgMigration[];
}

export class SchemaError extends Error {
  readonly code = 'ERR_PG_SCHEMA';
}

async function versionsTableExists(q: Queryable): Promise<boolean> {
  const r = await q.query<{ t: string | null }>(`SELECT to_regclass('spoolgate_schema')::text AS t`);
  return r.rows[0]?.t !== null && r.rows[0]?.t !== undefined;
}

export async function schemaStatus(db: PgPool, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<SchemaStatus> {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (!(await versionsTableExists(db))) return { current: 0, latest, applied: [], pending: migrations };
  const r = await db.query<{ version: number; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM spoolgate_schema ORDER BY version');
  const applied = r.rows.map((x) => ({ version: x.version, name: x.name, appliedAt: x.applied_at }));
  const current = applied.reduce((m, a) => Math.max(m, a.version), 0);
  const done = new Set(applied.map((a) => a.version));
  return { current, latest, applied, pending: migrations.filter((m) => !done.has(m.version)) };
}

/**
 * Applies the pending migrations up to `target` (default: all), each in one transaction under
 * the schema's advisory lock. Returns the versions this call applied ([] when up to date).
 * Throws SchemaError when the database is newer than this program.
 */
export async function migrate(db: PgPool, opts: { target?: number; migrations?: readonly PgMigration[] } = {}): Promise<number[]> {
  const migrations = opts.migrations ?? PG_MIGRATIONS;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const target = opts.target ?? latest;
  const done: number[] = [];
  await db.transaction(async (c) => {
    // Store Schema names a schema that may not exist yet: creating it needs only the CREATE
    // right on the database (its owner has it), never a superuser.
    const exists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [db.schema]);
    if (exists.rowCount === 0) await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.schema)}`);
    await c.query(LOCK);
    await c.query(CREATE_VERSIONS);
  });
  for (const m of migrations) {
    if (m.version > target) break;
    await db.transaction(async (c) => {
      await c.query(LOCK);
      const have = await c.query<{ version: number }>('SELECT version FROM spoolgate_schema ORDER BY version DESC LIMIT 1');
      const current = have.rows[0]?.version ?? 0;
      if (current > latest) throw new SchemaError(`the database schema is at version ${current}, newer than this spoolgate's ${latest}: upgrade spoolgate on this node`);
      const seen = await c.query('SELECT 1 FROM spoolgate_schema WHERE version = $1', [m.version]);
      if (seen.rowCount !== 0) return; // applied by an earlier run or a concurrent migrator
      await c.query(m.sql);
      await c.query('INSERT INTO spoolgate_schema (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    });
  }
  return done;
}

/**
 * For a node starting on PostgreSQL: the schema must be exactly at this program's version
 * (`spoolgate db migrate` is an operator step, not something a start does behind their back).
 */
export async function requireCurrentSchema(db: PgPool): Promise<void> {
  const s = await schemaStatus(db);
  if (s.current === s.latest) return;
  if (s.current > s.latest) throw new SchemaError(`the database schema is at version ${s.current}, newer than this spoolgate's ${s.latest}: upgrade spoolgate on this node`);
  throw new SchemaError(`the database schema is at version ${s.current}, this spoolgate needs ${s.latest}: run \`spoolgate db migrate\``);
}
