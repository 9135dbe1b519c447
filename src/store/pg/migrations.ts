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
    version: 4,
    name: 'users, mailboxes, journal, maildrop locks',
    sql: `
      -- Mailbox users (SPEC.md §6): name = the canonical login name; the password only as an
      -- scrypt hash (store/password.ts). active false once removed (mail fetchable until purged).
      CREATE TABLE mail_users (
        name           text PRIMARY KEY,
        domain         text,
        password_hash  text NOT NULL,
        active         boolean NOT NULL DEFAULT true,
        created        bigint NOT NULL
      );
      CREATE TABLE mail_aliases (
        alias     text PRIMARY KEY,
        username  text NOT NULL REFERENCES mail_users (name) ON DELETE CASCADE
      );
      CREATE INDEX mail_aliases_user ON mail_aliases (username);
      -- Messages: one row each (seq = arrival order; id = the UIDL, unique for ever), the bytes in
      -- mail_chunks of at most 256 KiB, so a large message is never one huge bytea value.
      CREATE TABLE mail_messages (
        seq       bigserial PRIMARY KEY,
        id        text NOT NULL UNIQUE,
        username  text NOT NULL,
        size      bigint NOT NULL,
        arrived   bigint NOT NULL,
        chunks    integer NOT NULL
      );
      CREATE INDEX mail_messages_user ON mail_messages (username, seq);
      CREATE TABLE mail_chunks (
        message_seq  bigint NOT NULL REFERENCES mail_messages (seq) ON DELETE CASCADE,
        no           integer NOT NULL,
        data         bytea NOT NULL,
        PRIMARY KEY (message_seq, no)
      );
      -- The journal (SPEC.md §9). message_id in the C collation: the range query of an entry id
      -- ('<id>#' .. '<id>$') compares bytes, as in SQLite.
      CREATE TABLE journal (
        seq         bigserial PRIMARY KEY,
        at          bigint NOT NULL,
        type        text NOT NULL,
        message_id  text COLLATE "C",
        sender      text,
        recipient   text,
        detail      text,
        ip          text,
        username    text
      );
      CREATE INDEX journal_message ON journal (message_id);
      CREATE INDEX journal_sender ON journal (lower(sender));
      CREATE INDEX journal_recipient ON journal (lower(recipient));
      CREATE INDEX journal_at ON journal (at);
      -- POP3 maildrop locks across nodes (RFC 2449 §8.1.1 IN-USE): one row per mailbox held by a
      -- session, with a lease (database time) the holding node renews; a dead node's row runs out.
      CREATE TABLE pop3_locks (
        mailbox     text PRIMARY KEY,
        node        text NOT NULL,
        token       bigint NOT NULL,
        since       timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
      );
      CREATE SEQUENCE pop3_lock_tokens;
    `,
  },
  {
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
  {
    version: 6,
    name: 'long and extended retry on the shared store',
    sql: `
      -- Long retry (RetryLimit Count x Interval) on the shared queue: a message that got a
      -- transient reply is recorded here with the attempts made so far (over every node), and its
      -- entry is released with next_attempt = the retry time, so any node makes the next attempt
      -- and the limit is counted cluster-wide. Deleted with the entry.
      CREATE TABLE checkpoint_retries (
        entry_id  bigint NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,
        no        integer NOT NULL,
        attempts  integer NOT NULL CHECK (attempts > 0),
        PRIMARY KEY (entry_id, no)
      );
      -- Extended retry (ExtendedRetry, the mail directory of one node) on the shared store: one
      -- row per message, the control record as the mail directory writes it, the bytes, the next
      -- attempt, and the node that claimed it for an attempt (until claim_expires: a node that
      -- died in the middle leaves it to the others).
      CREATE TABLE extended_retry (
        writer         text NOT NULL,
        id             text NOT NULL,
        control        text NOT NULL,
        data           bytea NOT NULL,
        size           integer NOT NULL,
        next_attempt   timestamptz NOT NULL,
        claim_node     text,
        claim_expires  timestamptz,
        PRIMARY KEY (writer, id)
      );
      CREATE INDEX extended_retry_due ON extended_retry (writer, next_attempt);
    `,
  },
  {
    version: 8,
    name: 'operator view: node status, control requests and replies',
    sql: `
      -- [P2] operator view (docs/cluster.md "The operator view"). Each node's targets, tasks and
      -- counters as its displays show them (JSON), written every Heartbeat: D,TARGETS and D,SPOOL
      -- on any node read every node's row.
      CREATE TABLE node_status (
        node        text PRIMARY KEY,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        status      jsonb NOT NULL
      );
      -- A command one node asks others to carry out (REFRESH,ALL; a queue action or listing
      -- routed to the node that holds the message): announced by NOTIFY spoolgate_control, one
      -- reply row per node asked. Old requests are deleted by the next request (an hour on).
      CREATE TABLE control_requests (
        id          bigserial PRIMARY KEY,
        origin      text NOT NULL,
        command     text NOT NULL,
        nodes       text[] NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE control_replies (
        request_id   bigint NOT NULL REFERENCES control_requests (id) ON DELETE CASCADE,
        node         text NOT NULL,
        ok           boolean NOT NULL,
        lines        jsonb NOT NULL,
        data         jsonb,
        answered_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, node)
      );
    `,
  },
  {
    version: 9,
    name: 'the node that last tried a shared-queue entry',
    sql: `
      -- The operator view of an entry released for long retry (docs/cluster.md "The operator
      -- view"): no node holds it any more, so the row names the node that made the last attempt
      -- (set by QueueStore.release with attempted). NULL: never tried.
      ALTER TABLE queue_entries ADD COLUMN last_node text;
    `,
  },
  {
    version: 10,
    name: 'held files and reports of bad spool files',
    sql: `
      -- Held spool files (BadSpoolDisp Hold, an operator's hold of an unread file) of every node,
      -- listed, shown, released and purged from any node (docs/cluster.md "Held files and
      -- reports"). name: the held name (the entry id, .2 on a clash); kind and attributes: what
      -- the file is queued again with on release; the bytes in chunks of at most 256 KiB.
      CREATE TABLE held_files (
        id          bigserial PRIMARY KEY,
        writer      text NOT NULL,
        name        text NOT NULL,
        entry       text NOT NULL,
        node        text NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('spool', 'message')),
        attributes  jsonb NOT NULL DEFAULT '{}',
        reason      text NOT NULL,
        held_at     timestamptz NOT NULL,
        job_name    text,
        job_id      text,
        size        bigint NOT NULL DEFAULT 0,
        chunks      integer NOT NULL DEFAULT 0,
        UNIQUE (writer, name)
      );
      CREATE TABLE held_chunks (
        held_id  bigint NOT NULL REFERENCES held_files (id) ON DELETE CASCADE,
        seq      integer NOT NULL,
        data     bytea NOT NULL,
        PRIMARY KEY (held_id, seq)
      );
      -- Reports of bad spool files (Report Sysout): the text, filed under the job and entry id.
      CREATE TABLE held_reports (
        id          bigserial PRIMARY KEY,
        writer      text NOT NULL,
        node        text NOT NULL,
        job_id      text NOT NULL,
        entry       text NOT NULL,
        written_at  timestamptz NOT NULL,
        text        text NOT NULL
      );
      CREATE INDEX held_reports_entry ON held_reports (writer, job_id, entry, id);
      CREATE INDEX held_reports_written ON held_reports (written_at, id);
    `,
  },
  {
    version: 11,
    name: 'long retry in the operator view: a released message keeps its envelope',
    sql: `
      -- docs/cluster.md "Long retry in the operator's view": a message released for long retry
      -- keeps what the queue tools show of it (sender, recipients and their states, last reply,
      -- target, headers: the item its node showed, JSON) beside its attempts, so any node lists
      -- it with its envelope; command: an operator's bounce or delete asked while no node held
      -- it, carried out by the node that claims the entry next (cleared by the next markRetry).
      ALTER TABLE checkpoint_retries ADD COLUMN view jsonb;
      ALTER TABLE checkpoint_retries ADD COLUMN command jsonb;
    `,
  },
  {
    version: 12,
    name: 'the spool entry id of a shared-queue entry',
    sql: `
      -- [P2] (docs/cluster.md "Spool entry ids on the shared queue"): the name an entry is known
      -- by on every node — the spool entry id its file had in the spool of the node that stored
      -- it, or a message entry's id — kept through arrival and claim, so the journal, the logs,
      -- the reports and the queue tools name it as the job's node did. Unique: a name another
      -- entry has is qualified with the storing node (<id>@<node>). NULL: a row from before.
      ALTER TABLE queue_entries ADD COLUMN name text;
      CREATE UNIQUE INDEX queue_entries_name ON queue_entries (name);
    `,
  },
  {
    version: 13,
    name: 'the operator\'s hold of a shared-queue entry',
    sql: `
      -- The queue tools' hold of a row no node holds (docs/cluster.md "Queue tools across the
      -- cluster"): who held it, why, when, and whether it was held before any node read it
      -- ({operator, reason, at, unread}). Set with state 'held', cleared by a release.
      ALTER TABLE queue_entries ADD COLUMN hold_note jsonb;
    `,
  },
  {
    version: 14,
    name: 'arrival identities pruned by age',
    sql: `
      -- Retention forgets a node's arrival identities older than ARRIVALS_KEPT_DAYS
      -- (QueueStore.pruneArrivals: WHERE node = … AND arrived_at < …), a bounded batch per run.
      CREATE INDEX arrivals_node_arrived ON arrivals (node, arrived_at);
    `,
  },
  {
    version: 16,
    name: 'each message in long retry keeps its own retry time',
    sql: `
      -- docs/cluster.md "Per-message operator commands in long retry": the retry time of each
      -- message released for long retry (markRetry), so a node that claims its entry early — for
      -- an operator's command on another message of the file — tries only what is due and leaves
      -- the rest to their own time. NULL: due (a row from before; FLUSHRETRY, RETRY, RELEASE).
      ALTER TABLE checkpoint_retries ADD COLUMN retry_at timestamptz;
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
