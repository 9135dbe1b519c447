import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShutdownStack } from './shutdown.js';

test('ShutdownStack stops stages in reverse order, reports a failing stage and still stops the rest, once', async () => {
  const stopped: string[] = [];
  const s = new ShutdownStack();
  s.push('log', () => { stopped.push('log'); });
  s.push('forwarder', async () => { stopped.push('forwarder'); throw new Error('boom'); });
  s.push('http', async () => { stopped.push('http'); });
  assert.deepEqual(s.order(), ['http', 'forwarder', 'log']);
  const seen: string[] = [];
  const failures = await s.run((f) => seen.push(f.stage));
  assert.deepEqual(stopped, ['http', 'forwarder', 'log']);
  assert.deepEqual(failures.map((f) => f.stage), ['forwarder']);
  assert.deepEqual(seen, ['forwarder']);
  await s.run();
  assert.deepEqual(stopped, ['http', 'forwarder', 'log'], 'a second run stops nothing again');
});
