// The shared database's Store for the CLI (`spoolgate user`, `spoolgate journal`) when the
// configuration says Store Backend PostgreSQL ([P2], docs/cluster.md): a small pool of its own,
// the schema checked to be this program's; close() ends the pool.
import { openPgStore, pgOptions, PgPool, requireCurrentSchema, type PgStoreSettings } from '../store/pg/index.js';
import type { Store } from '../store/types.js';

export async function openShared(settings: PgStoreSettings, env: NodeJS.ProcessEnv): Promise<Store> {
  const { options } = await pgOptions(settings, env);
  const db = new PgPool({ ...options, poolSize: 2 });
  try {
    await requireCurrentSchema(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  const s = openPgStore(db);
  return { users: s.users, mailboxes: s.mailboxes, journal: s.journal, close: async () => { await s.close(); await db.close(); } };
}
