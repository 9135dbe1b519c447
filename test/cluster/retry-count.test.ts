// [P2] The NODE table's RETRY column on the real PostgreSQL 15 (docs/cluster.md "Long retry on the
// shared queue", Counters): two gateway nodes in this process (startServices, one schema). Every
// node counts the cluster's messages released for long retry (on the store, held by no node) in
// its own CURRENT RETRY; the NODE table of D,TARGETS (lines and data), and the
// spoolgate_retry_current gauge of /metrics, show each node's OWN messages in long retry, and the
// released ones once (RELEASED line, `cluster.released`, spoolgate_retry_released), so the sum
// over the nodes plus the released figure is the cluster's long retry. Before the split each
// node's RETRY was its own plus the released ones (3 and 2: 5, not 3): the rows never show 1 and
// 0 and the test fails there.
//
// Set-up: the target answers 451 to file REL (2 messages: both in long retry, so the node that
// read it releases it to the shared queue), then to the first message of file OWN while the
// second message of OWN waits in DATA (held by the test): the node reading OWN keeps it in
// memory with 1 message in long retry. RetryLimit Interval 30 minutes: nothing is tried again
// while the test looks.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { batchFile, submitText, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { cmd, startServiceNode, type ServiceNode } from './service-nodes.js';

interface Sink { readonly port: number; readonly subjects: string[]; readonly waiting: (() => void)[] }

/** 451 at the end of DATA, except `OWN message 2`, which waits until the test lets it go (then 250). */
async function sink(t: TestContext): Promise<Sink> {
  const s: { port: number; subjects: string[]; waiting: (() => void)[] } = { port: 0, subjects: [], waiting: [] };
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'],
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const subject = /Subject: (\S+ message \d+)/.exec(Buffer.concat(parts).toString('latin1'))?.[1] ?? '?';
        s.subjects.push(subject);
        if (subject === 'OWN message 2') { s.waiting.push(() => cb(null)); return; }
        const e = new Error('try again later') as Error & { responseCode: number };
        e.responseCode = 451;
        cb(e);
      });
    },
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { for (const w of s.waiting.splice(0)) w(); srv.close(() => r()); }));
  s.port = ((srv as unknown as { server: import('node:net').Server }).server.address() as import('node:net').AddressInfo).port;
  return s;
}

type Node = ServiceNode;

function start(t: TestContext, tdb: TestDatabase, name: string, port: number): Promise<Node> {
  return startServiceNode(t, tdb, name, [`TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} }`, 'RetryLimit { Count 50 Interval 30 }', 'Http { Listen 127.0.0.1:0 }']);
}

/** A sample of /metrics of node `n` (its `node` label), or undefined. */
async function metric(n: Node, name: string): Promise<number | undefined> {
  const http = n.services!.listening.find((l) => l.role === 'http')!;
  const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
  const m = new RegExp(`^${name}\\{node="${n.name}"\\} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

interface TargetsData {
  counters: { currentRetry: number };
  cluster: { released?: number; nodes: { node: string; counters: { currentRetry: number } }[] };
}

test('the NODE table counts each node\'s own long retry and the released messages once: the sum over two nodes is the cluster\'s', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const s = await sink(t);
  const a = await start(t, tdb, 'a', s.port);
  const b = await start(t, tdb, 'b', s.port);
  const nodes = [a, b];

  // REL: both messages 451, released to the shared queue (no node holds it).
  await submitText(a.config, batchFile('REL', 2).text, 'JOBREL');
  await until('REL released for long retry, counted by both nodes', () => nodes.every((n) => n.services!.gateway.forwarder.retryReleased() === 2));
  // OWN: message 1 in long retry in one node's memory, message 2 waiting in DATA.
  await submitText(b.config, batchFile('OWN', 2).text, 'JOBOWN');
  await until('OWN message 2 waits in DATA', () => s.waiting.length === 1);
  await until('OWN message 1 in long retry on its node', () => nodes.some((n) => n.services!.gateway.forwarder.counters.currentRetry === 3), 20_000)
    .catch((e: unknown) => { throw new Error(`${String(e)}: ${JSON.stringify(nodes.map((n) => [n.name, n.services!.gateway.forwarder.counters.currentRetry, n.services!.gateway.forwarder.retryReleased()]))} ${JSON.stringify(s.subjects)}`); });
  const holder = nodes.find((n) => n.services!.gateway.forwarder.counters.currentRetry === 3)!;
  const other = nodes.find((n) => n !== holder)!;
  // Each node's own CURRENT RETRY keeps its meaning: its messages plus the released ones.
  assert.equal(other.services!.gateway.forwarder.counters.currentRetry, 2);

  // D,TARGETS on each node: once the other node's status (published every Heartbeat) is of now
  // (a row published while that node still held REL would show REL's messages as its own).
  const own = (x: { node: string }): number => (x.node === holder.name ? 1 : 0);
  for (const n of nodes) {
    let shown = '';
    let data: TargetsData | undefined;
    await until(`${n.name}'s NODE table shows each node's own retry`, async () => {
      const r = await cmd(n, 'D,TARGETS');
      shown = r.lines.join('\n');
      data = r.data as TargetsData;
      return data.cluster.nodes.length === 2 && data.cluster.nodes.every((x) => x.counters.currentRetry === own(x));
    }, 30_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${shown}`); });
    const d = data!;
    const sum = d.cluster.nodes.reduce((x, v) => x + v.counters.currentRetry, 0) + (d.cluster.released ?? 0);
    assert.equal(sum, 3, `the NODE table counts the cluster's 3 messages in long retry once\n${shown}`);
    assert.deepEqual(d.cluster.nodes.map((v) => [v.node, v.counters.currentRetry]), [['a', holder === a ? 1 : 0], ['b', holder === b ? 1 : 0]], shown);
    assert.equal(d.cluster.released, 2, shown);
    assert.equal(d.counters.currentRetry, n === holder ? 3 : 2, `${n.name}'s own CURRENT RETRY as before\n${shown}`);
    assert.match(shown, new RegExp(`^  ${holder.name} +127\\.0\\.0\\.1:${s.port} +\\S+ +\\d+ +\\d+ +\\d+ +1 +\\d+\\.\\dS`, 'm'));
    // The other node may have claimed neither file (any node claims from the shared queue): then
    // it has tried no target, and its row shows none.
    assert.match(shown, new RegExp(`^  ${other.name} +(?:127\\.0\\.0\\.1:${s.port} +\\S+ +\\d+ +\\d+ +\\d+|- +- +\\d+) +0 +\\d+\\.\\dS`, 'm'));
    assert.match(shown, /^ {2}RELEASED: 2 MESSAGES IN LONG RETRY ON THE SHARED QUEUE/m);
  }

  // /metrics: the gauge per node is the node's own; the released ones a gauge of their own.
  assert.equal(await metric(holder, 'spoolgate_retry_current'), 1);
  assert.equal(await metric(other, 'spoolgate_retry_current'), 0);
  for (const n of nodes) assert.equal(await metric(n, 'spoolgate_retry_released'), 2, n.name);

  // OWN message 2 is accepted; its file then has all its remaining mail in long retry and is
  // released too: the holder's own goes to 0 and RELEASED to 3, still counted once.
  for (const w of s.waiting.splice(0)) w();
  await until('OWN released too', () => nodes.every((n) => n.services!.gateway.forwarder.retryReleased() === 3 && n.services!.gateway.forwarder.counters.currentRetry === 3));
  const d = (await cmd(a, 'D,TARGETS')).data as TargetsData;
  assert.equal(d.cluster.released, 3);
  assert.equal(d.cluster.nodes.find((x) => x.node === 'a')?.counters.currentRetry, 0);
});
