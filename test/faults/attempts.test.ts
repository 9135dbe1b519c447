// Fault injection, short profile (R3 #22 items 1 and 3): a target that hangs after the final
// dot, answers it later than DataTerm, drops the connection mid-DATA, refuses recipients by
// address, or crashes and restarts. Every attempt ends in a counted outcome, nothing is resent
// in a loop, and the conservation check holds after each scenario. The long profile
// (FAULTS_PROFILE=long, `npm run test:faults`) runs more messages per scenario.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultTarget, assertConserved, conservation, subjectOf } from '../../src/testing/fault-target.js';
import { forwarderRig } from './harness.js';

const LONG = process.env.FAULTS_PROFILE === 'long';
const N = LONG ? 40 : 4;

function subjects(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} message ${i + 1}`);
}

async function startTarget(t: import('node:test').TestContext, opts?: Parameters<typeof FaultTarget.start>[0]): Promise<FaultTarget> {
  const target = await FaultTarget.start(opts);
  t.after(() => target.close());
  return target;
}

test('target hangs after the final dot: counted attempts, target out of rotation, long retry then notified; no resend loop', async (t) => {
  const target = await startTarget(t);
  target.fault = { kind: 'hang-after-data' };
  const rig = forwarderRig(t, target, { retryCount: 2, connectLimit: 2 });
  const read = subjects('HANG', N);
  const outcomes = await rig.drive(read.map((s) => rig.lifecycle.run(rig.item(s))), 60_000, 20 * N);
  assert.ok(outcomes.every((o) => o === 'undeliverable'), outcomes.join(','));
  assert.equal(rig.target.state, 'NOT USABLE');
  // Each attempt is one copy at the hanging target; at most 1 + Count attempts per message.
  assert.ok(target.received.length <= N * 3, `${target.received.length} copies for ${N} messages`);
  assert.equal(rig.target.counters.lostAttempts, target.received.length);
  const r = conservation({ read, delivered: target.accepted.map((m) => subjectOf(m.data)), notified: rig.undeliverable.map((i) => subjectOf(i.data)) });
  assertConserved(r, { maxDuplicates: 0 });
  assert.equal(r.counts.notified, N);
});

test('final dot answered later than DataTerm: the stored copies are bounded by the attempts; delivered once the target is fast again', async (t) => {
  const target = await startTarget(t);
  target.fault = { kind: 'slow-dot', delayMs: 1_000 };
  const rig = forwarderRig(t, target, { retryCount: 5, connectLimit: 1, dataTermMs: 200 });
  const read = subjects('SLOW', 1);
  const run = rig.lifecycle.run(rig.item(read[0]!));
  await rig.parkedOrDone(run);
  assert.equal(target.received.length, 1, 'one attempt, then long retry (not a resend at once)');
  assert.equal(rig.counters.currentRetry, 1);
  target.fault = { kind: 'none' };
  const [outcome] = await rig.drive([run], 60_000, 20);
  assert.equal(outcome, 'delivered');
  const r = conservation({ read, delivered: target.accepted.map((m) => subjectOf(m.data)) });
  // The first copy was in flight when its reply was lost: one duplicate, counted.
  assertConserved(r, { maxDuplicates: 1 });
  assert.equal(r.duplicates, 1);
});

test('connection dropped mid-DATA: counted, NOT USABLE after repeated drops, extended retry when active', async (t) => {
  const target = await startTarget(t);
  target.fault = { kind: 'drop-mid-data', afterBytes: 10 };
  const puts: string[] = [];
  const rig = forwarderRig(t, target, {
    retryCount: 1, connectLimit: 1,
    extended: { put: async (item) => { puts.push(subjectOf(item.data)); return `x${puts.length}`; }, update: async () => undefined, remove: async () => undefined },
  });
  const read = subjects('DROP', N);
  const outcomes = await rig.drive(read.map((s) => rig.lifecycle.run(rig.item(s))), 60_000, 20 * N);
  assert.ok(outcomes.every((o) => o === 'extended'), outcomes.join(','));
  assert.equal(target.received.length, 0, 'no message completed');
  assert.ok(target.connections <= N * 2, `${target.connections} connections for ${N} messages × 2 attempts`);
  assert.equal(rig.target.state, 'NOT USABLE');
  assertConserved(conservation({ read, delivered: [], extended: puts }), { maxDuplicates: 0 });
});

test('4xx and 5xx by recipient: the 5xx is notified, the 4xx retried alone, the 2xx delivered once', async (t) => {
  let soft = 0;
  const target = await startTarget(t, { rcpt: (a) => (a.startsWith('hard') ? '550 5.1.1 no such user' : a.startsWith('soft') && soft++ === 0 ? '451 4.2.0 later' : undefined) });
  const rig = forwarderRig(t, target, { retryCount: 2 });
  const [outcome] = await rig.drive([rig.lifecycle.run(rig.item('RCPT message 1', ['ok@remote.test', 'soft@remote.test', 'hard@remote.test']))], 60_000, 10);
  assert.equal(outcome, 'undeliverable');
  assert.deepEqual(target.accepted.map((m) => m.recipients), [['ok@remote.test'], ['soft@remote.test']]);
  assert.deepEqual(rig.undeliverable[0]!.failed.map((f) => f.address), ['hard@remote.test']);
});

test('target crashes and restarts: connects refused (WAIT, not a retry), delivered after ConnectRetry, nothing lost', async (t) => {
  const target = await startTarget(t);
  const rig = forwarderRig(t, target, { retryCount: 1 });
  await target.crash();
  const read = subjects('CRASH', N);
  const runs = read.map((s) => rig.lifecycle.run(rig.item(s)));
  await rig.parkedOrDone(Promise.all(runs));
  assert.equal(rig.target.state, 'NOT USABLE');
  await target.restart();
  const outcomes = await rig.drive(runs, 120_000, 10);
  assert.ok(outcomes.every((o) => o === 'delivered'));
  assert.equal(rig.counters.totalRetry, 0, 'waiting for a target is not a retry attempt');
  assertConserved(conservation({ read, delivered: target.accepted.map((m) => subjectOf(m.data)) }), { maxDuplicates: 0 });
});
