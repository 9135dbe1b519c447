import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import { SpoolQueue } from './queue.js';
import { submitToSpool } from './submit.js';

const SUBMIT_TS = resolve(import.meta.dirname, 'submit.ts');

test('submitToSpool puts a complete entry directory in incoming/ and nothing in tmp/', async (t) => {
  const root = tempDir(t);
  const e = await submitToSpool({
    root, writer: 'cssmtp', data: Buffer.from('HELO x\nQUIT\n'),
    attrs: { jobName: 'payroll', originNode: 'mvs1', recordFormat: 'text', encoding: 'ISO8859-1' },
  });
  assert.equal(e.path, join(root, 'CSSMTP', 'incoming', e.id, 'data'));
  assert.equal(await readFile(e.path, 'utf8'), 'HELO x\nQUIT\n');
  assert.equal(e.size, 12);
  assert.equal(e.attrs.jobName, 'PAYROLL');
  assert.match(e.attrs.jobId, /^J\d{7}$/);
  assert.equal(e.attrs.taskType, 'WRITER');
  assert.equal(e.attrs.originUid, process.getuid?.());
  assert.equal(e.attrs.originUser, userInfo().username);
  const json = JSON.parse(await readFile(join(root, 'CSSMTP', 'incoming', e.id, 'attrs.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(json.jobId, e.attrs.jobId);
  assert.equal(json.originUser, undefined, 'the origin user is never written to attrs.json');
  assert.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('submitToSpool streams an async iterable and defaults the job name to the user', async (t) => {
  const root = tempDir(t);
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 10; i++) yield Buffer.alloc(1000, 0x41);
  }
  const e = await submitToSpool({ root, writer: 'W', data: gen(), attrs: { taskType: 'DEST' } });
  assert.equal(e.size, 10_000);
  assert.equal((await stat(e.path)).size, 10_000);
  assert.equal(e.attrs.taskType, 'DEST');
  assert.equal(e.attrs.jobName, userInfo().username.toUpperCase().replace(/[^A-Z0-9$#@]/g, '').slice(0, 8));
});

test('submitToSpool refuses invalid attributes before writing anything', async (t) => {
  const root = tempDir(t);
  await assert.rejects(submitToSpool({ root, writer: 'W', data: Buffer.from('x'), attrs: { jobName: 'way too long' } }), /jobName/);
  await assert.rejects(submitToSpool({ root, writer: 'bad writer', data: Buffer.from('x'), attrs: {} }), /writer name/);
});

test('crash safety: a producer killed -9 mid-write leaves nothing in incoming/ and nothing is reported', async (t) => {
  const root = tempDir(t);
  const clock = new FakeClock();
  const q = await SpoolQueue.open({ root, writer: 'CRASH', clock, rescanMs: 1000 });
  assert.ok(q.ok);
  t.after(() => q.value.close());
  const arrived: string[] = [];
  q.value.watch((e) => arrived.push(e.id));

  // The child streams a large file through submitToSpool and, half-way, also leaves a plain
  // half-written file in tmp/ the way a foreign producer (cp) would; then it stalls and is killed.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { writeFileSync } from 'node:fs';
    const { submitToSpool } = await import(${JSON.stringify(SUBMIT_TS)});
    const root = ${JSON.stringify(root)};
    async function* big() {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, 0x41);
      writeFileSync(root + '/tmp/foreign.smtp', 'HELO half');
      process.stdout.write('half\\n');
      await new Promise(() => setInterval(() => {}, 1000));
    }
    await submitToSpool({ root, writer: 'CRASH', data: big(), attrs: { jobName: 'BIG' } });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'half');
  child.kill('SIGKILL');
  await once(child, 'exit');

  const tmpEntries = await readdir(join(root, 'tmp'));
  assert.equal(tmpEntries.length, 2, 'the partial entry directory and the foreign file stay in tmp/');
  const partial = tmpEntries.find((n) => n !== 'foreign.smtp')!;
  assert.equal((await stat(join(root, 'tmp', partial, 'data'))).size, 64 * 64 * 1024);
  assert.deepEqual(await readdir(join(root, 'CRASH', 'incoming')), []);
  clock.advance(5000); // several safety-net rescans
  q.value.rescan();
  assert.deepEqual(await q.value.list(), []);
  assert.deepEqual(arrived, []);
});
