// [P2] #19 acceptance: a node killed between the arrival commit and the unlink of the spool file,
// through `spoolgate start` (the queue-level case is in claim.test.ts). The node runs with the
// fault hook src/testing/fault-arrival.ts, which freezes it right after the database committed
// the arriving file and before the file leaves the spool; the test kills it with -9 there, checks
// the state the crash left (one entry stored, the file still in the spool), restarts the node
// without the hook, and checks that it only removes the file (the same identity: a duplicate) —
// one entry, never two — and that every message of the file reaches the sink exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres } from '../../src/testing/pg.js';
import { until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import {
  allGot, CLUSTER_WRITER, counts, exited, logs, nodeConfig, sink, splitUrl, spread, startNode, stopAll, watch,
} from '../../src/testing/cluster-nodes.js';

const HOOK = join(import.meta.dirname, '..', '..', 'src', 'testing', 'fault-arrival.ts');
const PER_FILE = 5;

test('kill -9 of a `spoolgate start` node between the arrival commit and the unlink: one entry, never two; the mail delivered once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const target = await sink(t, 0);
  const { url, password } = splitUrl(tdb.url);
  const node = nodeConfig(join(tempDir(t), 'a1'), 'a1', [target], { url, password, schema: tdb.schema, leaseTime: 5, heartbeat: 1 });
  startNode(t, node, password, { preload: [HOOK] });
  const fail = (e: unknown): never => { throw new Error(`${String(e)}\n${logs([node])}`); };
  const frozen = watch(node, /^fault\.arrival-frozen /);
  await watch(node, /store\.cluster/).catch(fail);
  await spread([node], 1, PER_FILE);
  const path = (await frozen.catch(fail)).split(' ')[1]!;

  // The crash: after the commit, before the unlink.
  node.proc.kill('SIGKILL');
  await exited(node.proc);
  assert.ok(existsSync(path), 'the node died before the file left the spool');
  const stored = await db.query<{ id: string }>('SELECT id::text AS id FROM queue_entries');
  assert.equal(stored.rowCount, 1, 'the commit stored the file once');
  const entry = stored.rows[0]!.id;
  assert.equal((await db.query('SELECT 1 FROM arrivals')).rowCount, 1);
  assert.equal(target.got.length, 0, 'nothing was sent before the crash');

  // The restart finds the same file and only removes it.
  startNode(t, node, password);
  const again = await watch(node, /spool\.stored/).catch(fail);
  assert.match(again, /duplicate/, `the second arrival is a duplicate: ${again}`);
  assert.match(again, new RegExp(`row=${entry}\\b`), 'of the entry the first life stored');
  await until('every message at the sink', () => counts(target.got).size >= PER_FILE, 120_000).catch(fail);
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 60_000).catch(fail);
  await stopAll([node]);
  assert.equal((await db.query('SELECT 1 FROM arrivals')).rowCount, 1, 'one arrival, never two');
  assert.deepEqual([...counts(allGot([target])).values()], Array(PER_FILE).fill(1), 'each message delivered once');
  assert.deepEqual(readdirSync(join(node.spool, CLUSTER_WRITER, 'incoming')), [], 'the spool is empty');
});
