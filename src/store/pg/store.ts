// The Store of store/types.ts on PostgreSQL: users, mailboxes and the journal on the database
// every node shares (docs/cluster.md, "Users, mailboxes and the journal"). The pool is the
// caller's (src/cluster.ts opens one per node); close() only writes what the journal has pending.
import { systemClock, type Clock } from '../../core/clock.js';
import { DEFAULT_SCRYPT, type ScryptParams } from '../password.js';
import type { Store } from '../types.js';
import { PgJournal, PgMailboxStore } from './mailboxes.js';
import type { PgPool } from './pool.js';
import { PgUserDirectory } from './users.js';

export interface PgStoreOptions {
  clock?: Clock;
  /** Password hash cost; lower only in tests. */
  scrypt?: ScryptParams;
}

export interface PgStore extends Store {
  readonly users: PgUserDirectory;
  readonly mailboxes: PgMailboxStore;
  /** The journal, with prune() for retention. */
  readonly journal: PgJournal;
}

export function openPgStore(pool: PgPool, opts: PgStoreOptions = {}): PgStore {
  const clock = opts.clock ?? systemClock;
  const journal = new PgJournal(pool, clock);
  let closed = false;
  return {
    users: new PgUserDirectory(pool, clock, opts.scrypt ?? DEFAULT_SCRYPT),
    mailboxes: new PgMailboxStore(pool, clock),
    journal,
    async close() {
      if (closed) return;
      closed = true;
      await journal.flush();
    },
  };
}
