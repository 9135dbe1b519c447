// [P2] long retry on the shared queue, on the real PostgreSQL 15 and a real SMTP target
// (nodemailer smtp-server): a message that gets a 4xx is recorded with its attempts and its entry
// released with next_attempt = the retry time, so ANY node makes the next attempt, and RetryLimit
// is counted over the cluster (a takeover does not restart the count).
//
// The nodes are in this process (two Forwarders, each with its own pool, store source, spool and
// state directory): RetryLimit Interval is in minutes in spoolgate.conf, and node processes would
// make this test last minutes per retry; here the forwarder settings carry an Interval of 300 ms.
// The nodes share nothing but the database, as processes do. Which node made an attempt: its
// EHLO name at the target.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres } from '../../src/testing/pg.js';
import { batchFile, until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { inProcessNode, spoolAttributes, WRITER } from './nodes-in-process.js';

const INTERVAL_MS = 300;
const COUNT = 3;

interface Attempt { readonly rcpt: string; readonly node: string; readonly accepted: boolean }

/** A target that defers `never@` always and `once@` at its first attempt (451 at RCPT). */
async function target(t: TestContext): Promise<{ port: number; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(addr, session, cb) {
      const rcpt = addr.address;
      const node = session.hostNameAppearsAs.replace(/\.test$/, '');
      const accept = rcpt.startsWith('once@') && attempts.some((a) => a.rcpt === rcpt);
      if (rcpt.startsWith('never@') || rcpt.startsWith('once@')) attempts.push({ rcpt, node, accepted: accept });
      if (accept || !(rcpt.startsWith('never@') || rcpt.startsWith('once@'))) { cb(); return; }
      const e = new Error('4.2.0 try again later') as Error & { responseCode: number };
      e.responseCode = 451;
      cb(e);
    },
    onData(stream, _s, cb) { stream.resume(); stream.on('end', () => cb(null)); },
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  return { port: ((srv as unknown as { server: import('node:net').Server }).server.address() as import('node:net').AddressInfo).port, attempts };
}

test('long retry on the shared queue: node a tries, gets 451 and releases the entry to the retry time; node b makes the next attempts and delivers; RetryLimit counts over both nodes', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const tgt = await target(t);
  // One file, two messages: message 1 to once@ (451, then accepted), message 2 to never@ (451 always).
  const path = join(tempDir(t), 'JOB1.txt');
  const one = batchFile('R1', 1, ['once@remote.test']).text;
  const two = batchFile('R2', 1, ['never@remote.test']).text;
  writeFileSync(path, one.replace(/QUIT\r\n$/, '') + two.replace(/^HELO JOBHOST\r\n/, ''), 'latin1');

  const a = await inProcessNode(t, tdb, 'a', { port: tgt.port, retry: { count: COUNT, intervalMs: INTERVAL_MS } });
  await a.store.storeSpoolFile(WRITER, path, spoolAttributes('JOB1'));
  // a's first attempt: both deferred; the entry is released (no lease) with both attempts recorded.
  const released = async (attempts: number): Promise<boolean> => {
    const r = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM queue_entries q JOIN checkpoint_retries c ON c.entry_id = q.id
       WHERE q.lease_node IS NULL AND c.no = 2 AND c.attempts = $1`, [attempts]);
    return r.rows[0]!.n === 1;
  };
  await until('a tried once and released the entry', () => released(1), 30_000);
  await a.stop();
  assert.deepEqual(tgt.attempts.map((x) => [x.rcpt, x.node, x.accepted]), [['once@remote.test', 'a', false], ['never@remote.test', 'a', false]]);
  assert.equal(a.undeliverable.length, 0);

  // Node b (a is gone): the next attempt after the interval delivers message 1; message 2 goes on
  // counting from a's attempt and is undeliverable after 1 + COUNT attempts in all, not per node.
  const b = await inProcessNode(t, tdb, 'b', { port: tgt.port, retry: { count: COUNT, intervalMs: INTERVAL_MS } });
  await until('the entry is finished', async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM queue_entries')).rows[0]!.n === 0, 60_000);
  await b.stop();
  const of = (rcpt: string): string[] => tgt.attempts.filter((x) => x.rcpt === rcpt).map((x) => `${x.node}${x.accepted ? '+' : '-'}`);
  assert.deepEqual(of('once@remote.test'), ['a-', 'b+'], 'message 1: deferred by a, delivered by b');
  assert.deepEqual(of('never@remote.test'), ['a-', ...Array<string>(COUNT).fill('b-')], `message 2: ${1 + COUNT} attempts over both nodes`);
  assert.equal(b.undeliverable.length, 1, 'message 2 is undeliverable once');
  assert.equal(b.undeliverable[0]!.failed[0]?.address, 'never@remote.test');
  assert.equal(b.fwd.counters.delivered, 1);
});
