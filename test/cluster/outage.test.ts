// [P2] #19 acceptance, database outage: two `spoolgate start` nodes drain spool files to two SMTP
// sinks; under load the database is stopped for OUTAGE_SECONDS (30 by default) while more files
// are written into the nodes' spools, then started again. The nodes pause (spool tasks wait:
// marks and claims fail, the heartbeat watchdog gives the leases up; arrival keeps the files in
// the spool and tries again with back-off), resume by themselves when the database is back (no
// restart), and lose nothing: every message reaches a sink; duplicates ≤ what was in flight
// (the messages the sinks accepted during the outage, whose marks could not be stored, plus at
// most one per connection at the moment of the stop).
//
// The database is a cluster of this test's own (src/testing/pg-private.ts: initdb in a temporary
// directory, its own port), never the machine's shared one the other tests use at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/testing/peers.js';
import { privatePostgres } from '../../src/testing/pg-private.js';
import { until } from '../../src/testing/gateway.js';
import { PgPool } from '../../src/store/pg/pool.js';
import { migrate } from '../../src/store/pg/migrations.js';
import {
  allGot, CLUSTER_WRITER, counts, logs, nodeConfig, sink, splitUrl, spread, startNode, stopAll, type ClusterNode,
} from '../../src/testing/cluster-nodes.js';

const OUTAGE_SECONDS = Number(process.env.OUTAGE_SECONDS ?? 30);
const PER_FILE = 10;
const BEFORE_FILES = 40;
const DURING_FILES = 10;
const CONNECT_LIMIT = 2;
const LEASE_TIME = 10;

const incoming = (n: ClusterNode): string[] => readdirSync(join(n.spool, CLUSTER_WRITER, 'incoming')).filter((f) => !f.startsWith('.'));

test(`PostgreSQL stopped for ${OUTAGE_SECONDS} s under load: the nodes wait, keep arriving files in the spool, resume by themselves; nothing lost, duplicates ≤ in flight`, async (t) => {
  const pgc = await privatePostgres(t);
  if (!pgc) return;
  const schema = 'outage';
  const admin = new PgPool({ url: pgc.url, poolSize: 2, statementTimeoutMs: 30_000, applicationName: 'outage-test' });
  t.after(() => admin.close());
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = new PgPool({ url: pgc.url, poolSize: 2, statementTimeoutMs: 30_000, schema, applicationName: 'outage-test' });
  t.after(() => db.close());
  await migrate(db);

  const sinks = [await sink(t), await sink(t)];
  const { url, password } = splitUrl(pgc.url);
  const root = tempDir(t);
  const nodes = ['o1', 'o2'].map((n) => nodeConfig(join(root, n), n, sinks, { url, password, schema, leaseTime: LEASE_TIME, heartbeat: 2, connectLimit: CONNECT_LIMIT }));
  for (const n of nodes) startNode(t, n, password);
  const fail = (e: unknown): never => { throw new Error(`${String(e)}\nevents: ${nodes.map((n) => `${n.name} ${JSON.stringify([...n.events])}`).join('; ')}\nat the sinks ${allGot(sinks).length} (${counts(allGot(sinks)).size} distinct of ${total})\n${logs(nodes)}`); };
  const total = (BEFORE_FILES + DURING_FILES) * PER_FILE;
  await spread(nodes, BEFORE_FILES, PER_FILE);

  // Under load: the nodes are sending.
  await until('the nodes send', () => nodes.every((n) => allGot(sinks).some((g) => g.node === n.name)), 120_000).catch(fail);
  const atStop = allGot(sinks).length;
  await pgc.stop();
  const stoppedAt = Date.now();
  try {
    // New files arrive while the database is away: they stay in the spool.
    await spread(nodes, DURING_FILES, PER_FILE, BEFORE_FILES);
    await until('each node failed to store a file and keeps it', () => nodes.every((n) => (n.events.get('spool.store-failed') ?? 0) > 0), 60_000).catch(fail);
    // [p2-messages] The receiver answers 4xx while the database is unreachable: when the receiver
    // writes to the shared queue, probe it here (an SMTP transaction to a node's receiver during
    // the outage expects a 4xx reply to DATA or RCPT, and 250 again after pgc.start()).
    // The outage lasts its full time (a fault of a given length, not a wait for a condition).
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + OUTAGE_SECONDS * 1000 - Date.now())));
    for (const n of nodes) assert.equal(n.proc.exitCode, null, `${n.name} still running during the outage\n${logs(nodes)}`);
    const kept = nodes.reduce((a, n) => a + incoming(n).length, 0);
    t.diagnostic(`during the outage: ${kept} spool files kept in the spools (${DURING_FILES} written during it), ` +
      `${allGot(sinks).length - atStop} messages accepted by the sinks after the stop`);
    assert.ok(kept >= DURING_FILES, `the files written during the outage are still in the spools (${kept})`);
  } finally {
    if (!pgc.running()) await pgc.start();
  }
  const startedAt = Date.now();
  const duringOutage = allGot(sinks).length - atStop;

  await until('every message at a sink after the database is back', () => counts(allGot(sinks)).size >= total, 150_000).catch(fail);
  const resumedMs = Date.now() - startedAt;
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 60_000).catch(fail);
  for (const n of nodes) assert.equal(n.proc.exitCode, null, `${n.name} resumed without a restart\n${logs(nodes)}`);
  await stopAll(nodes);

  const got = allGot(sinks);
  const c = counts(got);
  const duplicates = [...c.values()].reduce((a, k) => a + k - 1, 0);
  const connections = nodes.length * sinks.length * CONNECT_LIMIT;
  const bound = duringOutage + connections;
  const events = (name: string): number => nodes.reduce((a, n) => a + (n.events.get(name) ?? 0), 0);
  t.diagnostic(`outage ${OUTAGE_SECONDS} s; all ${total} messages at the sinks ${(resumedMs / 1000).toFixed(1)} s after the database was back; ` +
    `${got.length} deliveries, ${duplicates} duplicates ≤ ${duringOutage} accepted during the outage + ${connections} connections = ${bound}; ` +
    `logged: spool.store-failed ${events('spool.store-failed')}, checkpoint.failed ${events('checkpoint.failed')}, checkpoint.recovered ${events('checkpoint.recovered')}, spool.lease-lost ${events('spool.lease-lost')}, store.heartbeat ${events('store.heartbeat')}, spool.taken-over ${events('spool.taken-over')}`);
  assert.ok(events('checkpoint.failed') > 0, 'sending stopped (tasks in WAIT) while marks could not be stored');
  assert.equal(c.get('?'), undefined);
  assert.equal(c.size, total, '0 lost');
  assert.ok(duplicates <= bound, `duplicates ${duplicates} ≤ in flight ${bound}`);
  for (const n of nodes) assert.deepEqual(incoming(n), [], `${n.name}: spool empty`);
});
