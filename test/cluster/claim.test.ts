// [P2] claiming across processes on the real PostgreSQL 15: several node processes drain one queue
// without claiming an entry twice; a node killed with -9 while holding leases loses them after the
// lease time and another node takes them over from the checkpoint; a node killed between the
// commit and the unlink of an arriving file leaves one entry, not two.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { PgQueueStore } from '../../src/store/pg/queue.js';
import { arriveSpoolFile, type ClaimedEntry } from '../../src/store/queue-store.js';

const W = 'CSSMTP';
const CHILD = join(import.meta.dirname, 'claimer-child.ts');

interface Child { readonly proc: ChildProcess; readonly lines: string[]; next(prefix: string): Promise<string>; exited: Promise<number | null> }

function child(t: TestContext, tdb: TestDatabase, node: string, mode: string, extra: Record<string, unknown> = {}): Child {
  const args = { url: tdb.url, schema: tdb.schema, node, writer: W, leaseSeconds: 60, mode, ...extra };
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  const lines: string[] = [];
  const waiting: { prefix: string; resolve: (l: string) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    const i = waiting.findIndex((w) => l.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(l);
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    lines,
    exited,
    next: (prefix) => new Promise((resolve, reject) => {
      const have = lines.find((l) => l.startsWith(prefix));
      if (have !== undefined) { resolve(have); return; }
      waiting.push({ prefix, resolve });
      void exited.then((code) => reject(new Error(`${node} exited (${code}) before printing "${prefix}"`)));
    }),
  };
}

/**
 * Claims until every id in `want` was claimed (the old holder's leases run out on the database's
 * clock; nothing announces that, so this polls the claim with a bound instead of sleeping a fixed time).
 */
async function claimAll(q: PgQueueStore, want: ReadonlySet<string>, boundMs: number): Promise<ClaimedEntry[]> {
  const got: ClaimedEntry[] = [];
  const deadline = Date.now() + boundMs;
  while (got.length < want.size) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${want.size} entries taken over within ${boundMs} ms`);
    got.push(...(await q.claim(W, 100)));
    if (got.length < want.size) await new Promise((r) => setTimeout(r, 200));
  }
  return got;
}

test('three node processes drain one queue: every entry claimed and finished exactly once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const feeder = new PgQueueStore(tdb.pool(), { node: 'feeder', leaseSeconds: 60 });
  const total = 240;
  for (let i = 0; i < total; i++) await feeder.enqueueMessage(W, { to: [`r${i}@example.org`] }, Buffer.from(`Subject: ${i}\r\n\r\nbody\r\n`));
  const kids = ['n1', 'n2', 'n3'].map((n) => child(t, tdb, n, 'drain'));
  const codes = await Promise.all(kids.map((k) => k.exited));
  assert.deepEqual(codes, [0, 0, 0], 'no node hit a lost lease (a double claim would)');
  const ids = kids.flatMap((k) => k.lines.filter((l) => l.startsWith('claimed ')).map((l) => l.slice(8)));
  assert.equal(ids.length, total);
  assert.equal(new Set(ids).size, total, 'no entry claimed twice');
  const shares = kids.map((k) => k.lines.length);
  t.diagnostic(`shares per node: ${shares.join(', ')}`);
  const left = await db.query('SELECT 1 FROM queue_entries');
  assert.equal(left.rowCount, 0);
});

test('kill -9 of a node holding leases: another node takes the entries over after the lease time and skips finished recipients', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const b = new PgQueueStore(tdb.pool(), { node: 'b', leaseSeconds: 60 });
  for (let i = 0; i < 5; i++) await b.enqueueMessage(W, { to: [`first${i}@example.org`, `second${i}@example.org`] }, Buffer.from(`${i}\r\n`));
  const leaseSeconds = 2;
  const a = child(t, tdb, 'a', 'hold', { leaseSeconds });
  const held = new Set((await a.next('held ')).slice(5).split(','));
  assert.equal(held.size, 5);
  const leased = await db.query<{ n: string }>(`SELECT count(*) AS n FROM queue_entries WHERE lease_node = 'a'`);
  assert.equal(Number(leased.rows[0]!.n), 5);

  a.proc.kill('SIGKILL');
  await a.exited;
  const taken = await claimAll(b, held, leaseSeconds * 1000 * 15);
  assert.deepEqual(new Set(taken.map((c) => c.id)), held);
  let resent = 0;
  let skipped = 0;
  for (const c of taken) {
    assert.equal(c.takenOverFrom, 'a');
    const cp = await b.loadCheckpoint(c.id);
    for (const address of c.attributes.to as string[]) {
      if (cp.recipients.get(1)?.get(address)?.outcome === 'accepted') { skipped++; continue; }
      await b.markRecipient(c.lease, 1, { address, outcome: 'accepted' });
      resent++;
    }
    await b.complete(c.lease);
  }
  assert.equal(skipped, 5, 'the recipients a finished before it died are not sent again');
  assert.equal(resent, 5);
  const taken2 = await db.query<{ n: string }>('SELECT count(*) AS n FROM queue_entries');
  assert.equal(Number(taken2.rows[0]!.n), 0);
});

test('kill -9 between the commit and the unlink of an arriving file: the file is stored once', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const dir = tempDir(t);
  const path = join(dir, 'JOB00007.spool');
  writeFileSync(path, 'HELO host\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  const a = child(t, tdb, 'a', 'arrive', { path });
  const committed = (await a.next('committed ')).slice(10);
  a.proc.kill('SIGKILL');
  await a.exited;
  assert.ok(existsSync(path), 'the node died before removing the file');

  // The node restarts and scans its spool again.
  const again = new PgQueueStore(tdb.pool(), { node: 'a', leaseSeconds: 60 });
  const out = await arriveSpoolFile(again, W, path, { node: 'a' }, undefined, { name: 'JOB00007.spool' });
  assert.deepEqual(out, { stored: false, entryId: committed, name: 'JOB00007.spool', reason: 'duplicate' }, 'the entry the first life stored, by its name');
  assert.equal(existsSync(path), false);
  const n = await db.query<{ n: string }>('SELECT count(*) AS n FROM queue_entries');
  assert.equal(Number(n.rows[0]!.n), 1);
});
