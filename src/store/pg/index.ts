// store/pg — the PostgreSQL store of a cluster of gateway nodes ([P2], docs/cluster.md): a bounded
// pool (pool.ts), versioned migrations (migrations.ts, `spoolgate db migrate`), and the shared work
// queue (queue.ts: arrival keyed by file identity, SKIP LOCKED claims under fenced leases renewed
// by a heartbeat, takeover from the checkpoint, LISTEN/NOTIFY wake-ups).
// Standards: none on the wire of its own (PostgreSQL's protocol is node-postgres'); TLS per Store.
// Untrusted input: spool bytes and attributes (stored opaque, parameterised SQL).
// Persists: everything in the database, each operation one transaction; safe to crash anywhere
// (a crashed node's leases run out and its entries are taken over).
// Also the Store of users, mailboxes and the journal (store.ts, users.ts, mailboxes.ts) and POP3's
// maildrop locks across nodes (maildrop-locks.ts).
// Wired: the forwarder's spool path (src/cluster.ts, forwarder/store-source.ts) and the gateway's
// own message entries (spool/message-queue.ts StoreMessageQueue); users, mailboxes,
// journal and POP3 locks (main.ts via cluster.ts openSharedStore); accounting, dead
// letters and HTTP token hashes (records.ts, migration 5); the rest stays local.
import { readFile, stat } from 'node:fs/promises';
import type { PgOptions } from './pool.js';

export { PgPool, redactUrl, type PgOptions } from './pool.js';
export { migrate, schemaStatus, requireCurrentSchema, SchemaError, PG_MIGRATIONS, PG_SCHEMA_VERSION, type PgMigration, type SchemaStatus } from './migrations.js';
export { PgQueueStore, NOTIFY_CHANNEL, type PgQueueOptions } from './queue.js';
export { PgExtendedStore } from './extended.js';
export { openPgStore, type PgStore, type PgStoreOptions } from './store.js';
export { PgUserDirectory } from './users.js';
export { PgJournal, PgMailboxStore } from './mailboxes.js';
export { PgMaildropLocks, type MaildropHold, type PgMaildropLockOptions } from './maildrop-locks.js';
export { PgOperatorStore, CONTROL_CHANNEL } from './operator.js';
export { PgAccountingTable, PgDeadLetterTable, PgHttpTokenTable, DEAD_LETTER_CHUNK } from './records.js';
export { PgHeldTable } from './held.js';

/** The environment variable a node reads the database password from when no PasswordFile is set. */
export const PASSWORD_ENV = 'SPOOLGATE_STORE_PASSWORD';

/** What store/pg needs of the Store statement (config's PostgresStoreConfig has this shape). */
export interface PgStoreSettings {
  readonly url: string;
  readonly passwordFile: string | null;
  readonly node: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly statementTimeout: number;
  readonly connectTimeout: number;
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  readonly tlsCaFile: string | null;
}

/**
 * Pool options from the Store statement: the password from PasswordFile (its first line), else
 * from SPOOLGATE_STORE_PASSWORD, else none (peer or certificate authentication). `warnings`: a
 * password file others may read. The password is only ever handed to the driver.
 */
export async function pgOptions(s: PgStoreSettings, env: NodeJS.ProcessEnv): Promise<{ options: PgOptions; warnings: string[] }> {
  const warnings: string[] = [];
  let password: string | undefined;
  if (s.passwordFile !== null) {
    const text = await readFile(s.passwordFile, 'utf8').catch((e: unknown) => {
      throw new Error(`Store PasswordFile ${s.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (the file must exist and be readable by the gateway's user)`);
    });
    password = text.split(/\r?\n/)[0] ?? '';
    const mode = (await stat(s.passwordFile)).mode;
    if ((mode & 0o077) !== 0) warnings.push(`Store PasswordFile ${s.passwordFile} can be read by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  } else if (env[PASSWORD_ENV] !== undefined && env[PASSWORD_ENV] !== '') {
    password = env[PASSWORD_ENV];
  }
  const tls = s.tls ? { rejectUnauthorized: s.tlsVerify, ...(s.tlsCaFile !== null ? { ca: await readFile(s.tlsCaFile, 'utf8') } : {}) } : null;
  return {
    options: {
      url: s.url,
      ...(password !== undefined ? { password } : {}),
      poolSize: s.poolSize,
      statementTimeoutMs: s.statementTimeout * 1000,
      connectTimeoutMs: s.connectTimeout * 1000,
      schema: s.schema,
      tls,
      applicationName: `spoolgate ${s.node}`,
    },
    warnings,
  };
}

/** What stays on this node's disk with Backend PostgreSQL (logged at start: docs/cluster.md). */
export const LOCAL_WITH_POSTGRES = 'nothing durable: spool files wait in the spool directory only until they are stored, claimed copies only while they are sent';
