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

test('O2 item 5: under journald (JOURNAL_STREAM is standard error) each line carries its syslog priority; a LogFile never does', async (t) => {
  const { dir, stderr, err } = setup(t);
  const out = new LogOutput({ logFile: null, logFormat: 'text' }, stderr, undefined, { journald: true });
  const log = Logger.create({ sink: out, instance: 'I', level: 255, now: () => new Date(0) });
  log.error('e', {});
  log.warn('w', {});
  log.event('v', {});
  log.info('i', {});
  log.debug('d', {});
  assert.deepEqual(err().split('\n').slice(0, -1).map((l) => l.slice(0, 3)), ['<3>', '<4>', '<5>', '<6>', '<7>']);
  const file = join(dir, 'gw.log');
  assert.equal(await out.apply({ logFile: file, logFormat: 'json' }), undefined);
  log.warn('w2', {});
  await out.close();
  assert.equal(readFileSync(file, 'utf8').startsWith('{'), true, 'no prefix in a file');
  log.warn('after-close', {});
  assert.match(err().split('\n').at(-2)!, /^<4>\{/, 'JSON on standard error gets the prefix too');
});

test('O2 item 5: JOURNAL_STREAM is believed only when it names the stream fd 2 really is', async (t) => {
  const { dir } = setup(t);
  const { openSync, closeSync, fstatSync } = await import('node:fs');
  const { stderrIsJournal } = await import('./output.js');
  const fd = openSync(join(dir, 'stream'), 'w');
  t.after(() => closeSync(fd));
  const st = fstatSync(fd, { bigint: true });
  assert.equal(stderrIsJournal(`${st.dev}:${st.ino}`, fd), true);
  assert.equal(stderrIsJournal(`${st.dev}:${st.ino + 1n}`, fd), false, 'inherited from a parent whose stderr was the journal');
  assert.equal(stderrIsJournal(undefined, fd), false);
  assert.equal(stderrIsJournal('8:abc', fd), false);
  assert.equal(stderrIsJournal(`${st.dev}:${st.ino}`, 987), false, 'a closed descriptor');
});

test('O2 item 5: a process started with JOURNAL_STREAM naming its standard error writes priority prefixes (the seam: process env → log lines)', async (t) => {
  const { dir } = setup(t);
  const { spawn } = await import('node:child_process');
  const { openSync, closeSync, fstatSync } = await import('node:fs');
  const errFile = join(dir, 'stderr');
  const fd = openSync(errFile, 'w');
  const st = fstatSync(fd, { bigint: true });
  // A child whose fd 2 is the file, told that the file is its journal stream.
  const code = `import('${new URL('./output.js', import.meta.url).href}').then(({ LogOutput }) => import('${new URL('./logger.js', import.meta.url).href}').then(({ Logger }) => {
    const log = Logger.create({ sink: new LogOutput({ logFile: null, logFormat: 'text' }), instance: 'J', level: 255 });
    log.warn('journal.check', {});
  }))`;
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', fd], env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` } });
  closeSync(fd);
  const rc = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(rc, 0, readFileSync(errFile, 'utf8'));
  assert.match(readFileSync(errFile, 'utf8'), /^<4>\S+ J warning journal\.check/m);
});
