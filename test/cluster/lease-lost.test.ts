// [P2] A lost lease stops the node's work on the entry at once (docs/cluster.md): node a holds a
// file whose message waits for a target (the only one refuses to talk, ConnectRetry 1200 s); the
// entry is taken over by another node; a's LeaseKeeper reports the lease lost at its next
// heartbeat, and the message leaves a's memory then — not after ConnectRetry — and a does not
// connect again. Real PostgreSQL, the in-process node of nodes-in-process.ts (heartbeat 200 ms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres } from '../../src/testing/pg.js';
import { batchFile, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { inProcessNode, spoolAttributes, WRITER } from './nodes-in-process.js';

test('a lost lease: the message waiting for a target on the old holder ends at the heartbeat that reports it, without another attempt', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  // A target that accepts TCP and closes at once: a failed connection, counted.
  let connections = 0;
  const srv = createServer((sock) => { connections++; sock.destroy(); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as AddressInfo).port;

  const a = await inProcessNode(t, tdb, 'a', { port, heartbeatMs: 200, config: 'Timeout { ConnectRetry 1200 }' });
  const path = join(tempDir(t), 'JOB.txt');
  writeFileSync(path, batchFile('LL', 1).text, 'latin1');
  await a.store.storeSpoolFile(WRITER, path, spoolAttributes('JOB'));
  await until('a waits for a target', () => a.fwd.lifecycle.liveEntries().some((e) => e.phase === 'target-wait'), 30_000);
  assert.equal(connections, 1);

  // Another node takes the entry over (a's lease ran out, as after a long pause of a): what a
  // claim does to an expired lease, in one statement, so a's 200 ms heartbeat cannot renew the
  // lease between its expiry and the claim.
  const taken = await db.query(`UPDATE queue_entries SET lease_node = 'x', lease_token = nextval('lease_tokens'), lease_expires = now() + interval '60 seconds', takeovers = takeovers + 1 WHERE lease_node = 'a'`);
  assert.equal(taken.rowCount, 1);

  // a's next heartbeat reports the lease lost: the message stops waiting and leaves a's memory.
  await until('the message left a', () => a.fwd.lifecycle.liveEntries().length === 0, 20_000);
  assert.equal(connections, 1, 'a did not try again');
  assert.equal(a.fwd.counters.delivered + a.fwd.counters.undeliverable, 0, 'no outcome on a');
  // x still holds the entry: a neither completed nor released it.
  const row = await db.query<{ lease_node: string }>('SELECT lease_node FROM queue_entries');
  assert.deepEqual(row.rows, [{ lease_node: 'x' }]);
  await a.stop();
  assert.deepEqual((await db.query<{ lease_node: string }>('SELECT lease_node FROM queue_entries')).rows, [{ lease_node: 'x' }], 'a\'s stop did not release it either');
});
