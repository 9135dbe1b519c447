import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { tempDir } from '../testing/peers.js';
import { submitToSpool } from './submit.js';

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
