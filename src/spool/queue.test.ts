import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdir, rename, symlink, writeFile, link, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { isRoot, tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import { SpoolQueue } from './queue.js';
import { submitToSpool, type SpoolEntry } from './submit.js';

async function openQueue(t: TestContext, writer = 'CSSMTP'): Promise<{ root: string; q: SpoolQueue; clock: FakeClock }> {
  const root = tempDir(t);
  const clock = new FakeClock();
  const r = await SpoolQueue.open({ root, writer, clock, rescanMs: 3_600_000, hostName: 'gw.example.test' });
  assert.ok(r.ok);
  t.after(() => r.value.close());
  return { root, q: r.value, clock };
}

/**
 * The queue's reports: `done` resolves with the first n; `reported(id)` once that entry was
 * reported. Each wait fails after a generous real-time bound (never reached when events work).
 */
function arrivals(q: SpoolQueue, n: number): { got: SpoolEntry[]; done: Promise<SpoolEntry[]>; reported(id: string): Promise<void> } {
  const got: SpoolEntry[] = [];
  const waiters = new Set<() => void>();
  const until = (what: string, ok: () => boolean): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => { if (ok()) { clearTimeout(t); waiters.delete(check); resolve(); } };
    const t = setTimeout(() => { waiters.delete(check); reject(new Error(`${what}: only ${got.length} arrivals`)); }, 10_000);
    waiters.add(check);
    check();
  });
  q.watch((e) => {
    got.push(e);
    for (const w of [...waiters]) w();
  });
  return {
    got,
    done: until(`${n} arrivals`, () => got.length >= n).then(() => got.slice(0, n)),
    reported: (id) => until(`arrival of ${id}`, () => got.some((e) => e.id === id)),
  };
}

test('a renamed-in entry is seen through file-system notification, without the rescan', async (t) => {
  const { root, q, clock } = await openQueue(t);
  const before = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a\n'), attrs: { jobName: 'J0' } });
  const got: SpoolEntry[] = [];
  let wake: () => void = () => {};
  q.watch((e) => { got.push(e); wake(); });
  const next = (): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no arrival')), 10_000);
    wake = () => { clearTimeout(timer); resolve(); };
  });
  await next(); // the initial scan has reported what was already there
  assert.deepEqual(got.map((e) => e.id), [before.id]);
  // Only fs.watch can report this one: the FakeClock never fires the one-hour rescan.
  const arrived = next();
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO x\n'), attrs: { jobName: 'J1' } });
  await arrived;
  assert.deepEqual(got.map((x) => x.id), [before.id, e.id]);
  assert.equal(got[1]!.attrs.jobName, 'J1');
  assert.equal(clock.pending(), 1, 'the rescan timer has not fired');
});

test('each entry is reported once; entries in tmp/ never; a plain file renamed in is an entry', async (t) => {
  const { root, q, clock } = await openQueue(t);
  const first = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('a'), attrs: {} });
  await writeFile(join(root, 'tmp', 'pending.smtp'), 'HELO half-written');
  await mkdir(join(root, 'tmp', 'halfdir'));
  await writeFile(join(root, 'tmp', 'halfdir', 'data'), 'x');
  await writeFile(join(root, 'CSSMTP', 'incoming', '.hidden'), 'editor temp');
  const w = arrivals(q, 2);
  await writeFile(join(root, 'tmp', 'daily-report.txt'), 'HELO y\n');
  await rename(join(root, 'tmp', 'daily-report.txt'), join(root, 'CSSMTP', 'incoming', 'daily-report.txt'));
  const got = await w.done;
  assert.deepEqual(got.map((e) => e.id).sort(), [first.id, 'daily-report.txt'].sort());
  const plain = got.find((e) => e.id === 'daily-report.txt')!;
  assert.equal(plain.attrs.jobName, 'DAILYREP');
  assert.match(plain.attrs.jobId, /^J\d{7}$/);
  assert.equal(plain.attrs.originNode, 'gw.example.test');
  assert.equal(plain.attrs.taskType, 'WRITER');
  assert.equal(plain.problem, undefined);
  clock.advance(3_600_000 * 3);
  q.rescan();
  // A sentinel put in after the rescans: the scan that reports it lists incoming/ (and would
  // report a twice-seen entry or a tmp/ file in the same pass), so afterwards the count is final.
  const sentinel = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('z'), attrs: {} });
  await w.reported(sentinel.id);
  assert.deepEqual(w.got.map((e) => e.id).sort(), [first.id, 'daily-report.txt', sentinel.id].sort(), 'no entry reported twice and tmp/ never read');
});

test('the origin user comes from the file owner, never from attrs.json', async (t) => {
  const { root, q } = await openQueue(t);
  const dir = join(root, 'tmp', 'forged');
  await mkdir(dir);
  await writeFile(join(dir, 'data'), 'HELO x\n');
  await writeFile(join(dir, 'attrs.json'), JSON.stringify({ jobName: 'FORGE', originUser: 'payroll', originUid: 4242 }));
  await rename(dir, join(root, 'CSSMTP', 'incoming', 'forged'));
  const [e] = await q.list();
  assert.equal(e!.problem, undefined);
  assert.equal(e!.attrs.jobName, 'FORGE');
  assert.equal(e!.attrs.originUser, userInfo().username);
  assert.equal(e!.attrs.originUid, process.getuid!());
  if (isRoot) {
    // As root we can give the files to another user: the attributes follow the owner.
    await chown(join(root, 'CSSMTP', 'incoming', 'forged'), 65534, 65534);
    await chown(join(root, 'CSSMTP', 'incoming', 'forged', 'data'), 65534, 65534);
    const [again] = await q.list();
    assert.equal(again!.attrs.originUid, 65534);
    assert.notEqual(again!.attrs.originUser, 'payroll');
  }
});

test('bad entries are flagged with a reason, not thrown', async (t) => {
  const { root, q } = await openQueue(t);
  const inc = join(root, 'CSSMTP', 'incoming');
  const mk = async (name: string, attrs: string | undefined, data = 'HELO x\n'): Promise<void> => {
    await mkdir(join(inc, name));
    await writeFile(join(inc, name, 'data'), data);
    if (attrs !== undefined) await writeFile(join(inc, name, 'attrs.json'), attrs);
  };
  await mk('badjson', '{"jobName": ');
  await mk('badtype', '{"taskType": "PRINT"}');
  await mk('huge', JSON.stringify({ x: 'y'.repeat(5000) }));
  await mk('noattrs', undefined);
  await mkdir(join(inc, 'nodata'));
  await writeFile(join(root, 'secret'), 'someone else');
  await symlink(join(root, 'secret'), join(inc, 'link'));
  await link(join(root, 'secret'), join(inc, 'hardlink'));
  const byId = new Map((await q.list()).map((e) => [e.id, e]));
  const want: Record<string, RegExp | undefined> = {
    badjson: /attrs.json is not valid JSON/,
    badtype: /taskType "PRINT"/,
    huge: /limit 4096/,
    noattrs: undefined,
    nodata: /no data file/,
    link: /symbolic link/,
    hardlink: /2 hard links/,
  };
  assert.deepEqual([...byId.keys()].sort(), Object.keys(want).sort());
  for (const [id, re] of Object.entries(want)) {
    const e = byId.get(id)!;
    if (re === undefined) { assert.equal(e.problem, undefined, id); continue; }
    assert.equal(e.problem?.kind, 'bad', id);
    assert.match(e.problem.reason, re, id);
    assert.equal(e.attrs.originUser, userInfo().username, `${id}: attributes still filled`);
  }
  assert.equal(byId.get('badjson')!.attrs.jobName, 'BADJSON', 'defaults from the name when attrs.json is bad');
});

test('an unreadable data file is flagged unreadable', async (t) => {
  const { root, q } = await openQueue(t);
  const inc = join(root, 'CSSMTP', 'incoming');
  await mkdir(join(inc, 'dirdata', 'data'), { recursive: true });
  const [e] = await q.list();
  assert.equal(e!.problem?.kind, 'unreadable');
  assert.match(e!.problem.reason, /directory/);
});

test('close stops watching', async (t) => {
  const { root, q } = await openQueue(t);
  const seen: string[] = [];
  q.watch((e) => seen.push(e.id));
  await q.close();
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('x'), attrs: {} });
  assert.equal((await readdir(join(root, 'CSSMTP', 'incoming'))).length, 1);
  // close() released the writer lock: a second queue opens and reports the entry. The same
  // notification and scan would have reached the closed queue's callback by then.
  const again = await SpoolQueue.open({ root, writer: 'CSSMTP', clock: new FakeClock(), rescanMs: 3_600_000 });
  assert.ok(again.ok);
  t.after(() => again.value.close());
  await arrivals(again.value, 1).reported(e.id);
  assert.deepEqual(seen, []);
});

test('R3 item 7: a scan after an arrival inspects only the new entry, not every entry waiting (thousands of DSN entries made each arrival cost them all)', async (t) => {
  const { root, q } = await openQueue(t);
  const waiting = 20;
  for (let i = 0; i < waiting; i++) await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a\n'), attrs: { jobName: `W${i}` } });
  const a = arrivals(q, waiting + 1);
  await a.reported((await q.list())[waiting - 1]!.id);
  const before = q.inspections;
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO x\n'), attrs: { jobName: 'NEW' } });
  await a.reported(e.id);
  // The old scan inspected all 21 entries for this arrival; several fs.watch events may each scan.
  const scans = q.inspections - before;
  assert.ok(scans >= 1 && scans <= 3, `inspections for one arrival: ${scans}`);
  assert.equal((await a.done).length, waiting + 1);
});

test('B2: a notification looks at the entry it names only — an arrival or a finished entry costs O(1), not one lstat per waiting entry', async (t) => {
  const { root, q } = await openQueue(t);
  const waiting = 30;
  for (let i = 0; i < waiting; i++) await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO a\n'), attrs: { jobName: `W${i}` } });
  const a = arrivals(q, waiting + 2);
  const listed = await q.list();
  await a.reported(listed[waiting - 1]!.id);
  const before = q.looks;
  const e = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO x\n'), attrs: { jobName: 'NEW' } });
  await a.reported(e.id);
  // The old scan looked at all 31 names for this arrival (several notifications: several scans).
  const looks = q.looks - before;
  assert.ok(looks >= 1 && looks <= 4, `names looked at for one arrival: ${looks}`);
  // A finished entry leaves (its rename to a dot-name and the removal notify): that costs a
  // look at its name, not at the 30 waiting.
  const before2 = q.looks;
  await q.finish({ id: e.id });
  const again = await submitToSpool({ root, writer: 'CSSMTP', data: Buffer.from('HELO y\n'), attrs: { jobName: 'AGAIN' } });
  await a.reported(again.id);
  const looks2 = q.looks - before2;
  assert.ok(looks2 >= 1 && looks2 <= 6, `names looked at for one finish and one arrival: ${looks2}`);
  assert.equal((await a.done).length, waiting + 2);
});
