import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Result } from '../core/index.js';
import { FakeClock } from '../testing/clock.js';
import { FakeConnector } from '../testing/fake-connector.js';
import { Target, reconcileTargets } from './pool.js';
import { Secret, type ConnectFailure, type DeliveryConnection, type TargetAddress, type TargetServerSpec } from './types.js';

function spec(user: string, password: string, caFile: string, ip: string): TargetServerSpec {
  return {
    targetIp: [ip], targetName: [], port: 25, connectLimit: 2, maxMsgSent: 0, messageSize: 524288, secure: true,
    tls: { caFile, servername: null, minVersion: 'TLSv1.2', verify: true },
    auth: { user, password: new Secret(password) }, sourceIp: null,
  };
}

const addrOf = (server: TargetServerSpec): TargetAddress => ({ address: server.targetIp[0]!, port: server.port, source: { kind: 'TargetIP' }, server });

/** A FakeConnector that also records which user and CA file each connect was made with. */
class RecordingConnector extends FakeConnector {
  readonly used: { address: string; user: string | undefined; caFile: string | null }[] = [];
  override connect(target: TargetAddress, opts: { tls: boolean }): Promise<Result<DeliveryConnection, ConnectFailure>> {
    this.used.push({ address: target.address, user: target.server.auth?.user, caFile: target.server.tls.caFile });
    return super.connect(target, opts);
  }
}

function setup() {
  const clock = new FakeClock();
  const connector = new RecordingConnector();
  const create = (addr: TargetAddress): Target => new Target(addr, connector, clock, { connectRetryMs: 1000, idleMs: 60_000 });
  const a = spec('alice', 'alice-pw', '/ca-a.pem', '192.0.2.1');
  const b = spec('bob', 'bob-pw', '/ca-b.pem', '192.0.2.2');
  const first = reconcileTargets([], [addrOf(a), addrOf(b)], create);
  return { clock, connector, create, a, b, first };
}

/** Opens one connection on the target and leaves it idle in the pool. */
async function openIdle(t: Target): Promise<void> {
  const l = await t.acquire(true);
  assert.ok(l.ok);
  l.value.release(true);
}

test('REFRESH that swaps two statements keeps both targets, their connections and their own settings', async () => {
  const { connector, create, a, b, first } = setup();
  const [ta, tb] = first.targets as [Target, Target];
  await openIdle(ta);
  await openIdle(tb);
  ta.counters.mailSent = 7;
  assert.equal(connector.open, 2);

  // The same statements in the other order, built anew (as a REFRESH parses them).
  const a2 = spec('alice', 'alice-pw', '/ca-a.pem', '192.0.2.1');
  const b2 = spec('bob', 'bob-pw', '/ca-b.pem', '192.0.2.2');
  const r = reconcileTargets(first.targets, [addrOf(b2), addrOf(a2)], create);
  assert.deepEqual(r.retired, []);
  assert.deepEqual(r.changed, []);
  assert.deepEqual(r.targets, [tb, ta], 'the same Target objects, in the new order');
  assert.equal(ta.addr.server, a2, 'the kept target shows the new statement');
  assert.equal(ta.counters.mailSent, 7, 'and keeps its counters');
  assert.equal(connector.open, 2, 'no connection was closed');

  // Connections reused, and any new one is made with the address's own settings.
  await openIdle(ta);
  assert.equal(connector.connects, 2, 'the idle connection was reused');
  await Promise.all([ta.acquire(true), ta.acquire(true)].map(async (p) => { const l = await p; assert.ok(l.ok); }));
  await Promise.all([tb.acquire(true), tb.acquire(true)].map(async (p) => { const l = await p; assert.ok(l.ok); }));
  for (const u of connector.used) {
    assert.deepEqual(u, u.address === '192.0.2.1' ? { address: u.address, user: 'alice', caFile: '/ca-a.pem' } : { address: u.address, user: 'bob', caFile: '/ca-b.pem' });
  }
  assert.equal(a.auth?.user, 'alice');
  assert.equal(b.auth?.user, 'bob');
});

test('REFRESH that changes only B\'s password restarts B and leaves A and its open connection alone', async () => {
  const { connector, create, a, first } = setup();
  const [ta, tb] = first.targets as [Target, Target];
  await openIdle(ta);
  await openIdle(tb);
  const bNew = spec('bob', 'new-bob-pw', '/ca-b.pem', '192.0.2.2');
  const r = reconcileTargets(first.targets, [addrOf(a), addrOf(bNew)], create);
  assert.equal(r.targets[0], ta, 'A is kept');
  assert.notEqual(r.targets[1], tb, 'B is a new target');
  assert.deepEqual(r.retired, [tb]);
  assert.deepEqual(r.changed, [{ key: '192.0.2.2|25', settings: ['auth'] }]);
  assert.doesNotMatch(JSON.stringify(r.changed), /bob-pw/);
  for (const t of r.retired) await t.close(true);
  assert.equal(connector.open, 1, 'B\'s idle connection closed, A\'s stays');

  const before = connector.connects;
  await openIdle(ta);
  assert.equal(connector.connects, before, 'A reused its connection');
  const nb = r.targets[1]!;
  await openIdle(nb);
  assert.equal(connector.connects, before + 1, 'B connected anew');
  assert.equal(nb.addr.server.auth?.password.reveal(), 'new-bob-pw');
  const old = await tb.acquire(true);
  assert.equal(old.ok, false, 'the retired target takes no more work');
});

test('an address that went away is retired; a new one is created', () => {
  const { create, a, b, first } = setup();
  const c = spec('carol', 'carol-pw', '/ca-c.pem', '192.0.2.3');
  const r = reconcileTargets(first.targets, [addrOf(a), addrOf(c)], create);
  assert.equal(r.targets[0], first.targets[0]);
  assert.equal(r.targets[1]?.addr.server, c);
  assert.deepEqual(r.retired, [first.targets[1]]);
  assert.deepEqual(r.changed, []);
  assert.equal(first.targets[1]?.addr.server, b);
});

// Issue #16 item 9: seed — a Secure YES target with which TLS is negotiated is announced
// (EZD1821I): once when learned, again only after it was NOT USABLE or REFRESHTARGETS reset it.
test('a Secure YES target that negotiates TLS is announced once per learning (EZD1821I hook)', async () => {
  const clock = new FakeClock();
  const connector = new FakeConnector();
  const announced: string[] = [];
  const secure = spec('alice', 'pw', '/ca.pem', '192.0.2.1');
  const plain = { ...spec('bob', 'pw', '/ca.pem', '192.0.2.2'), secure: false };
  const mk = (s: TargetServerSpec): Target => new Target(addrOf(s), connector, clock, { connectRetryMs: 1000, idleMs: 60_000, onSecureTls: (t) => announced.push(t.addr.address) });
  const ts = mk(secure);
  const tp = mk(plain);
  const take = async (t: Target, tls: boolean): Promise<void> => { const l = await t.acquire(tls); assert.ok(l.ok); l.value.release(false); };
  await take(ts, true);
  await take(ts, true);
  await take(tp, true); // TLS because the job asked for it, not Secure YES: no message
  assert.deepEqual(announced, ['192.0.2.1']);
  ts.reset();
  await take(ts, true);
  ts.markNotUsable('test');
  clock.advance(1000);
  await take(ts, true);
  assert.deepEqual(announced, ['192.0.2.1', '192.0.2.1', '192.0.2.1']);
});
