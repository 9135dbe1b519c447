import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../log/index.js';
import { Accounting } from '../log/accounting.js';
import { forwarderAccounting } from './accounting.js';
import { SignallingClock } from '../testing/clock.js';
import { ESMTP_CAPS, FakeConnector, allAccepted as allAcceptedOf, allWith as fakeAllWith } from '../testing/fake-connector.js';
import { tempDir } from '../testing/peers.js';
import { Checkpoint } from './checkpoint.js';
import { Lifecycle, newCounters, type FinalOutcome, type WorkItem } from './lifecycle.js';
import { Target } from './pool.js';
import { Router } from './router.js';
import { NO_RATE_LIMITS, TargetLimiter } from './rate.js';
import type { TargetServerSpec } from './types.js';

const spec: TargetServerSpec = { targetIp: [], targetName: [], port: 25, connectLimit: 2, maxMsgSent: 0, messageSize: 524288, secure: false, tls: { caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }, auth: null, sourceIp: null };
const PLAIN = '192.0.2.1'; // up, no STARTTLS
const DOWN = '192.0.2.2'; // refuses connections (until the test lets it answer)

function setup(t: import('node:test').TestContext) {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  let downAnswers = false;
  connector.scripts.set(PLAIN, { capabilities: { ...ESMTP_CAPS, startTls: false } });
  connector.scripts.set(DOWN, { connect: () => (downAnswers ? undefined : { reason: 'connect', detail: 'connection refused' }) });
  const targets = [PLAIN, DOWN].map((address) => new Target({ address, port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 120_000, idleMs: 1000 }));
  const router = new Router(targets, clock);
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const counters = newCounters();
  const undeliverable: WorkItem[] = [];
  const lrt: number[] = [];
  let waits = 0;
  const lifecycle = new Lifecycle({
    router, checkpoint, clock, log: Logger.silent(), counters,
    undeliverable: { handle: async (item) => { undeliverable.push(item); return 'notified'; } },
    retry: () => ({ count: 3, intervalMs: 60_000 }),
    extended: () => ({ active: false, intervalMs: 0, ageMs: 0 }),
    onRetry: (_tkid, d) => lrt.push(d),
    onWait: (_tkid, w) => { if (w) waits++; },
  });
  return { clock, connector, lifecycle, counters, undeliverable, lrt, waits: () => waits, letDownAnswer: () => { downAnswers = true; } };
}

function tlsItem(): WorkItem {
  const r = { mailbox: { local: 'a', domain: 'remote.test' } };
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: 1, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [r], requireTls: true },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'JOB', jobId: 'J1', originUser: 'u' },
    arrival: new Date(0),
    pending: [r],
    failed: [],
    attempts: 0,
  };
}

/** Runs the item, moving the clock an Interval on each time the lifecycle parks; at most `rounds` times. */
async function drive(s: ReturnType<typeof setup>, item: WorkItem, rounds: number, onRound?: (n: number) => void): Promise<FinalOutcome | undefined> {
  let done = false;
  const run = s.lifecycle.run(item).finally(() => { done = true; });
  for (let n = 0; n < rounds && !done; n++) {
    while (!done && s.lifecycle.waitingCount() === 0) await Promise.race([s.clock.nextTimer(), run]);
    if (done) break;
    onRound?.(n);
    s.clock.advance(60_000);
  }
  assert.ok(done, `the message was still waiting after ${rounds} intervals`);
  return run;
}

// Issue #16 item 7: a dead secondary target used to park TLS mail in an unbounded WAIT. The seed
// fails TLS mail when no *available* target offers STARTTLS; here that is a transient failure:
// long retry (LRT, RetryLimit), so the target may come back in time.
test('TLS mail, the only target offering STARTTLS may be the one that is down: long retry bounded by RetryLimit, then undeliverable', async (t) => {
  const s = setup(t);
  assert.equal(await drive(s, tlsItem(), 10), 'undeliverable');
  assert.equal(s.undeliverable.length, 1);
  const reply = s.undeliverable[0]!.failed[0]!.reply;
  assert.equal(reply.code, 454);
  assert.match(reply.text, /no available target offers STARTTLS/);
  assert.deepEqual(s.lrt, [1, -1], 'counted in LRT while in long retry');
  assert.equal(s.counters.totalRetry, 3, 'RetryLimit Count retries, no more');
  assert.equal(s.waits(), 0, 'never parked in the unbounded target WAIT');
});

test('TLS mail in long retry is delivered when the target offering STARTTLS comes back', async (t) => {
  const s = setup(t);
  // After the first retry interval the down target answers (its ConnectRetry of 120 s runs out in the second).
  assert.equal(await drive(s, tlsItem(), 10, (n) => { if (n === 0) s.letDownAnswer(); }), 'delivered');
  assert.equal(s.undeliverable.length, 0);
  assert.equal(s.counters.mailSent, 1);
});

test('every target reachable and none offers STARTTLS: undeliverable at once (554 5.7.10), no retry', async (t) => {
  const s = setup(t);
  s.letDownAnswer();
  s.connector.scripts.set(DOWN, { capabilities: { ...ESMTP_CAPS, startTls: false } });
  assert.equal(await drive(s, tlsItem(), 1), 'undeliverable');
  assert.equal(s.undeliverable[0]!.failed[0]!.reply.code, 554);
  assert.equal(s.counters.totalRetry, 0);
});

// Issue #16 item 16: the MAIL record's `attempts` is the number of times the message was sent to
// a target — 1 for mail taken at once, one more per retry and per failover target — not the
// long-retry counter (0 for mail taken at once).
test('accounting MAIL attempts counts the real attempts', async (t) => {
  const dir = tempDir(t);
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const A = '192.0.2.10';
  const B = '192.0.2.11';
  // A defers the first message it sees; B loses the connection in the middle of "FAILOVER".
  // With equal load the router starts one target further on each call (A, B, A, B, ...).
  connector.scripts.set(A, { send: (m, n) => (n === 0 ? fakeAllWith(m, 'transient', 451) : allAcceptedOf(m)) });
  connector.scripts.set(B, { send: (m) => (m.data.includes('FAILOVER') ? fakeAllWith(m, 'transient', 421, false) : allAcceptedOf(m)) });
  const targets = [A, B].map((address) => new Target({ address, port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 1000, idleMs: 1000 }));
  const accounting = new Accounting({ path: join(dir, 'acct.jsonl'), instance: 'TEST', enabled: () => ({ config: false, connect: false, mail: true, spool: false, stats: false }) });
  t.after(() => accounting.close());
  const acc = forwarderAccounting(accounting);
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const lifecycle = new Lifecycle({
    router: new Router(targets, clock), checkpoint, clock, log: Logger.silent(), counters: newCounters(),
    undeliverable: { handle: async () => 'notified' },
    retry: () => ({ count: 3, intervalMs: 60_000 }),
    extended: () => ({ active: false, intervalMs: 0, ageMs: 0 }),
    onFinished: (item, outcome) => acc.onMailFinished(item, outcome),
  });
  const s = { lifecycle, clock } as unknown as ReturnType<typeof setup>;
  const mk = (no: number, body: string): WorkItem => ({ ...tlsItem(), origin: { kind: 'spool', entryId: 'e2', messageNo: no, tkid: 1 }, envelope: { ...tlsItem().envelope, requireTls: false }, data: Buffer.from(`Subject: ${body}\r\n\r\n${body}\r\n`) });
  // 1: A defers, the retry goes to B: 2 attempts.
  assert.equal(await drive(s, mk(1, 'RETRY'), 5), 'delivered');
  // 2: A takes it at once: 1 attempt.
  assert.equal(await drive(s, mk(2, 'ONCE'), 5), 'delivered');
  // 3: B loses the connection mid-message, A takes it in the same round: 2 attempts.
  assert.equal(await drive(s, mk(3, 'FAILOVER'), 5), 'delivered');
  for (const tg of targets) await tg.close(true);
  const lines = readFileSync(join(dir, 'acct.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messageNo: number; attempts: number });
  assert.deepEqual(lines.map((l) => [l.messageNo, l.attempts]), [[1, 2], [2, 1], [3, 2]]);
});

// Issue #16 item 9: seed 001 — a target's MAIL SENT counts a message with at least one accepted
// recipient; a partial send (one recipient refused) was not counted before.
test('per-target MAIL SENT counts a message with at least one accepted recipient', async (t) => {
  const s = setup(t);
  let refuseAll = false;
  s.connector.scripts.set(PLAIN, {
    capabilities: { ...ESMTP_CAPS, startTls: false },
    send: (m) => refuseAll ? fakeAllWith(m, 'permanent', 550) : ({
      status: 'partial', connectionUsable: true, detail: 'partial',
      recipients: m.envelope.recipients.map((recipient, k) => ({ recipient, status: k === 0 ? 'accepted' as const : 'permanent' as const, reply: k === 0 ? { code: 250, text: 'ok' } : { code: 550, enhanced: '5.1.1', text: 'no such user' } })),
    }),
  });
  const item = tlsItem();
  const two = [{ mailbox: { local: 'a', domain: 'remote.test' } }, { mailbox: { local: 'b', domain: 'remote.test' } }];
  const plainItem: WorkItem = { ...item, envelope: { ...item.envelope, recipients: two, requireTls: false }, pending: [...two] };
  assert.equal(await drive(s, plainItem, 1), 'undeliverable');
  const target = s.lifecycle['deps'].router.list().find((x) => x.addr.address === PLAIN)!;
  assert.equal(target.counters.mailAttempts, 1);
  assert.equal(target.counters.mailSent, 1, 'one recipient accepted: the target sent the message');
  // Nothing accepted: not sent (the pooled connection is reused, so the same script answers).
  refuseAll = true;
  const again: WorkItem = { ...plainItem, origin: { kind: 'spool', entryId: 'e1', messageNo: 2, tkid: 1 }, pending: [...two], failed: [] };
  assert.equal(await drive(s, again, 1), 'undeliverable');
  assert.equal(target.counters.mailSent, 1);
});

// ---- Rate limits (rate.ts) at the router ----

function rateTargets(addresses: string[], clock: SignallingClock, connector: FakeConnector, limiter: TargetLimiter): Target[] {
  return addresses.map((address) => {
    const t = new Target({ address, port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 120_000, idleMs: 1000 });
    t.limiter = limiter;
    return t;
  });
}

const msgTo = (n: number) => ({
  envelope: { from: { kind: 'mailbox' as const, mailbox: { local: 'job', domain: 'corp.test' } }, recipients: Array.from({ length: n }, (_, i) => ({ mailbox: { local: `r${i}`, domain: 'x.test' } })), requireTls: false },
  data: Buffer.from('Subject: x\r\n\r\nx\r\n'), size: 18,
});

test('router: a "451 4.7.0 rate limited" answer raises the back-off of the statement; the next transaction waits the spacing', async () => {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const limiter = new TargetLimiter({ ...NO_RATE_LIMITS }, clock);
  connector.scripts.set(PLAIN, { send: (m, n) => (n === 0 ? { status: 'transient', connectionUsable: true, detail: 'rate', reply: { code: 451, enhanced: '4.7.0', text: 'rate limited' }, recipients: m.envelope.recipients.map((recipient) => ({ recipient, status: 'transient' as const, reply: { code: 451, enhanced: '4.7.0', text: 'rate limited' } })) } : allAcceptedOf(m)) });
  const router = new Router(rateTargets([PLAIN], clock, connector, limiter), clock);
  const first = await router.attempt(msgTo(1));
  assert.equal(first.kind, 'tried');
  if (first.kind === 'tried') first.release();
  assert.equal(limiter.snapshot().backoffLevel, 1);
  const seen: string[] = [];
  const p = router.attempt(msgTo(1)).then((r) => { seen.push(r.kind); });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, [], 'the second transaction waits for the back-off spacing');
  assert.equal(connector.sent.length, 1);
  clock.advance(limiter.snapshot().backoffSpacingMs);
  await p;
  assert.deepEqual(seen, ['tried']);
  assert.equal(connector.sent.length, 2);
});

test('router: a target that must wait for its rate limit comes after one that can send now', async () => {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const busy = new TargetLimiter({ ...NO_RATE_LIMITS, msgPerMinute: 1 }, clock);
  const free = new TargetLimiter({ ...NO_RATE_LIMITS }, clock);
  const [a, b] = [...rateTargets([PLAIN], clock, connector, busy), ...rateTargets([DOWN], clock, connector, free)];
  const router = new Router([a!, b!], clock);
  assert.equal(await busy.beginMessage(), true); // the per-minute slot of the first statement is used
  const r = await router.attempt(msgTo(1));
  assert.equal(r.kind === 'tried' ? r.target : r.kind, DOWN);
});

test('router: stop() ends a rate-limit wait with "stopped", sending nothing', async () => {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const limiter = new TargetLimiter({ ...NO_RATE_LIMITS, msgPerMinute: 1 }, clock);
  const router = new Router(rateTargets([PLAIN], clock, connector, limiter), clock);
  const r1 = await router.attempt(msgTo(1));
  if (r1.kind === 'tried') r1.release();
  const p = router.attempt(msgTo(1));
  await new Promise((r) => setImmediate(r));
  router.stop();
  assert.equal((await p).kind, 'stopped');
  assert.equal(connector.sent.length, 1);
});

test('router: MaxRcptPerMsg sends the first N and returns the rest', async () => {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const router = new Router(rateTargets([PLAIN], clock, connector, new TargetLimiter({ ...NO_RATE_LIMITS, rcptPerMsg: 10 }, clock)), clock);
  const r = await router.attempt(msgTo(25));
  assert.equal(r.kind, 'tried');
  if (r.kind !== 'tried') return;
  assert.equal(r.outcomes.length, 10);
  assert.deepEqual(r.rest?.map((x) => x.mailbox.local), Array.from({ length: 15 }, (_, i) => `r${i + 10}`));
  r.release();
});

test('pool: MaxConnectPerMinute 1 — the second connection of the minute waits (MaxMsgSent 1 forces a new one)', async () => {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const t = new Target({ address: PLAIN, port: 25, source: { kind: 'TargetIP' }, server: { ...spec, maxMsgSent: 1 } }, connector, clock, { connectRetryMs: 120_000, idleMs: 1000 });
  t.limiter = new TargetLimiter({ ...NO_RATE_LIMITS, connectPerMinute: 1 }, clock);
  const router = new Router([t], clock);
  const r1 = await router.attempt(msgTo(1));
  if (r1.kind === 'tried') r1.release();
  let done = false;
  const p = router.attempt(msgTo(1)).then((r) => { done = true; if (r.kind === 'tried') r.release(); });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  assert.equal(connector.connects, 1);
  clock.advance(65_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(connector.connects, 1, 'still within the (margined) minute');
  clock.advance(1);
  await p;
  assert.equal(connector.connects, 2);
  assert.equal(t.state, 'ACTIVE', 'waiting for the connect limit is not a connect failure');
});
