// What waits in a stopped gateway's queue, on either store backend ([P2] #19): the entries of its
// spool directory and, with Store Backend PostgreSQL, the writer's entries of the shared queue
// (QueueStore.count) — so one test checks "nothing left" or "n left" on both backends.
import type { Config } from '../config/index.js';
import { systemClock } from '../core/index.js';
import { SpoolQueue } from '../spool/queue.js';
import { pgOptions, PgPool, PgQueueStore } from '../store/pg/index.js';

export async function queuedEntries(config: Config): Promise<number> {
  const q = await SpoolQueue.open({ root: config.spool.directory, writer: config.extWrtName, clock: systemClock });
  if (!q.ok) throw new Error(`spool: ${q.error.message}`);
  let local: number;
  try { local = (await q.value.list()).length; } finally { await q.value.close(); }
  const pgc = config.store.postgres;
  if (config.store.backend !== 'postgresql' || pgc === null) return local;
  const { options } = await pgOptions(pgc, process.env);
  const store = new PgQueueStore(new PgPool(options), { node: `${pgc.node}-probe`, leaseSeconds: pgc.leaseTime });
  try { return local + await store.count(config.extWrtName); } finally { await store.close(); }
}
