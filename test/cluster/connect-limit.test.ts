// [P2] ConnectLimit is per node (docs/cluster.md "ConnectLimit", docs/configuration.md): each node
// opens at most ConnectLimit connections to a target, so N nodes open at most N × ConnectLimit.
// Counted where it matters, at a real target (nodemailer smtp-server): its open connections per
// node (the EHLO name) and in all, at every connection and EHLO.
//
// The target holds every message's reply until all three nodes are connected at once: a node can
// only get that far by opening connections while the others hold theirs, so the test shows the
// limit is not cluster-wide (one node's connections do not use up another's) — and, at the same
// time, that no node goes above its own limit and the cluster not above N × ConnectLimit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres } from '../../src/testing/pg.js';
import { batchFile, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { inProcessNode, spoolAttributes, WRITER } from './nodes-in-process.js';

const CONNECT_LIMIT = 2;
const NODES = ['c1', 'c2', 'c3'];
const FILES = 12;
const PER_FILE = 6;

test(`ConnectLimit is per node: ${NODES.length} nodes with ConnectLimit ${CONNECT_LIMIT} open at most ${CONNECT_LIMIT} each and ${NODES.length * CONNECT_LIMIT} in all to one target`, async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);

  const open = new Map<string, number>();
  const most = new Map<string, number>();
  let total = 0;
  let mostTotal = 0;
  let delivered = 0;
  const held: (() => void)[] = [];
  const allConnected = (): boolean => NODES.every((n) => (open.get(n) ?? 0) > 0);
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'], maxClients: 100,
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => {
        delivered++;
        const reply = (): void => cb(null);
        if (allConnected()) { reply(); for (const h of held.splice(0)) h(); } else held.push(reply);
      });
    },
  });
  const server = (srv as unknown as { server: import('node:net').Server }).server;
  server.on('connection', (sock) => {
    total++;
    mostTotal = Math.max(mostTotal, total);
    let node: string | undefined;
    sock.on('data', (d: Buffer) => {
      if (node !== undefined) return;
      const m = /^EHLO (\S+)/im.exec(d.toString('latin1'));
      if (m === null) return;
      node = m[1]!.replace(/\.test$/, '');
      const now = (open.get(node) ?? 0) + 1;
      open.set(node, now);
      most.set(node, Math.max(most.get(node) ?? 0, now));
      if (allConnected()) for (const h of held.splice(0)) h();
    });
    sock.on('close', () => { total--; if (node !== undefined) open.set(node, (open.get(node) ?? 1) - 1); });
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (server.address() as import('node:net').AddressInfo).port;

  // The files are in the queue before any node starts, so each node has work at once.
  const dir = tempDir(t);
  const nodes = [];
  const first = await inProcessNode(t, tdb, NODES[0]!, { port, connectLimit: CONNECT_LIMIT, tasks: 3 });
  for (let f = 0; f < FILES; f++) {
    const path = join(dir, `F${f}.txt`);
    writeFileSync(path, batchFile(`CL${f}`, PER_FILE).text, 'latin1');
    await first.store.storeSpoolFile(WRITER, path, spoolAttributes(`JOB${f}`));
  }
  nodes.push(first);
  for (const n of NODES.slice(1)) nodes.push(await inProcessNode(t, tdb, n, { port, connectLimit: CONNECT_LIMIT, tasks: 3 }));
  await until('every message delivered', () => delivered >= FILES * PER_FILE, 120_000)
    .catch((e: unknown) => { throw new Error(`${String(e)}; delivered ${delivered}, open ${JSON.stringify([...open])}`); });
  await until('queue empty', async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries')).rows[0]!.n === 0, 60_000);
  for (const n of nodes) await n.stop();

  t.diagnostic(`most connections open at once: ${[...most].map(([n, k]) => `${n} ${k}`).join(', ')}; in all ${mostTotal}`);
  for (const n of NODES) {
    assert.ok((most.get(n) ?? 0) >= 1, `${n} connected`);
    assert.ok((most.get(n) ?? 0) <= CONNECT_LIMIT, `${n} opened at most ConnectLimit ${CONNECT_LIMIT} (${most.get(n)})`);
  }
  assert.ok(mostTotal <= NODES.length * CONNECT_LIMIT, `at most N × ConnectLimit = ${NODES.length * CONNECT_LIMIT} in all (${mostTotal})`);
  assert.ok(mostTotal > CONNECT_LIMIT, 'the limit is not cluster-wide: the nodes together had more than one ConnectLimit open');
});
