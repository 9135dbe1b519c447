import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwarderView, TargetView, TaskView } from '../control/index.js';
import { err } from '../core/result.js';
import { tempDir } from '../testing/peers.js';
import { checkExposition, sampleValue } from './exposition-testutil.js';
import { DeliveryLatency, LATENCY_BUCKETS_SECONDS, renderMetrics } from './metrics.js';
import type { StoreFacts } from './service-metrics.js';

function target(address: string, port: number, state: TargetView['state'], counters: TargetView['counters']): TargetView {
  return {
    addr: { address, port, source: { kind: 'TargetIP' }, server: { connectLimit: 1, maxMsgSent: 0, messageSize: 1000, secure: false } },
    state, capabilities: undefined, counters, lastError: '',
    acquire: async () => err({ detail: 'not in this test' }),
  };
}

function task(tkid: number, state: TaskView['state'], pend: number, lrt: number): TaskView {
  return { tkid, state, entry: undefined, counters: { pend, lrt, mailRead: 3, undeliverable: 0 } };
}

const forwarder: ForwarderView = {
  counters: { mailSent: 7, totalRetry: 2, currentRetry: 1, deadLetter: 1, undeliver: 3, extendedCurrent: 0, extendedTotal: 4 },
  tasks: [task(1, 'ACTIVE', 5, 1), task(2, 'IDLE', 9, 9), task(3, 'IDLE', 0, 0)],
  suspendMode: 'delay',
  listTargets: () => [
    target('192.0.2.1', 25, 'ACTIVE', { mailAttempts: 8, mailSent: 7, connectFail: 0 }),
    target('2001:db8::1', 587, 'NOT USABLE', { mailAttempts: 0, mailSent: 0, connectFail: 2 }),
  ],
  suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
};

test('metrics: counters, per-target counters and states, tasks, spool depth and age, latency histogram; valid exposition', async (t) => {
  const dir = tempDir(t);
  const now = 1_800_000_000_000;
  const files = [{ name: 'a', ageS: 30, size: 100 }, { name: 'b', ageS: 90, size: 50 }];
  for (const x of files) {
    writeFileSync(join(dir, x.name), 'x');
    utimesSync(join(dir, x.name), (now - x.ageS * 1000) / 1000, (now - x.ageS * 1000) / 1000);
  }
  const latency = new DeliveryLatency();
  latency.observe('delivered', 0.2);
  latency.observe('delivered', 4);
  latency.observe('delivered', 1e9);
  latency.observe('undeliverable', 600);
  const text = await renderMetrics({
    forwarder, latency, now: () => now,
    // 'gone' was finished between the listing and the stat: counted in the depth, not in the age.
    spoolEntries: async () => [...files.map((x) => ({ path: join(dir, x.name), size: x.size })), { path: join(dir, 'gone'), size: 1 }],
  });
  const s = checkExposition(text);
  const cases: { name: string; labels?: Record<string, string>; want: number }[] = [
    { name: 'spoolgate_mail_sent_total', want: 7 },
    { name: 'spoolgate_retries_total', want: 2 },
    { name: 'spoolgate_retry_current', want: 1 },
    { name: 'spoolgate_dead_letters_total', want: 1 },
    { name: 'spoolgate_undeliverable_total', want: 3 },
    { name: 'spoolgate_extended_retry_current', want: 0 },
    { name: 'spoolgate_extended_retry_total', want: 4 },
    { name: 'spoolgate_target_mail_attempts_total', labels: { address: '192.0.2.1', port: '25' }, want: 8 },
    { name: 'spoolgate_target_mail_sent_total', labels: { address: '192.0.2.1', port: '25' }, want: 7 },
    { name: 'spoolgate_target_connect_failures_total', labels: { address: '2001:db8::1', port: '587' }, want: 2 },
    { name: 'spoolgate_target_state', labels: { address: '192.0.2.1', port: '25', state: 'ACTIVE' }, want: 1 },
    { name: 'spoolgate_target_state', labels: { address: '192.0.2.1', port: '25', state: 'UNKNOWN' }, want: 0 },
    { name: 'spoolgate_target_state', labels: { address: '2001:db8::1', port: '587', state: 'NOT_USABLE' }, want: 1 },
    { name: 'spoolgate_tasks', labels: { state: 'IDLE' }, want: 2 },
    { name: 'spoolgate_tasks', labels: { state: 'ACTIVE' }, want: 1 },
    { name: 'spoolgate_tasks', labels: { state: 'SUPND' }, want: 0 },
    { name: 'spoolgate_task_pending', labels: { tkid: '1' }, want: 5 },
    { name: 'spoolgate_task_pending', labels: { tkid: '2' }, want: 0 }, // seed: PEND of an IDLE task is 0
    { name: 'spoolgate_task_long_retry', labels: { tkid: '1' }, want: 1 },
    { name: 'spoolgate_suspended', labels: { mode: 'delay' }, want: 1 },
    { name: 'spoolgate_suspended', labels: { mode: 'none' }, want: 0 },
    { name: 'spoolgate_spool_files', want: 3 },
    { name: 'spoolgate_spool_bytes', want: 151 },
    { name: 'spoolgate_spool_oldest_file_age_seconds', want: 90 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'delivered', le: '0.25' }, want: 1 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'delivered', le: '5' }, want: 2 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'delivered', le: '86400' }, want: 2 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'delivered', le: '+Inf' }, want: 3 },
    { name: 'spoolgate_delivery_latency_seconds_count', labels: { outcome: 'delivered' }, want: 3 },
    { name: 'spoolgate_delivery_latency_seconds_sum', labels: { outcome: 'delivered' }, want: 1e9 + 4.2 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'undeliverable', le: '300' }, want: 0 },
    { name: 'spoolgate_delivery_latency_seconds_bucket', labels: { outcome: 'undeliverable', le: '900' }, want: 1 },
  ];
  for (const c of cases) assert.equal(sampleValue(s, c.name, c.labels), c.want, `${c.name}${JSON.stringify(c.labels ?? {})}\n${text}`);
  assert.equal(s.filter((x) => x.name === 'spoolgate_delivery_latency_seconds_bucket').length, 2 * (LATENCY_BUCKETS_SECONDS.length + 1));
});

test('metrics on a shared queue: spoolgate_retry_current is this node\'s own, the released long retry a gauge of its own; none without one', async () => {
  const clustered: ForwarderView = { ...forwarder, counters: { ...forwarder.counters, currentRetry: 4 }, retryReleased: () => 3 };
  const s = checkExposition(await renderMetrics({ forwarder: clustered, now: () => 0, node: 'a' }));
  assert.equal(sampleValue(s, 'spoolgate_retry_current', { node: 'a' }), 1);
  assert.equal(sampleValue(s, 'spoolgate_retry_released', { node: 'a' }), 3);
  const single = checkExposition(await renderMetrics({ forwarder, now: () => 0 }));
  assert.equal(sampleValue(single, 'spoolgate_retry_current'), 1, 'with SQLite: CURRENT RETRY as it is');
  assert.equal(sampleValue(single, 'spoolgate_retry_released'), undefined);
});

test('metrics without spool or latency sources, an empty queue, and label escaping', async () => {
  const odd: ForwarderView = { ...forwarder, tasks: [], listTargets: () => [target('a"b\\c\nd', 25, 'UNKNOWN', { mailAttempts: 0, mailSent: 0, connectFail: 0 })] };
  let s = checkExposition(await renderMetrics({ forwarder: odd, now: () => 0 }));
  assert.equal(sampleValue(s, 'spoolgate_spool_files'), undefined);
  assert.equal(sampleValue(s, 'spoolgate_target_state', { address: 'a"b\\c\nd', port: '25', state: 'UNKNOWN' }), 1);
  s = checkExposition(await renderMetrics({ forwarder: odd, now: () => 0, spoolEntries: async () => [] }));
  assert.equal(sampleValue(s, 'spoolgate_spool_oldest_file_age_seconds'), 0);
});

test('the exposition checker refuses what Prometheus would', () => {
  const cases: { name: string; text: string; want: RegExp }[] = [
    { name: 'no TYPE', text: 'x_total 1\n', want: /no TYPE/ },
    { name: 'bad value', text: '# TYPE x gauge\nx one\n', want: /not a number/ },
    { name: 'bad label', text: '# TYPE x gauge\nx{a=1} 1\n', want: /bad label/ },
    { name: 'two TYPEs', text: '# TYPE x gauge\n# TYPE x gauge\n', want: /second TYPE/ },
    { name: 'split family', text: '# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a="b"} 1\n', want: /not together/ },
    { name: 'no final LF', text: '# TYPE x gauge\nx 1', want: /line feed/ },
    { name: 'histogram without +Inf', text: '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', want: /\+Inf/ },
    { name: 'histogram not cumulative', text: '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', want: /cumulative/ },
    { name: 'negative counter', text: '# TYPE c counter\nc -1\n', want: /counter/ },
  ];
  for (const c of cases) assert.throws(() => checkExposition(c.text), c.want, c.name);
});

// R3 #22: a target's lost attempts (pool.ts lostAttempts) and the checkpoint fault are scraped.
test('metrics: lost attempts per target; the checkpoint fault in spoolgate_fault', async () => {
  const lossy: ForwarderView = { ...forwarder, listTargets: () => [target('192.0.2.9', 25, 'NOT USABLE', { mailAttempts: 3, mailSent: 0, connectFail: 0, lostAttempts: 2 })] };
  const fault = { component: 'checkpoint' as const, problem: 'checkpoint cannot be written: SQLITE_FULL', since: 0, failures: 3, disabling: true };
  const s = checkExposition(await renderMetrics({ forwarder: lossy, now: () => 0, faults: () => [fault] }));
  assert.equal(sampleValue(s, 'spoolgate_target_lost_attempts_total', { address: '192.0.2.9', port: '25' }), 2);
  assert.equal(sampleValue(s, 'spoolgate_fault', { component: 'checkpoint' }), 1);
  assert.equal(sampleValue(s, 'spoolgate_fault', { component: 'extended-retry' }), 0);
});

test('store gauges: held files, dead letters stored, oldest extended-retry age in seconds (0 when none)', async () => {
  const now = 1_800_000_000_000;
  const at = (stores: () => Promise<StoreFacts>) => renderMetrics({ forwarder, now: () => now, stores }).then(checkExposition);
  const s = await at(async () => ({ held: 2, deadLetters: 3, oldestExtended: new Date(now - 7_200_000) }));
  assert.equal(sampleValue(s, 'spoolgate_held_files'), 2);
  assert.equal(sampleValue(s, 'spoolgate_dead_letters_stored'), 3);
  assert.equal(sampleValue(s, 'spoolgate_extended_retry_oldest_age_seconds'), 7200);
  const empty = await at(async () => ({ held: 0, deadLetters: undefined, oldestExtended: undefined }));
  assert.equal(sampleValue(empty, 'spoolgate_extended_retry_oldest_age_seconds'), 0);
  assert.equal(sampleValue(empty, 'spoolgate_dead_letters_stored'), undefined, 'no sample while the directory cannot be read');
});

test('metrics (ext): back-off level and rate replies for a target whose statement has a limiter state; none for the others', async () => {
  const rate = { msgPerSecond: 20, msgPerMinute: null, rcptPerMsg: null, connectPerMinute: null, backoff: true, sentLastSecond: 3, sentLastMinute: null, connectsLastMinute: null, backoffLevel: 2, backoffSpacingMs: 500, rateReplies: 4, lastRateReply: '451 4.7.0 rate limited' };
  const limited = { ...target('192.0.2.7', 25, 'ACTIVE', { mailAttempts: 1, mailSent: 1, connectFail: 0 }), limiter: { snapshot: () => rate } };
  const text = await renderMetrics({ forwarder: { ...forwarder, listTargets: () => [limited, ...forwarder.listTargets()] }, latency: new DeliveryLatency(), now: () => 0 });
  const s = checkExposition(text);
  assert.equal(sampleValue(s, 'spoolgate_target_rate_backoff_level', { address: '192.0.2.7', port: '25' }), 2);
  assert.equal(sampleValue(s, 'spoolgate_target_rate_replies_total', { address: '192.0.2.7', port: '25' }), 4);
  assert.equal(sampleValue(s, 'spoolgate_target_rate_backoff_level', { address: '192.0.2.1', port: '25' }), undefined);
});

// [P2] a node of a cluster (Store Node): every sample says which node it comes from.
test('metrics of a cluster node carry node="<Store Node>" on every sample; none without', async () => {
  const s = checkExposition(await renderMetrics({ forwarder, now: () => 0, node: 'gw2' }));
  assert.equal(sampleValue(s, 'spoolgate_mail_sent_total', { node: 'gw2' }), 7);
  assert.equal(sampleValue(s, 'spoolgate_target_mail_sent_total', { node: 'gw2', address: '192.0.2.1', port: '25' }), 7);
  const text = await renderMetrics({ forwarder, now: () => 0, node: 'gw2' });
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(samples.length > 10 && samples.every((l) => l.includes('node="gw2"')), 'every sample has the node label');
  assert.ok(!(await renderMetrics({ forwarder, now: () => 0 })).includes('node="'));
});
