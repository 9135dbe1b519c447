import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Logger } from './logger.js';
import { LogOutput } from './output.js';

function setup(t: import('node:test').TestContext): { dir: string; stderr: PassThrough; err: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (d: Buffer) => { text += d.toString('utf8'); });
  return { dir, stderr, err: () => text };
}

const lines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').slice(0, -1);

test('LogOutput: a new format and a new file apply to the next line, for child loggers too; the old file is closed with every line', async (t) => {
  const { dir, stderr } = setup(t);
  const first = join(dir, 'a', 'gw.log');
  const out = new LogOutput({ logFile: first, logFormat: 'text' }, stderr);
  const log = Logger.create({ sink: out, instance: 'I', level: 255, now: () => new Date(0) });
  const task = log.forTask(3);
  log.event('one', { n: 1 });
  assert.equal(await out.apply({ logFile: first, logFormat: 'json' }), undefined);
  task.event('two', { n: 2 });
  const second = join(dir, 'b', 'gw.log');
  const closing = out.apply({ logFile: second, logFormat: 'json' });
  log.event('three', { n: 3 });
  assert.equal(await closing, undefined);
  await out.close();
  assert.deepEqual(lines(first), [
    '1970-01-01T00:00:00.000Z I event one n=1',
    JSON.stringify({ n: 2, time: '1970-01-01T00:00:00.000Z', instance: 'I', level: 'event', tkid: 3, event: 'two' }),
  ]);
  assert.deepEqual(lines(second).map((l) => (JSON.parse(l) as { event: string }).event), ['three']);
});

test('LogOutput: a LogFile that cannot be made keeps the old destination and says why', async (t) => {
  const { dir, stderr, err } = setup(t);
  const blocker = join(dir, 'file');
  writeFileSync(blocker, '');
  const out = new LogOutput({ logFile: null, logFormat: 'text' }, stderr);
  const problem = await out.apply({ logFile: join(blocker, 'sub', 'gw.log'), logFormat: 'json' });
  assert.match(problem ?? '', /^LogFile .*gw\.log cannot be used: /);
  assert.deepEqual(out.destination, { logFile: null, logFormat: 'text' });
  Logger.create({ sink: out, instance: 'I', level: 255, now: () => new Date(0) }).event('still', {});
  assert.equal(err(), '1970-01-01T00:00:00.000Z I event still\n');
});
