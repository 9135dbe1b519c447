// [P2] item 4, the operator view of a cluster, on the real PostgreSQL 15: gateway nodes started in
// this process (startServices, each its own directories and control socket, one schema), talked to
// through their control sockets as `spoolgate modify` does.
//
// - D,TARGETS and D,SPOOLSTATUS on node B show node A's targets and tasks in the NODE table;
// - REFRESH,ALL on A makes B and C re-read their configuration (D,CONFIG on each shows the new
//   RetryLimit); a node that stopped (its heartbeat still fresh) is reported within the bound, the
//   command does not hang; junk after ALL is refused;
// - the queue tools on B show the messages of a file A released for long retry, each with its
//   envelope (sender, recipients and their last reply: what A showed while it held them; state
//   retry, next attempt, attempts, the node that last tried), a retry from B makes the next attempt
//   now, a hold from B keeps every node from sending it, a release from B sends it; FLUSHRETRY on B
//   sends A's long-retry mail at once (before its retry time); an id no node has is 404.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { type Services } from '../../src/main.js';
import { sendCommand } from '../../src/control/index.js';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { cmd, runServiceNode, storeLine } from './service-nodes.js';
import type { Config } from '../../src/config/index.js';

interface Sink { readonly port: number; readonly subjects: string[]; reject: boolean }

async function sink(t: TestContext): Promise<Sink> {
  const s: { port: number; subjects: string[]; reject: boolean } = { port: 0, subjects: [], reject: false };
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(_a, _s, cb) {
      if (s.reject) { const e = new Error('try again later') as Error & { responseCode: number }; e.responseCode = 451; cb(e); return; }
      cb();
    },
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => { s.subjects.push(/Subject: (\S+ message \d+)/.exec(Buffer.concat(parts).toString('latin1'))?.[1] ?? '?'); cb(null); });
    },
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  s.port = ((srv as unknown as { server: import('node:net').Server }).server.address() as import('node:net').AddressInfo).port;
  return s;
}

interface Node { readonly name: string; readonly path: string; readonly config: Config; services: Services | undefined }

function nodeConfig(t: TestContext, tdb: TestDatabase, name: string, target: number, retryCount = 50): Node {
  const { path, config } = writeConfig(join(tempDir(t, `spoolgate-op-${name}-`)), [
    `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target} }`,
    `RetryLimit { Count ${retryCount} Interval 1 }`,
    storeLine(tdb, name),
  ].join('\n'));
  return { name, path, config, services: undefined };
}

const start = (t: TestContext, n: Node): Promise<Node> => runServiceNode(t, n);

test('D,TARGETS and D,SPOOLSTATUS on node B show node A; REFRESH,ALL from A refreshes B and C, and reports a stopped node within the bound', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const sa = await sink(t);
  const sb = await sink(t);
  // A sends a file alone first (its target counters move), then B and C join.
  const a = await start(t, nodeConfig(t, tdb, 'a', sa.port));
  await submitText(a.config, batchFile('OPA', 3).text, 'JOBA');
  await until('A delivered its file', () => sa.subjects.length >= 3);
  const b = await start(t, nodeConfig(t, tdb, 'b', sb.port));
  const c = await start(t, nodeConfig(t, tdb, 'c', sb.port));

  // B's display: its own block unchanged, then the NODE table with A's target and counters.
  const aRow = new RegExp(`^  a +127\\.0\\.0\\.1:${sa.port} +ACTIVE +3 +3 +0 +0 +\\d+\\.\\dS$`, 'm');
  let shown = '';
  await until('B shows A\'s target state', async () => { shown = (await cmd(b, 'D,TARGETS')).lines.join('\n'); return aRow.test(shown) && shown.includes('CLUSTER: 3 NODES'); }, 30_000)
    .catch((e: unknown) => { throw new Error(`${String(e)}\n${shown}`); });
  assert.match(shown, /^EZD1831I TEST TARGETS:$/m, 'the seed\'s display first');
  assert.match(shown, new RegExp(`^TARGET SERVER 127\\.0\\.0\\.1 PORT ${sb.port}$`, 'm'), 'B\'s own target block');
  assert.match(shown, /^EZD1864I TEST CLUSTER: 3 NODES \(THIS NODE b\)$/m);
  assert.match(shown, new RegExp(`^  b +127\\.0\\.0\\.1:${sb.port} +`, 'm'));
  const data = (await cmd(b, 'D,TARGETS')).data as { cluster: { nodes: { node: string; targets: { mailSent: number }[] }[] } };
  assert.equal(data.cluster.nodes.find((x) => x.node === 'a')?.targets[0]?.mailSent, 3);
  // ADDR= keeps that address's rows (every node's); SPOOLSTATUS lists every node's tasks.
  const byAddr = (await cmd(c, 'D,TARGETS,ADDR=127.0.0.1')).lines.join('\n');
  assert.match(byAddr, /^ {2}a +127\.0\.0\.1:/m);
  const spool = (await cmd(b, 'D,SPOOLSTATUS')).lines.join('\n');
  assert.match(spool, /^EZD1832I TEST SPOOLSTATUS:$/m);
  for (const n of ['a', 'b', 'c']) assert.match(spool, new RegExp(`^  ${n} +W 001 `, 'm'), `${n}'s task in the table`);

  // REFRESH,ALL from A: B and C each re-read their own file (RetryLimit Count 50 -> 7).
  for (const n of [b, c]) writeFileSync(n.path, readFileSync(n.path, 'utf8').replace('Count 50', 'Count 7'));
  const before = (await cmd(b, 'D,CONFIG')).lines.join('\n');
  assert.doesNotMatch(before, /COUNT\s*: 7\b/);
  const r = await cmd(a, 'REFRESH,ALL');
  const text = r.lines.join('\n');
  assert.ok(r.ok, text);
  assert.match(text, /^EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED$/m, 'A itself refreshed');
  assert.match(text, /^EZD1863I TEST MODIFY REFRESH,ALL : 2 OTHER NODES ASKED$/m);
  assert.match(text, /^EZD1861I TEST NODE b REFRESHED : CHANGED RETRYLIMIT$/m);
  assert.match(text, /^EZD1861I TEST NODE c REFRESHED : CHANGED RETRYLIMIT$/m);
  for (const n of [b, c]) assert.match((await cmd(n, 'D,CONFIG')).lines.join('\n'), /COUNT\s*: 7\b/, `${n.name} runs the new RetryLimit`);
  assert.doesNotMatch((await cmd(a, 'D,CONFIG')).lines.join('\n'), /COUNT\s*: 7\b/, 'A\'s own file did not change');

  // Junk after ALL: refused before anything is asked.
  const junk = await cmd(a, 'REFRESH,ALL,NOW');
  assert.equal(junk.ok, false);
  assert.match(junk.lines.join('\n'), /EZD1835E TEST MODIFY COMMAND NOT VALID : OPERAND 'NOW' NOT VALID FOR REFRESH,ALL/);

  // C stops; its heartbeat is still fresh (LeaseTime 10), so it is asked, and reported silent
  // after the bound instead of holding the command.
  await c.services!.stop();
  c.services = undefined;
  const r2 = await cmd(a, 'REFRESH,ALL');
  const text2 = r2.lines.join('\n');
  assert.equal(r2.ok, false, 'a node not refreshed makes the command fail');
  assert.match(text2, /^EZD1861I TEST NODE b REFRESHED : NOTHING CHANGED$/m);
  assert.match(text2, /^EZD1862E TEST NODE c NOT REFRESHED : NO ANSWER WITHIN 10 SECONDS$/m);
  // The stopped node's row stays in the display (its last state), its age growing: STALE after
  // the lease time.
  assert.match((await cmd(b, 'D,TARGETS')).lines.join('\n'), /^ {2}c +\S+ +\S+ .* \d+\.\dS( STALE)?$/m);
});

test('queue tools on node B see and act on a file node A released for long retry; an id no node has is 404', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const s = await sink(t);
  s.reject = true;
  const a = await start(t, nodeConfig(t, tdb, 'a', s.port));
  await submitText(a.config, batchFile('QB', 3).text, 'JOBQ');
  // A read the file and got 451 for each message: it released the file to the shared queue for
  // long retry (next_attempt = the retry time, the attempts in checkpoint_retries), so any node
  // makes the next attempt and none holds it in memory.
  type Row = { id: string; node?: string; lastNode?: string; state: string; attempts: number; nextAttempt: string | null; why: string | null };
  const rows = async (n: Node, q = 'D,QUEUE'): Promise<Row[]> => ((await cmd(n, q)).data as { items: Row[] }).items;
  await until('A released the file for long retry', async () => (await rows(a, 'D,QUEUE,STATE=RETRY')).some((x) => x.lastNode === 'a'));
  const b = await start(t, nodeConfig(t, tdb, 'b', s.port));

  const list = await cmd(b, 'D,QUEUE');
  type Item = Row & { sender: string; recipients: { address: string; state: string; lastReply: string | null }[]; jobName: string; target: string | null };
  const items = (list.data as { total: number; items: Item[] }).items;
  // One item per message, with its envelope, as A listed it while it held them in memory.
  assert.equal(items.length, 3, list.lines.join('\n'));
  for (const entry of items) {
    assert.equal(entry.state, 'retry', JSON.stringify(entry));
    assert.equal(entry.node, '-', 'no node holds it');
    assert.equal(entry.lastNode, 'a', JSON.stringify(entry));
    assert.equal(entry.attempts, 1, JSON.stringify(entry));
    assert.equal(entry.sender, 'job@corp.test', JSON.stringify(entry));
    assert.equal(entry.jobName, 'JOBQ');
    assert.equal(entry.target, '127.0.0.1');
    assert.equal(entry.recipients.length, 1, JSON.stringify(entry));
    assert.equal(entry.recipients[0]!.address, 'rcpt@remote.test');
    assert.equal(entry.recipients[0]!.state, 'deferred');
    assert.match(entry.recipients[0]!.lastReply ?? '', /^451 .*try again later/, JSON.stringify(entry));
    assert.ok(entry.nextAttempt !== null && Date.parse(entry.nextAttempt) > Date.now(), JSON.stringify(entry));
    assert.match(entry.why ?? '', /^451 .*try again later; long retry .*last tried by node a/);
  }
  assert.match(list.lines.join('\n'), /job@corp\.test/);
  const id = items[0]!.id;
  // show on B: the header section A kept with it.
  const shown = await cmd(b, `D,QUEUE,ID=${id}`);
  assert.match((shown.data as { item: { headers?: string } }).item.headers ?? '', /^Subject: QB message \d$/m, shown.lines.join('\n'));

  // Retry from B: due now, a node makes the second attempt (still 451) and releases it again.
  const re = await cmd(b, `RETRY,ID=${id},BY=ops`);
  assert.ok(re.ok, re.lines.join('\n'));
  await until('the second attempt is recorded', async () => (await rows(b)).some((x) => x.id === id && x.state === 'retry' && x.attempts === 2));

  // Hold from B: that message is held (not the other two of its file), as every node sees it; a
  // retry of a held message is refused.
  const heldSubject = /^Subject: (QB message \d)\r?$/m.exec((shown.data as { item: { headers?: string } }).item.headers ?? '')?.[1] ?? '';
  const h = await cmd(b, `HOLD,ID=${id},REASON='check it',BY=ops`);
  assert.ok(h.ok, h.lines.join('\n'));
  const shownOnA = await cmd(a, `D,QUEUE,ID=${id}`);
  assert.equal((shownOnA.data as { item: { state: string } }).item.state, 'held', shownOnA.lines.join('\n'));
  const heldRetry = await cmd(b, `RETRY,ID=${id},BY=ops`);
  assert.equal(heldRetry.ok, false, heldRetry.lines.join('\n'));

  // The target accepts again and the file's retry time has come (set in the row instead of
  // waiting the Interval): a file submitted later is delivered, and so are the other two messages
  // of the held one's file; the held message is not.
  s.reject = false;
  // (each waiting message keeps its own retry time too — a claim tries only the ones due —: set first)
  await tdb.pool().query('UPDATE checkpoint_retries SET retry_at = now() - interval \'1 second\'');
  await tdb.pool().query('UPDATE queue_entries SET next_attempt = now() - interval \'1 second\'');
  await submitText(b.config, batchFile('QC', 2).text, 'JOBC');
  await until('the later file and the two messages not held are delivered', () => s.subjects.filter((x) => x.startsWith('QC ')).length === 2 && s.subjects.filter((x) => x.startsWith('QB ')).length === 2);
  assert.ok(heldSubject !== '' && !s.subjects.includes(heldSubject), `no node sent the held message ${heldSubject}: ${s.subjects.join(', ')}`);
  // Listed held again once the node that sent the other two let go of the file.
  await until('the held message listed held again', async () => (await rows(b)).find((x) => x.id === id)?.state === 'held');

  // Release from B: a node sends it (the file was released to an hour from now: due at once).
  const rel = await cmd(b, `RELEASE,ID=${id},BY=ops`);
  assert.ok(rel.ok, rel.lines.join('\n'));
  await until('the released file is delivered', () => s.subjects.filter((x) => x.startsWith('QB ')).length === 3);
  assert.deepEqual(s.subjects.filter((x) => x.startsWith('QB ')).sort(), ['QB message 1', 'QB message 2', 'QB message 3']);
  await until('the queue is empty on B', async () => ((await cmd(b, 'D,QUEUE')).data as { total: number }).total === 0);

  // FLUSHRETRY on B: A's file in long retry (Interval 1 minute) goes at once, before its retry time.
  s.reject = true;
  await submitText(a.config, batchFile('QD', 1).text, 'JOBD');
  let waiting: Item | undefined;
  // Stored by A, the file may be claimed by either node (both run): whichever tried it released it.
  await until('QD released for long retry', async () => {
    waiting = ((await cmd(b, 'D,QUEUE,STATE=RETRY')).data as { items: Item[] }).items.find((x) => x.jobName === 'JOBD' && x.lastNode !== undefined);
    return waiting !== undefined;
  });
  // CURRENT RETRY on B counts it (no node holds it in memory).
  // (B's count of the shared queue's retry is refreshed after claims and at each poll: wait for it.)
  await until('CURRENT RETRY on B counts it', () => b.services!.gateway.forwarder.counters.currentRetry === 1);
  s.reject = false;
  const fl = await cmd(b, 'FLUSHRETRY,TKID=0');
  assert.ok(fl.ok, fl.lines.join('\n'));
  assert.equal((fl.data as { flushed: number }).flushed, 1, 'one released entry made due');
  await until('the flushed file is delivered', () => s.subjects.includes('QD message 1'), 50_000);
  assert.ok(Date.now() < Date.parse(waiting!.nextAttempt!), `delivered before its retry time ${waiting!.nextAttempt}`);

  // Hostile: an id of the right form that no node has.
  const none = await cmd(b, 'HOLD,ID=0123456789ab-1,BY=ops');
  assert.equal(none.ok, false);
  assert.match(none.lines.join('\n'), /EZD1856E .*NOT ON ANY OTHER NODE OF THE CLUSTER EITHER/);
  const noneShow = await cmd(b, 'D,QUEUE,ID=0123456789ab-0');
  assert.equal(noneShow.ok, false);
});

test('kill -9 of a node process: REFRESH,ALL on another reports it within the bound and returns', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const s = await sink(t);
  const procs: Record<string, { node: Node; proc: ChildProcess; err: string[] }> = {};
  for (const name of ['pa', 'pb']) {
    const node = nodeConfig(t, tdb, name, s.port);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', node.path], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
    const err: string[] = [];
    proc.stderr!.on('data', (d: Buffer) => { err.push(...d.toString().split('\n')); err.splice(0, Math.max(0, err.length - 40)); });
    t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
    procs[name] = { node, proc, err };
  }
  const pa = procs.pa!;
  const pb = procs.pb!;
  // Both run and see each other (B's status row is on the store).
  await until('both nodes answer with each other in D,TARGETS', async () => {
    const r = await sendCommand(pa.node.config.controlSocket, 'D,TARGETS', { timeoutMs: 10_000 });
    return r.ok && r.value.lines.some((l) => /^ {2}pb +127\.0\.0\.1:/.test(l));
  }, 120_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${pa.err.join('\n')}\n${pb.err.join('\n')}`); });
  const first = await cmd(pa.node, 'REFRESH,ALL');
  assert.match(first.lines.join('\n'), /^EZD1861I TEST NODE pb REFRESHED : NOTHING CHANGED$/m);

  pb.proc.kill('SIGKILL');
  await new Promise<void>((r) => { if (pb.proc.exitCode !== null || pb.proc.signalCode !== null) r(); else pb.proc.once('exit', () => r()); });
  // Its heartbeat is still within LeaseTime: it is asked, and reported silent after the bound.
  const r = await cmd(pa.node, 'REFRESH,ALL');
  const text = r.lines.join('\n');
  assert.equal(r.ok, false, text);
  assert.match(text, /^EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED$/m, 'the node asked refreshed itself');
  assert.match(text, /^EZD1862E TEST NODE pb NOT REFRESHED : NO ANSWER WITHIN 10 SECONDS$/m);
  pa.proc.kill('SIGTERM');
  await new Promise<void>((res) => { if (pa.proc.exitCode !== null) res(); else pa.proc.once('exit', () => res()); });
});
