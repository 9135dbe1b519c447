import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Health, type Recipient } from '../core/index.js';
import { Logger } from '../log/index.js';
import { SignallingClock } from '../testing/clock.js';
import { FakeConnector, allAccepted, allWith } from '../testing/fake-connector.js';
import { tempDir } from '../testing/peers.js';
import { Checkpoint } from './checkpoint.js';
import { CHECKPOINT_RETRY_MS, Lifecycle, newCounters, type ExtendedRetryStore, type WorkItem } from './lifecycle.js';
import { Target } from './pool.js';
import { Router } from './router.js';
import { NO_RATE_LIMITS, TargetLimiter } from './rate.js';
import type { TargetServerSpec } from './types.js';
import { LeaseLostError } from '../store/queue-store.js';

const spec: TargetServerSpec = { targetIp: [], targetName: [], port: 25, connectLimit: 2, maxMsgSent: 0, messageSize: 524288, secure: false, tls: { caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }, auth: null, sourceIp: null };

function rcpt(a: string): Recipient {
  const [local, domain] = a.split('@') as [string, string];
  return { mailbox: { local, domain } };
}


function setup(t: import('node:test').TestContext, addresses: string[], opts: { retryCount?: number; extended?: ExtendedRetryStore } = {}) {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const targets = addresses.map((address) => new Target({ address, port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 120_000, idleMs: 1000 }));
  const router = new Router(targets, clock);
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const counters = newCounters();
  const undeliverable: WorkItem[] = [];
  const lifecycle = new Lifecycle({
    router, checkpoint, clock, log: Logger.silent(), counters,
    undeliverable: { handle: async (item) => { undeliverable.push(item); return item.envelope.from.kind === 'null' ? 'dead-letter' : 'notified'; } },
    retry: () => ({ count: opts.retryCount ?? 2, intervalMs: 60_000 }),
    extended: () => ({ active: opts.extended !== undefined, intervalMs: 1_800_000, ageMs: 5 * 86_400_000, store: opts.extended }),
  });
  return { clock, connector, targets, router, checkpoint, counters, undeliverable, lifecycle };
}

function item(no: number, recipients: string[], requireTls = false): WorkItem {
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: no, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: recipients.map(rcpt), requireTls },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'JOB', jobId: 'J1', originUser: 'u' },
    arrival: new Date(0),
    pending: recipients.map(rcpt),
    failed: [],
    attempts: 0,
  };
}

/**
 * Waits until the lifecycle is parked on a timer (long retry or target wait): each time a timer
 * is set, looks again. No polling; a generous real-time bound only reports a lifecycle that never parks.
 */
async function settle(s: { lifecycle: Lifecycle; clock: SignallingClock }): Promise<void> {
  let bound: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => { bound = setTimeout(() => reject(new Error('lifecycle should be waiting')), 30_000); });
  try {
    while (s.lifecycle.waitingCount() === 0) await Promise.race([s.clock.nextTimer(), never]);
  } finally {
    clearTimeout(bound);
  }
}

test('delivered: the message is checkpointed in one mark (no per-recipient marks needed), counters', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  assert.equal(await s.lifecycle.run(item(1, ['a@x.test', 'b@x.test'])), 'delivered');
  assert.equal(s.counters.mailSent, 1);
  const cp = s.checkpoint.load('e1');
  assert.equal(cp.messages.get(1), 'delivered');
  assert.equal(cp.recipients.get(1), undefined, 'all accepted at once: the message mark is the record');
});

test('partly accepted: the accepted recipient is checkpointed before the retry, so a restart does not resend to it', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  s.connector.scripts.set('192.0.2.1', {
    send: (m, n) => n > 0 ? allAccepted(m) : {
      status: 'transient', connectionUsable: true, detail: 'partly',
      recipients: m.envelope.recipients.map((recipient) => recipient.mailbox.local === 'b'
        ? { recipient, status: 'transient' as const, reply: { code: 451, enhanced: '4.2.0', text: 'later' } }
        : { recipient, status: 'accepted' as const, reply: { code: 250, enhanced: '2.1.5', text: 'ok' } }),
    },
  });
  const run = s.lifecycle.run(item(1, ['a@x.test', 'b@x.test']));
  await settle(s);
  assert.equal(s.counters.currentRetry, 1);
  const cp = s.checkpoint.load('e1');
  assert.equal(cp.messages.get(1), undefined, 'not finished');
  assert.equal(cp.recipients.get(1)?.get('a@x.test')?.outcome, 'accepted');
  assert.equal(cp.recipients.get(1)?.get('b@x.test'), undefined);
  s.clock.advance(60_000);
  assert.equal(await run, 'delivered');
  assert.deepEqual(s.connector.sent.map((x) => x.message.envelope.recipients.map((r) => r.mailbox.local)), [['a', 'b'], ['b']], 'the retry goes only to b');
});

test('failover: a target that refuses connections goes NOT USABLE, the other delivers; retried after ConnectRetry', async (t) => {
  const s = setup(t, ['192.0.2.1', '192.0.2.2']);
  s.connector.scripts.set('192.0.2.1', { connect: () => ({ reason: 'connect', detail: 'ECONNREFUSED' }) });
  for (let i = 1; i <= 4; i++) assert.equal(await s.lifecycle.run(item(i, ['a@x.test'])), 'delivered');
  assert.equal(s.targets[0]!.state, 'NOT USABLE');
  assert.equal(s.targets[0]!.counters.connectFail, 1, 'not retried before ConnectRetry');
  assert.equal(s.targets[1]!.counters.mailSent, 4);
  s.clock.advance(120_000);
  s.connector.scripts.delete('192.0.2.1');
  assert.ok(s.targets[0]!.usable(s.clock.now()));
  await s.lifecycle.run(item(5, ['a@x.test']));
  await s.lifecycle.run(item(6, ['a@x.test']));
  assert.equal(s.targets[0]!.state, 'ACTIVE');
});

test('transient then success after one long-retry interval', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  s.connector.scripts.set('192.0.2.1', { send: (m, n) => (n === 0 ? allWith(m, 'transient', 451) : allAccepted(m)) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  await settle(s);
  assert.equal(s.counters.currentRetry, 1);
  s.clock.advance(60_000);
  assert.equal(await p, 'delivered');
  assert.equal(s.counters.currentRetry, 0);
  assert.equal(s.counters.totalRetry, 1);
});

test('one RCPT permanent of three: others delivered, failed one reported undeliverable', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  s.connector.scripts.set('192.0.2.1', { send: (m) => ({ status: 'partial', connectionUsable: true, detail: 'partial', recipients: m.envelope.recipients.map((recipient, i) => ({ recipient, status: i === 1 ? 'permanent' as const : 'accepted' as const, reply: { code: i === 1 ? 550 : 250, text: 'x' } })) }) });
  assert.equal(await s.lifecycle.run(item(1, ['a@x.test', 'b@x.test', 'c@x.test'])), 'undeliverable');
  assert.equal(s.undeliverable.length, 1);
  assert.deepEqual(s.undeliverable[0]!.failed.map((f) => f.address), ['b@x.test']);
});

test('transient until RetryLimit runs out: extended retry when active, else undeliverable', async (t) => {
  const puts: WorkItem[] = [];
  const store: ExtendedRetryStore = { put: async (it) => { puts.push(it); return 'x1'; }, update: async () => undefined, remove: async () => undefined };
  for (const withExt of [true, false]) {
    const s = setup(t, ['192.0.2.1'], { retryCount: 2, extended: withExt ? store : undefined });
    s.connector.scripts.set('192.0.2.1', { send: (m) => allWith(m, 'transient', 450) });
    const p = s.lifecycle.run(item(1, ['a@x.test']));
    for (let i = 0; i < 2; i++) { await settle(s); s.clock.advance(60_000); }
    assert.equal(await p, withExt ? 'extended' : 'undeliverable');
    assert.equal(s.connector.sent.length, 3, 'first try + Count retries');
    assert.equal(s.counters.totalRetry, 2);
    assert.equal(s.counters.currentRetry, 0);
  }
  assert.equal(puts.length, 1);
});

test('TLS required and no target offers STARTTLS: undeliverable with 5.7.10', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  s.connector.scripts.set('192.0.2.1', { capabilities: { esmtp: true, size: 0, startTls: false, pipelining: true, eightBitMime: true, auth: [] } });
  assert.equal(await s.lifecycle.run(item(1, ['a@x.test'])), 'delivered', 'learns capabilities on plain mail');
  assert.equal(await s.lifecycle.run(item(2, ['a@x.test'], true)), 'undeliverable');
  assert.equal(s.undeliverable[0]!.failed[0]!.reply.enhanced, '5.7.10');
});

test('no usable target: waits without counting a retry, continues when the target is back', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  let down = true;
  s.connector.scripts.set('192.0.2.1', { connect: () => (down ? { reason: 'connect', detail: 'ECONNREFUSED' } : undefined) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  await settle(s);
  assert.equal(s.targets[0]!.state, 'NOT USABLE');
  down = false;
  s.clock.advance(120_000);
  assert.equal(await p, 'delivered');
  assert.equal(s.counters.totalRetry, 0);
});

test('FLUSHRETRY wakes long-retry items at once', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  s.connector.scripts.set('192.0.2.1', { send: (m, n) => (n === 0 ? allWith(m, 'transient', 421) : allAccepted(m)) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  await settle(s);
  assert.equal(s.lifecycle.flushRetry(0), 1);
  assert.equal(await p, 'delivered');
});

test('oversize message only to a target whose SIZE allows it', async (t) => {
  const s = setup(t, ['192.0.2.1', '192.0.2.2']);
  s.connector.scripts.set('192.0.2.1', { capabilities: { esmtp: true, size: 10, startTls: true, pipelining: true, eightBitMime: true, auth: [] } });
  // learn both targets' capabilities
  await s.lifecycle.run(item(1, ['a@x.test']));
  await s.lifecycle.run(item(2, ['a@x.test']));
  const before = s.connector.sent.filter((x) => x.address === '192.0.2.1').length;
  for (let i = 3; i < 7; i++) assert.equal(await s.lifecycle.run(item(i, ['a@x.test'])), 'delivered');
  assert.equal(s.connector.sent.filter((x) => x.address === '192.0.2.1').length, before, 'small-SIZE target got no big message');
});

test('extended retry past Age: the recipients fail with 554 5.4.7 (class agrees with the code)', async (t) => {
  const store: ExtendedRetryStore = { put: async () => 'x1', update: async () => undefined, remove: async () => undefined };
  const s = setup(t, ['192.0.2.1'], { extended: store });
  s.connector.scripts.set('192.0.2.1', { send: (m) => allWith(m, 'transient', 450) });
  s.clock.advance(6 * 86_400_000); // older than Age (5 days) since arrival at 0
  const it: WorkItem = { ...item(1, ['a@x.test']), origin: { kind: 'extended', id: 'x1' } };
  assert.equal(await s.lifecycle.run(it), 'undeliverable');
  const reply = s.undeliverable[0]!.failed[0]!.reply;
  assert.deepEqual([reply.code, reply.enhanced], [554, '5.4.7']);
  assert.match(reply.text, /^message expired after 5 days: 450/);
});

/** Parks until the lifecycle waits on a timer or `run` settles (whichever first); true when settled. */
async function parkedOrDone(s: { lifecycle: Lifecycle; clock: SignallingClock }, run: Promise<unknown>): Promise<boolean> {
  let done = false;
  void run.then(() => { done = true; }, () => { done = true; });
  let bound: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => { bound = setTimeout(() => reject(new Error('lifecycle neither waits nor ends')), 30_000); });
  try {
    while (!done && s.lifecycle.waitingCount() === 0) await Promise.race([s.clock.nextTimer(), run.then(() => undefined, () => undefined), never]);
  } finally {
    clearTimeout(bound);
  }
  return done;
}

test('R3 item 1: an attempt lost after DATA (timeout) is a counted retry; the target is NOT USABLE; no resend before ConnectRetry and Interval', async (t) => {
  const s = setup(t, ['192.0.2.1'], { retryCount: 2 });
  s.connector.scripts.set('192.0.2.1', { send: (m) => ({ ...allWith(m, 'transient', 451, false), lost: 'timeout' }) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  // Today's code resent at once, forever: bound the steps; 2 retries need far fewer.
  let steps = 0;
  while (!(await parkedOrDone(s, p))) {
    assert.ok(++steps < 20, `still running after ${steps} waits: ${s.connector.sent.length} sends`);
    s.clock.advance(60_000);
  }
  assert.equal(await p, 'undeliverable', 'long retry ran out like a 4xx');
  assert.equal(s.connector.sent.length, 3, 'first try + RetryLimit Count, nothing more');
  assert.equal(s.counters.totalRetry, 2);
  assert.equal(s.targets[0]!.counters.lostAttempts, 3);
  assert.equal(s.targets[0]!.state, 'NOT USABLE', 'a target that hangs is out of rotation');
  assert.match(s.undeliverable[0]!.failed[0]!.reply.text, /./);
});

test('R3 item 1: a connection dropped mid-DATA is a counted retry; twice in a row makes the target NOT USABLE', async (t) => {
  const s = setup(t, ['192.0.2.1'], { retryCount: 3 });
  s.connector.scripts.set('192.0.2.1', { send: (m) => ({ ...allWith(m, 'transient', 451, false), lost: 'closed' }) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  await parkedOrDone(s, p);
  assert.equal(s.connector.sent.length, 1, 'no resend at once');
  assert.equal(s.counters.currentRetry, 1, 'in long retry like a 4xx');
  assert.equal(s.targets[0]!.state, 'ACTIVE', 'one drop is not yet a broken target');
  s.clock.advance(60_000);
  await parkedOrDone(s, p);
  assert.equal(s.connector.sent.length, 2);
  assert.equal(s.targets[0]!.state, 'NOT USABLE', 'the second drop in a row takes it out of rotation');
  s.connector.scripts.delete('192.0.2.1');
  let steps = 0;
  while (!(await parkedOrDone(s, p))) { assert.ok(++steps < 10); s.clock.advance(60_000); }
  assert.equal(await p, 'delivered');
  assert.equal(s.connector.sent.length, 3, 'delivered on the attempt after ConnectRetry');
  assert.equal(s.targets[0]!.counters.lostAttempts, 2);
});

test('R3 item 3: the connection is handed back only after the message is checkpointed', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const target = s.targets[0]!;
  const loadAtCommit: number[] = [];
  const real = s.checkpoint.markMessage.bind(s.checkpoint);
  s.checkpoint.markMessage = (entry, no, outcome) => { loadAtCommit.push(target.load()); return real(entry, no, outcome); };
  // ConnectLimit 2, three messages: the third waits for a connection.
  const runs = [1, 2, 3].map((n) => s.lifecycle.run(item(n, ['a@x.test'])));
  assert.deepEqual(await Promise.all(runs), ['delivered', 'delivered', 'delivered']);
  // When the first commit starts, both connections are still leased (and the third message waits).
  assert.equal(loadAtCommit[0], 3, `load at first commit ${loadAtCommit.join(',')}`);
});

test('R3 item 3: a checkpoint that cannot be written stops sending (WAIT) until it can; nothing is delivered without a record', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const real = s.checkpoint.markMessage.bind(s.checkpoint);
  let broken = true;
  const waits: boolean[] = [];
  const health = new Health();
  const deps = (s.lifecycle as unknown as { deps: { onWait: (tk: number, w: boolean) => void; health: Health } }).deps;
  deps.onWait = (_tk, w) => waits.push(w);
  deps.health = health;
  s.checkpoint.markMessage = (entry, no, outcome) => (broken ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : real(entry, no, outcome));
  const p1 = s.lifecycle.run(item(1, ['a@x.test']));
  while (s.lifecycle.checkpointProblem === undefined) await s.clock.nextTimer();
  const parked = s.clock.nextTimer(); // registered first: item 2 parks synchronously
  const p2 = s.lifecycle.run(item(2, ['a@x.test']));
  await parked; // item 2 parks (WAIT) instead of sending
  assert.equal(s.connector.sent.length, 1, 'the second message is not sent while the first has no record');
  assert.match(s.lifecycle.checkpointProblem ?? '', /disk is full/);
  // Both tasks' messages wait: the first for its record, the second before sending.
  assert.deepEqual(waits, [true, true]);
  // R3 #22: a contained fault that stops sending (/readyz 503, spoolgate_fault{component="checkpoint"} 1).
  const fault = health.get('checkpoint');
  assert.ok(fault !== undefined, 'the checkpoint fault is marked in health');
  assert.equal(fault.disabling, true);
  assert.match(fault.problem, /checkpoint cannot be written: .*disk is full/);
  broken = false;
  s.clock.advance(1_000); // the failed write is tried again and succeeds: sending resumes
  assert.deepEqual(await Promise.all([p1, p2]), ['delivered', 'delivered']);
  assert.equal(s.lifecycle.checkpointProblem, undefined);
  assert.equal(health.get('checkpoint'), undefined, 'cleared when the write succeeds');
  assert.deepEqual(waits, [true, true, false, false], 'no task is left in WAIT');
  assert.equal(s.connector.sent.length, 2, 'the first message was not sent again');
  assert.equal(s.checkpoint.load('e1').messages.get(1), 'delivered');
});

test('R3 item 4: a backward clock step does not stall ConnectRetry (monotonic deadlines)', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  let down = true;
  s.connector.scripts.set('192.0.2.1', { connect: () => (down ? { reason: 'connect', detail: 'ECONNREFUSED' } : undefined) });
  const p = s.lifecycle.run(item(1, ['a@x.test']));
  await settle(s);
  assert.equal(s.targets[0]!.state, 'NOT USABLE');
  down = false;
  s.clock.step(-3_600_000); // the system clock goes back an hour
  s.clock.advance(120_000); // ConnectRetry passes on the monotonic clock
  assert.equal(await p, 'delivered');
});

test('R3 item 4: a forward clock step larger than Age does not expire extended-retry mail at once', async (t) => {
  const store: ExtendedRetryStore = { put: async () => 'x1', update: async () => undefined, remove: async () => undefined };
  const s = setup(t, ['192.0.2.1'], { extended: store });
  const { SteadyTime } = await import('./steady-time.js');
  const steady = new SteadyTime(s.clock, Logger.silent());
  (s.lifecycle as unknown as { deps: { wallNow: () => number } }).deps.wallNow = () => steady.now();
  s.connector.scripts.set('192.0.2.1', { send: (m) => allWith(m, 'transient', 450) });
  const it: WorkItem = { ...item(1, ['a@x.test']), arrival: new Date(s.clock.now()), origin: { kind: 'extended', id: 'x1' } };
  s.clock.step(6 * 86_400_000); // the clock jumps 6 days ahead (Age is 5)
  assert.equal(await s.lifecycle.run(it), undefined, 'rescheduled, not expired');
  assert.equal(s.undeliverable.length, 0);
});

// ---- MaxRcptPerMsg (rate.ts): one envelope, several transactions, exact per-recipient outcomes ----

function withRcptLimit(s: ReturnType<typeof setup>, max: number): void {
  for (const t of s.targets) t.limiter = new TargetLimiter({ ...NO_RATE_LIMITS, rcptPerMsg: max }, s.clock);
}

const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i + 1}@x.test`);
const sentLists = (s: ReturnType<typeof setup>): string[][] => s.connector.sent.map((x) => x.message.envelope.recipients.map((r) => r.mailbox.local));

test('MaxRcptPerMsg 10: 25 recipients go as 10 + 10 + 5, each once, and the message is delivered once', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  withRcptLimit(s, 10);
  assert.equal(await s.lifecycle.run(item(1, addrs(25))), 'delivered');
  assert.deepEqual(sentLists(s).map((l) => l.length), [10, 10, 5]);
  assert.deepEqual(sentLists(s).flat(), addrs(25).map((a) => a.split('@')[0]), 'every recipient exactly once, in order');
  assert.equal(s.counters.mailSent, 1, 'one message, not three');
  assert.equal(s.counters.delivered, 1);
  assert.equal(s.targets[0]!.counters.mailAttempts, 3, 'three transactions');
  const cp = s.checkpoint.load('e1');
  assert.equal(cp.messages.get(1), 'delivered');
  // The first two transactions were recorded recipient by recipient before the next began.
  assert.equal(cp.recipients.get(1)?.get('r1@x.test')?.outcome, 'accepted');
  assert.equal(cp.recipients.get(1)?.get('r20@x.test')?.outcome, 'accepted');
});

test('MaxRcptPerMsg: each transaction is checkpointed before the next begins', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  withRcptLimit(s, 2);
  const seenAtSend: (string | undefined)[] = [];
  s.connector.scripts.set('192.0.2.1', {
    send: (m) => {
      // At the second transaction, the first one's recipients are on disk already.
      seenAtSend.push(s.checkpoint.load('e1').recipients.get(1)?.get('r1@x.test')?.outcome);
      return allAccepted(m);
    },
  });
  assert.equal(await s.lifecycle.run(item(1, addrs(4))), 'delivered');
  assert.deepEqual(seenAtSend, [undefined, 'accepted']);
});

test('MaxRcptPerMsg: a permanent failure in one transaction and a deferral in another — one notification, retry only the deferred', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  withRcptLimit(s, 2);
  s.connector.scripts.set('192.0.2.1', {
    send: (m, n) => ({
      status: 'partial', connectionUsable: true, detail: 'partial',
      recipients: m.envelope.recipients.map((recipient) => {
        const who = recipient.mailbox.local;
        if (who === 'r2') return { recipient, status: 'permanent' as const, reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } };
        if (who === 'r3' && n < 3) return { recipient, status: 'transient' as const, reply: { code: 451, enhanced: '4.3.0', text: 'later' } };
        return { recipient, status: 'accepted' as const, reply: { code: 250, enhanced: '2.1.5', text: 'ok' } };
      }),
    }),
  });
  const run = s.lifecycle.run(item(1, addrs(5)));
  await settle(s);
  // Round 1: [r1 r2] [r3 r4] [r5]; r3 deferred is not tried again in the same round.
  assert.deepEqual(sentLists(s), [['r1', 'r2'], ['r3', 'r4'], ['r5']]);
  assert.equal(s.counters.currentRetry, 1);
  s.clock.advance(60_000);
  assert.equal(await run, 'undeliverable');
  assert.deepEqual(sentLists(s).slice(3), [['r3']], 'the retry goes only to r3');
  assert.equal(s.undeliverable.length, 1, 'one notification for the whole message');
  assert.deepEqual(s.undeliverable[0]!.failed.map((f) => f.address), ['r2@x.test']);
  const cp = s.checkpoint.load('e1');
  assert.equal(cp.messages.get(1), 'undeliverable');
});

test('MaxRcptPerMsg: a transaction lost mid-way leaves its recipients for the retry and still sends the rest', async (t) => {
  const s = setup(t, ['192.0.2.1', '192.0.2.2']);
  withRcptLimit(s, 2);
  s.connector.scripts.set('192.0.2.1', { send: (m, n) => (n === 0 ? { ...allWith(m, 'transient', 421, false), lost: 'closed' as const } : allAccepted(m)) });
  s.connector.scripts.set('192.0.2.2', { send: (m, n) => (n === 0 ? { ...allWith(m, 'transient', 421, false), lost: 'closed' as const } : allAccepted(m)) });
  const run = s.lifecycle.run(item(1, addrs(4)));
  await settle(s);
  const first = sentLists(s);
  assert.deepEqual(first.slice(0, 2).map((l) => l.join(' ')).sort(), ['r1 r2', 'r3 r4'], 'both halves tried in the first round');
  s.clock.advance(60_000);
  assert.equal(await run, 'delivered');
  assert.deepEqual(sentLists(s).slice(2).flat().sort(), ['r1', 'r2', 'r3', 'r4'], 'each lost recipient once more, none twice');
});

test('R3 item 7: a refused recipient is checkpointed before the release, and the DSN is written after it: the connection is not held through the DSN\'s fsyncs', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const target = s.targets[0]!;
  s.connector.scripts.set('192.0.2.1', { send: (m) => allWith(m, 'permanent', 550) });
  const failedMarks: number[] = [];
  const real = s.checkpoint.markRecipient.bind(s.checkpoint);
  s.checkpoint.markRecipient = (entry, no, mark) => { if (mark.outcome === 'failed') failedMarks.push(target.load()); return real(entry, no, mark); };
  let loadAtDsn = -1;
  let releaseDsn!: () => void;
  const dsnGate = new Promise<void>((r) => { releaseDsn = r; });
  let dsnStarted!: () => void;
  const started = new Promise<void>((r) => { dsnStarted = r; });
  const deps = (s.lifecycle as unknown as { deps: { undeliverable: { handle: (i: WorkItem) => Promise<'notified'> } } }).deps;
  deps.undeliverable = { handle: async () => { loadAtDsn = target.load(); dsnStarted(); await dsnGate; return 'notified'; } };
  const run = s.lifecycle.run(item(1, ['a@x.test', 'b@x.test']));
  await started;
  assert.deepEqual(failedMarks, [1, 1], 'each refusal recorded while the connection is leased');
  assert.equal(loadAtDsn, 0, 'the connection is back before the DSN is written');
  releaseDsn();
  assert.equal(await run, 'undeliverable');
  assert.deepEqual(s.checkpoint.load('e1').messages.get(1), 'undeliverable');
});

// [P2] A write the shared store refuses because another node took the entry over is not a fault
// of the checkpoint: it is not retried (it never could succeed), sending goes on for the other
// messages, and only this message stops.
test('P2: a checkpoint write refused with LeaseLostError stops that message only: no retry, no checkpoint fault, others are sent', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const real = s.checkpoint.markMessage.bind(s.checkpoint);
  const lease = { entryId: '7', node: 'n1', token: '3', expires: new Date(0) };
  s.checkpoint.markMessage = (entry, no, outcome) => (no === 1 ? Promise.reject(new LeaseLostError(lease, `checkpoint of message ${no}`)) : real(entry, no, outcome));
  await assert.rejects(s.lifecycle.run(item(1, ['a@x.test'])), LeaseLostError);
  assert.equal(s.lifecycle.checkpointProblem, undefined, 'sending is not stopped');
  assert.equal(await s.lifecycle.run(item(2, ['a@x.test'])), 'delivered');
  assert.equal(s.connector.sent.length, 2);
});

// Seen in the database outage test (test/cluster/outage.test.ts): the shared store is down, a
// mark fails (checkpoint fault: sending stops), the heartbeat watchdog then gives the lease up and
// the retried mark ends with LeaseLostError. That write was the only one probing the checkpoint:
// the fault stayed raised for ever and every other message waited in WAIT — the node never
// resumed when the database came back.
test('P2: a failing checkpoint write that ends with LeaseLostError does not leave sending stopped for ever', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const real = s.checkpoint.markMessage.bind(s.checkpoint);
  const lease = { entryId: '7', node: 'n1', token: '3', expires: new Date(0) };
  let mode: 'down' | 'lost' | 'up' = 'down';
  s.checkpoint.markMessage = (entry, no, outcome) =>
    mode === 'down' ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
      : mode === 'lost' && no === 1 ? Promise.reject(new LeaseLostError(lease, `checkpoint of message ${no}`))
        : real(entry, no, outcome);
  const p1 = s.lifecycle.run(item(1, ['a@x.test']));
  while (s.lifecycle.checkpointProblem === undefined) await s.clock.nextTimer();
  const parked = s.clock.nextTimer();
  const p2 = s.lifecycle.run(item(2, ['a@x.test']));
  await parked; // message 2 waits (WAIT) while nothing can be recorded
  assert.equal(s.connector.sent.length, 1);
  mode = 'lost'; // the database is back; message 1's lease was given up meanwhile
  s.clock.advance(1_000);
  await assert.rejects(p1, LeaseLostError);
  assert.equal(s.lifecycle.checkpointProblem, undefined, 'no write is left probing: the fault is lifted, the next write finds out');
  mode = 'up';
  s.clock.advance(60_000); // message 2's pause ends (a bound, not a probe)
  assert.equal(await p2, 'delivered');
  assert.equal(s.connector.sent.length, 2);
});

test('P2: a lost lease stops the entry\'s messages at once: one waiting in long retry and one waiting for a target are not tried again', async (t) => {
  // Two lifecycles: one whose only target answers 451 (long retry in memory), one whose target
  // refuses connections (waiting for a target, ConnectRetry 120 s).
  const retrying = setup(t, ['192.0.2.1']);
  retrying.connector.scripts.set('192.0.2.1', { send: (m) => allWith(m, 'transient', 451) });
  const noTarget = setup(t, ['192.0.2.2']);
  noTarget.connector.scripts.set('192.0.2.2', { connect: () => ({ reason: 'connect', detail: 'ECONNREFUSED' }) });
  let lost = false;
  const leased = (no: number): WorkItem => ({ ...item(no, ['a@x.test']), abandoned: () => lost });
  const inRetry = retrying.lifecycle.run(leased(1));
  const waiting = noTarget.lifecycle.run(leased(2));
  await settle(retrying);
  await settle(noTarget);
  assert.equal(retrying.connector.sent.length, 1, 'one attempt, then long retry');
  assert.equal(noTarget.connector.connects, 1, 'one connection refused, then the wait for a target');
  // The LeaseKeeper reports the lease lost (store-source onLost → Forwarder → Lifecycle.abandon).
  lost = true;
  assert.equal(retrying.lifecycle.abandon('other-entry'), 0, 'only the entry named');
  assert.equal(retrying.lifecycle.abandon('e1'), 1);
  assert.equal(noTarget.lifecycle.abandon('e1'), 1);
  assert.equal(await inRetry, undefined, 'no final outcome here: the node that took the entry over has it');
  assert.equal(await waiting, undefined);
  // Time passes beyond the interval and ConnectRetry: nothing more is tried on this node.
  retrying.clock.advance(600_000);
  noTarget.clock.advance(600_000);
  assert.equal(retrying.connector.sent.length, 1);
  assert.equal(noTarget.connector.connects, 1);
  assert.equal(retrying.checkpoint.load('e1').messages.size, 0, 'nothing recorded as finished');
  assert.equal(retrying.undeliverable.length + noTarget.undeliverable.length, 0);
  assert.equal(retrying.counters.currentRetry, 0, 'it left long retry');
});

// [P2] The database unreachable: a mark fails (a checkpoint fault, sending stops), the node's
// lease is given up meanwhile, and the retried mark is refused with LeaseLostError once the
// database answers again. That answer ends the fault: otherwise no write would ever succeed
// again (nothing is sent while it lasts) and the node would stay stopped for good.
test('P2: a checkpoint fault (database unreachable) ends when the retried write is refused with LeaseLostError; sending resumes', async (t) => {
  const s = setup(t, ['192.0.2.1']);
  const real = s.checkpoint.markMessage.bind(s.checkpoint);
  const lease = { entryId: '7', node: 'n1', token: '3', expires: new Date(0) };
  let calls = 0;
  s.checkpoint.markMessage = (entry, no, outcome) => {
    if (no !== 1) return real(entry, no, outcome);
    calls++;
    return Promise.reject(calls === 1 ? new Error('Connection terminated unexpectedly') : new LeaseLostError(lease, `checkpoint of message ${no}`));
  };
  const first = s.lifecycle.run(item(1, ['a@x.test']));
  const refused = assert.rejects(first, LeaseLostError);
  await s.clock.nextTimer();
  assert.match(s.lifecycle.checkpointProblem ?? '', /Connection terminated/, 'the failure stops sending');
  s.clock.advance(CHECKPOINT_RETRY_MS);
  await refused;
  assert.equal(s.lifecycle.checkpointProblem, undefined, 'the store answered: sending resumes');
  assert.equal(await s.lifecycle.run(item(2, ['a@x.test'])), 'delivered');
});
