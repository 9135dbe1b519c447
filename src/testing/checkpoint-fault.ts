// Fault injection for the forwarder's checkpoint (test/e2e/checkpoint-wait.test.ts): its writes of
// a message's outcome fail until the fault is cleared, on the backend the gateway's configuration
// names.
//
//   Backend SQLite       the commit of a message mark is rejected as SQLite answers a full
//                        StateDirectory (SQLITE_FULL); the local checkpoint's worker connection
//                        is not reachable from the test, so the gateway's checkpoint port is
//                        wrapped (lifecycle deps).
//   Backend PostgreSQL   a trigger on checkpoint_messages of the gateway's own schema raises
//                        disk_full (SQLSTATE 53100) on every insert or update, as PostgreSQL
//                        answers when it cannot extend a table; clearing drops it. The gateway's
//                        code is not touched: the error comes from the database over its pool.
import pg from 'pg';
import type { Config } from '../config/index.js';
import type { CheckpointPort } from '../forwarder/index.js';
import type { Gateway } from '../main.js';
import { pgOptions, PgPool } from '../store/pg/index.js';

export interface CheckpointFault {
  /** The error text the gateway gets (and shows as the reason). */
  readonly reason: string;
  /** The checkpoint can be written again. */
  clear(): Promise<void>;
}

const SQLITE_REASON = 'SQLITE_FULL: database or disk is full';
const PG_REASON = 'could not extend file "checkpoint_messages": No space left on device';
const TRIGGER = 'spoolgate_test_checkpoint_full';

/** Makes the checkpoint's message marks fail until clear(). Call before the gateway sends anything. */
export async function failCheckpointWrites(gw: Gateway, config: Config): Promise<CheckpointFault> {
  const pgc = config.store.postgres;
  if (config.store.backend === 'postgresql' && pgc !== null) {
    const { options } = await pgOptions(pgc, process.env);
    // A pool of its own on the gateway's database and schema (the Store statement's options).
    const admin = async (sql: string): Promise<void> => {
      const db = new PgPool({ ...options, poolSize: 1, applicationName: 'spoolgate-test checkpoint-fault' });
      try {
        await db.query(sql);
      } finally {
        await db.close();
      }
    };
    const s = `"${pgc.schema.replace(/"/g, '""')}"`;
    await admin(`
      CREATE FUNCTION ${s}.${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = ${pg.escapeLiteral(PG_REASON)}; END
      $f$;
      CREATE TRIGGER ${TRIGGER} BEFORE INSERT OR UPDATE ON ${s}.checkpoint_messages FOR EACH ROW EXECUTE FUNCTION ${s}.${TRIGGER}();`);
    return { reason: PG_REASON, clear: () => admin(`DROP TRIGGER ${TRIGGER} ON ${s}.checkpoint_messages; DROP FUNCTION ${s}.${TRIGGER}();`) };
  }
  const checkpoint = (gw.forwarder.lifecycle as unknown as { deps: { checkpoint: CheckpointPort } }).deps.checkpoint;
  const real = checkpoint.markMessage.bind(checkpoint);
  let full = true;
  checkpoint.markMessage = (entry, no, outcome) => (full ? Promise.reject(new Error(SQLITE_REASON)) : real(entry, no, outcome));
  return { reason: SQLITE_REASON, clear: () => { full = false; return Promise.resolve(); } };
}
