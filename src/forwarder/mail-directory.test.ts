import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MailDirectory, type MailDirectoryEntry } from './mail-directory.js';
import { tempDir } from '../testing/peers.js';
import type { Recipient } from '../core/index.js';

const T0 = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));
const r = (a: string, extra: Partial<Recipient> = {}): Recipient => {
  const [local, domain] = a.split('@') as [string, string];
  return { mailbox: { local, domain }, ...extra };
};

function entry(id: string, nextMin: number): MailDirectoryEntry & { data: Buffer } {
  const recipients = [r('alice@example.org', { notify: { kind: 'on', success: false, failure: true, delay: true } }), r('bob@example.org', { orcpt: { type: 'rfc822', address: 'Bob@example.org' } })];
  return {
    id,
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'batch', domain: 'mvs.example.com' } }, recipients, requireTls: true, dsn: { ret: 'HDRS', envid: 'E-' + id } },
    pendingRecipients: [recipients[1]!],
    firstAttempt: T0,
    nextAttempt: new Date(T0.getTime() + nextMin * 60_000),
    attempts: 5,
    jobName: 'PAYROLL',
    jobId: 'JOB00042',
    originUser: 'OPER1',
    lastReply: { code: 451, enhanced: '4.3.0', text: 'try again later' },
    data: Buffer.from(`Subject: ${id}\r\n\r\nbody of ${id}\r\n`),
  };
}

test('put / list / update / due / readData / remove round trip', async (t) => {
  const dir = tempDir(t);
  const md = await MailDirectory.open(join(dir, 'extretry'));
  const a = entry('msg-a', 30);
  const b = entry('msg-b', 10);
  assert.ok((await md.put(a)).ok);
  assert.ok((await md.put(b)).ok);
  const again = await md.put(a);
  assert.ok(!again.ok);
  assert.match(again.error.message, /already in the mail directory/);

  const { records, quarantined } = await md.list();
  assert.deepEqual(quarantined, []);
  assert.deepEqual(records.map((x) => x.id), ['msg-b', 'msg-a']); // by next attempt
  const { data, ...want } = a;
  assert.deepEqual(records[1], { ...want, size: data.length });

  const due = await md.due(new Date(T0.getTime() + 15 * 60_000));
  assert.deepEqual(due.records.map((x) => x.id), ['msg-b']);

  const u = await md.update('msg-b', { attempts: 6, nextAttempt: new Date(T0.getTime() + 45 * 60_000), pendingRecipients: [], lastReply: { code: 421, text: 'lost connection' } });
  assert.ok(u.ok);
  const after = (await md.list()).records.find((x) => x.id === 'msg-b');
  assert.equal(after?.attempts, 6);
  assert.deepEqual(after?.pendingRecipients, []);
  assert.deepEqual(after?.lastReply, { code: 421, text: 'lost connection' });
  assert.deepEqual((await md.due(new Date(T0.getTime() + 40 * 60_000))).records.map((x) => x.id), ['msg-a']);

  const got = await md.readData('msg-b');
  assert.ok(got.ok);
  assert.deepEqual(got.value, b.data);

  assert.equal(await md.remove('msg-a'), true);
  assert.equal(await md.remove('msg-a'), false);
  assert.deepEqual((await md.list()).records.map((x) => x.id), ['msg-b']);
  assert.equal((await md.update('msg-a', { attempts: 1 })).ok, false);
  assert.deepEqual((await readdir(join(dir, 'extretry'))).sort(), ['msg-b.json', 'msg-b.msg', 'quarantine']);
  await assert.rejects(md.put(entry('../escape', 1)), /not a valid mail directory id/);
});

test('corrupt control records are quarantined with a clear reason, never thrown', async (t) => {
  const dir = tempDir(t);
  const md = await MailDirectory.open(dir);
  await md.put(entry('good', 1));
  await md.put(entry('badjson', 1));
  await md.put(entry('nodata', 1));
  await md.put(entry('shortdata', 1));
  await md.put(entry('badaddr', 1));
  await md.put(entry('badreply', 1));
  await writeFile(join(dir, 'badjson.json'), '{"version":1, "id": "badj');
  await writeFile(join(dir, 'nodata.msg'), '').then(() => import('node:fs/promises')).then((fs) => fs.unlink(join(dir, 'nodata.msg')));
  await writeFile(join(dir, 'shortdata.msg'), 'Subj');
  const ctl = JSON.parse(await readFile(join(dir, 'badaddr.json'), 'utf8'));
  ctl.envelope.recipients[0].to = 'no at sign';
  await writeFile(join(dir, 'badaddr.json'), JSON.stringify(ctl));
  const ctl2 = JSON.parse(await readFile(join(dir, 'badreply.json'), 'utf8'));
  ctl2.lastReply = { code: 451, enhanced: '5.1.1', text: 'x' };
  await writeFile(join(dir, 'badreply.json'), JSON.stringify(ctl2));

  const { records, quarantined } = await md.list();
  assert.deepEqual(records.map((x) => x.id), ['good']);
  const byName = Object.fromEntries(quarantined.map((q) => [q.name, q.problem]));
  assert.match(byName['badjson.json']!, /moved to quarantine\/: control record is not JSON/);
  assert.match(byName['nodata.json']!, /data file missing/);
  assert.match(byName['shortdata.json']!, /data file is 4 bytes, control record says \d+/);
  assert.match(byName['badaddr.json']!, /bad recipient address "no at sign"/);
  assert.match(byName['badreply.json']!, /lastReply.enhanced is not an enhanced status code of the reply's class/);
  assert.deepEqual((await readdir(join(dir, 'quarantine'))).sort(),
    ['badaddr.json', 'badaddr.msg', 'badjson.json', 'badjson.msg', 'badreply.json', 'badreply.msg', 'nodata.json', 'shortdata.json', 'shortdata.msg']);
  assert.deepEqual((await md.list()).quarantined, []); // moved away: reported once
});

test('open() removes temp files and orphan data files left by a crash', async (t) => {
  const dir = tempDir(t);
  const md = await MailDirectory.open(dir);
  await md.put(entry('kept', 1));
  await writeFile(join(dir, '.tmp-0123-half.json'), '{"ver');
  await writeFile(join(dir, 'orphan.msg'), 'data written, control record not yet');
  const again = await MailDirectory.open(dir);
  assert.deepEqual(again.recovered, { removedTemp: ['.tmp-0123-half.json'], removedOrphans: ['orphan.msg'] });
  assert.deepEqual((await again.list()).records.map((x) => x.id), ['kept']);
});

test('a version 1 control record (reply as text, spoolgate 0.1) still loads: extended retry survives the upgrade', async (t) => {
  const dir = tempDir(t);
  const md = await MailDirectory.open(dir);
  for (const [id, line] of [['old-a', '451 4.3.0 try again later'], ['old-b', 'no reply'], ['old-c', 'connection refused']] as const) {
    const e = entry(id, 1);
    assert.ok((await md.put(e)).ok);
    // Rewrite the control record the way 0.1 wrote it.
    const ctl = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8'));
    await writeFile(join(dir, `${id}.json`), JSON.stringify({ ...ctl, version: 1, lastReply: line }) + '\n');
  }
  const { records, quarantined } = await md.list();
  assert.deepEqual(quarantined, []);
  assert.deepEqual(Object.fromEntries(records.map((x) => [x.id, x.lastReply])), {
    'old-a': { code: 451, enhanced: '4.3.0', text: 'try again later' },
    'old-b': undefined,
    'old-c': { code: 451, text: 'connection refused' },
  });
  // The next update writes version 2.
  assert.ok((await md.update('old-a', { attempts: 9 })).ok);
  const ctl = JSON.parse(await readFile(join(dir, 'old-a.json'), 'utf8'));
  assert.deepEqual([ctl.version, ctl.lastReply], [2, { code: 451, enhanced: '4.3.0', text: 'try again later' }]);
});
