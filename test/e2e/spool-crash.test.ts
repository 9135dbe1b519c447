// Crash safety of spool arrival (moved here from src/spool/submit.test.ts: it starts a producer
// process with the TypeScript loader and kills it -9, too slow for `npm run test:unit`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FakeClock } from '../../src/testing/clock.js';
import { tempDir } from '../../src/testing/peers.js';
import { SpoolQueue } from '../../src/spool/queue.js';
import { submitToSpool } from '../../src/spool/submit.js';

const SUBMIT_TS = resolve(import.meta.dirname, '..', '..', 'src', 'spool', 'submit.ts');

test('crash safety: a producer killed -9 mid-write leaves nothing in incoming/ and nothing is reported', async (t) => {
  const root = tempDir(t);
  const clock = new FakeClock();
  const q = await SpoolQueue.open({ root, writer: 'CRASH', clock, rescanMs: 1000 });
  assert.ok(q.ok);
  t.after(() => q.value.close());
  const arrived: string[] = [];
  let wake = (): void => {};
  q.value.watch((e) => { arrived.push(e.id); wake(); });

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
  // A complete entry put in afterwards is reported by a scan that also saw tmp/'s leftovers (and
  // would have reported them): once it is, nothing else has been.
  const sentinel = await submitToSpool({ root, writer: 'CRASH', data: Buffer.from('HELO x\n'), attrs: {} });
  await new Promise<void>((resolve) => { wake = () => { if (arrived.includes(sentinel.id)) resolve(); }; wake(); });
  assert.deepEqual(arrived, [sentinel.id]);
});
