// The QueueStore contract (testing/queue-contract.ts) on the embedded SQLite implementation: the
// same tests store/pg/queue.test.ts runs on PostgreSQL. Each node is its own connection to one file.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { queueContract } from '../../testing/queue-contract.js';
import { SqliteQueueStore } from './queue.js';

queueContract({
  name: 'SQLite',
  setup(t) {
    const path = join(tempDir(t), 'queue.db');
    const stores: SqliteQueueStore[] = [];
    const first = new SqliteQueueStore(path, { node: '(setup)', leaseSeconds: 60 });
    stores.push(first);
    const raw = new Database(path);
    t.after(async () => {
      raw.close();
      for (const s of stores) await s.close();
    });
    return Promise.resolve({
      node: (name, leaseSeconds = 60) => {
        const s = new SqliteQueueStore(path, { node: name, leaseSeconds });
        stores.push(s);
        return s;
      },
      // The lease runs out on this machine's clock: set it into the past.
      expire: (id) => { raw.prepare('UPDATE queue_entries SET lease_expires = ? WHERE id = ?').run(Date.now() - 1000, Number(id)); return Promise.resolve(); },
      due: (id) => { raw.prepare('UPDATE queue_entries SET next_attempt = ? WHERE id = ?').run(Date.now() - 1000, Number(id)); return Promise.resolve(); },
      count: (table) => Promise.resolve((raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n),
    });
  },
});
