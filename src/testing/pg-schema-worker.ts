// The worker thread of testing/backend.ts: creates a test schema and migrates it with the real
// migrations (what `spoolgate db migrate` does), while the test's thread waits on `flag`.
import { workerData, type MessagePort } from 'node:worker_threads';
import { migrate } from '../store/pg/migrations.js';
import { PgPool } from '../store/pg/pool.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

port.on('message', (m: { url: string; schema: string }) => {
  void (async () => {
    let reply: { ok: boolean; error?: string };
    const db = new PgPool({ url: m.url, poolSize: 1, statementTimeoutMs: 30_000, schema: m.schema, applicationName: 'spoolgate-test-schema' });
    try {
      await migrate(db);
      reply = { ok: true };
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
    } finally {
      await db.close().catch(() => undefined);
    }
    port.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  })().catch((e: unknown) => {
    // Only postMessage could throw here; the waiting thread then reports its bounded wait.
    console.error(`test schema worker: ${String(e)}`);
  });
});
