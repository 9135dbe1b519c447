// The goal table of `npm run bench` (bench/goals.ts): met / not met on the median of the runs,
// and a missing result is "not measured", never "met".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GOALS, evaluate, evaluateAll, goalTable, type Results } from '../../bench/goals.js';
import type { Run, Series, System } from '../../bench/stats.js';

/** A series whose runs take `seconds` each for `count` units (rounds 1, 2, 3, …). */
function series(key: string, system: System, seconds: readonly number[], count = 1000, extra?: (i: number) => Record<string, number>): Series {
  const runs: Run[] = seconds.map((s, i) => ({ round: i + 1, seconds: s, count, usage: { [system]: { maxRssMB: 100, cpuUserS: 1, cpuSysS: 0 } }, ...(extra ? { extra: extra(i) } : {}) }));
  return { key, name: key, system, unit: 'msg', runs };
}

const goal = (id: string) => {
  const g = GOALS.find((x) => x.id === id);
  assert.ok(g, id);
  return g;
};

test('every goal of an empty result set is "not measured"', () => {
  for (const e of evaluateAll({})) {
    assert.equal(e.status, 'not measured', e.goal.id);
    assert.ok(e.measured.every((m) => m.endsWith('not measured')), e.goal.id);
  }
});

test('the goal table has the rows of issue #20 plus queue listing and PDF', () => {
  assert.deepEqual(GOALS.map((g) => g.id), ['forwarding-postfix', 'forwarding-ceiling', 'latency', 'inbound-a', 'inbound-b', 'inbound-sink', 'pop3', 'parsing', 'pdf', 'queue-list']);
});

test('a ratio goal is decided on the median of the per-round ratios', () => {
  // spoolgate/Postfix per round: 10/2 = 5, 10/3 = 3.33, 10/2.4 = 4.17 → median 4.17 ≥ 4: met.
  const met: Results = { forwarding: { series: [series('spoolgate', 'spoolgate', [1, 1, 1]), series('postfix', 'postfix', [5, 3, 4.17])] } };
  const e = evaluate(goal('forwarding-postfix'), met);
  assert.equal(e.status, 'met');
  assert.match(e.measured[0]!, /4\.17 \(3\.00–5\.00\)/);
  // One slow round does not decide it: the median is 3.33 < 4.
  const notMet: Results = { forwarding: { series: [series('spoolgate', 'spoolgate', [1, 1, 1]), series('postfix', 'postfix', [5, 3, 3.33])] } };
  assert.equal(evaluate(goal('forwarding-postfix'), notMet).status, 'not met');
});

test('the boundary is met (≥, ≤) and "under 1 s" is strict', () => {
  const fwd: Results = { forwarding: { series: [series('spoolgate', 'spoolgate', [1]), series('postfix', 'postfix', [4])] } };
  assert.equal(evaluate(goal('forwarding-postfix'), fwd).status, 'met');
  const q = (p50: number): Results => ({ queue: { n: 10_000, rows: [{ name: 'queue list --json (10000 in retry)', p50, min: p50, max: p50 }] } });
  assert.equal(evaluate(goal('queue-list'), q(0.999)).status, 'met');
  assert.equal(evaluate(goal('queue-list'), q(1)).status, 'not met');
});

test('a ratio with the other side missing, or from different rounds only, is "not measured"', () => {
  const onlyOne: Results = { forwarding: { series: [series('spoolgate', 'spoolgate', [1, 1, 1])] } };
  assert.equal(evaluate(goal('forwarding-postfix'), onlyOne).status, 'not measured');
  const postfixFailed: Results = { forwarding: { series: [series('spoolgate', 'spoolgate', [1, 1, 1]), series('postfix', 'postfix', [])] } };
  assert.equal(evaluate(goal('forwarding-postfix'), postfixFailed).status, 'not measured');
  // Results of an older shape (no series) are not measured either.
  assert.equal(evaluate(goal('pop3'), { pop3: {} as never }).status, 'not measured');
});

test('a goal with two conditions is met only if both hold, and not measured if one is missing', () => {
  const lat = (p50: number, p99: number): Results => ({ latency: { series: [series('spoolgate', 'spoolgate', [1, 1, 1], 200, () => ({ p50, p99 }))] } });
  assert.equal(evaluate(goal('latency'), lat(3.9, 11)).status, 'met');
  assert.equal(evaluate(goal('latency'), lat(3.9, 13)).status, 'not met');
  assert.equal(evaluate(goal('latency'), lat(5, 11)).status, 'not met');
  const noP99: Results = { latency: { series: [series('spoolgate', 'spoolgate', [1], 200, () => ({ p50: 1 }))] } };
  const e = evaluate(goal('latency'), noP99);
  assert.equal(e.status, 'not measured');
  assert.deepEqual(e.measured.map((m) => m.endsWith('not measured')), [false, true]);
});

test('NaN and infinite figures are not measured, never met', () => {
  const zero: Results = { pop3: { series: [series('spoolgate', 'spoolgate', [0]), series('dovecot', 'dovecot', [0])] } };
  assert.equal(evaluate(goal('pop3'), zero).status, 'not measured');
});

test('the parse goal needs a compiled run and checks the peak RSS too', () => {
  const parse = (compiled: boolean, rss: number): Results => {
    const sg = series('spoolgate', 'spoolgate', [2, 2, 2], 1024);
    const withRss: Series = { ...sg, runs: sg.runs.map((r) => ({ ...r, usage: { spoolgate: { maxRssMB: rss, cpuUserS: 2, cpuSysS: 0 } } })) };
    return { parsing: { compiled, series: [withRss, series('iconv', 'iconv', [1, 1, 1], 1024)] } };
  };
  assert.equal(evaluate(goal('parsing'), parse(true, 110)).status, 'met');
  assert.equal(evaluate(goal('parsing'), parse(true, 130)).status, 'not met');
  assert.equal(evaluate(goal('parsing'), parse(false, 110)).status, 'not measured');
});

test('the Markdown table shows one row per goal with its status and the scale of a small run', () => {
  const rows = evaluateAll({ forwarding: { scale: 0.05, series: [series('spoolgate', 'spoolgate', [1]), series('postfix', 'postfix', [5]), series('ceiling', 'smtp-source', [0.1])] } });
  const md = goalTable(rows);
  assert.equal(md.filter((l) => l.startsWith('| ') && !l.startsWith('| goal')).length, GOALS.length);
  assert.match(md.find((l) => l.includes('vs Postfix relay'))!, /\*\*met\*\*/);
  assert.match(md.find((l) => l.includes('vs the ceiling'))!, /\*\*not met\*\*/);
  assert.match(md.find((l) => l.includes('vs the ceiling'))!, /BENCH_SCALE 0\.05/);
  assert.ok(md.some((l) => l.includes('not measured')));
});
