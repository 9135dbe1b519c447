import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { runCli } from '../testing/cli.js';
import { run as submit } from './submit.js';
import { run as spool } from './spool.js';

const REPO = resolve(import.meta.dirname, '..', '..');

// In-process: `spoolgate submit|spool ...` through the command's run(argv, io).
async function cli(args: string[], input?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = args;
  const r = await runCli(cmd === 'spool' ? spool : submit, rest, input === undefined ? {} : { stdin: input });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('spoolgate submit --config puts examples/hello.smtp in the writer\'s incoming/', async (t) => {
  const dir = tempDir(t);
  const conf = join(dir, 'gw.conf');
  await writeFile(conf, `ExtWrtName batch1\nSpool\n{\n  Directory ${join(dir, 'spool')}\n}\nTargetServer\n{\n  TargetIP 127.0.0.1\n}\n`);
  const r = await cli(['submit', '--config', conf, join(REPO, 'examples', 'hello.smtp')]);
  assert.equal(r.status, 0, r.stderr);
  const incoming = join(dir, 'spool', 'BATCH1', 'incoming');
  const entries = await readdir(incoming);
  assert.equal(entries.length, 1);
  assert.match(r.stdout, new RegExp(`^${entries[0]} HELLO\\(J\\d{7}\\) ${join(REPO, 'examples')}/hello.smtp\\n$`));
  assert.equal(await readFile(join(incoming, entries[0]!, 'data'), 'utf8'), await readFile(join(REPO, 'examples', 'hello.smtp'), 'utf8'));
  assert.deepEqual(await readdir(join(dir, 'spool', 'tmp')), []);
});

test('spoolgate submit from stdin with attributes; usage errors exit 2; a missing file exits 1', async (t) => {
  const dir = tempDir(t);
  const r = await cli(['submit', '--spool-dir', dir, '--writer', 'w1', '--job', 'nightly', '--encoding', 'ibm1047', '--record-format', 'nl', '-'], 'HELO x\n');
  assert.equal(r.status, 0, r.stderr);
  const [id] = r.stdout.split(' ');
  const attrs = JSON.parse(await readFile(join(dir, 'W1', 'incoming', id!, 'attrs.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual([attrs.jobName, attrs.encoding, attrs.recordFormat], ['NIGHTLY', 'IBM-1047', 'nl']);
  for (const args of [['submit', '--spool-dir', dir, '--writer', 'w1'], ['submit', '--spool-dir', dir, 'x'], ['submit', '--spool-dir', dir, '--writer', 'w1', '--encoding', 'IBM-9999', 'x']]) {
    assert.equal((await cli(args)).status, 2, args.join(' '));
  }
  const missing = await cli(['submit', '--spool-dir', dir, '--writer', 'w1', join(dir, 'missing.smtp')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /missing\.smtp: ENOENT/);
});

test('spoolgate spool held | release | purge', async (t) => {
  const dir = tempDir(t);
  const held = join(dir, 'W1', 'held');
  await mkdir(join(held, 'e1'), { recursive: true });
  await mkdir(join(held, 'e2'), { recursive: true });
  await mkdir(join(dir, 'W1', 'incoming'), { recursive: true });
  await writeFile(join(held, 'e1.reason.json'), JSON.stringify({ reason: 'syntax errors', heldAt: '2026-11-22T12:00:00.000Z', jobName: 'PAY', jobId: 'J0000001' }));
  const base = ['--spool-dir', dir, '--writer', 'w1'];
  const list = await cli(['spool', 'held', ...base]);
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.stdout, 'e2 - - (reason not recorded)\ne1 2026-11-22T12:00:00.000Z PAY(J0000001) syntax errors\n');
  assert.equal((await cli(['spool', 'release', 'e1', ...base])).stdout, 'released e1\n');
  assert.deepEqual(await readdir(join(dir, 'W1', 'incoming')), ['e1']);
  assert.equal((await cli(['spool', 'purge', 'e2', ...base])).stdout, 'purged e2\n');
  assert.deepEqual(await readdir(held), []);
  const none = await cli(['spool', 'purge', 'e2', ...base]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no held entry e2/);
  assert.equal((await cli(['spool', 'frobnicate', ...base])).status, 2);
});

test('spoolgate spool show: a held file\'s report, by its name or its queue id', async (t) => {
  const dir = tempDir(t);
  const held = join(dir, 'W1', 'held');
  await mkdir(join(held, 'job 7.txt'), { recursive: true });
  await mkdir(join(dir, 'W1', 'sysout'), { recursive: true });
  await writeFile(join(held, 'job 7.txt.reason.json'), JSON.stringify({ reason: 'job PAY (J0000007): 1 problems', heldAt: '2026-11-22T12:00:00.000Z', jobName: 'PAY', jobId: 'J0000007' }));
  await writeFile(join(dir, 'W1', 'sysout', 'J0000007.job_7_txt.report.txt'), 'record 3: 500 5.5.2 BOGUS COMMAND not recognized\n');
  const { queueIdFor } = await import('../core/ids.js');
  const base = ['--spool-dir', dir, '--writer', 'w1'];
  for (const id of ['job 7.txt', queueIdFor('job 7.txt', 'J0000007', 0)]) {
    const r = await cli(['spool', 'show', id, ...base]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^job 7\\.txt queue id ${queueIdFor('job 7.txt', 'J0000007', 0)} held 2026-11-22T12:00:00.000Z job PAY\\(J0000007\\)$`, 'm'));
    assert.match(r.stdout, /^reason: job PAY \(J0000007\): 1 problems$/m);
    assert.match(r.stdout, /^record 3: 500 5\.5\.2 BOGUS COMMAND not recognized$/m);
  }
  const none = await cli(['spool', 'show', '../../etc/passwd', ...base]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no held spool file/);
});
