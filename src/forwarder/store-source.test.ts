// [P2] The forwarder's store source (store-source.ts) on the SQLite QueueStore (the same contract
// as PostgreSQL's, no server needed): arrival stores a batch file and removes it from the spool;
// a claim hands a task the entry's bytes; checkpoint marks go to the store, fenced by the lease;
// after another node took the entry over, this node's marks are refused and its finish is harmless.
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { systemClock, type Clock } from '../core/index.js';
import { Logger } from '../log/index.js';
import { tempDir } from '../testing/peers.js';
import { until } from '../testing/gateway.js';
import { spoolLayout, submitToSpool } from '../spool/submit.js';
import { SqliteQueueStore } from '../store/sqlite/queue.js';
import { LeaseLostError } from '../store/queue-store.js';
import { Checkpoint } from './checkpoint.js';
import { storeSource } from './store-source.js';
import { enqueueMessage } from '../spool/enqueue.js';
import { StoreMessageQueue } from '../spool/message-queue.js';
import type { Envelope } from '../core/envelope.js';
import type { TaskEntry } from './task.js';
import { DirectoryHeldFiles } from '../spool/held-files.js';

/** The store row of an entry, by its name. */
function rowOf(path: string, name: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return String((db.prepare('SELECT id FROM queue_entries WHERE name = ?').get(name) as { id: number }).id);
  } finally {
    db.close();
  }
}

/** A store source on a SQLite QueueStore beside `root` (the spool), started; stopped and closed after the test. */
async function startSource(t: TestContext, root: string, pollMs: number): Promise<{ storePath: string; store: SqliteQueueStore; local: Checkpoint; src: ReturnType<typeof storeSource> }> {
  const storePath = join(dirname(root), 'queue.db');
  const store = new SqliteQueueStore(storePath, { node: 'a', leaseSeconds: 30 });
  const local = Checkpoint.open(join(dirname(root), 'cp.db'));
  const src = storeSource({
    store, writer: 'W', layout: spoolLayout(root, 'W'), held: new DirectoryHeldFiles(spoolLayout(root, 'W')), clock: systemClock, log: Logger.silent(), leaseMs: 30_000, heartbeatMs: 10_000, pollMs,
    policy: () => ({ badSpoolDisp: 'hold', report: 'none' }),
  });
  await src.start();
  t.after(async () => { await src.stop(); await store.close(); local.close(); });
  return { storePath, store, local, src };
}

/** The source and checkpoint the forwarder gets (a store entry never goes to the local source), and what they hand out. */
function handOut(src: ReturnType<typeof storeSource>, local: Checkpoint): ReturnType<ReturnType<typeof storeSource>['wrap']> & { got: TaskEntry[] } {
  const notLocal = async (): Promise<never> => { throw new Error('a store entry went to the local source'); };
  const wrapped = src.wrap({ source: { list: async () => [], watch: () => undefined, finish: notLocal, hold: notLocal, report: notLocal }, disposeBadEntries: async () => undefined }, local);
  const got: TaskEntry[] = [];
  wrapped.source.watch((x) => got.push(x));
  return { ...wrapped, got };
}

test('store source: arrival, claim with the bytes, marks in the store fenced by the lease, a takeover refuses them', async (t) => {
  const root = join(tempDir(t), 'spool');
  const bytes = Buffer.from('HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'latin1');
  const e = await submitToSpool({ root, writer: 'W', data: bytes, attrs: { jobName: 'J1', recordFormat: 'text', encoding: 'ISO8859-1' } });
  const { storePath, store, local, src } = await startSource(t, root, 60_000);

  // Arrival: a batch file goes to the store and leaves the spool.
  assert.equal(src.divert(e), true);
  await until('stored and unlinked', () => !existsSync(e.path), 10_000);

  const { source, checkpoint, got } = handOut(src, local);
  source.wantMore?.(2);
  await until('claimed and handed', () => got.length === 1, 10_000);
  const te = got[0]!;
  assert.equal(te.id, e.id, 'the task keeps the spool entry id the file had (its name in the store)');
  assert.deepEqual(readFileSync(te.path), bytes, 'the task reads the stored bytes');
  assert.equal(te.attrs.jobName, 'J1');
  assert.equal(te.attrs.recordFormat, 'text');
  assert.equal(src.claimed(), 1);

  // Marks go to the store (where a node taking over finds them), not to the local checkpoint.
  await checkpoint.markRecipient(te.id, 1, { address: 'a@x.test', outcome: 'accepted' });
  const entryId = rowOf(storePath, te.id);
  assert.equal((await store.loadCheckpoint(entryId)).recipients.get(1)?.get('a@x.test')?.outcome, 'accepted');
  assert.equal(local.load(te.id).recipients.size, 0);

  // Node b, whose clock is past the lease, takes the entry over: a's marks are refused (fencing).
  const ahead: Clock = { now: () => Date.now() + 31_000, setTimer: (ms, fn) => systemClock.setTimer(ms, fn) };
  const b = new SqliteQueueStore(storePath, { node: 'b', leaseSeconds: 30, clock: ahead });
  t.after(() => b.close());
  const taken = await b.claim('W', 5);
  assert.equal(taken[0]?.takenOverFrom, 'a');
  assert.equal((await b.loadCheckpoint(taken[0]!.id)).recipients.get(1)?.get('a@x.test')?.outcome, 'accepted', 'b sees what a finished');
  await assert.rejects(checkpoint.markMessage(te.id, 1, 'delivered'), LeaseLostError);
  // a's finish does not remove b's entry (complete is fenced too); a's copy is gone.
  await source.finish(te);
  await checkpoint.forget(te.id);
  assert.ok(!existsSync(te.path));
  assert.equal(src.claimed(), 0);
  await b.complete(taken[0]!.lease);
});

test('store source: message entries — one written straight to the queue and one arriving from the spool — are claimed as message entries, bytes and envelope exact', async (t) => {
  const root = join(tempDir(t), 'spool');
  const { store, local, src } = await startSource(t, root, 60_000);
  const envelope = (to: string): Envelope => ({ from: { kind: 'mailbox', mailbox: { local: 'sender', domain: 'x.test' } }, recipients: [{ mailbox: { local: to, domain: 'y.test' } }], requireTls: false });
  // A relayed message as the receiver accepted it (lines over 998 octets, trailing blanks, 8-bit: untouched).
  const relayed = Buffer.concat([Buffer.from('Received: from c\r\nSubject: relayed  \r\n\r\n', 'latin1'), Buffer.alloc(1200, 0x61), Buffer.from('\r\n\xe9t\xe9\r\n', 'latin1')]);
  const queue = new StoreMessageQueue(store, () => ({ writer: 'W', hostName: 'gw.test' }));
  const q = await queue.enqueue({ envelope: envelope('r1'), data: relayed, origin: { kind: 'receiver', client: '127.0.0.1', helo: 'c', auth: null, tls: false, session: 's1' }, jobName: 'RECEIVER' });
  assert.match(q.id, /^[0-9a-z]{20}$/, 'a new spool entry id, as a local message entry gets');
  // A submission tool's entry in the local spool: stored by arrival (kind message), then unlinked.
  const sub = await enqueueMessage({ root, writer: 'W', envelope: envelope('r2'), data: Buffer.from('Subject: tool\r\n\r\nhi\r\n'), origin: { kind: 'submission', tool: 'sendmail' } });
  assert.equal(src.divert(sub), true);
  await until('stored and unlinked', () => !existsSync(sub.path), 10_000);

  const { source, got } = handOut(src, local);
  source.wantMore?.(4);
  await until('both claimed', () => got.length === 2, 10_000);
  const [one, two] = got;
  assert.equal(one!.id, q.id);
  assert.deepEqual(readFileSync(one!.path), relayed, 'the relayed bytes, exactly');
  assert.equal(one!.message?.origin.kind, 'receiver');
  assert.equal(one!.message?.envelope.recipients[0]?.mailbox.local, 'r1');
  assert.equal(one!.attrs.jobName, 'RECEIVER');
  assert.equal(one!.attrs.jobId, q.jobId);
  assert.equal(two!.id, sub.id, 'the spool entry id the tool\'s entry had');
  assert.equal(two!.message?.origin.kind, 'submission');
  assert.equal(two!.message?.envelope.recipients[0]?.mailbox.local, 'r2');
  assert.equal(two!.attrs.originUid, sub.attrs.originUid, 'the owner of the spool file stays the identity');
  assert.deepEqual(readFileSync(two!.path).toString(), 'Subject: tool\r\n\r\nhi\r\n');
  for (const e of got) await source.finish(e);
  assert.equal(src.claimed(), 0);
});

test('store source: a file claimed early for an operator\'s command on one message leaves the others to their own retry time (waitUntil, keepWaiting), and is released to the earliest of them', async (t) => {
  const root = join(tempDir(t), 'spool');
  const msg = (n: number): string => `MAIL FROM:<job@corp.test>\r\nRCPT TO:<a${n}@x.test>\r\nDATA\r\nSubject: s${n}\r\n\r\nbody\r\n.\r\n`;
  const bytes = Buffer.from(`HELO JOBHOST\r\n${msg(1)}${msg(2)}${msg(3)}QUIT\r\n`, 'latin1');
  const e = await submitToSpool({ root, writer: 'W', data: bytes, attrs: { jobName: 'J1', recordFormat: 'text', encoding: 'ISO8859-1' } });
  const { storePath, store, local, src } = await startSource(t, root, 100);
  src.divert(e);
  await until('stored and unlinked', () => !existsSync(e.path), 10_000);
  const { source, checkpoint, got } = handOut(src, local);
  source.wantMore?.(1);
  await until('claimed', () => got.length === 1, 10_000);
  const te = got[0]!;
  const entryId = rowOf(storePath, te.id);

  // The first attempt: all three get a 451; 1 and 2 wait an hour, 3 two hours; the file is released.
  const hour = 3_600_000;
  await checkpoint.deferRetry!(te.id, 1, 1, new Date(Date.now() + hour));
  await checkpoint.deferRetry!(te.id, 2, 1, new Date(Date.now() + hour));
  await checkpoint.deferRetry!(te.id, 3, 1, new Date(Date.now() + 2 * hour));
  assert.equal(source.giveBack!(te, false), true);
  const released = async (): Promise<boolean> => src.claimed() === 0 && (await store.retrySummary('W', 10)).files.length === 1;
  await until('released', released, 10_000);
  const waits = (await store.loadCheckpoint(entryId)).retryInMs;
  assert.ok(waits !== undefined && waits.get(1)! > hour - 60_000 && waits.get(3)! > 2 * hour - 60_000, `each message keeps its own retry time: ${JSON.stringify([...waits ?? []])}`);

  // An operator bounces message 1 (stored with it, the entry made due now: OperatorStore.commandRetry).
  const db = new Database(storePath);
  db.prepare(`UPDATE checkpoint_retries SET command = ? WHERE entry_id = ? AND no = 1`).run(JSON.stringify({ action: 'bounce', operator: 'ops', reason: 'gone' }), Number(entryId));
  db.prepare('UPDATE queue_entries SET next_attempt = ? WHERE id = ?').run(Date.now() - 1, Number(entryId));
  db.close();
  source.wantMore?.(1);
  await until('claimed for the command', () => got.length === 2, 10_000);
  const again = got[1]!;
  const cp = checkpoint.load(again.id);
  assert.equal(cp.commands?.get(1)?.action, 'bounce', 'the command is carried out');
  assert.deepEqual([...(cp.waitUntil?.keys() ?? [])].sort(), [2, 3], 'the others are not due: left untried (their attempts are not spent)');
  assert.ok(cp.waitUntil!.get(2)! > Date.now() + hour - 60_000);

  // The node bounces 1 and leaves 2 and 3 waiting: released to the earliest of their own times, attempts unchanged.
  await checkpoint.markMessage(again.id, 1, 'undeliverable');
  checkpoint.keepWaiting!(again.id, 2, cp.waitUntil!.get(2));
  checkpoint.keepWaiting!(again.id, 3, cp.waitUntil!.get(3));
  assert.equal(source.giveBack!(again, false), true);
  await until('released again', released, 10_000);
  const after = await store.loadCheckpoint(entryId);
  assert.deepEqual([...after.attempts].sort(), [[2, 1], [3, 1]], 'no attempt counted for the messages left waiting');
  assert.equal(after.commands, undefined);
  const sum = await store.retrySummary('W', 10);
  const next = sum.files[0]!.nextAttempt.getTime();
  assert.ok(next > Date.now() + hour - 60_000 && next < Date.now() + hour + 60_000, `due at message 2's retry time, not at once nor after the retry interval: ${new Date(next).toISOString()}`);
  assert.deepEqual(await store.claim('W', 1), [], 'not claimable before then');
});

test('store source: FLUSHRETRY reaches messages deferred on a file this node still holds, and a release under way — the entry and its messages are due at once, not after the retry interval', async (t) => {
  const root = join(tempDir(t), 'spool');
  const msg = (n: number): string => `MAIL FROM:<job@corp.test>\r\nRCPT TO:<a${n}@x.test>\r\nDATA\r\nSubject: s${n}\r\n\r\nbody\r\n.\r\n`;
  const { storePath, store, local, src } = await startSource(t, root, 100);
  const { source, checkpoint, got } = handOut(src, local);
  const hour = 3_600_000;
  /** A two-message file stored and claimed; message 1 deferred an hour (its 451), message 2 still being tried. */
  const claimOne = async (job: string): Promise<{ te: TaskEntry; entryId: string }> => {
    const e = await submitToSpool({ root, writer: 'W', data: Buffer.from(`HELO JOBHOST\r\n${msg(1)}${msg(2)}QUIT\r\n`, 'latin1'), attrs: { jobName: job, recordFormat: 'text', encoding: 'ISO8859-1' } });
    src.divert(e);
    await until('stored and unlinked', () => !existsSync(e.path), 10_000);
    const before = got.length;
    source.wantMore?.(1);
    await until('claimed', () => got.length === before + 1, 10_000);
    const te = got[before]!;
    await checkpoint.deferRetry!(te.id, 1, 1, new Date(Date.now() + hour));
    await checkpoint.deferRetry!(te.id, 2, 1, new Date(Date.now() + hour));
    return { te, entryId: rowOf(storePath, te.id) };
  };
  /** The entry can be claimed now and none of its messages waits: FLUSHRETRY made it all due. */
  const allDue = async (entryId: string, what: string): Promise<void> => {
    const waits = (await store.loadCheckpoint(entryId)).retryInMs;
    assert.ok([...(waits?.values() ?? [])].every((ms) => ms <= 1_000), `${what}: its messages are due: ${JSON.stringify([...waits ?? []])}`);
    const claimed = await store.claim('W', 1);
    assert.equal(claimed.length, 1, `${what}: the entry is due now, not in an hour`);
    assert.equal(claimed[0]!.id, entryId);
    await store.release(claimed[0]!.lease, { retryInMs: hour, attempted: false });
  };

  // FLUSHRETRY while the pass is still going on: the file is released due at once.
  const a = await claimOne('HELD');
  await source.flushShared!();
  assert.equal(source.giveBack!(a.te, false), true);
  await until('released', async () => src.claimed() === 0 && (await store.retrySummary('W', 10)).files.length === 1, 10_000);
  await allDue(a.entryId, 'flushed while held');
  await store.retryNow('W'); // what allDue's release put back waits again for the next case
  const left = await store.claim('W', 1);
  await store.complete(left[0]!.lease);

  // FLUSHRETRY while the release is being written: it waits for it, then makes it due.
  const b = await claimOne('RELEASE');
  assert.equal(source.giveBack!(b.te, false), true);
  await source.flushShared!();
  await allDue(b.entryId, 'flushed while released');
});
