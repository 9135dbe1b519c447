// [S2] #15 item 7, bullets 2 and 3: spool producers (local users who put files on the spool) may
// not read each other's queued, held or relayed mail, and may not write into a queue that is not
// theirs, nor change the gateway's directories. Set up as docs/spool.md tells an administrator
// (spool root owned by the gateway, group = the producers, mode 2710), with the gateway as this
// process (root) and each producer step run by setpriv as an unprivileged uid:
//   X = uid 65534 (nobody), group 65534 (nogroup, the producers);
//   Y = uid 65533, group 65534, and for the second test also group 65533 (writer B's producers).
// On the layout before this change (tmp/ and incoming/ 3770 and entries in the producers'
// group, held/ and sysout/ 2750, writer directories 2775) X lists and reads Y's and the
// gateway's entries and creates files in the writer directory, so both tests fail there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { enqueueMessage } from '../../src/spool/enqueue.js';
import { SpoolQueue } from '../../src/spool/queue.js';
import { SpoolLayoutError } from '../../src/spool/submit.js';
import { needRoot, tempDir } from '../../src/testing/peers.js';

const PRODUCERS = 65534;
const REPO = resolve(import.meta.dirname, '../..');
const X = { uid: 65534, groups: [] as number[] };
const Y = { uid: 65533, groups: [] as number[] };
const YB = { uid: 65533, groups: [65533] };

/** Runs `sh -c script` as the producer (primary group PRODUCERS); returns the exit status and stderr. */
function asProducer(p: { uid: number; groups: number[] }, script: string): { status: number | null; stderr: string } {
  const groups = p.groups.length === 0 ? ['--clear-groups'] : [`--groups=${p.groups.join(',')}`];
  const r = spawnSync('setpriv', [`--reuid=${p.uid}`, `--regid=${PRODUCERS}`, ...groups, '--', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}

/** The spool root as docs/spool.md sets it up: the gateway's, the producers' group, 2710. */
function spoolRoot(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t, 'spoolgate-producers-');
  chmodSync(dir, 0o711); // the producers must reach the spool root inside it
  const root = join(dir, 'spool');
  mkdirSync(root);
  chownSync(root, 0, PRODUCERS);
  chmodSync(root, 0o2710);
  return root;
}

async function openQueue(t: Parameters<typeof tempDir>[0], root: string, writer: string): Promise<SpoolQueue> {
  const q = await SpoolQueue.open({ root, writer, clock: systemClock });
  assert.ok(q.ok, 'queue opened');
  t.after(() => q.value.close());
  return q.value;
}

const BATCH = 'HELO PRODUCER\\r\\nMAIL FROM:<p@gw.test>\\r\\nRCPT TO:<r@remote.test>\\r\\nDATA\\r\\nSubject: secret of %s\\r\\n\\r\\nbody\\r\\n.\\r\\nQUIT\\r\\n';

test('producers cannot list or read each other\'s queued and held entries, nor the gateway\'s relayed mail', async (t) => {
  if (!needRoot(t, 'run producer steps as uids 65533 and 65534')) return;
  const root = spoolRoot(t);
  const q = await openQueue(t, root, 'TESTW');
  const l = q.layout;

  // Y queues a plain file (cp + mv, the documented way, umask 027) and an entry directory.
  const put = asProducer(Y, `umask 027; printf '${BATCH}' Y1 > ${l.tmp}/y1.smtp && mv ${l.tmp}/y1.smtp ${l.incoming}/ && printf '${BATCH}' Y2 > ${l.tmp}/y2.smtp && mv ${l.tmp}/y2.smtp ${l.incoming}/ && mkdir ${l.tmp}/Y3 && printf '${BATCH}' Y3 > ${l.tmp}/Y3/data && mv ${l.tmp}/Y3 ${l.incoming}/`);
  assert.equal(put.status, 0, `Y can put files on the spool: ${put.stderr}`);
  // Plain files are read once they have settled (SETTLE_MS, queue.ts): age them instead of waiting.
  for (const f of ['y1.smtp', 'y2.smtp']) utimesSync(join(l.incoming, f), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  // ... and with `spoolgate submit` (entry directory, attrs.json, every fsync), also as Y.
  const job = join(root, '..', 'y4.smtp');
  writeFileSync(job, 'HELO Y\r\nMAIL FROM:<p@gw.test>\r\nRCPT TO:<r@remote.test>\r\nDATA\r\nSubject: secret of Y4\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  chmodSync(job, 0o644);
  const cli = asProducer(Y, `cd ${REPO} && exec ${process.execPath} --import tsx src/cli.ts submit --spool-dir ${root} --writer TESTW --job YJOB ${job}`);
  assert.equal(cli.status, 0, `spoolgate submit as Y: ${cli.stderr}`);
  // The gateway relays a message (what the receiver does) and holds Y's second file.
  const relayed = await enqueueMessage({
    root, writer: 'TESTW', origin: { kind: 'receiver', client: '192.0.2.1', helo: 'c.test', auth: null, tls: false, session: 's1' },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'a', domain: 'b.test' } }, recipients: [{ mailbox: { local: 'r', domain: 'remote.test' } }], requireTls: false },
    data: Buffer.from('Subject: relayed secret\r\n\r\nbody\r\n'),
  });
  const entries = await q.list();
  const y2 = entries.find((e) => e.id === 'y2.smtp');
  assert.ok(y2 !== undefined && entries.length === 5, `the gateway sees all five entries: ${entries.map((e) => e.id).join(' ')}`);
  const y4 = entries.find((e) => e.attrs.jobName === 'YJOB');
  assert.ok(y4 !== undefined);
  assert.equal(y4.attrs.originUid, 65533);
  assert.match(readFileSync(y4.path, 'latin1'), /secret of Y4/);
  assert.equal(statSync(y4.path).gid, process.getgid!(), 'the entry has the gateway\'s group (setgid tmp/)');
  assert.equal(statSync(y4.path).mode & 0o777, 0o640);
  assert.equal(entries.find((e) => e.id === 'y1.smtp')!.attrs.originUid, 65533);
  assert.match(readFileSync(join(l.incoming, 'Y3', 'data'), 'latin1'), /secret of Y3/, 'the gateway reads Y\'s entry directory');
  await q.hold(y2, 'held for the test');

  // X may see the names in tmp/ and incoming/ (it must open them to fsync its own arrival), but
  // may not read any content, nor look into held/ and sysout/.
  assert.equal(asProducer(X, `ls ${l.incoming} | grep -c .`).status, 0);
  const attempts: Record<string, string> = {
    'list held/': `ls ${l.held}`,
    'list sysout/': `ls ${l.sysout}`,
    'read Y\'s queued file': `cat ${l.incoming}/y1.smtp`,
    'read Y\'s queued entry directory': `cat ${l.incoming}/Y3/data`,
    'read Y\'s submitted entry': `cat ${y4.path}`,
    'read Y\'s attrs.json': `cat ${l.incoming}/${y4.id}/attrs.json`,
    'read Y\'s held file': `cat ${l.held}/y2.smtp`,
    'read the relayed message': `cat ${l.incoming}/${relayed.id}/data`,
    'read the relayed envelope': `cat ${l.incoming}/${relayed.id}/envelope.json`,
    'hard-link Y\'s file (fs.protected_hardlinks)': `ln ${l.incoming}/y1.smtp ${l.tmp}/stolen`,
    'hard-link the relayed message': `ln ${l.incoming}/${relayed.id}/data ${l.tmp}/stolen2`,
  };
  for (const [what, script] of Object.entries(attempts)) {
    const r = asProducer(X, script);
    assert.notEqual(r.status, 0, `X could ${what}`);
    assert.match(r.stderr, /Permission denied|Operation not permitted/, `${what}: refused for lack of rights: ${r.stderr}`);
  }
  // ... but X can still put its own file on the spool.
  const own = asProducer(X, `umask 027; printf '${BATCH}' X1 > ${l.tmp}/x1.smtp && mv ${l.tmp}/x1.smtp ${l.incoming}/`);
  assert.equal(own.status, 0, `X can produce: ${own.stderr}`);
  utimesSync(join(l.incoming, 'x1.smtp'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  assert.equal((await q.list()).find((e) => e.id === 'x1.smtp')?.attrs.originUid, 65534);
});

test('a producer cannot write into another writer\'s queue, nor create, remove or replace anything in a writer directory; the gateway refuses a layout it does not own', async (t) => {
  if (!needRoot(t, 'run producer steps as uids 65533 and 65534')) return;
  const root = spoolRoot(t);
  const a = await openQueue(t, root, 'WRITERA');
  const b = await openQueue(t, root, 'WRITERB');
  const A = a.layout;
  const B = b.layout;
  // The administrator gives writer B to its own producers (group 65533: Y, not X).
  chownSync(B.writerDir, 0, 65533);
  chmodSync(B.writerDir, 0o710);
  await b.close();
  const b2 = await openQueue(t, root, 'WRITERB');
  const st = statSync(b2.layout.writerDir);
  assert.equal(st.gid, 65533, 'the gateway keeps the writer directory\'s group');
  assert.equal(st.mode & 0o7777, 0o710, 'and its narrower mode');

  assert.equal(asProducer(YB, `umask 027; printf '${BATCH}' YA > ${A.tmp}/ya && mv ${A.tmp}/ya ${A.incoming}/ya && printf '${BATCH}' YB > ${B.tmp}/yb && mv ${B.tmp}/yb ${B.incoming}/yb`).status, 0, 'Y produces for A and B');
  // Plain files are read once they have settled (SETTLE_MS, queue.ts): age them instead of waiting.
  for (const f of [join(A.incoming, 'ya'), join(B.incoming, 'yb')]) utimesSync(f, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  assert.equal(asProducer(X, `umask 027; printf '${BATCH}' XA > ${A.tmp}/xa && mv ${A.tmp}/xa ${A.incoming}/xa`).status, 0, 'X produces for A');
  const attempts: Record<string, string> = {
    'put a file into writer B\'s queue': `umask 027; printf x > ${A.tmp}/xb && mv ${A.tmp}/xb ${B.incoming}/xb`,
    'create a file in the writer directory': `touch ${A.writerDir}/evil`,
    'remove the writer lock': `rm -f ${A.writerDir}/.lock`,
    'rename held/ away': `mv ${A.held} ${A.writerDir}/held.old`,
    'rename incoming/ away': `mv ${A.incoming} ${A.writerDir}/incoming.old`,
    'plant a symbolic link for sysout': `ln -s /tmp ${A.writerDir}/sysout2`,
    'remove Y\'s entry': `rm -f ${A.incoming}/ya`,
    'replace Y\'s entry by renaming over it': `printf x > ${A.tmp}/xr && mv -f ${A.tmp}/xr ${A.incoming}/ya`,
    'rename tmp/ away': `mv ${A.tmp} ${root}/tmp.old`,
  };
  for (const [what, script] of Object.entries(attempts)) {
    const r = asProducer(X, script);
    assert.notEqual(r.status, 0, `X could ${what}`);
    assert.match(r.stderr, /Permission denied|Operation not permitted/, `${what}: refused for lack of rights: ${r.stderr}`);
  }
  assert.ok(existsSync(join(A.writerDir, '.lock')), 'the lock is still there');
  assert.match(readFileSync(join(A.incoming, 'ya'), 'latin1'), /secret of YA/, 'Y\'s entry is unchanged');
  assert.deepEqual((await b2.list()).map((e) => e.id), ['yb'], 'only Y reached writer B');

  // A directory a producer made (here: incoming/ given to uid 65534) is refused, with the fix.
  await a.close();
  chownSync(A.incoming, 65534, 65534);
  await assert.rejects(SpoolQueue.open({ root, writer: 'WRITERA', clock: systemClock }), (e: unknown) => e instanceof SpoolLayoutError && /belongs to uid 65534, not to the gateway's uid 0/.test(e.message));
  chownSync(A.incoming, 0, 0);
  // A spool root others may write to (they could rename tmp/ or a writer away) is refused.
  chmodSync(root, 0o2770);
  await assert.rejects(SpoolQueue.open({ root, writer: 'WRITERA', clock: systemClock }), (e: unknown) => e instanceof SpoolLayoutError && /writable by its group or others/.test(e.message));
  chmodSync(root, 0o2710);
});
