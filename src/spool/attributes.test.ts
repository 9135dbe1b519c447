import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { jobIdFromInode, jobNameFromFileName, normalizeName, parseAttrsJson, userNameOf } from './attributes.js';

test('normalizeName: 1-8 chars A-Z 0-9 $ # @, upper-cased', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: 'cssmtp', want: 'CSSMTP' },
    { input: 'A$#@1234', want: 'A$#@1234' },
    { input: '', want: undefined },
    { input: 'NINECHARS', want: undefined },
    { input: 'A-B', want: undefined },
    { input: '../x', want: undefined },
  ];
  for (const c of cases) {
    const r = normalizeName(c.input);
    assert.deepEqual(r.ok ? r.value : undefined, c.want, c.input);
  }
});

test('jobNameFromFileName and jobIdFromInode', () => {
  const cases: { input: string; want: string }[] = [
    { input: 'payroll.smtp', want: 'PAYROLL' },
    { input: '/x/y/daily-report-2026.txt', want: 'DAILYREP' },
    { input: 'a$b#c@d', want: 'A$B#C@D' },
    { input: '---.txt', want: 'NONAME' },
    { input: '.hidden', want: 'HIDDEN' },
  ];
  for (const c of cases) assert.equal(jobNameFromFileName(c.input), c.want, c.input);
  assert.equal(jobIdFromInode(42), 'J0000042');
  assert.equal(jobIdFromInode(123456789n), 'J3456789');
});

test('parseAttrsJson validates untrusted attrs.json', () => {
  const good = parseAttrsJson(Buffer.from(JSON.stringify({
    jobName: 'payroll', jobId: 'J0000001', originNode: 'mvs1.example', taskType: 'DEST',
    created: '2026-11-22T12:00:00.000Z', recordFormat: 'fixed', encoding: 'IBM-1047', originUser: 'mallory', extra: 1,
  })));
  assert.ok(good.ok);
  assert.deepEqual(good.value, {
    jobName: 'PAYROLL', jobId: 'J0000001', originNode: 'mvs1.example', taskType: 'DEST',
    created: new Date('2026-11-22T12:00:00.000Z'), recordFormat: 'fixed', encoding: 'IBM-1047',
  });
  const bad: { name: string; input: string; want: RegExp }[] = [
    { name: 'not JSON', input: '{', want: /not valid JSON/ },
    { name: 'array', input: '[]', want: /not a JSON object/ },
    { name: 'null', input: 'null', want: /not a JSON object/ },
    { name: 'number job name', input: '{"jobName":5}', want: /jobName must be a string/ },
    { name: 'long job name', input: '{"jobName":"ABCDEFGHI"}', want: /jobName/ },
    { name: 'bad job id', input: '{"jobId":"j 1"}', want: /jobId/ },
    { name: 'bad node', input: '{"originNode":"a b"}', want: /originNode/ },
    { name: 'bad task', input: '{"taskType":"SYSOUT"}', want: /taskType/ },
    { name: 'bad time', input: '{"created":"yesterday"}', want: /created/ },
    { name: 'bad format', input: '{"recordFormat":"undefined"}', want: /recordFormat/ },
    { name: 'bad encoding', input: '{"encoding":"../x"}', want: /encoding/ },
    { name: 'too large', input: JSON.stringify({ pad: 'x'.repeat(5000) }), want: /limit 4096/ },
    { name: 'control chars escaped', input: '{"jobId":"\\u0007"}', want: /\\x07/ },
  ];
  for (const c of bad) {
    const r = parseAttrsJson(Buffer.from(c.input));
    assert.ok(!r.ok, c.name);
    assert.match(r.error, c.want, c.name);
  }
});

test('userNameOf reads a passwd file and falls back to the numeric uid', async (t) => {
  const dir = tempDir(t);
  const passwd = join(dir, 'passwd');
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\n# comment\nbatch:x:1234:100::/home/batch:/bin/sh\n');
  assert.equal(await userNameOf(1234, passwd), 'batch');
  assert.equal(await userNameOf(0, passwd), 'root');
  assert.equal(await userNameOf(999, passwd), '999');
  assert.equal(await userNameOf(5, join(dir, 'missing')), '5');
});
