import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, SignallingClock } from '../testing/clock.js';
import {
  BACKOFF_BASE_MS, BACKOFF_MAX_SPACING_MS, BACKOFF_RECOVER_MS, NO_RATE_LIMITS, RATE_MARGIN, SlidingWindow, TargetLimiter, isRateReply,
  type TargetRateSettings,
} from './rate.js';

const limits = (p: Partial<TargetRateSettings>): TargetRateSettings => ({ ...NO_RATE_LIMITS, ...p });

/**
 * Starts `n` transactions as fast as the limiter lets them; each one that has to wait sets its
 * timer, and the fake clock is moved to that moment (the limiter's own messageWait). Returns the
 * (monotonic) start times.
 */
async function startAll(clock: SignallingClock, lim: TargetLimiter, n: number): Promise<number[]> {
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    let done = false;
    const p = lim.beginMessage().then((ok) => { assert.ok(ok); done = true; starts.push(clock.mono()); });
    for (;;) {
      await new Promise((r) => setImmediate(r)); // the limiter either started it or set its timer
      if (done) break;
      assert.ok(clock.pending() > 0, 'a waiting start has a timer');
      clock.advance(Math.ceil(lim.messageWait(clock.mono())));
    }
    await p;
  }
  return starts;
}

test('SlidingWindow: at most N in any window, O(1) check, and the wait is exact', () => {
  const w = new SlidingWindow(3, 1000);
  for (const t of [0, 10, 20]) { assert.equal(w.waitMs(t), 0); w.record(t); }
  assert.equal(w.waitMs(20), 980, 'the fourth waits for the first to leave the window');
  assert.equal(w.waitMs(1000), 0);
  w.record(1000);
  assert.equal(w.waitMs(1000), 10, 'now the second is the oldest');
  assert.equal(w.inWindow(1000), 3);
  const r = w.resized(2, 1000);
  assert.equal(r.waitMs(1000), 20, 'a smaller limit keeps the most recent stamps (20 and 1000)');
});

test('MaxMsgPerSecond 20: 60 starts spread over three windows, never more than 20 in any (1 + margin) s', async () => {
  const clock = new SignallingClock();
  const lim = new TargetLimiter(limits({ msgPerSecond: 20 }), clock);
  const starts = await startAll(clock, lim, 60);
  const window = 1000 * (1 + RATE_MARGIN);
  for (let i = 20; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 20]! >= window, `start ${i} at ${starts[i]} is within ${window} ms of start ${i - 20}`);
  assert.equal(starts.filter((t) => t === 0).length, 20, 'the first 20 begin at once (a burst within the limit)');
  assert.ok(starts[59]! >= 2 * window, 'the last begins two windows later');
  const snap = lim.snapshot();
  assert.equal(snap.msgPerSecond, 20);
  assert.equal(snap.sentLastSecond, 20);
  assert.equal(snap.sentLastMinute, null, 'no per-minute limit: not counted');
});

test('MaxMsgPerMinute and MaxMsgPerSecond together: both hold', async () => {
  const clock = new SignallingClock();
  const lim = new TargetLimiter(limits({ msgPerSecond: 5, msgPerMinute: 12 }), clock);
  const starts = await startAll(clock, lim, 13);
  assert.deepEqual(starts.slice(0, 5), [0, 0, 0, 0, 0]);
  assert.equal(starts[5], 1100, 'the sixth waits for the per-second window');
  assert.equal(starts[12], 66_000, 'the thirteenth waits for the per-minute window');
});

test('no limit set: a start records nothing and never waits (the [B2] fast path)', async () => {
  const clock = new SignallingClock();
  const lim = new TargetLimiter(NO_RATE_LIMITS, clock);
  for (let i = 0; i < 1000; i++) assert.equal(await lim.beginMessage(), true);
  assert.equal(clock.pending(), 0, 'no timer was ever set');
  assert.equal(lim.messageWait(0), 0);
  const s = lim.snapshot();
  assert.deepEqual([s.sentLastSecond, s.sentLastMinute, s.backoffLevel], [null, null, 0]);
});

test('MaxConnectPerMinute: the 4th connection of a minute waits, then goes', async () => {
  const clock = new SignallingClock();
  const lim = new TargetLimiter(limits({ connectPerMinute: 3 }), clock);
  for (let i = 0; i < 3; i++) assert.equal(await lim.beginConnect(), true);
  let fourth = false;
  const p = lim.beginConnect().then(() => { fourth = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(clock.pending(), 1);
  clock.advance(65_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(fourth, false);
  clock.advance(1);
  await p;
  assert.equal(fourth, true);
  assert.equal(lim.snapshot().connectsLastMinute, 1);
});

test('stop() ends every wait at once with false', async () => {
  const clock = new SignallingClock();
  const lim = new TargetLimiter(limits({ msgPerMinute: 1 }), clock);
  assert.equal(await lim.beginMessage(), true);
  const waiting = lim.beginMessage();
  await new Promise((r) => setImmediate(r));
  assert.equal(clock.pending(), 1);
  lim.stop();
  assert.equal(await waiting, false);
  assert.equal(await lim.untilMessageFree(), false);
  assert.equal(await lim.beginConnect(), false);
});

const RATE = { code: 451, enhanced: '4.7.0', text: 'rate limited' };

test('back-off: a rate reply spaces starts, one burst counts once, repeated replies double, recovery is gradual', () => {
  const clock = new FakeClock();
  const lim = new TargetLimiter(limits({ msgPerSecond: 20 }), clock);
  const base = Math.max(BACKOFF_BASE_MS, 2 * 1000 / 20);
  void lim.beginMessage(); // starts at 0
  assert.equal(lim.observe(RATE, 0), true);
  assert.equal(lim.snapshot().backoffLevel, 1);
  assert.equal(lim.snapshot().backoffSpacingMs, base);
  assert.equal(lim.messageWait(0), base, 'the next start waits the spacing after the last');
  // More replies of transactions begun before the raise: the same burst, no further step.
  assert.equal(lim.observe(RATE, 0), false);
  assert.equal(lim.snapshot().rateReplies, 2);
  assert.equal(lim.snapshot().backoffLevel, 1);
  // A transaction begun after the raise is answered "rate" too: one step more.
  clock.advance(base);
  assert.equal(lim.observe(RATE, base), true);
  assert.equal(lim.snapshot().backoffLevel, 2);
  assert.equal(lim.snapshot().backoffSpacingMs, 2 * base);
  // Gradual recovery: one step per BACKOFF_RECOVER_MS without another rate reply.
  clock.advance(BACKOFF_RECOVER_MS);
  assert.equal(lim.snapshot().backoffLevel, 1);
  clock.advance(BACKOFF_RECOVER_MS);
  assert.equal(lim.snapshot().backoffLevel, 0);
  assert.equal(lim.messageWait(clock.mono()), 0);
  assert.match(lim.snapshot().lastRateReply, /^451 4\.7\.0 rate limited$/);
});

test('back-off: the spacing is relative to the configured rate and capped', () => {
  const clock = new FakeClock();
  const lim = new TargetLimiter(limits({ msgPerMinute: 30 }), clock);
  lim.observe(RATE, 0);
  assert.equal(lim.snapshot().backoffSpacingMs, 4000, '30/min is one per 2 s: the first step halves it');
  for (let i = 1; i < 20; i++) { clock.advance(1); lim.observe(RATE, clock.mono()); }
  assert.equal(lim.snapshot().backoffSpacingMs, BACKOFF_MAX_SPACING_MS);
  assert.ok(lim.snapshot().backoffLevel <= 6, 'the step stops where the spacing reaches its maximum');
});

test('RateBackoff NO: rate replies are not acted on', () => {
  const lim = new TargetLimiter(limits({ backoff: false }), new FakeClock());
  assert.equal(lim.observe(RATE, 0), false);
  assert.equal(lim.snapshot().backoffLevel, 0);
  assert.equal(lim.snapshot().rateReplies, 0);
});

test('isRateReply: what slows the target, and what does not', () => {
  const cases: { name: string; reply: { code: number; enhanced?: string; text: string }; want: boolean }[] = [
    { name: 'brief: 451 4.7.0 rate limited', reply: { code: 451, enhanced: '4.7.0', text: 'rate limited' }, want: true },
    { name: 'Gmail 4.7.28 flood', reply: { code: 421, enhanced: '4.7.28', text: 'Our system has detected an unusual rate of unsolicited mail' }, want: true },
    { name: 'Gmail 4.7.0 temporary', reply: { code: 421, enhanced: '4.7.0', text: 'Try again later, closing connection.' }, want: true },
    { name: 'Microsoft concurrent connections', reply: { code: 421, enhanced: '4.3.2', text: 'The maximum number of concurrent connections has exceeded a limit, closing transmission channel' }, want: true },
    { name: 'Microsoft 365 sender thread limit', reply: { code: 432, enhanced: '4.3.2', text: 'STOREDRV.ClientSubmit; sender thread limit exceeded' }, want: true },
    { name: 'Microsoft 365 submission rate', reply: { code: 421, enhanced: '4.4.2', text: 'Message submission rate for this client has exceeded the configured limit' }, want: true },
    { name: 'SES throttling', reply: { code: 454, text: 'Throttling failure: Maximum sending rate exceeded.' }, want: true },
    { name: 'too many messages', reply: { code: 451, enhanced: '4.7.1', text: 'Too many messages, slow down' }, want: true },
    { name: 'too many connections', reply: { code: 421, text: 'Too many connections from your host' }, want: true },
    { name: 'Postfix anvil: connection rate', reply: { code: 421, enhanced: '4.7.0', text: 'relay.test Error: too many connections from 192.0.2.1' }, want: true },
    { name: 'Postfix anvil: message rate', reply: { code: 450, enhanced: '4.7.1', text: 'Error: too much mail from 192.0.2.1' }, want: true },
    { name: 'Postfix anvil: recipient rate', reply: { code: 450, enhanced: '4.7.1', text: 'Error: too many recipients from 192.0.2.1' }, want: true },
    { name: 'too many errors is not a rate', reply: { code: 421, enhanced: '4.7.0', text: 'too many errors, closing connection' }, want: false },
    { name: 'too many failed logins is not a rate', reply: { code: 421, enhanced: '4.7.0', text: 'too many failed authentication attempts' }, want: false },
    { name: 'greylisting', reply: { code: 450, enhanced: '4.7.1', text: 'Greylisted, please try again later' }, want: false },
    { name: 'one mailbox receiving at a rate', reply: { code: 450, enhanced: '4.2.1', text: 'The user you are trying to contact is receiving mail at a rate that prevents additional messages' }, want: false },
    { name: 'too many recipients (MaxRcptPerMsg answers it)', reply: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' }, want: false },
    { name: 'too many recipients without enhanced code', reply: { code: 452, text: 'Too many recipients' }, want: false },
    { name: 'mailbox full', reply: { code: 452, enhanced: '4.2.2', text: 'Mailbox full, quota exceeded' }, want: false },
    { name: '5xx is never a rate to slow down for', reply: { code: 550, enhanced: '5.7.1', text: 'rate limited' }, want: false },
    { name: 'plain local error', reply: { code: 451, enhanced: '4.3.0', text: 'local error in processing' }, want: false },
    { name: '"rate" inside another word', reply: { code: 451, text: 'temporary failure, moderate load' }, want: false },
  ];
  for (const c of cases) assert.equal(isRateReply(c.reply), c.want, c.name);
});
