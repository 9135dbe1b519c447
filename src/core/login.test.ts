import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignallingClock, FakeClock } from '../testing/clock.js';
import { Authenticator, DEFAULT_LOGIN_THROTTLE, LoginThrottle, TraceMask, canonicalLoginName, clientKey, loggableLoginName, type LoginTicket } from './login.js';

test('canonicalLoginName: NFC and lower case; white space, controls and invisible characters refused, never trimmed', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: 'alice', want: 'alice' },
    { input: 'Alice', want: 'alice' },
    { input: 'e\u0301va', want: '\u00e9va' },
    { input: ' alice', want: undefined },
    { input: 'alice ', want: undefined },
    { input: 'alice\u00a0', want: undefined },
    { input: '\talice', want: undefined },
    { input: 'al\u200bice', want: undefined },
    { input: 'alice\r\n', want: undefined },
    { input: 'ali\u0000ce', want: undefined },
    { input: '\u3000alice', want: undefined },
    { input: '', want: undefined },
    { input: 'a'.repeat(257), want: undefined },
  ];
  for (const c of cases) assert.equal(canonicalLoginName(c.input), c.want, JSON.stringify(c.input));
  assert.equal(loggableLoginName(' a\\b\u00a0'), '\\u0020a\\u005cb\\u00a0');
});

test('clientKey: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
});

const go = (a: ReturnType<LoginThrottle['begin']>): LoginTicket => {
  assert.equal(a.kind, 'go');
  return a as LoginTicket;
};

test('throttle: attempts are counted before the check, so 30 in flight from one address admit only maxFailures', () => {
  const th = new LoginThrottle(new FakeClock(), { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 5 });
  const admitted = Array.from({ length: 30 }, (_, i) => th.begin(`user${i}`, '192.0.2.1'));
  assert.equal(admitted.filter((a) => a.kind === 'go').length, 5);
  assert.equal(admitted.filter((a) => a.kind === 'refused').length, 25);
});

test('throttle: a failing address is refused for lockMs, doubling with each further failure, up to maxLockMs', () => {
  const clock = new FakeClock();
  const th = new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 2, lockMs: 1000, maxLockMs: 4000 });
  const refusal = (): number => {
    const a = th.begin('alice', '192.0.2.1');
    return a.kind === 'refused' ? a.retryInMs : 0;
  };
  go(th.begin('alice', '192.0.2.1')).finish(false);
  go(th.begin('alice', '192.0.2.1')).finish(false);
  assert.equal(refusal(), 1000);
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    clock.advance(refusal());
    go(th.begin('alice', '192.0.2.1')).finish(false);
    lengths.push(refusal());
  }
  assert.deepEqual(lengths, [2000, 4000, 4000, 4000]);
  // Another address is not refused (only the user name's delay applies there).
  assert.equal(th.begin('alice', '198.51.100.9').kind, 'go');
});

test('throttle: a user name that keeps failing is never refused; its delay doubles up to maxUserDelayMs', () => {
  const clock = new FakeClock();
  const th = new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 3, userDelayMs: 1000, maxUserDelayMs: 8000 });
  const waits: number[] = [];
  // A stranger fails against alice from 100 addresses: alice is delayed, never locked out.
  for (let i = 0; i < 100; i++) {
    const t = go(th.begin('alice', `10.0.${i >> 8}.${i & 255}`));
    waits.push(t.waitMs);
    t.finish(false);
  }
  assert.deepEqual(waits.slice(0, 8), [0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
  assert.ok(waits.every((w) => w <= 8000));
  const owner = go(th.begin('alice', '203.0.113.5'));
  assert.equal(owner.waitMs, 8000, 'the owner, from an address that has not failed, logs in within maxUserDelayMs');
});

test('throttle: a success takes back only its own count; failures are forgotten windowMs after the last one', () => {
  const clock = new FakeClock();
  const th = new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 3, windowMs: 60_000 });
  for (let i = 0; i < 2; i++) go(th.begin('alice', '192.0.2.1')).finish(false);
  // The third attempt would start a refusal; it succeeds, so the refusal is taken back.
  go(th.begin('alice', '192.0.2.1')).finish(true);
  go(th.begin('bob', '192.0.2.1')).finish(false);
  assert.equal(th.begin('bob', '192.0.2.1').kind, 'refused', 'the success did not clear the failures before it');
  clock.advance(10_001);
  go(th.begin('bob', '192.0.2.1')).finish(false);
  assert.equal(th.begin('bob', '192.0.2.1').kind, 'refused', 'the failures stay while the refusal ran out');
  // 60 s after the last failure (and past its 20 s refusal) the address starts afresh: two free failures.
  clock.advance(60_001);
  go(th.begin('bob', '192.0.2.1')).finish(false);
  go(th.begin('bob', '192.0.2.1')).finish(false);
  assert.equal(th.begin('bob', '192.0.2.1').kind, 'go');
});

test('Authenticator: canonical name, removed accounts submit nothing but may retrieve, the user delay is waited before the check', async () => {
  const clock = new SignallingClock();
  const checked: string[] = [];
  const accounts = new Map([['alice', { pw: 'pw', active: true }], ['gone', { pw: 'pw', active: false }]]);
  const auth = new Authenticator({
    authenticate: async (name, password) => {
      checked.push(name);
      const a = accounts.get(name);
      return a !== undefined && a.pw === password ? { name, active: a.active } : undefined;
    },
  }, new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 1, failDelayMs: 0, userDelayMs: 500 }), clock);
  assert.deepEqual(await auth.login('ALICE', 'pw', '192.0.2.1', 'submit'), { ok: true, user: 'alice' });
  assert.deepEqual(await auth.login('\talice', 'pw', '192.0.2.2', 'submit'), { ok: false, reason: 'invalid', user: '\\u0009alice' });
  assert.deepEqual(checked, ['alice'], 'a name that cannot be canonical is never looked up');
  assert.deepEqual(await auth.login('gone', 'pw', '192.0.2.3', 'submit'), { ok: false, reason: 'invalid', user: 'gone', detail: 'account removed' });
  // gone has failed once (maxFailures 1): the next attempt for that name waits 500 ms first.
  const parked = clock.nextTimer();
  const retrieve = auth.login('gone', 'pw', '192.0.2.4', 'retrieve');
  await parked;
  assert.equal(checked.length, 2, 'not checked before the delay');
  clock.advance(500);
  assert.deepEqual(await retrieve, { ok: true, user: 'gone' });
  const refused = await auth.login('alice', 'pw', '192.0.2.2', 'submit');
  assert.equal(refused.ok === false && refused.reason, 'throttled', 'the address that failed is refused');
});

test('TraceMask: AUTH shows its mechanism only, whatever the separator; lines after AUTH are hidden until a known verb', () => {
  const smtp = (): TraceMask => new TraceMask(new Set(['EHLO', 'AUTH', 'MAIL', 'QUIT', 'STARTTLS', 'NOOP']));
  const cases: { lines: string[]; want: string[] }[] = [
    { lines: ['AUTH PLAIN AGFsaWNlAHB3'], want: ['AUTH PLAIN ****'] },
    { lines: ['AUTH\tPLAIN\tAGFsaWNlAHB3'], want: ['AUTH PLAIN ****'] },
    { lines: ['auth plain\tAGFsaWNlAHB3'], want: ['AUTH PLAIN ****'] },
    { lines: ['AUTH=PLAIN AGFsaWNlAHB3'], want: ['AUTH ****'] },
    { lines: ['AUTHPLAIN AGFsaWNlAHB3'], want: ['AUTH ****'] },
    { lines: [' AUTH PLAIN AGFsaWNlAHB3'], want: ['AUTH PLAIN ****'] },
    { lines: ['AUTH LOGIN', 'YWxpY2U=', 'cHc=', 'MAIL FROM:<a@b>'], want: ['AUTH LOGIN', '(authentication data hidden)', '(authentication data hidden)', 'MAIL FROM:<a@b>'] },
    { lines: ['AUTH LOGIN', 'not a command at all', 'NOOP', 'YWxpY2U='], want: ['AUTH LOGIN', '(authentication data hidden)', 'NOOP', 'YWxpY2U='] },
  ];
  for (const c of cases) {
    const m = smtp();
    assert.deepEqual(c.lines.map((l) => m.show(l)), c.want, JSON.stringify(c.lines));
  }
  const pop = new TraceMask(new Set(['USER', 'PASS', 'AUTH', 'STAT']), new Set(['USER', 'PASS']));
  assert.deepEqual(['USER alice', 'PASS\tsecret', 'pass secret', 'STAT'].map((l) => pop.show(l)), ['USER ****', 'PASS ****', 'PASS ****', 'STAT']);
});

test('throttle: memory is bounded; invented user names are forgotten before a refused address', () => {
  const clock = new FakeClock();
  const th = new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: 3, maxEntries: 50 });
  for (let i = 0; i < 3; i++) go(th.begin('x', '192.0.2.1')).finish(false);
  assert.equal(th.begin('y', '192.0.2.1').kind, 'refused');
  for (let i = 0; i < 200; i++) th.begin(`name${i}`, `10.1.${i >> 8}.${i & 255}`);
  assert.ok(th.size <= 50, String(th.size));
  assert.equal(th.begin('z', '192.0.2.1').kind, 'refused', 'the refused address is still known');
});
