import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRoot, tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import { DELETING_PREFIX, deleteEntry, disposeBadEntry, listHeld, reportBadEntry } from './disposition.js';
import { DirectoryHeldFiles } from './held-files.js';
import { cleanLitter } from './litter.js';
import { SpoolQueue } from './queue.js';
import { formatReport, REPORT_JOB_NAME, type ReportProblem } from './report.js';
import { spoolLayout, submitToSpool, type SpoolEntry } from './submit.js';

async function setup(t: TestContext): Promise<{ root: string; q: SpoolQueue; clock: FakeClock }> {
  const root = tempDir(t);
  const clock = new FakeClock();
  const r = await SpoolQueue.open({ root, writer: 'CSSMTP', clock, rescanMs: 3_600_000 });
  assert.ok(r.ok);
  t.after(() => r.value.close());
  return { root, q: r.value, clock };
}

test('a delete a crash cut short is a dot-name the scanner ignores and start-up removes, never a half-deleted entry that would be held', async (t) => {
  const { root, q } = await setup(t);
  const incoming = join(root, 'CSSMTP', 'incoming');
  // What a kill -9 in the middle of the removal leaves: the renamed entry, partly emptied.
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('x'), attrs: { jobName: 'CUT' } });
  await rename(join(incoming, e.id), join(incoming, `${DELETING_PREFIX}${e.id}`));
  const files = await readdir(join(incoming, `${DELETING_PREFIX}${e.id}`));
  assert.ok(files.length >= 2, 'data and attributes');
  await rm(join(incoming, `${DELETING_PREFIX}${e.id}`, files[0]!));
  assert.deepEqual(await q.list(), [], 'not an entry, not a bad entry');
  const litter = await cleanLitter(spoolLayout(root, 'CSSMTP'), Date.now());
  assert.deepEqual(litter.removed, [join(incoming, `${DELETING_PREFIX}${e.id}`)]);
  assert.deepEqual(await readdir(incoming), []);
  // And a whole delete leaves nothing behind.
  const f = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('y'), attrs: {} });
  await q.finish(f);
  await q.finish(f); // twice (a retried disposal): no error
  assert.deepEqual(await readdir(incoming), []);
});

const problems: ReportProblem[] = [{ code: 501, enhanced: '5.5.4', text: "JES Syntax error. Too many args after 'HELO' command", recordNo: 1, messageNo: 0 }];

test('finish deletes the whole entry directory', async (t) => {
  const { root, q } = await setup(t);
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('x'), attrs: {} });
  await q.finish(e);
  assert.deepEqual(await readdir(join(root, 'CSSMTP', 'incoming')), []);
  assert.deepEqual(await q.list(), []);
});

test('hold moves the entry aside with its reason; release brings it back; purge deletes', { timeout: 30_000 }, async (t) => {
  const { root, q, clock } = await setup(t);
  const a = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('a'), attrs: { jobName: 'JOBA' } });
  const b = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('b'), attrs: { jobName: 'JOBB' } });
  const seen: string[] = [];
  let wake = (): void => {};
  q.watch((e) => { seen.push(e.id); wake(); });
  const reports = (id: string): number => seen.filter((x) => x === id).length;
  // Waits for the watcher's reports (no sleep; the test's own timeout bounds a report that never comes).
  const until = (done: () => boolean): Promise<void> => new Promise((resolve) => {
    wake = () => { if (done()) resolve(); };
    wake();
  });
  await until(() => reports(a.id) === 1 && reports(b.id) === 1); // the first scan
  await q.hold(a, 'syntax errors');
  await q.hold(b, 'too big');
  // A scan after both holds forgets them, so that a release is news: a sentinel entry's report
  // shows that such a scan ran.
  const c = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('c'), attrs: {} });
  await until(() => reports(c.id) === 1);
  await q.finish(c);
  assert.deepEqual(await q.list(), [], 'held entries are not listed');
  const held = await q.listHeld();
  assert.deepEqual(held.map((h) => [h.id, h.reason, h.jobName]), [[a.id, 'syntax errors', 'JOBA'], [b.id, 'too big', 'JOBB']]);
  assert.equal(held[0]!.heldAt?.getTime(), clock.now());
  assert.equal(await readFile(join(held[0]!.path, 'data'), 'utf8'), 'a');

  const rel = await q.release(a.id);
  assert.ok(rel.ok);
  assert.deepEqual((await q.list()).map((e) => e.id), [a.id]);
  assert.deepEqual((await q.listHeld()).map((h) => h.id), [b.id]);
  q.rescan();
  await until(() => reports(a.id) >= 2);
  assert.equal(reports(a.id), 2, 'a released entry is reported again, once');

  const pur = await q.purge(b.id);
  assert.ok(pur.ok);
  assert.deepEqual(await q.listHeld(), []);
  assert.deepEqual(await readdir(join(root, 'CSSMTP', 'held')), []);

  for (const bad of ['nope', '../incoming', '.lock', `${a.id}.reason.json`]) {
    assert.ok(!(await q.release(bad)).ok, bad);
    assert.ok(!(await q.purge(bad)).ok, bad);
  }
});

test('holding two plain files of the same name keeps both', async (t) => {
  const { root, q } = await setup(t);
  const inc = join(root, 'CSSMTP', 'incoming');
  for (const body of ['one', 'two']) {
    await writeFile(join(inc, 'report.txt'), body);
    // Written a minute ago: a plain file younger than SETTLE_MS is left (it may still grow).
    await utimes(join(inc, 'report.txt'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const [e] = await q.list();
    await q.hold(e!, body);
  }
  assert.deepEqual((await q.listHeld()).map((h) => [h.id, h.reason]).sort(), [['report.txt', 'one'], ['report.txt.2', 'two']]);
});

test('Report Sysout: the report file is written beside the queue and the entry is held', async (t) => {
  const { root, q, clock } = await setup(t);
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a b c\n'), attrs: { jobName: 'PAYROLL' } });
  const [entry] = await q.list();
  const out = await disposeBadEntry({ layout: q.layout, held: new DirectoryHeldFiles(q.layout), attributes: {}, entry: entry!, problems, summary: '1 problem', policy: { badSpoolDisp: 'hold', report: 'sysout' }, now: new Date(clock.now()) });
  assert.equal(out.disposition, 'held');
  assert.equal(out.report.kind, 'sysout');
  assert.ok(out.report.kind === 'sysout');
  assert.equal(out.report.path, join(root, 'CSSMTP', 'sysout', `${e.attrs.jobId}.${e.id}.report.txt`));
  assert.equal(await readFile(out.report.path, 'utf8'), formatReport({ attrs: entry!.attrs, problems, summary: '1 problem', entryId: e.id }));
  assert.deepEqual((await listHeld(q.layout)).map((h) => [h.id, h.reason]), [[e.id, '1 problem']]);
  // A second report for the same job never overwrites the first.
  const again = await q.writeSysout(entry!, 'second');
  assert.ok(again.endsWith(`${e.attrs.jobId}.${e.id}.2.report.txt`));
});

test('BadSpoolDisp Delete with Report None removes the entry and writes nothing', async (t) => {
  const { root, q, clock } = await setup(t);
  await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('x'), attrs: {} });
  const [entry] = await q.list();
  const out = await disposeBadEntry({ layout: q.layout, held: new DirectoryHeldFiles(q.layout), attributes: {}, entry: entry!, problems, summary: 's', policy: { badSpoolDisp: 'delete', report: 'none' }, now: new Date(clock.now()) });
  assert.deepEqual([out.disposition, out.report.kind], ['deleted', 'none']);
  assert.deepEqual(await readdir(join(root, 'CSSMTP', 'incoming')), []);
  assert.deepEqual(await readdir(join(root, 'CSSMTP', 'sysout')), []);
});

test('Report Admin: one message entry (DEST) to all administrators, the report text as it was built', async (t) => {
  const { root, q, clock } = await setup(t);
  await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a b c\n'), attrs: { jobName: 'PAYROLL' } });
  const [entry] = await q.list();
  const admins = ['ops@example.test', 'admin@example.test', 'night@example.test'];
  const out = await disposeBadEntry({
    layout: q.layout, held: new DirectoryHeldFiles(q.layout), attributes: {}, entry: entry!, problems, summary: '1 problem', now: new Date(clock.now()),
    policy: { badSpoolDisp: 'hold', report: 'admin', admin: { from: 'gateway@example.test', to: admins, hostName: 'gw.example.test' } },
  });
  assert.ok(out.report.kind === 'admin');
  assert.deepEqual(out.warnings, []);
  const mail = out.report.entry;
  assert.equal(mail.attrs.taskType, 'DEST');
  assert.equal(mail.attrs.jobName, REPORT_JOB_NAME);
  const listed = await q.list();
  assert.deepEqual(listed.map((e) => e.id), [mail.id], 'the report waits in incoming/; the bad file is held');
  // The queue reads it back as a message entry with the report's envelope and origin.
  const back = listed[0]!;
  assert.equal(back.kind, 'message');
  assert.equal(back.problem, undefined);
  assert.deepEqual(back.message?.origin, { kind: 'report' });
  assert.deepEqual(back.message?.envelope.from, { kind: 'mailbox', mailbox: { local: 'gateway', domain: 'example.test' } });
  assert.deepEqual(back.message?.envelope.recipients.map((r) => `${r.mailbox.local}@${r.mailbox.domain}`), admins);
  const text = (await readFile(back.path)).toString('latin1');
  assert.ok(text.includes('\r\nSubject: spoolgate error report for job PAYROLL (' + entry!.attrs.jobId + ')\r\n'));
  assert.ok(text.includes("501 5.5.4 JES Syntax error. Too many args after 'HELO' command"));
  assert.match(text, /\r\nDate: [^\r]+\r\nMessage-ID: <[^\r]+>\r\n/);
});

test('Report Admin falls back to sysout without administrators and for a bad report', async (t) => {
  const { root, q } = await setup(t);
  await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('x'), attrs: { jobName: REPORT_JOB_NAME, taskType: 'DEST' } });
  const [entry] = await q.list();
  const admin = { from: '', to: ['ops@example.test'], hostName: 'gw' };
  const loop = await reportBadEntry({ layout: q.layout, held: new DirectoryHeldFiles(q.layout), entry: entry!, problems, summary: 's', policy: { report: 'admin', admin } });
  assert.equal(loop.report.kind, 'sysout');
  assert.match(loop.warnings[0]!, /itself an error report/);
  const none = await reportBadEntry({ layout: q.layout, held: new DirectoryHeldFiles(q.layout), entry: { ...entry!, attrs: { ...entry!.attrs, jobName: 'X' } }, problems, summary: 's', policy: { report: 'admin', admin: { ...admin, to: [] } } });
  assert.equal(none.report.kind, 'sysout');
  assert.match(none.warnings[0]!, /no MailAdministrator/);
  assert.equal((await q.list()).length, 1, 'no report mail was queued');
});

test('an unreadable spool file is reported and left in place', async (t) => {
  const { root, q, clock } = await setup(t);
  const inc = join(root, 'CSSMTP', 'incoming');
  let name: string;
  if (isRoot) {
    // root reads every file: a directory in place of the data file is what it cannot read.
    name = 'dirdata';
    await mkdir(join(inc, name, 'data'), { recursive: true });
  } else {
    name = 'secret.smtp';
    await writeFile(join(inc, name), 'HELO x\n');
    await chmod(join(inc, name), 0o000);
  }
  const [entry] = await q.list();
  assert.equal(entry!.problem?.kind, 'unreadable');
  const out = await disposeBadEntry({ layout: q.layout, held: new DirectoryHeldFiles(q.layout), attributes: {}, entry: entry! as SpoolEntry, problems: [], summary: entry!.problem!.reason, policy: { badSpoolDisp: 'hold', report: 'sysout' }, now: new Date(clock.now()) });
  assert.equal(out.disposition, 'left');
  assert.ok(out.report.kind === 'sysout');
  assert.match(await readFile(out.report.path, 'utf8'), /cannot be read|directory/);
  assert.deepEqual(await readdir(inc), [name]);
  assert.deepEqual(await q.listHeld(), []);
  assert.ok(await stat(join(inc, name)));
});

test('deleteEntry removes an entry directory (its known files, or anything else in it), a plain file, and a name already gone', async (t) => {
  const { root, q } = await setup(t);
  const incoming = join(root, 'CSSMTP', 'incoming');
  const plain = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a\n'), attrs: { jobName: 'PLAIN' } });
  const extra = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO b\n'), attrs: { jobName: 'EXTRA' } });
  await writeFile(join(incoming, extra.id, 'left-by-a-tool'), 'x');
  await mkdir(join(incoming, extra.id, 'sub'));
  await writeFile(join(incoming, 'PLAINFILE'), 'HELO c\n');
  for (const id of [plain.id, extra.id, 'PLAINFILE', 'NEVER-THERE']) await deleteEntry(q.layout, id);
  assert.deepEqual(await readdir(incoming), []);
});
