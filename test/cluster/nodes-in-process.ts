// Gateway nodes as objects in the test process, for the [P2] tests that need settings
// spoolgate.conf cannot give a node process (a RetryLimit Interval of milliseconds: the statement
// counts minutes): a Forwarder with its own pool, store source (forwarder/store-source.ts), spool
// and state directory and local checkpoint, on the shared queue of the test's PostgreSQL schema, a
// real SMTP connector whose EHLO name is `<name>.test`. Nodes share nothing but the database.
import type { TestContext } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/core/index.js';
import { Logger } from '../../src/log/index.js';
import { textSink } from '../../src/log/logger.js';
import { tempDir } from '../../src/testing/peers.js';
import type { TestDatabase } from '../../src/testing/pg.js';
import { writeConfig } from '../../src/testing/gateway.js';
import { PgQueueStore } from '../../src/store/pg/queue.js';
import { PgHeldTable } from '../../src/store/pg/held.js';
import { TableHeldFiles } from '../../src/spool/held-files.js';
import type { EntryAttributes } from '../../src/store/queue-store.js';
import { spoolLayout } from '../../src/spool/submit.js';
import { Checkpoint } from '../../src/forwarder/checkpoint.js';
import { Forwarder } from '../../src/forwarder/forwarder.js';
import { forwarderSettings, clientTimeouts, targetSpecs } from '../../src/forwarder/settings.js';
import { SmtpConnector } from '../../src/forwarder/smtp-connector.js';
import { storeSource } from '../../src/forwarder/store-source.js';
import type { RetryPolicy, WorkItem } from '../../src/forwarder/lifecycle.js';
import { FakeResolver } from '../../src/testing/resolver.js';

export const WRITER = 'TESTW';

/** The attributes arrival stores with a text batch file (store-source.ts attributesOf). */
export function spoolAttributes(job: string): EntryAttributes {
  return { file: job, jobName: job, jobId: job, originUser: 'u', originUid: process.getuid?.() ?? 0, originNode: 'n', taskType: 'WRITER', created: new Date().toISOString(), recordFormat: 'text', encoding: 'ISO8859-1' };
}

export interface Node { readonly name: string; readonly fwd: Forwarder; readonly store: PgQueueStore; stop(): Promise<void>; readonly undeliverable: WorkItem[] }

export async function inProcessNode(t: TestContext, tdb: TestDatabase, name: string, o: { port: number; connectLimit?: number; tasks?: number; retry?: RetryPolicy; heartbeatMs?: number; config?: string; once?: boolean }): Promise<Node> {
  const dir = join(tempDir(t), name);
  mkdirSync(dir, { recursive: true });
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${o.port} ConnectLimit ${o.connectLimit ?? 1} }\n${o.config ?? ''}`);
  const layout = spoolLayout(join(dir, 'spool'), WRITER);
  mkdirSync(layout.writerDir, { recursive: true });
  const pool = tdb.pool({ applicationName: name });
  const store = new PgQueueStore(pool, { node: name, leaseSeconds: 30 });
  const log = process.env.GW_LOG ? Logger.create({ sink: textSink(process.stderr), instance: name, level: 7 }) : Logger.silent();
  const src = storeSource({ store, writer: WRITER, layout, held: new TableHeldFiles(new PgHeldTable(pool, name), layout), clock: systemClock, log, leaseMs: 30_000, heartbeatMs: o.heartbeatMs ?? 10_000, pollMs: 100, policy: () => ({ badSpoolDisp: 'hold', report: 'none' }) });
  const local = Checkpoint.open(join(dir, 'cp.db'));
  const none = async (): Promise<void> => { throw new Error('no local entries in this test'); };
  const { source, checkpoint } = src.wrap({ source: { list: async () => [], watch: () => undefined, finish: none, hold: none, report: none }, disposeBadEntries: async () => undefined }, local);
  const fs = forwarderSettings(config, systemClock);
  const undeliverable: WorkItem[] = [];
  const fwd = new Forwarder({
    clock: systemClock, log, resolver: new FakeResolver(), checkpoint, spool: source,
    connector: new SmtpConnector({ heloName: () => `${name}.test`, tlsEhlo: () => false, timeouts: () => clientTimeouts(config), log }),
    undeliverable: { handle: async (item) => { undeliverable.push(item); return 'notified'; } },
    settings: () => ({ ...fs, tasks: o.tasks ?? 2, ...(o.retry === undefined ? {} : { retry: o.retry }), extended: { ...fs.extended, active: false } }),
    servers: () => targetSpecs(config),
  });
  await src.start();
  // once: the caller runs fwd.runOnce() (`start --once`) instead of the daemon.
  if (o.once !== true) await fwd.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await fwd.stop();
    await src.stop();
    // needPostgres closes the test's pools too: after it did, a second end is refused.
    await store.close().catch(() => undefined);
    local.close();
  };
  t.after(stop);
  return { name, fwd, store, stop, undeliverable };
}
