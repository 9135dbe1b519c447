import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAge, parseDuration, parseSince, sinceError } from './since.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

test('parseSince: durations back from now, ISO dates and date-times; nothing else', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: '30m', want: '2026-11-27T11:30:00.000Z' },
    { input: '1h', want: '2026-11-27T11:00:00.000Z' },
    { input: '7d', want: '2026-11-20T12:00:00.000Z' },
    { input: '2w', want: '2026-11-13T12:00:00.000Z' },
    { input: '45s', want: '2026-11-27T11:59:15.000Z' },
    { input: ' 12h ', want: '2026-11-27T00:00:00.000Z' },
    { input: '2026-11-22', want: '2026-11-22T00:00:00.000Z' },
    { input: '2026-11-22T12:00:00Z', want: '2026-11-22T12:00:00.000Z' },
    { input: '2026-11-22T12:00:00.5Z', want: '2026-11-22T12:00:00.500Z' },
    { input: '2026-11-22T12:00+01:00', want: '2026-11-22T11:00:00.000Z' },
    { input: '2026-11-22 12:00Z', want: '2026-11-22T12:00:00.000Z' },
    { input: 'yesterday', want: undefined },
    { input: '1', want: undefined },
    { input: '7 d', want: undefined },
    { input: '1y', want: undefined },
    { input: 'Nov 22 2026', want: undefined },
    { input: '2026-13-45', want: undefined },
    { input: '', want: undefined },
  ];
  for (const c of cases) assert.equal(parseSince(c.input, NOW)?.toISOString(), c.want, c.input);
});

test('parseAge: a bare number keeps the option\'s old unit; durations and ISO times; never the future', () => {
  assert.equal(parseAge('90', NOW, 'm'), 90 * 60_000);
  assert.equal(parseAge('30', NOW, 'd'), 30 * 86_400_000);
  assert.equal(parseAge('1h', NOW, 'm'), 3_600_000);
  assert.equal(parseAge('2026-11-26T12:00:00Z', NOW, 'd'), 86_400_000);
  assert.equal(parseAge('2027-01-01', NOW, 'd'), undefined);
  assert.equal(parseAge('soon', NOW, 'd'), undefined);
  assert.equal(parseDuration('3d'), 3 * 86_400_000);
  assert.match(sinceError('--since', 'x'), /^--since "x" is not a duration \(30m, 12h, 7d\) or an ISO date or date-time/);
});
