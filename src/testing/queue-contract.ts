// The behaviour every QueueStore (store/queue-store.ts) keeps, as one set of tests run against
// each backend — store/sqlite/queue.test.ts and store/pg/queue.test.ts call queueContract() with
// their fixture — so the two implementations are held to the same semantics, not to copies.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arriveSpoolFile, CHUNK_BYTES, LeaseLostError, type ClaimedEntry, type QueueStore } from '../store/queue-store.js';
import { tempDir } from './peers.js';

export interface QueueFixture {
  /** A node on the shared store, with its own connection. */
  node(name: string, leaseSeconds?: number): QueueStore;
  /** Time passes without a heartbeat from the holder: the entry's lease runs out. */
  expire(entryId: string): Promise<void>;
  /** Time passes until the released entry's next attempt is due. */
  due(entryId: string): Promise<void>;
  count(table: 'queue_entries' | 'queue_chunks' | 'checkpoint_messages' | 'checkpoint_recipients' | 'checkpoint_retries' | 'nodes'): Promise<number>;
}

export interface QueueBackend {
  readonly name: string;
  /** An empty, migrated store for one test; undefined after the test was skipped. */
  setup(t: TestContext): Promise<QueueFixture | undefined>;
}

const W = 'CSSMTP';

async function readAll(q: QueueStore, id: string): Promise<{ bytes: Buffer; pieces: number; largest: number }> {
  const parts: Buffer[] = [];
  let largest = 0;
  for await (const b of q.read(id)) { parts.push(b); largest = Math.max(largest, b.length); }
  return { bytes: Buffer.concat(parts), pieces: parts.length, largest };
}

export function queueContract(backend: QueueBackend): void {
  const it = (name: string, fn: (t: TestContext, f: QueueFixture) => Promise<void>): void => {
    // node:test reports a failing test itself; the promise test() returns only says it ended.
    test(`${backend.name}: ${name}`, async (t) => {
      const f = await backend.setup(t);
      if (f !== undefined) await fn(t, f);
    }).catch((e: unknown) => { console.error(e); });
  };

  it('a spool file is stored byte-exact in chunks with its attributes, then removed; the same file twice is stored once', async (t, f) => {
    const a = f.node('a');
    const path = join(tempDir(t), 'JOB00042.spool');
    const data = randomBytes(2 * CHUNK_BYTES + 1234);
    writeFileSync(path, data);
    const attrs = { user: 'PAYROLL', uid: 1001, jobName: 'PAYRUN' };
    // A crash between the commit and the unlink: the file is still there and is stored again.
    const first = await a.storeSpoolFile(W, path, attrs);
    assert.equal(first.stored, true);
    const again = await arriveSpoolFile(a, W, path, attrs);
    assert.deepEqual(again, { stored: false, entryId: first.entryId, name: first.name, reason: 'duplicate' });
    assert.equal(existsSync(path), false, 'the duplicate is removed');
    assert.equal(await f.count('queue_entries'), 1);
    const got = await readAll(a, first.entryId);
    assert.ok(got.bytes.equals(data));
    assert.equal(got.pieces, 3);
    assert.ok(got.largest <= CHUNK_BYTES);
    const [c] = await a.claim(W, 10);
    assert.equal(c?.kind, 'spool');
    assert.deepEqual(c?.attributes, attrs);
    assert.equal(c?.size, data.length);
    assert.equal(c?.arrivedNode, 'a');
  });

  it('a new file at the same path (a job rerun with the same bytes) is new mail, not a duplicate', async (t, f) => {
    const a = f.node('a');
    const path = join(tempDir(t), 'RERUN.spool');
    writeFileSync(path, 'HELO x\r\n');
    const one = await arriveSpoolFile(a, W, path, {});
    writeFileSync(path, 'HELO x\r\n');
    utimesSync(path, new Date(Date.now() + 5000), new Date(Date.now() + 5000)); // a later write
    const two = await arriveSpoolFile(a, W, path, {});
    assert.equal(one.stored && two.stored, true);
    assert.notEqual(one.entryId, two.entryId);
    assert.equal(await f.count('queue_entries'), 2);
  });

  it('a message entry streams its body in chunks; another writer does not see it', async (_t, f) => {
    const a = f.node('a');
    const body = randomBytes(CHUNK_BYTES + 10);
    async function* pieces(): AsyncIterable<Buffer> { yield body.subarray(0, 100); yield body.subarray(100); }
    const { id } = await a.enqueueMessage(W, { from: 'a@example.com', to: ['b@example.org'] }, pieces());
    const got = await readAll(a, id);
    assert.ok(got.bytes.equals(body));
    assert.ok(got.largest <= CHUNK_BYTES);
    assert.deepEqual(await a.claim('OTHER', 5), [], 'another writer (another logical instance) does not see it');
    const [c] = await a.claim(W, 5);
    assert.equal(c?.kind, 'message');
    assert.deepEqual(c?.attributes, { from: 'a@example.com', to: ['b@example.org'] });
  });

  it('a message entry with a key is stored once per node and key: the second write returns the first entry', async (_t, f) => {
    const a = f.node('a');
    const [one, two] = await Promise.all([
      a.enqueueMessage(W, { n: 1 }, Buffer.from('first\r\n'), { key: 'release:q1' }),
      a.enqueueMessage(W, { n: 2 }, Buffer.from('second\r\n'), { key: 'release:q1' }),
    ]);
    assert.deepEqual(one, two, 'the same entry, by id and by name');
    assert.equal(await f.count('queue_entries'), 1);
    const three = await a.enqueueMessage(W, { n: 3 }, Buffer.from('third\r\n'), { key: 'release:q2' });
    assert.notEqual(three.id, one.id);
    // Keys are per node: another node's q1 is another entry.
    const other = await f.node('b').enqueueMessage(W, { n: 4 }, Buffer.from('fourth\r\n'), { key: 'release:q1' });
    assert.notEqual(other.id, one.id);
    assert.equal(await f.count('queue_entries'), 3);
  });

  it('an entry keeps its name (the spool entry id) through the claim; a name another entry has is qualified with the storing node', async (t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    const dir = tempDir(t);
    const file = (n: string): string => { const p = join(dir, n); writeFileSync(p, n); return p; };
    const first = await a.storeSpoolFile(W, file('a1'), {}, { name: 'JOB00042' });
    assert.equal(first.name, 'JOB00042');
    // Two nodes' spools are separate directories: node b's job wrote the same name.
    const second = await b.storeSpoolFile(W, file('b1'), {}, { name: 'JOB00042' });
    assert.equal(second.name, 'JOB00042@b');
    // And again while both wait: the row's id makes it unique.
    const third = await b.storeSpoolFile(W, file('b2'), {}, { name: 'JOB00042' });
    assert.equal(third.name, `JOB00042@b.${third.entryId}`);
    // A file stored twice (crash before the unlink) reports the first entry's name.
    const path = file('a2');
    const once = await a.storeSpoolFile(W, path, {}, { name: 'RERUN' });
    assert.deepEqual(await a.storeSpoolFile(W, path, {}, { name: 'RERUN' }), { stored: false, entryId: once.entryId, name: 'RERUN', reason: 'duplicate' });
    // Message entries: the name asked for, or a new spool entry id.
    const named = await a.enqueueMessage(W, {}, Buffer.from('m\r\n'), { name: 'MSG1' });
    assert.equal(named.name, 'MSG1');
    const fresh = await a.enqueueMessage(W, {}, Buffer.from('n\r\n'));
    assert.match(fresh.name, /^[0-9a-z]{20}$/);
    assert.equal((await a.enqueueMessage(W, {}, Buffer.from('o\r\n'), { name: 'MSG1' })).name, 'MSG1@a');
    const claimed = await a.claim(W, 10);
    assert.deepEqual(claimed.map((c) => c.name).sort(), ['JOB00042', 'JOB00042@b', `JOB00042@b.${third.entryId}`, 'MSG1', 'MSG1@a', 'RERUN', fresh.name].sort());
    // A finished entry's name is free again (the journal keeps its history under it, as one node's would).
    const done = claimed.find((c) => c.name === 'JOB00042')!;
    await a.complete(done.lease);
    assert.equal((await b.storeSpoolFile(W, file('b3'), {}, { name: 'JOB00042' })).name, 'JOB00042');
    // Two nodes storing one name at the same moment: one keeps it, the other is qualified.
    const [x, y] = await Promise.all([a.storeSpoolFile(W, file('a3'), {}, { name: 'SAME' }), b.storeSpoolFile(W, file('b4'), {}, { name: 'SAME' })]);
    assert.deepEqual([x.name, y.name].sort(), x.name === 'SAME' ? ['SAME', 'SAME@b'] : ['SAME', 'SAME@a']);
  });

  it('claimers on separate connections never claim the same entry, and together claim every entry', async (_t, f) => {
    const a = f.node('a');
    const total = 150;
    for (let i = 0; i < total; i++) await a.enqueueMessage(W, { i }, Buffer.from(`message ${i}\r\n`));
    const claimers = ['n1', 'n2', 'n3', 'n4'].map((n) => f.node(n));
    const got = await Promise.all(claimers.map(async (q) => {
      const mine: ClaimedEntry[] = [];
      for (;;) {
        const batch = await q.claim(W, 3);
        if (batch.length === 0) return mine;
        mine.push(...batch);
      }
    }));
    const ids = got.flat().map((c) => c.id);
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, total, 'no entry claimed twice');
    for (const c of got.flat()) assert.equal(c.takenOverFrom, null);
  });

  it('an expired lease is taken over; the checkpoint keeps finished recipients; the old holder is fenced off', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    await a.enqueueMessage(W, { to: ['x@example.org', 'y@example.org', 'z@example.org'] }, Buffer.from('msg\r\n'));
    const [ca] = await a.claim(W, 1);
    assert.ok(ca);
    assert.deepEqual(await b.claim(W, 1), [], 'a live lease is not claimable');
    await a.markRecipient(ca.lease, 2, { address: 'x@example.org', outcome: 'accepted' });
    await a.markRecipient(ca.lease, 2, { address: 'y@example.org', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } });
    await a.markMessage(ca.lease, 1, 'delivered');
    await f.expire(ca.id);

    const [cb] = await b.claim(W, 1);
    assert.ok(cb);
    assert.equal(cb.id, ca.id);
    assert.equal(cb.takenOverFrom, 'a');
    assert.notEqual(cb.lease.token, ca.lease.token);
    const cp = await b.loadCheckpoint(cb.id);
    assert.deepEqual([...cp.messages], [[1, 'delivered']]);
    assert.deepEqual(cp.recipients.get(2)?.get('x@example.org'), { address: 'x@example.org', outcome: 'accepted' });
    assert.deepEqual(cp.recipients.get(2)?.get('y@example.org'), { address: 'y@example.org', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } });
    assert.equal(cp.recipients.get(2)?.has('z@example.org'), false, 'z is still to send');

    // a comes back (a long pause, a partition): every write about the entry is refused.
    await assert.rejects(a.markRecipient(ca.lease, 2, { address: 'z@example.org', outcome: 'accepted' }), LeaseLostError);
    await assert.rejects(a.markMessage(ca.lease, 2, 'delivered'), LeaseLostError);
    await assert.rejects(a.release(ca.lease), LeaseLostError);
    await assert.rejects(a.complete(ca.lease), LeaseLostError);
    assert.deepEqual((await a.heartbeat([ca.lease])).held, [], 'a no longer holds it');
    assert.equal((await b.loadCheckpoint(cb.id)).recipients.get(2)?.has('z@example.org'), false);

    await b.markRecipient(cb.lease, 2, { address: 'z@example.org', outcome: 'accepted' });
    await b.complete(cb.lease);
    for (const table of ['queue_entries', 'queue_chunks', 'checkpoint_messages', 'checkpoint_recipients'] as const) assert.equal(await f.count(table), 0, table);
  });

  it('the heartbeat renews the node\'s leases, also one that ran out but was not taken, and records the node', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    await a.enqueueMessage(W, {}, Buffer.from('1\r\n'));
    await a.enqueueMessage(W, {}, Buffer.from('2\r\n'));
    const mine = await a.claim(W, 2);
    for (const c of mine) await f.expire(c.id);
    const hb = await a.heartbeat(mine.map((c) => c.lease));
    assert.deepEqual(hb.held.map((l) => [l.entryId, l.token]).sort(), mine.map((c) => [c.id, c.lease.token]).sort());
    assert.deepEqual(await b.claim(W, 5), [], 'renewed leases are not claimable');
    assert.equal(await f.count('nodes'), 1);
  });

  it('a lease the heartbeat does not name (a node restarted within the lease time) is not renewed and is taken over', async (_t, f) => {
    const before = f.node('a');
    await before.enqueueMessage(W, { n: 1 }, Buffer.from('1\r\n'));
    await before.enqueueMessage(W, { n: 2 }, Buffer.from('2\r\n'));
    const [kept, left] = await before.claim(W, 2);
    assert.ok(kept && left);
    // Node a restarts: the new life works on `kept` only (it knows nothing of `left`).
    const after = f.node('a');
    for (const id of [kept.id, left.id]) await f.expire(id);
    const hb = await after.heartbeat([kept.lease]);
    assert.deepEqual(hb.held.map((l) => l.entryId), [kept.id]);
    const taken = await f.node('b').claim(W, 5);
    assert.deepEqual(taken.map((c) => [c.id, c.takenOverFrom]), [[left.id, 'a']]);
  });

  it('release: due now is claimable again with the attempt counted; a later retry is not due yet', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    await a.enqueueMessage(W, { n: 1 }, Buffer.from('1\r\n'));
    await a.enqueueMessage(W, { n: 2 }, Buffer.from('2\r\n'));
    const [one, two] = await a.claim(W, 2);
    assert.ok(one && two);
    await a.release(one.lease, { attempted: true });
    await a.release(two.lease, { retryAt: new Date(Date.now() + 3_600_000), attempted: true });
    const again = await b.claim(W, 5);
    assert.deepEqual(again.map((c) => [c.id, c.attempts, c.takenOverFrom]), [[one.id, 1, null]]);
  });

  it('SUSPEND,DELAY: a claim of entries in process takes the one released after an attempt, never an unread one', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    const started = await a.enqueueMessage(W, {}, Buffer.from('m1\r\n'));
    const [ca] = await a.claim(W, 1);
    assert.ok(ca);
    assert.equal(ca.id, started.id);
    await a.markRetry(ca.lease, 1, 1);
    await a.release(ca.lease, { retryAt: new Date(Date.now() + 3_600_000), attempted: true });
    const unread = await a.enqueueMessage(W, {}, Buffer.from('m2\r\n'));
    assert.deepEqual(await b.claim(W, 5, { inProcess: true }), [], 'the unread entry is not in process; the other not due');
    await f.due(ca.id);
    const got = await b.claim(W, 5, { inProcess: true });
    assert.deepEqual(got.map((c) => [c.id, c.attempts]), [[ca.id, 1]]);
    const rest = await b.claim(W, 5);
    assert.deepEqual(rest.map((c) => c.id), [unread.id], 'an ordinary claim takes the unread one');
  });

  it('long retry: a message\'s attempts are kept with the checkpoint, the entry released to its retry time; another node continues the count', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    await a.enqueueMessage(W, {}, Buffer.from('m\r\n'));
    const [ca] = await a.claim(W, 1);
    assert.ok(ca);
    await a.markMessage(ca.lease, 1, 'delivered');
    await a.markRetry(ca.lease, 2, 1);
    await a.markRetry(ca.lease, 3, 1);
    await a.markRetry(ca.lease, 3, 2);
    await a.release(ca.lease, { retryAt: new Date(Date.now() + 3_600_000), attempted: true });
    assert.deepEqual(await b.claim(W, 1), [], 'not due before its retry time');
    await f.due(ca.id);
    const [cb] = await b.claim(W, 1);
    assert.ok(cb);
    assert.equal(cb.attempts, 1);
    const cp = await b.loadCheckpoint(cb.id);
    assert.deepEqual([...cp.attempts].sort(), [[2, 1], [3, 2]], 'the count goes on from where node a left it');
    assert.deepEqual([...cp.messages], [[1, 'delivered']]);
    // Fenced like every write about the entry; a finished message is no longer counted.
    await assert.rejects(a.markRetry(ca.lease, 2, 2), LeaseLostError);
    await b.markRetry(cb.lease, 2, 2);
    await b.markMessage(cb.lease, 2, 'delivered');
    assert.deepEqual([...(await b.loadCheckpoint(cb.id)).attempts], [[3, 2]]);
    await b.complete(cb.lease);
    assert.equal(await f.count('checkpoint_retries'), 0, 'deleted with the entry');
  });

  it('restart: a starting node gives back its previous life\'s leases (checkpoint kept); upTo bounds a claim; cold forgets the checkpoint of every entry no other live node holds', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    const c = f.node('c');
    for (let i = 1; i <= 4; i++) await a.enqueueMessage(W, {}, Buffer.from(`m${i}\r\n`));
    const [e1] = await a.claim(W, 1);
    const [e2] = await b.claim(W, 1);
    const [e3] = await a.claim(W, 1);
    const [e4] = await c.claim(W, 1);
    assert.ok(e1 && e2 && e3 && e4);
    for (const [q, e] of [[a, e1], [b, e2], [a, e3], [c, e4]] as const) await q.markMessage(e.lease, 1, 'delivered');
    await a.markRetry(e3.lease, 2, 1);
    await a.release(e3.lease, { retryAt: new Date(Date.now() + 3_600_000), attempted: true });
    assert.equal(await a.count(W), 4);
    assert.equal(await a.count('OTHERW'), 0);

    // A warm restart of a (a new life of node a): e1, which a's previous life held, is due now,
    // its checkpoint kept; the old lease is fenced off. Nothing else changes.
    const a2 = f.node('a');
    const warm = await a2.restart(W, { cold: false });
    assert.deepEqual(warm, { released: 1, reset: 0, upTo: e4.id });
    await assert.rejects(a.markMessage(e1.lease, 2, 'delivered'), LeaseLostError);
    await a2.enqueueMessage(W, {}, Buffer.from('m5\r\n'));
    const got = await a2.claim(W, 10, { upTo: warm.upTo });
    assert.deepEqual(got.map((e) => e.id), [e1.id], 'due, not held by a live node, and not above upTo (the fifth entry is)');
    assert.deepEqual([...(await a2.loadCheckpoint(e1.id)).messages], [[1, 'delivered']]);
    assert.equal(got[0]!.takenOverFrom, null);

    // Cold: every entry no other live node holds loses its checkpoint and is due now — a2's (node
    // a), e3 in long retry, e4 whose holder c stopped heartbeating, the fifth — but b's is b's.
    await f.expire(e4.id);
    const a3 = f.node('a');
    const cold = await a3.restart(W, { cold: true });
    assert.equal(cold.released, 1);
    assert.equal(cold.reset, 4);
    for (const e of [e1, e3, e4]) {
      const cp = await a3.loadCheckpoint(e.id);
      assert.deepEqual([cp.messages.size, cp.recipients.size, cp.attempts.size], [0, 0, 0], `entry ${e.id} forgotten`);
    }
    assert.deepEqual([...(await b.loadCheckpoint(e2.id)).messages], [[1, 'delivered']], 'another live node\'s entry keeps its checkpoint');
    await b.markMessage(e2.lease, 2, 'delivered');
    await assert.rejects(c.markMessage(e4.lease, 2, 'delivered'), LeaseLostError);
    await assert.rejects(a2.markMessage(got[0]!.lease, 2, 'delivered'), LeaseLostError);
    const again = await a3.claim(W, 10);
    assert.equal(again.length, 4);
    assert.ok(!again.some((e) => e.id === e2.id), 'b\'s entry is not claimable');
  });

  it('long retry in the operator\'s view: the summary counts a released entry\'s waiting messages, FLUSHRETRY (retryNow) makes it due now, a stale timer leaves a later release alone', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    await a.enqueueMessage(W, { jobName: 'JV', jobId: 'J1' }, Buffer.from('m\r\n'));
    const [ca] = await a.claim(W, 1);
    assert.ok(ca);
    await a.markRetry(ca.lease, 1, 1, { queueId: '0123456789ab-1', sender: 's@x.test' });
    await a.markRetry(ca.lease, 2, 1);
    assert.equal((await b.retrySummary(W, 10)).messages, 0, 'a live lease: counted by its node, not here');
    await a.release(ca.lease, { retryInMs: 3_600_000, attempted: true });
    const sum = await b.retrySummary(W, 10);
    assert.equal(sum.messages, 2);
    assert.deepEqual(sum.files.map((x) => [x.entryId, x.jobName, x.jobId, x.messages, x.held]), [[ca.id, 'JV', 'J1', 2, false]]);
    assert.ok(sum.files[0]!.nextAttempt.getTime() > Date.now() + 3_000_000, 'due an Interval later');
    assert.deepEqual(await b.claim(W, 1), [], 'not due before its retry time');
    // A timer of an earlier release (attempts 0) leaves this release alone; this release's is applied.
    assert.equal(await b.retryNow(W, { entryId: ca.id, attempts: 0 }), 0);
    assert.equal(await b.retryNow(W, { entryId: ca.id, attempts: 1 }), 1);
    const [cb] = await b.claim(W, 1);
    assert.ok(cb, 'due now');
    assert.equal((await b.retrySummary(W, 10)).messages, 0, 'claimed again: no longer waiting');
    await b.release(cb.lease, { retryInMs: 3_600_000, attempted: true });
    // FLUSHRETRY: every released long-retry entry of the writer due now.
    assert.equal(await a.retryNow(W), 1);
    assert.equal(await a.retryNow(W), 0, 'already due');
    const [cc] = await a.claim(W, 1);
    assert.ok(cc);
    await a.markMessage(cc.lease, 1, 'delivered');
    await a.release(cc.lease, { retryInMs: 3_600_000, attempted: true });
    assert.equal((await b.retrySummary(W, 10)).messages, 1, 'a finished message no longer counts');
  });

  it('each message in long retry keeps its own retry time: loadCheckpoint tells how long each still waits; the entry\'s timer leaves them, FLUSHRETRY makes them due', async (_t, f) => {
    const a = f.node('a');
    await a.enqueueMessage(W, { jobName: 'JW', jobId: 'J2' }, Buffer.from('m\r\n'));
    const [ca] = await a.claim(W, 1);
    assert.ok(ca);
    await a.markRetry(ca.lease, 1, 1, undefined, 3_600_000);
    await a.markRetry(ca.lease, 2, 1, undefined, 7_200_000);
    await a.markRetry(ca.lease, 3, 1);
    const w = (await a.loadCheckpoint(ca.id)).retryInMs;
    assert.ok(w !== undefined && w.get(1)! > 3_500_000 && w.get(1)! <= 3_600_000 && w.get(2)! > 7_100_000, JSON.stringify([...w ?? []]));
    assert.equal(w.has(3), false, 'no retry time given: due whenever claimed');
    await a.release(ca.lease, { retryInMs: 3_600_000, attempted: true });
    assert.equal(await a.retryNow(W, { entryId: ca.id, attempts: 1 }), 1);
    // The timer came an hour early by the store's clock: the messages' own times move by as much
    // (message 1, released with the entry, is due; message 2 still waits its extra hour).
    const early = (await a.loadCheckpoint(ca.id)).retryInMs;
    assert.ok((early?.get(1) ?? 0) <= 1_000, `message 1 due with its entry: ${JSON.stringify([...early ?? []])}`);
    assert.ok((early?.get(2) ?? 0) > 3_500_000 && (early?.get(2) ?? 0) <= 3_600_000, 'the releasing node\'s timer makes the entry due, not every message');
    const [cb] = await a.claim(W, 1);
    assert.ok(cb);
    await a.release(cb.lease, { retryInMs: 3_600_000, attempted: true });
    assert.equal(await a.retryNow(W), 1);
    assert.equal((await a.loadCheckpoint(ca.id)).retryInMs, undefined, 'FLUSHRETRY: every waiting message due now');
    // A FLUSHRETRY that came while the node held the entry (store-source.ts): at its release the
    // entry and every message of it are due, also one that waits longer than the entry.
    const [cc] = await a.claim(W, 1);
    assert.ok(cc);
    await a.markRetry(cc.lease, 1, 3, undefined, 3_600_000);
    await a.markRetry(cc.lease, 2, 3, undefined, 7_200_000);
    await a.release(cc.lease, { retryInMs: 3_600_000, attempted: true });
    assert.equal(await a.retryNow(W, { entryId: ca.id, attempts: 2, flush: true }), 0, 'a stale release count leaves it alone');
    assert.ok(((await a.loadCheckpoint(ca.id)).retryInMs?.get(2) ?? 0) > 7_100_000);
    assert.equal(await a.retryNow(W, { entryId: ca.id, attempts: 3, flush: true }), 1);
    assert.equal((await a.loadCheckpoint(ca.id)).retryInMs, undefined, 'flush: every message of the entry due now');
  });

  it('pruned arrival identities are forgotten (only this node\'s, only the old ones, at most the limit)', async (t, f) => {
    const a = f.node('a');
    const other = f.node('b');
    const dir = tempDir(t);
    const paths = ['A1', 'A2', 'A3'].map((n) => join(dir, n));
    for (const p of paths) { writeFileSync(p, p); await a.storeSpoolFile(W, p, {}); }
    const pb = join(dir, 'B1');
    writeFileSync(pb, 'b');
    await other.storeSpoolFile(W, pb, {});
    assert.equal(await a.pruneArrivals(new Date(Date.now() - 3_600_000), 10), 0, 'none is an hour old');
    assert.equal(await a.pruneArrivals(new Date(Date.now() + 60_000), 2), 2, 'at most the limit');
    assert.equal(await a.pruneArrivals(new Date(Date.now() + 60_000), 10), 1);
    // A forgotten identity is stored again: why pruning must wait far longer than any restart.
    assert.equal((await a.storeSpoolFile(W, paths[0]!, {})).stored, true);
    assert.equal((await other.storeSpoolFile(W, pb, {})).stored, false, 'the other node\'s identities are kept');
  });

  it('nodes: every node that heartbeated, with its heartbeat age and the entries it holds', async (_t, f) => {
    const a = f.node('a');
    const b = f.node('b');
    for (let i = 0; i < 3; i++) await a.enqueueMessage(W, {}, Buffer.from(`${i}\r\n`));
    const mine = await a.claim(W, 2);
    await a.heartbeat(mine.map((c) => c.lease));
    await b.heartbeat([]);
    const nodes = await b.nodes();
    assert.deepEqual(nodes.map((n) => [n.name, n.claimed]), [['a', 2], ['b', 0]]);
    for (const n of nodes) assert.ok(n.heartbeatAge >= 0 && n.heartbeatAge < 3600, String(n.heartbeatAge));
  });

  it('subscribe wakes the node when work for its writer is stored, not for another writer', async (t, f) => {
    const a = f.node('a');
    let wakes = 0;
    let woke!: () => void;
    const wake = new Promise<void>((r) => { woke = r; });
    const stop = await a.subscribe(W, () => { wakes++; woke(); });
    t.after(stop);
    await a.enqueueMessage('OTHER', {}, Buffer.from('x\r\n'));
    await a.enqueueMessage(W, {}, Buffer.from('y\r\n'));
    await wake;
    assert.equal(wakes, 1);
  });
}
