import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import { SpoolQueue, SpoolLockError } from './queue.js';

/** The PID of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid !== undefined && r.pid > 0);
  return r.pid;
}

test('a second open of the same writer refuses, naming writer, PID and lock path', async (t) => {
  const root = tempDir(t);
  const clock = new FakeClock();
  const first = await SpoolQueue.open({ root, writer: 'cssmtp', clock });
  assert.ok(first.ok);
  t.after(() => first.value.close());
  const second = await SpoolQueue.open({ root, writer: 'CSSMTP', clock });
  assert.ok(!second.ok);
  assert.ok(second.error instanceof SpoolLockError);
  const lockPath = join(root, 'CSSMTP', '.lock');
  assert.equal(second.error.lockPath, lockPath);
  assert.equal(second.error.pid, process.pid);
  assert.match(second.error.message, /writer CSSMTP/);
  assert.ok(second.error.message.includes(`process ${process.pid}`));
  assert.ok(second.error.message.includes(lockPath));
  assert.equal((await readFile(lockPath, 'utf8')).split(' ')[0], String(process.pid));
});

test('close releases the lock so the writer can be opened again', async (t) => {
  const root = tempDir(t);
  const clock = new FakeClock();
  const a = await SpoolQueue.open({ root, writer: 'W1', clock });
  assert.ok(a.ok);
  await a.value.close();
  const b = await SpoolQueue.open({ root, writer: 'W1', clock });
  assert.ok(b.ok);
  await b.value.close();
});

for (const [name, content] of [
  ['a dead PID', () => `${deadPid()}\n`],
  ['no valid PID', () => 'garbage'],
  ['an empty file', () => ''],
  // A previous incarnation with our PID (a container restarting the gateway as PID 1).
  ['our own PID from an earlier start', () => `${process.pid} ${Date.now() - 3_600_000}\n`],
] as const) {
  test(`a stale lock holding ${name} is taken over`, async (t) => {
    const root = tempDir(t);
    const clock = new FakeClock();
    const a = await SpoolQueue.open({ root, writer: 'STALE', clock });
    assert.ok(a.ok);
    await a.value.close();
    const lockPath = join(root, 'STALE', '.lock');
    await writeFile(lockPath, content());
    const b = await SpoolQueue.open({ root, writer: 'stale', clock });
    assert.ok(b.ok, b.ok ? '' : b.error.message);
    assert.equal((await readFile(lockPath, 'utf8')).split(' ')[0], String(process.pid));
    await b.value.close();
  });
}

test('different writers coexist on one spool root', async (t) => {
  const root = tempDir(t);
  const clock = new FakeClock();
  const a = await SpoolQueue.open({ root, writer: 'PAYROLL', clock });
  const b = await SpoolQueue.open({ root, writer: 'HR$1', clock });
  assert.ok(a.ok && b.ok);
  await a.value.close();
  await b.value.close();
});

test('an invalid writer name is a configuration error', async (t) => {
  const root = tempDir(t);
  await assert.rejects(SpoolQueue.open({ root, writer: 'TOOLONGNAME', clock: new FakeClock() }), /ExtWrtName/);
  await assert.rejects(SpoolQueue.open({ root, writer: '../x', clock: new FakeClock() }), /ExtWrtName/);
});
