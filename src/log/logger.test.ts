import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, type LogRecord, STARTUP_LEVEL } from './logger.js';

function capture(level?: number): { log: Logger; lines: LogRecord[] } {
  const lines: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => lines.push(r) }, instance: 'CSSMTP1', level, now: () => new Date(0) });
  return { log, lines };
}

test('starts at 127 until the configuration sets a level', () => {
  const { log } = capture();
  assert.equal(log.level, STARTUP_LEVEL);
  assert.ok(log.enabled('debug'));
  assert.ok(!log.enabled('trace'));
});

test('level bits filter; errors always pass; children follow level changes', () => {
  const { log, lines } = capture(7);
  const child = log.forTask(3);
  child.info('x');
  child.event('spool.finished', { id: 'a' });
  log.setLevel(0);
  child.error('boom');
  child.event('hidden');
  assert.deepEqual(lines.map((l) => [l.level, l.event, l.tkid]), [['event', 'spool.finished', 3], ['error', 'boom', 3]]);
});
