// [P2] #19 acceptance, database outage: two `spoolgate start` nodes drain spool files to two SMTP
// sinks; under load the database is stopped for OUTAGE_SECONDS (30 by default) while more files
// are written into the nodes' spools, then started again. The nodes pause (spool tasks wait:
// marks and claims fail, the heartbeat watchdog gives the leases up; arrival keeps the files in
// the spool and tries again with back-off), resume by themselves when the database is back (no
// restart), and lose nothing: every message reaches a sink; duplicates ≤ what was in flight
// (the messages the sinks accepted during the outage, whose marks could not be stored, plus at
// most one per connection at the moment of the stop).
//
// Each node also has a receiver whose relayed mail is an entry of the shared queue: messages
// relayed before the stop are not lost; during the outage a relayed message is answered
// 451 4.3.0 (nothing stored: no file on the nodes, nothing at the sinks, no chunk in the database
// once it is back); the same client then tries again until it gets 250, and that message reaches
// a sink exactly once, byte-exact below the receiver's Received field.
//
// The database is a cluster of this test's own (src/testing/pg-private.ts: initdb in a temporary
// directory, its own port), never the machine's shared one the other tests use at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/testing/peers.js';
import { privatePostgres } from '../../src/testing/pg-private.js';
import { until, withoutTrace } from '../../src/testing/gateway.js';
import { PgPool } from '../../src/store/pg/pool.js';
import { migrate } from '../../src/store/pg/migrations.js';
import {
  allGot, CLUSTER_WRITER, counts, logs, nodeConfig, receiverPort, sink, smtpSend, splitUrl, spread, startNode, stopAll, type ClusterNode,
} from '../../src/testing/cluster-nodes.js';

const OUTAGE_SECONDS = Number(process.env.OUTAGE_SECONDS ?? 30);
const PER_FILE = 10;
const BEFORE_FILES = 40;
const DURING_FILES = 10;
const CONNECT_LIMIT = 2;
const LEASE_TIME = 10;
/** Messages relayed through the nodes' receivers before the stop. */
const RELAYED_BEFORE = 4;
const RELAY_TO = 'rcpt@remote.test';

/** A relayed message (8-bit, a leading dot, a line over 998 octets, trailing blanks); its subject is `<tag> message <n>` as the sinks count. */
function relayed(tag: string, n: number): Buffer {
  return Buffer.concat([
    Buffer.from(`From: eve@far.test\r\nTo: ${RELAY_TO}\r\nSubject: ${tag} message ${n}\r\nMessage-ID: <${tag}.${n}@far.test>\r\n\r\n`, 'latin1'),
    Buffer.from('Gr\u00fc\u00dfe\r\n.a line that starts with a dot\r\n', 'utf8'),
    Buffer.from(`${'x'.repeat(1200)}\r\nend ${tag}/${n}   \r\n`, 'latin1'),
  ]);
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    try { if (readFileSync(p).includes(needle, 0, 'latin1')) hits.push(p); } catch { /* gone meanwhile */ }
  }
  return hits;
}

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

  const sinks = [await sink(t, 20, { keep: /^RX/ }), await sink(t, 20, { keep: /^RX/ })];
  const { url, password } = splitUrl(pgc.url);
  const root = tempDir(t);
  const nodes = ['o1', 'o2'].map((n) => nodeConfig(join(root, n), n, sinks, { url, password, schema, leaseTime: LEASE_TIME, heartbeat: 2, connectLimit: CONNECT_LIMIT, receiver: true }));
  for (const n of nodes) startNode(t, n, password);
  const fail = (e: unknown): never => { throw new Error(`${String(e)}\nevents: ${nodes.map((n) => `${n.name} ${JSON.stringify([...n.events])}`).join('; ')}\nat the sinks ${allGot(sinks).length} (${counts(allGot(sinks)).size} distinct of ${total})\n${logs(nodes)}`); };
  // The spool's messages, those relayed before the stop (RXB) and the one refused during the outage and sent again after it (RXO).
  const total = (BEFORE_FILES + DURING_FILES) * PER_FILE + RELAYED_BEFORE + 1;
  // Relayed first: the python clients take their time, and the spool's load is to be under way at the stop.
  const ports = await Promise.all(nodes.map((n) => receiverPort(n))).catch(fail);
  const sent = new Map<string, Buffer>();
  for (let i = 1; i <= RELAYED_BEFORE; i++) {
    const m = relayed('RXB', i);
    const r = await smtpSend(ports[i % ports.length]!, 'eve@far.test', RELAY_TO, m);
    assert.equal(r.code, 250, `RXB message ${i} relayed before the stop: ${r.text}`);
    sent.set(`RXB message ${i}`, m);
  }
  await spread(nodes, BEFORE_FILES, PER_FILE);

  // Under load: the nodes are sending.
  await until('the nodes send', () => nodes.every((n) => allGot(sinks).some((g) => g.node === n.name && !g.subject.startsWith('RX'))), 120_000).catch(fail);
  const atStop = allGot(sinks).length;
  const PROBE = 'RXO message 1';
  const probe = relayed('RXO', 1);
  await pgc.stop();
  const stoppedAt = Date.now();
  try {
    // New files arrive while the database is away: they stay in the spool.
    await spread(nodes, DURING_FILES, PER_FILE, BEFORE_FILES);
    await until('each node failed to store a file and keeps it', () => nodes.every((n) => (n.events.get('spool.store-failed') ?? 0) > 0), 60_000).catch(fail);
    // The receiver cannot store relayed mail in the shared queue: 451 4.3.0, and nothing stored.
    const refused = await smtpSend(ports[0]!, 'eve@far.test', RELAY_TO, probe);
    assert.equal(refused.code, 451, `relayed during the outage: ${refused.code} ${refused.text}`);
    assert.match(refused.text, /^4\.3\.0 mail queue unavailable \(database unreachable\)/);
    assert.ok((nodes[0]!.events.get('receiver.queue-unavailable') ?? 0) > 0, `${nodes[0]!.name} logged receiver.queue-unavailable\n${logs(nodes)}`);
    for (const n of nodes) assert.deepEqual(filesHolding(n.dir, PROBE), [], `${n.name} stored nothing of the refused message`);
    assert.equal(allGot(sinks).filter((g) => g.subject === PROBE).length, 0, 'the refused message is at no sink');
    // The outage lasts its full time (a fault of a given length, not a wait for a condition).
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + OUTAGE_SECONDS * 1000 - Date.now())));
    for (const n of nodes) assert.equal(n.proc.exitCode, null, `${n.name} still running during the outage\n${logs(nodes)}`);
    const kept = nodes.reduce((a, n) => a + incoming(n).length, 0);
    t.diagnostic(`at the stop ${atStop} of ${total} at the sinks; during the outage: ${kept} spool files kept in the spools (${DURING_FILES} written during it), ` +
      `${allGot(sinks).length - atStop} messages accepted by the sinks after the stop`);
    assert.ok(kept >= DURING_FILES, `the files written during the outage are still in the spools (${kept})`);
  } finally {
    if (!pgc.running()) await pgc.start();
  }
  const startedAt = Date.now();
  const duringOutage = allGot(sinks).length - atStop;
  // Not in the database either (the refusal came after nothing was committed).
  const stored = await db.query('SELECT 1 FROM queue_chunks WHERE position($1::bytea IN data) > 0', [Buffer.from(PROBE, 'latin1')]);
  assert.equal(stored.rowCount, 0, 'no entry of the refused message in the shared queue');
  // The same client tries again, as an MTA does after a 4xx, until the receiver accepts it.
  let tries = 0;
  await until('the refused message accepted after the database is back', async () => {
    const r = await smtpSend(ports[0]!, 'eve@far.test', RELAY_TO, probe);
    tries++;
    if (r.code !== 250 && r.code !== 451) throw new Error(`retry answered ${r.code} ${r.text}`);
    return r.code === 250;
  }, 60_000).catch(fail);
  const acceptedMs = Date.now() - startedAt;
  sent.set(PROBE, probe);

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
    `relayed: ${RELAYED_BEFORE} before the stop, 1 refused 451 during it and accepted at try ${tries} ${(acceptedMs / 1000).toFixed(1)} s after the database was back (${nodes.reduce((a, n) => a + (n.events.get('receiver.queue-unavailable') ?? 0), 0)} receiver.queue-unavailable); ` +
    `logged: spool.store-failed ${events('spool.store-failed')}, checkpoint.failed ${events('checkpoint.failed')}, checkpoint.recovered ${events('checkpoint.recovered')}, spool.lease-lost ${events('spool.lease-lost')}, store.heartbeat ${events('store.heartbeat')}, spool.taken-over ${events('spool.taken-over')}`);
  assert.ok(events('checkpoint.failed') > 0, 'sending stopped (tasks in WAIT) while marks could not be stored');
  assert.equal(c.get('?'), undefined);
  assert.equal(c.size, total, '0 lost');
  assert.ok(duplicates <= bound, `duplicates ${duplicates} ≤ in flight ${bound}`);
  // Relayed mail: none lost, every copy byte-exact below the receiver's Received field; the one refused during the outage exactly once.
  assert.equal(c.get(PROBE), 1, 'the message refused during the outage and accepted on retry reached a sink exactly once');
  for (const [subject, bytes] of sent) {
    const copies = got.filter((g) => g.subject === subject);
    assert.ok(copies.length >= 1, `${subject} not lost`);
    for (const g of copies) {
      assert.match(g.data!.toString('latin1'), /^Received: from client\.test /, `${subject}: the receiver's Received field on top`);
      assert.deepEqual(Buffer.from(withoutTrace(g.data!), 'latin1'), bytes, `${subject} byte-exact`);
    }
  }
  for (const n of nodes) assert.deepEqual(incoming(n), [], `${n.name}: spool empty`);
});
