// store/sqlite — the embedded default store: one better-sqlite3 database file
// (<stateDirectory>/spoolgate.db) holding users, aliases, mailboxes and the journal.
//
// Durability choice: journal_mode=WAL with synchronous=FULL. In WAL mode synchronous=NORMAL only
// fsyncs at checkpoints, so a power loss can undo commits that were already acknowledged; FULL
// fsyncs the WAL on every commit, so when deliver() resolves (and the receiver answers 250) the
// message survives a crash or power loss. WAL still lets POP3 readers run beside a writer.
// The cost is one fsync per delivered message.
//
// Untrusted input: message bytes (opaque blobs), names (validated by ../names.ts). All SQL is
// parameterised. Safe to crash at any time: each operation is one transaction.
// SQL stays in this folder so store/pg can implement the same interfaces.
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { systemClock, type Clock } from '../../core/clock.js';
import { DEFAULT_SCRYPT, type ScryptParams } from '../password.js';
import type { Store } from '../types.js';
import { SqliteJournal, SqliteMailboxStore } from './mailboxes.js';
import { migrate, STORE_MIGRATIONS } from './schema.js';
import { SqliteUserDirectory } from './users.js';

export { migrate, STORE_MIGRATIONS, type Migration } from './schema.js';
export { SqliteUserDirectory } from './users.js';
export { SqliteJournal, SqliteMailboxStore } from './mailboxes.js';

export interface SqliteStoreOptions {
  clock?: Clock;
  /** Password hash cost; lower only in tests. */
  scrypt?: ScryptParams;
}

export interface SqliteStore extends Store {
  /** The underlying handle, for other roles' tables in the same file (checkpoint, accounting). */
  readonly db: Database.Database;
  /** The journal, with prune() for retention. */
  readonly journal: SqliteJournal;
}

export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const fresh = path !== ':memory:' && !existsSync(path);
  const db = new Database(path);
  // SPEC.md §10: the database holds mail and password hashes: readable by the gateway's user only.
  if (fresh) chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, 'store', STORE_MIGRATIONS);
  const clock = opts.clock ?? systemClock;
  let closed = false;
  const journal = new SqliteJournal(db, clock);
  return {
    db,
    users: new SqliteUserDirectory(db, clock, opts.scrypt ?? DEFAULT_SCRYPT),
    mailboxes: new SqliteMailboxStore(db, clock),
    journal,
    async close() {
      if (closed) return;
      closed = true;
      journal.close();
      db.close();
    },
  };
}
