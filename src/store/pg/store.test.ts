// The Store contract (testing/store-contract.ts) on the real PostgreSQL 15 (testing/pg.ts): the
// same tests store/sqlite/store.test.ts runs on SQLite. Each open() is a new pool on the test's
// schema (another node, or the same node restarted).
import { needPostgres } from '../../testing/pg.js';
import { storeContract } from '../../testing/store-contract.js';
import { migrate } from './migrations.js';
import { openPgStore } from './store.js';

storeContract({
  name: 'PostgreSQL',
  async setup(t) {
    const tdb = await needPostgres(t);
    if (!tdb) return undefined;
    const admin = tdb.pool();
    await migrate(admin);
    return {
      open: (opts = {}) => openPgStore(tdb.pool(), opts),
      passwordHashes: async () => (await admin.query<{ password_hash: string }>('SELECT password_hash FROM mail_users')).rows.map((r) => r.password_hash),
    };
  },
});
