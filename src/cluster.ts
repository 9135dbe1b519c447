// Composition root, cluster side ([P2], docs/cluster.md): with Store Backend PostgreSQL, opens the
// database (Store pool, TLS and password), checks that its schema is this program's (never
// migrated behind the operator's back: `spoolgate db migrate`), and builds the forwarder's store
// source on the shared queue (forwarder/store-source.ts). Backend SQLite: nothing here runs.
import { readFileSync } from 'node:fs';
import type { Clock } from './core/index.js';
import type { Config } from './config/index.js';
import type { Logger } from './log/index.js';
import { storeSource, type StoreSource } from './forwarder/index.js';
import { LOCAL_WITH_POSTGRES, pgOptions, PgPool, PgQueueStore, requireCurrentSchema } from './store/pg/index.js';
import type { NodeInfo } from './store/queue-store.js';
import type { SpoolLayout } from './spool/submit.js';
import type { BadEntryPolicy } from './spool/disposition.js';
import { StoreMessageQueue, type MessageQueue } from './spool/message-queue.js';

export interface Cluster {
  readonly node: string;
  readonly source: StoreSource;
  /** The gateway's own mail (relay, notices, HTTP send) as message entries of the shared queue. */
  readonly messages: MessageQueue;
  /** D,NODES and `spoolgate db nodes`: every node heartbeating on the database. */
  nodes(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The node's cluster parts, or undefined with Backend SQLite. Throws when the database cannot be used. */
export async function openCluster(config: Config, layout: SpoolLayout, clock: Clock, log: Logger, policy: () => BadEntryPolicy): Promise<Cluster | undefined> {
  const pgc = config.store.postgres;
  if (config.store.backend !== 'postgresql' || pgc === null) return undefined;
  const { options, warnings } = await pgOptions(pgc, process.env);
  for (const w of warnings) log.warn('store.password', { detail: w });
  const db = new PgPool(options);
  let queue: PgQueueStore;
  try {
    await requireCurrentSchema(db);
    queue = new PgQueueStore(db, { node: pgc.node, leaseSeconds: pgc.leaseTime, address: config.hostName, version: version() });
  } catch (e) {
    await db.close();
    throw e;
  }
  const heartbeatMs = pgc.heartbeat * 1000;
  const source = storeSource({
    store: queue, writer: config.extWrtName, layout, clock, log, leaseMs: pgc.leaseTime * 1000, heartbeatMs,
    pollMs: Math.min(5_000, Math.max(250, heartbeatMs / 2)),
    policy,
  });
  // ExtWrtName is not refreshable; the originNode attribute names the HostName of the start.
  const messages = new StoreMessageQueue(queue, () => ({ writer: config.extWrtName, hostName: config.hostName }), () => clock.now());
  log.event('store.cluster', { node: pgc.node, schema: pgc.schema, leaseTime: pgc.leaseTime, heartbeat: pgc.heartbeat, shared: 'spool files and message entries (arrival, the receiver, notifications, claims, checkpoint, retry)', local: LOCAL_WITH_POSTGRES });
  return { node: pgc.node, source, messages, nodes: () => queue.nodes(), close: () => queue.close() };
}
