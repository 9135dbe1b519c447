import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBits, Logger, type LogRecord, STARTUP_LEVEL } from './logger.js';

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

test('tee: every line written goes to both sinks; the level stays shared with the original', () => {
  const a: string[] = [];
  const b: string[] = [];
  const log = Logger.create({ sink: { write: (r) => a.push(r.event) }, instance: 'T', level: LogBits.error | LogBits.event });
  const teed = log.tee({ write: (r) => b.push(r.event) });
  teed.event('mail.delivery');
  teed.info('mail.deferred'); // below the level: neither sink
  teed.forTask(3).event('spool.held');
  log.setLevel(LogBits.error); // LOGLEVEL on the original applies to the teed logger too
  teed.event('mail.delivery');
  teed.error('spool.unreadable');
  assert.deepEqual(a, ['mail.delivery', 'spool.held', 'spool.unreadable']);
  assert.deepEqual(b, a);
});
