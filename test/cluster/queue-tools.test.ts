// [P2] item 4, the queue tools across the cluster (docs/cluster.md "Queue tools across the
// cluster"), on the real PostgreSQL 15: two gateway nodes in this process on one schema, talked to
// through their control sockets as `spoolgate modify` does.
//
// - node a claims a file whose target is down: its three messages wait in a's memory;
// - both nodes SUSPENDed, a second file of the same job is stored and no node reads it (it stays
//   unclaimed: a suspended node claims nothing);
// - D,SPOOL shows the unread entry (NODE '-', QUEUED) before any node claims it;
// - D,QSHAPE and D,STATUS on either node count all of it (a's three, the unread row), with the
//   nodes it is on;
// - HOLD,JOB= on node b holds a's three messages (in a's own queue) and the unread row (in the
//   row, unread, with the reason): one command, every node.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { batchFile, submitText, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { cmd, startServiceNode, type ServiceNode } from './service-nodes.js';

type Node = ServiceNode;

/** A port nothing listens on: connections are refused, the target is not usable. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function start(t: TestContext, tdb: TestDatabase, name: string, target: number): Promise<Node> {
  return startServiceNode(t, tdb, name, [`TargetServer { TargetIP 127.0.0.1 ConnectPort ${target} }`, 'RetryLimit { Count 50 Interval 1 }']);
}

type Row = { id: string; node?: string; state: string; place: string; jobName: string; why: string | null };
const rows = async (n: Node, q = 'D,QUEUE'): Promise<Row[]> => ((await cmd(n, q)).data as { items: Row[] }).items;

test('a filter hold on node b holds the mail node a claimed and an entry no node has read; D,QSHAPE and D,STATUS on any node count every node', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const down = await deadPort();
  const a = await start(t, tdb, 'a', down);
  await submitText(a.config, batchFile('FL', 3).text, 'FLOOD');
  await until('a holds the file, its three messages waiting for a target', async () => (await rows(a)).filter((x) => x.node === 'a' && x.jobName === 'FLOOD').length === 3, 30_000);
  const b = await start(t, tdb, 'b', down);
  for (const n of [a, b]) assert.ok((await cmd(n, 'SUSPEND,DELAY')).ok);
  // Stored by b's arrival, read by nobody: both nodes are suspended.
  await submitText(b.config, batchFile('FU', 2).text, 'FLOOD');
  let unread: Row | undefined;
  await until('the unread entry is listed from the shared queue', async () => {
    unread = (await rows(b, 'D,QUEUE,STATE=PROCESSING')).find((x) => x.node === '-');
    return unread !== undefined;
  }, 30_000);
  assert.match(unread!.place, /^spool:/, JSON.stringify(unread));
  assert.match(unread!.why ?? '', /spool file not read yet: SUSPEND DELAY on this node/);

  // D,SPOOL on a shows it before any node claims it (the table's NODE '-'), besides a's task.
  const spool = (await cmd(a, 'D,SPOOL')).lines.join('\n');
  assert.match(spool, /^ {2}SHARED QUEUE: 1 ENTRY NO NODE HOLDS$/m, spool);
  assert.match(spool, /^ {2}- +- +FLOOD +\S+ +QUEUED +\d+\.\dS$/m, spool);

  // The shape and the counts on either node: a's three and the unread row, each once.
  for (const n of [a, b]) {
    const shape = await cmd(n, 'D,QSHAPE,BY=TARGET');
    const data = shape.data as { rows: { key: string; total: number }[]; nodes: { node: string; total: number }[] };
    assert.equal(data.rows[0]?.key, 'TOTAL');
    assert.equal(data.rows[0]?.total, 4, `${n.name}: ${shape.lines.join('\n')}`);
    assert.deepEqual(data.nodes, [{ node: '-', total: 1 }, { node: 'a', total: 3 }], shape.lines.join('\n'));
    assert.match(shape.lines.join('\n'), /^ {2}NODES: - 1, a 3$/m);
    const status = (await cmd(n, 'D,STATUS')).data as { queue: { counts: Record<string, number>; nodes: { node: string; total: number }[] } | null };
    assert.equal(status.queue?.counts.processing, 4, JSON.stringify(status.queue));
    assert.deepEqual(status.queue?.nodes.map((x) => [x.node, x.total]), [['-', 1], ['a', 3]]);
  }

  // One hold by job on b: a's three in a's queue, the unread row in the row.
  const hold = await cmd(b, 'HOLD,JOB=FLOOD,REASON=\'a flood\',BY=ops');
  assert.ok(hold.ok, hold.lines.join('\n'));
  const done = hold.data as { done: number; nodes: { node: string; done: number }[] };
  assert.equal(done.done, 4, hold.lines.join('\n'));
  assert.deepEqual(done.nodes.map((x) => [x.node, x.done]), [['b', 0], ['a', 3], ['-', 1]]);
  assert.match(hold.lines.join('\n'), /4 MESSAGES/);
  const after = await rows(a);
  assert.deepEqual(after.filter((x) => x.jobName === 'FLOOD').map((x) => x.state), ['held', 'held', 'held', 'held'], JSON.stringify(after));
  const row = after.find((x) => x.id === unread!.id);
  assert.equal(row?.place, unread!.place.replace(/^spool:/, 'held:'));
  assert.match(row?.why ?? '', /^held by modify:ops before it was read: a flood$/);
  assert.match((await cmd(b, 'D,SPOOL')).lines.join('\n'), /^ {2}- +- +FLOOD +\S+ +HELD +\d+\.\dS$/m);
  // A second hold finds nothing new to hold.
  const again = await cmd(a, 'HOLD,JOB=FLOOD,BY=ops');
  assert.equal((again.data as { done: number }).done, 0, again.lines.join('\n'));
});
