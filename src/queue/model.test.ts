import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseFilter, shape, SHAPE_BUCKETS, type QueueItem } from './model.js';

const item = (over: Partial<QueueItem>): QueueItem => ({
  id: '0123456789ab-1', state: 'retry', arrival: new Date(0).toISOString(), nextAttempt: null, attempts: 1, size: 10, jobName: 'PAYROLL',
  jobId: 'J0000042', user: 'u', sender: 'job@corp.test', recipients: [{ address: 'a@mail.example.com', state: 'deferred', lastReply: '451 x' }],
  target: '192.0.2.1', place: 'e#1', why: null, ...over,
});

test('parseFilter: the checks a query string or MODIFY operand gets', () => {
  const cases: { input: [string, string][]; want: string | Record<string, unknown> }[] = [
    { input: [], want: { limit: 100, offset: 0 } },
    { input: [['state', 'retry,Held']], want: { states: ['retry', 'held'], limit: 100, offset: 0 } },
    { input: [['sender', ' <Job@Corp.TEST> '], ['domain', '@Example.COM.']], want: { sender: 'job@corp.test', domain: 'example.com', limit: 100, offset: 0 } },
    { input: [['minAge', '60'], ['limit', '10000'], ['offset', '5']], want: { minAge: 60, limit: 10000, offset: 5 } },
    { input: [['state', 'frozen']], want: "unknown state 'frozen'; states: processing, retry, extended, held, dead, quarantined" },
    { input: [['colour', 'x']], want: "unknown filter 'colour'; filters: state, job, sender, recipient, target, domain, minAge, limit, offset" },
    { input: [['job', 'a'], ['job', 'b']], want: "filter 'job' given twice" },
    { input: [['limit', '10001']], want: 'limit must be a whole number 0-10000' },
    { input: [['minAge', '1e3']], want: 'minAge must be a whole number 0-316224000' },
    { input: [['sender', 'x'.repeat(321)]], want: "filter 'sender' is longer than 320 characters" },
    { input: [['sender', 'a\nb']], want: "filter 'sender' contains control characters" },
  ];
  for (const c of cases) {
    const r = parseFilter(c.input);
    if (typeof c.want === 'string') assert.deepEqual(r, { ok: false, error: c.want }, JSON.stringify(c.input));
    else assert.deepEqual(r, { ok: true, value: c.want }, JSON.stringify(c.input));
  }
});

test('matches: each filter alone', () => {
  const it = item({});
  const f = (pairs: [string, string][]) => { const r = parseFilter(pairs); assert.ok(r.ok); return r.value; };
  const now = 10 * 60_000;
  assert.equal(matches(it, f([['job', 'payroll']]), now), true);
  assert.equal(matches(it, f([['job', 'J0000042']]), now), true);
  assert.equal(matches(it, f([['job', 'pay']]), now), false);
  assert.equal(matches(it, f([['recipient', 'A@MAIL']]), now), true);
  assert.equal(matches(it, f([['domain', 'example.com']]), now), true, 'a subdomain matches');
  assert.equal(matches(it, f([['domain', 'ample.com']]), now), false, 'not a suffix of a label');
  assert.equal(matches(it, f([['target', '192.0.2']]), now), true);
  assert.equal(matches(item({ target: null }), f([['target', '192']]), now), false);
  assert.equal(matches(it, f([['minAge', '600']]), now), true);
  assert.equal(matches(it, f([['minAge', '601']]), now), false);
  assert.equal(matches(it, f([['state', 'extended']]), now), false);
});

test('shape: qshape buckets by domain of pending recipients and by target, TOTAL first', () => {
  const min = 60_000;
  const now = 10_000 * min;
  const at = (ageMin: number) => new Date(now - ageMin * min).toISOString();
  const items = [
    item({ arrival: at(1) }),
    item({ arrival: at(7), recipients: [{ address: 'b@other.test', state: 'pending', lastReply: null }, { address: 'c@mail.example.com', state: 'delivered', lastReply: null }] }),
    item({ arrival: at(5000), target: null }),
  ];
  const byDomain = shape(items, 'domain', now);
  assert.deepEqual(byDomain.buckets, SHAPE_BUCKETS);
  const z = () => new Array<number>(SHAPE_BUCKETS.length + 1).fill(0);
  const row = (k: number[]) => { const r = z(); for (const i of k) r[i]!++; return r; };
  assert.deepEqual(byDomain.rows, [
    { key: 'TOTAL', total: 3, counts: row([0, 1, SHAPE_BUCKETS.length]) },
    { key: 'mail.example.com', total: 2, counts: row([0, SHAPE_BUCKETS.length]) },
    { key: 'other.test', total: 1, counts: row([1]) },
  ]);
  assert.deepEqual(shape(items, 'target', now).rows.map((r) => `${r.key}=${r.total}`), ['TOTAL=3', '192.0.2.1=2', '(none)=1']);
});
