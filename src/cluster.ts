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
import { PgAccountingTable, PgDeadLetterTable, PgHttpTokenTable } from './store/pg/records.js';
import type { NodeInfo } from './store/queue-store.js';
import type { SpoolLayout } from './spool/submit.js';
import type { BadEntryPolicy } from './spool/disposition.js';

export interface Cluster {
  readonly node: string;
  readonly source: StoreSource;
  /** Accounting, dead letters and HTTP token hashes every node shares (store/pg/records.ts). */
  readonly records: ClusterRecords;
  /** D,NODES and `spoolgate db nodes`: every node heartbeating on the database. */
  nodes(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}

export interface ClusterRecords {
  readonly accounting: PgAccountingTable;
  readonly deadLetters: PgDeadLetterTable;
  readonly tokens: PgHttpTokenTable;
}

/** The shared record tables of a node on `db`. */
export function clusterRecords(db: PgPool, node: string): ClusterRecords {
  return { accounting: new PgAccountingTable(db, node), deadLetters: new PgDeadLetterTable(db, node), tokens: new PgHttpTokenTable(db, node) };
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
  log.event('store.cluster', { node: pgc.node, schema: pgc.schema, leaseTime: pgc.leaseTime, heartbeat: pgc.heartbeat, shared: 'spool files (arrival, claims, checkpoint, retry), accounting, dead letters, HTTP token hashes', local: LOCAL_WITH_POSTGRES });
  return { node: pgc.node, source, records: clusterRecords(db, pgc.node), nodes: () => queue.nodes(), close: () => queue.close() };
}
