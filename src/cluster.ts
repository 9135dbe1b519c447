// Composition root, cluster side ([P2], docs/cluster.md): with Store Backend PostgreSQL, opens the
// database (Store pool, TLS and password), checks that its schema is this program's (never
// migrated behind the operator's back: `spoolgate db migrate`), and builds the forwarder's store
// source on the shared queue (forwarder/store-source.ts). Backend SQLite: nothing here runs.
import { readFileSync } from 'node:fs';
import type { Clock } from './core/index.js';
import type { Config } from './config/index.js';
import type { Logger } from './log/index.js';
import type { FixedPrunable } from './log/retention.js';
import { storeSource, StoreMailDirectory, type RecordDirectory, type StoreSource } from './forwarder/index.js';
import { LOCAL_WITH_POSTGRES, openPgStore, pgOptions, PgExtendedStore, PgMaildropLocks, PgOperatorStore, PgPool, PgQueueStore, requireCurrentSchema, type PgStore } from './store/pg/index.js';
import { ClusterOperator, QUEUE_ASK_BOUND_MS } from './cluster-operator.js';
import type { ClusterQueuePort } from './queue/cluster-queue.js';
import { batchMessageData } from './queue/preview.js';
import { PgAccountingTable, PgDeadLetterTable, PgHttpTokenTable } from './store/pg/records.js';
import { PgHeldTable } from './store/pg/held.js';
import { TableHeldFiles, type HeldFiles } from './spool/held-files.js';
import type { NodeInfo } from './store/queue-store.js';
import type { SpoolLayout } from './spool/submit.js';
import type { BadEntryPolicy } from './spool/disposition.js';
import { StoreMessageQueue, type MessageQueue } from './spool/message-queue.js';

export interface Cluster {
  readonly node: string;
  readonly source: StoreSource;
  /** Extended retry's records on the shared store (ExtendedRetry.share): any node serves them. */
  readonly extended: RecordDirectory;
  /** Accounting, dead letters and HTTP token hashes every node shares (store/pg/records.ts). */
  readonly records: ClusterRecords;
  /** The gateway's own mail (relay, notices, HTTP send) as message entries of the shared queue. */
  readonly messages: MessageQueue;
  /** Held spool files and reports of bad ones, every node's (spool/held-files.ts TableHeldFiles). */
  readonly held: HeldFiles;
  /** D,NODES and `spoolgate db nodes`: every node heartbeating on the database. */
  nodes(): Promise<NodeInfo[]>;
  /** (item 4) Status publishing, REFRESH,ALL and control requests between nodes (cluster-operator.ts). */
  readonly operator: ClusterOperator;
  /** Seconds after which a node's status is stale (LeaseTime). */
  readonly staleSeconds: number;
  /** What the cluster-wide queue tools need (queue/cluster-queue.ts). */
  readonly queuePort: ClusterQueuePort;
  /** Retention: this node's arrival identities older than ARRIVALS_KEPT_DAYS (QueueStore.pruneArrivals). */
  readonly arrivals: FixedPrunable;
  close(): Promise<void>;
}

/**
 * Days a node keeps the identity of a file it stored (docs/cluster.md "Arrival and the file
 * identity"): it only matters when the node finds the same file again after a crash between the
 * commit and the unlink, which its first spool scan after the restart does. Far beyond any
 * restart; a node that comes back later than this with such a file stores it a second time.
 */
export const ARRIVALS_KEPT_DAYS = 30;

/** Retention of a node's arrival identities: `batch` per statement until `max` or none is left. */
export function arrivalsRetention(queue: { pruneArrivals(before: Date, limit: number): Promise<number> }): FixedPrunable {
  return {
    days: ARRIVALS_KEPT_DAYS,
    async prune(cutoff, max, batch) {
      let n = 0;
      while (n < max) {
        const want = Math.min(batch, max - n);
        const got = await queue.pruneArrivals(new Date(cutoff), want);
        n += got;
        if (got < want) break;
      }
      return n;
    },
  };
}

export interface ClusterRecords {
  readonly accounting: PgAccountingTable;
  readonly deadLetters: PgDeadLetterTable;
  readonly tokens: PgHttpTokenTable;
  readonly held: PgHeldTable;
}

/** The shared record tables of a node on `db`. */
export function clusterRecords(db: PgPool, node: string): ClusterRecords {
  return { accounting: new PgAccountingTable(db, node), deadLetters: new PgDeadLetterTable(db, node), tokens: new PgHttpTokenTable(db, node), held: new PgHeldTable(db, node) };
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The node's cluster parts, or undefined with Backend SQLite. Throws when the database cannot be used. */
export async function openCluster(config: Config, layout: SpoolLayout, clock: Clock, log: Logger, policy: () => BadEntryPolicy, cold = false): Promise<Cluster | undefined> {
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
  const records = clusterRecords(db, pgc.node);
  const held = new TableHeldFiles(records.held, layout);
  const source = storeSource({
    held,
    store: queue, writer: config.extWrtName, layout, clock, log, leaseMs: pgc.leaseTime * 1000, heartbeatMs,
    pollMs: Math.min(5_000, Math.max(250, heartbeatMs / 2)),
    policy, cold,
  });
  log.event('store.cluster', { node: pgc.node, schema: pgc.schema, leaseTime: pgc.leaseTime, heartbeat: pgc.heartbeat, shared: 'spool files and message entries (arrival, the receiver, notifications, claims, checkpoint, long retry), extended retry; users, mailboxes, journal, POP3 maildrop locks; accounting, dead letters, HTTP token hashes, held files and reports', local: LOCAL_WITH_POSTGRES });
  // ExtWrtName is not refreshable; the originNode attribute names the HostName of the start.
  const messages = new StoreMessageQueue(queue, () => ({ writer: config.extWrtName, hostName: config.hostName }), () => clock.now());
  const opStore = new PgOperatorStore(db, pgc.node);
  const operator = new ClusterOperator(opStore, { clock, log, leaseSeconds: pgc.leaseTime, heartbeatMs });
  const queuePort: ClusterQueuePort = {
    node: pgc.node, writer: config.extWrtName, now: () => clock.now(),
    ask: (command) => operator.ask(command, QUEUE_ASK_BOUND_MS),
    entries: (limit) => opStore.entries(config.extWrtName, limit),
    actOnRow: (id, action, note) => opStore.actOnRow(config.extWrtName, id, action, note),
    readHead: (id, max) => opStore.readHead(config.extWrtName, id, max),
    // Long retry in the operator's view (docs/cluster.md): released messages with their envelope.
    retryMessages: (limit) => opStore.retryMessages(config.extWrtName, limit),
    commandRetry: (id, no, command) => opStore.commandRetry(config.extWrtName, id, no, command),
    entryBytes: async (id, max) => {
      const parts: Buffer[] = [];
      let size = 0;
      try {
        for await (const c of queue.read(id)) { size += c.length; if (size > max) return undefined; parts.push(c); }
      } catch { return undefined; }
      return Buffer.concat(parts);
    },
    messageData: (row, bytes, no) => {
      if (row.kind === 'message') return no === 1 ? bytes : undefined;
      const a = row.attributes;
      const t = (k: string): string => (typeof a[k] === 'string' ? a[k] : '');
      return batchMessageData(bytes, { jobName: t('jobName'), jobId: t('jobId'), originUser: t('originUser'), ...(t('encoding') === '' ? {} : { encoding: t('encoding') }), ...(t('recordFormat') === '' ? {} : { recordFormat: t('recordFormat') }) }, config, clock, no);
    },
  };
  const extended = new StoreMailDirectory(new PgExtendedStore(db, pgc.node), config.extWrtName, `store ${pgc.schema} (extended_retry)`);
  return {
    node: pgc.node, source, messages, extended, records: clusterRecords(db, pgc.node), held, nodes: () => queue.nodes(), operator, staleSeconds: pgc.leaseTime, queuePort,
    arrivals: arrivalsRetention(queue),
    close: async () => { await operator.stop(); await queue.close(); },
  };
}

/** Users, mailboxes and the journal on the shared database, and POP3's maildrop lock across nodes. */
export interface SharedStore {
  readonly store: PgStore;
  readonly locks: PgMaildropLocks;
  close(): Promise<void>;
}

/**
 * The node's Store on PostgreSQL (docs/cluster.md, "Users, mailboxes and the journal"), or
 * undefined with Backend SQLite. Its own pool (the Store statement's options), the schema checked
 * as for the queue. Throws when the database cannot be used.
 */
export async function openSharedStore(config: Config, clock: Clock, log: Logger): Promise<SharedStore | undefined> {
  const pgc = config.store.postgres;
  if (config.store.backend !== 'postgresql' || pgc === null) return undefined;
  const { options } = await pgOptions(pgc, process.env); // its warnings are logged by openCluster
  const db = new PgPool(options);
  try {
    await requireCurrentSchema(db);
    const store = openPgStore(db, { clock });
    const locks = new PgMaildropLocks(db, {
      node: pgc.node, leaseSeconds: pgc.leaseTime, heartbeatMs: pgc.heartbeat * 1000, clock,
      onError: (e) => log.warn('pop3.lock-renew-failed', { error: e instanceof Error ? e.message : String(e) }),
    });
    await locks.start();
    return {
      store, locks,
      async close() {
        await locks.stop();
        await store.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
