import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, type LogRecord } from '../log/index.js';
import { FakeClock } from '../testing/clock.js';
import { SteadyTime } from './steady-time.js';

function capture(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, log: Logger.create({ sink: { write: (r) => records.push(r) }, instance: 'T', level: 0xff }) };
}

test('steady time follows the monotonic clock across wall-clock steps, and logs each step once', () => {
  const clock = new FakeClock();
  const { log, records } = capture();
  const steady = new SteadyTime(clock, log);
  const t0 = steady.now();
  clock.step(-3_600_000); // back an hour
  clock.advance(60_000);
  assert.equal(steady.now(), t0 + 60_000, 'a backward step does not stall extended-retry dates');
  clock.step(10 * 86_400_000); // ten days ahead
  assert.equal(steady.now(), t0 + 60_000, 'a forward step does not age mail');
  clock.advance(1_000);
  steady.now();
  const steps = records.filter((r) => r.event === 'clock.step').map((r) => r.fields['stepMs']);
  assert.deepEqual(steps, [-3_600_000, 10 * 86_400_000]);
  assert.equal(steady.drift(), -3_600_000 + 10 * 86_400_000);
});
