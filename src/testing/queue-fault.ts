// Fault injection for the shared queue's message entries on PostgreSQL (store/pg/enqueue-batch.ts):
// a trigger on queue_entries of the test's own schema raises disk_full (SQLSTATE 53100), as
// PostgreSQL answers when it cannot extend a table, for every entry whose attributes carry
// `"poison": true` — or for every entry with `all`. The store's code is not touched: the error
// comes from the database, failing the statement (the whole batch) that holds such an entry.
import type { PgPool } from '../store/pg/pool.js';

const TRIGGER = 'spoolgate_test_queue_full';
export const QUEUE_FAULT_REASON = 'could not extend file "queue_entries": No space left on device';

export interface QueueFault {
  clear(): Promise<void>;
}

/** `db` is a pool on the schema to break (the test's); `all`: every entry fails, not only the poisoned. */
export async function failQueueEntries(db: PgPool, opts: { readonly all?: boolean } = {}): Promise<QueueFault> {
  const when = opts.all === true ? 'true' : `coalesce((NEW.attributes->>'poison')::boolean, false)`;
  await db.query(`
    CREATE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN
        IF ${when} THEN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = '${QUEUE_FAULT_REASON}'; END IF;
        RETURN NEW;
      END
    $f$;
    CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON queue_entries FOR EACH ROW EXECUTE FUNCTION ${TRIGGER}();`);
  return { clear: () => db.query(`DROP TRIGGER ${TRIGGER} ON queue_entries; DROP FUNCTION ${TRIGGER}();`).then(() => undefined) };
}
