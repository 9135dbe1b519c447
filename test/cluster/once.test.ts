// [P2] `spoolgate start --once` on a cluster node while another node runs, on the real PostgreSQL
// 15 and a real SMTP sink (nodemailer smtp-server): node b is a daemon; node a is a cron run. Both
// claim from the writer's one shared queue, so nothing may be lost or sent twice, and a's run is
// bounded: it stores its own spool, then takes the entries due at that moment (up to the highest
// id then, its `spool.once upTo=` line), and leaves what arrives later to b. Which node sent a
// message: its EHLO name at the sink. docs/cluster.md, "start --once and cold start -f on a cluster".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres } from '../../src/testing/pg.js';
import { batchFile, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { inProcessNode, spoolAttributes, WRITER } from './nodes-in-process.js';
import { allGot as all, counts, logs, nodeConfig, sink, splitUrl, spread, startNode, stopAll } from '../../src/testing/cluster-nodes.js';

const PER_FILE = 10;

test('start --once on node a while node b runs: a drains its spool and what was due when it began, exits 0 with where the mail went; later files are b\'s; nothing lost or sent twice', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  // 100 ms per message at the sink, so b is still busy when a's run begins.
  const s = await sink(t, 100);
  const { url, password } = splitUrl(tdb.url);
  const dir = tempDir(t);
  const a = nodeConfig(join(dir, 'a'), 'a', [s], { url, password, schema: tdb.schema });
  const b = nodeConfig(join(dir, 'b'), 'b', [s], { url, password, schema: tdb.schema });
  // 20 files of 10 messages, 10 in each node's spool, before either starts.
  await spread([a, b], 20, PER_FILE);
  startNode(t, b, password);
  await until('b sends', () => s.got.some((g) => g.node === 'b'), 60_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([b])}`); });

  const once = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', a.config, '--once'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPOOLGATE_STORE_PASSWORD: password },
  });
  t.after(() => { if (once.exitCode === null && once.signalCode === null) once.kill('SIGKILL'); });
  let out = '';
  let err = '';
  let late: Promise<unknown> | undefined;
  once.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  once.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // a's bound is fixed: files written now (into b's spool) are after it, and only b sends them.
    if (late === undefined && / spool\.once /.test(err)) late = spread([b], 5, PER_FILE, 100);
  });
  const code = await new Promise<number | null>((r) => once.once('exit', (c) => r(c)));
  assert.equal(code, 0, `${out}\n${err}`);
  assert.ok(late !== undefined, `a logged spool.once\n${err}`);
  await late;
  const upTo = Number(/ spool\.once .*\bupTo=(\d+)/.exec(err)?.[1]);
  assert.ok(upTo >= 20, `the bound covers the 20 files stored before it (upTo=${upTo})`);
  // When a's run ended, every entry within its bound was finished or is b's: none is left unclaimed.
  const open = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM queue_entries WHERE id <= $1 AND lease_node IS DISTINCT FROM 'b'`, [upTo]);
  assert.equal(open.rows[0]!.n, 0, 'nothing within a\'s bound left for nobody');
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0]!, /--once: \d+ spool file\(s\); a message no target takes is tried 6 time\(s\), 1 min apart/);
  assert.match(out, /--once on the shared queue of writer CLUSTERW: 10 file\(s\) in this node's spool are stored/);
  const done = /--once done: (\d+) sent, 0 to extended retry, 0 undeliverable \(0 dead letter\(s\)\); \d+ spool file\(s\) left \(\d+ in the shared queue/.exec(lines.at(-1)!);
  assert.ok(done !== null, lines.at(-1));
  const fromA = s.got.filter((g) => g.node === 'a');
  assert.equal(Number(done[1]), fromA.length, 'a\'s summary counts what the sink got from a');

  const total = 25 * PER_FILE;
  await until('every message at the sink', () => counts(all([s])).size >= total, 240_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([b])}`); });
  await until('queue empty', async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries')).rows[0]!.n === 0, 60_000);
  await stopAll([b]);
  const c = counts(all([s]));
  assert.equal(c.get('?'), undefined);
  assert.deepEqual([...c].filter(([, k]) => k > 1), [], 'no message sent twice');
  assert.equal(c.size, total, '0 lost');
  assert.deepEqual(fromA.filter((g) => /^BF1\d\d /.test(g.subject)).map((g) => g.subject), [], 'files that arrived after a\'s bound are not a\'s');
  t.diagnostic(`a (--once) sent ${fromA.length}, b ${s.got.length - fromA.length}; a's bound: entry ${upTo}`);
});

test('start --once on the shared queue: a message that gets 451 waits in the run\'s memory and is sent within it; RetryLimit ends the other; the run ends with nothing left', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  // 451 at RCPT: once@ at its first attempt only, never@ always.
  const tried: string[] = [];
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(addr, session, cb) {
      const accept = addr.address.startsWith('once@') && tried.includes(`${addr.address}-`);
      tried.push(`${addr.address}${accept ? '+' : '-'}`);
      if (accept) { cb(); return; }
      const e = new Error('4.2.0 try again later') as Error & { responseCode: number };
      e.responseCode = 451;
      cb(e);
    },
    onData(stream, _s, cb) { stream.resume(); stream.on('end', () => cb(null)); },
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = ((srv as unknown as { server: Server }).server.address() as AddressInfo).port;
  const path = join(tempDir(t), 'JOB1.txt');
  const one = batchFile('R1', 1, ['once@remote.test']).text;
  const two = batchFile('R2', 1, ['never@remote.test']).text;
  writeFileSync(path, one.replace(/QUIT\r\n$/, '') + two.replace(/^HELO JOBHOST\r\n/, ''), 'latin1');
  const a = await inProcessNode(t, tdb, 'a', { port, retry: { count: 2, intervalMs: 300 }, once: true });
  await a.store.storeSpoolFile(WRITER, path, spoolAttributes('JOB1'));
  await a.fwd.runOnce();
  // On the daemon the entry would be released to its retry time for any node; a run that ends keeps it.
  assert.deepEqual(tried.filter((x) => x.startsWith('once@')), ['once@remote.test-', 'once@remote.test+'], 'deferred, then delivered in the same run');
  assert.equal(tried.filter((x) => x.startsWith('never@')).length, 3, '1 + Count attempts');
  assert.equal(a.undeliverable.length, 1);
  assert.equal(a.fwd.counters.delivered, 1);
  assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries')).rows[0]!.n, 0, 'the run ended with its entry finished');
});
