// The behaviour both forms of held spool files and reports keep ([P2] #19): the held/ and sysout/
// directories of one node (the default) and the tables a cluster shares on PostgreSQL.
// spool/held-files.test.ts runs heldContract() with each backend's fixture.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeldFiles } from '../spool/held-files.js';
import { ensureLayout, spoolLayout, submitToSpool, type SpoolLayout } from '../spool/submit.js';
import { enqueueMessage } from '../spool/enqueue.js';
import { formatEnvelopeFile } from '../spool/message-entry.js';
import type { Envelope } from '../core/envelope.js';
import { tempDir } from './peers.js';

export interface HeldFixture {
  readonly held: HeldFiles;
  /** The entries a release queued again (incoming/ of the spool, or the shared queue): kind and bytes. */
  queued(): Promise<{ kind: 'spool' | 'message'; data: Buffer; jobName: string }[]>;
}

export interface HeldBackend {
  readonly name: string;
  /** Empty held files for one test over the spool `layout`; undefined after the test was skipped. */
  setup(t: TestContext, layout: SpoolLayout): Promise<HeldFixture | undefined>;
}

/** A spool file over several 256 KiB chunks, every byte value in it. */
const BIG = Buffer.alloc(600 * 1024 + 17, 0);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 9)) & 0xff;

const ENVELOPE: Envelope = { from: { kind: 'mailbox', mailbox: { local: 'a', domain: 'x.test' } }, recipients: [{ mailbox: { local: 'b', domain: 'y.test' } }], requireTls: false };

/** Names an operator might send that are no held file's: each is refused before any path or query. */
const HOSTILE = ['', '../../etc/passwd', '.hidden', 'a/b', "x'; DROP TABLE held_files; --", 'a\0b', 'x.reason.json', 'A'.repeat(300)];

export function heldContract(backend: HeldBackend): void {
  const setup = async (t: TestContext): Promise<{ f: HeldFixture; layout: SpoolLayout } | undefined> => {
    const root = join(tempDir(t), 'spool');
    const layout = spoolLayout(root, 'W');
    await ensureLayout(layout, { gateway: true }); // the spool's directories, as the gateway makes them
    const f = await backend.setup(t, layout);
    return f === undefined ? undefined : { f, layout };
  };

  test(`held files (${backend.name}): a held batch file leaves incoming/, is listed with its reason and job, its report is shown, and a release queues its bytes again exactly`, async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const { f, layout } = s;
    const e = await submitToSpool({ root: layout.root, writer: 'W', data: BIG, attrs: { jobName: 'PAYROLL' } });
    assert.equal(await f.held.reportOf({ id: e.id, jobId: e.attrs.jobId }), undefined, 'no report yet');
    await f.held.writeReport(e, 'REPORT of PAYROLL: 550 5.7.1 bad', new Date());
    const name = await f.held.hold({ entry: e, kind: 'spool', attributes: { file: e.id, jobName: 'PAYROLL', jobId: e.attrs.jobId } }, 'bad command in record 3', new Date());
    assert.equal(name, e.id);
    assert.equal(existsSync(join(layout.incoming, e.id)), false, 'the entry left incoming/');
    const list = await f.held.list();
    assert.equal(list.length, 1);
    const h = list[0]!;
    assert.deepEqual([h.id, h.reason, h.jobName, h.jobId], [e.id, 'bad command in record 3', 'PAYROLL', e.attrs.jobId]);
    assert.ok(h.heldAt instanceof Date);
    assert.match(await f.held.report(h), /REPORT of PAYROLL: 550 5\.7\.1 bad/);
    assert.match((await f.held.reportOf({ id: e.id, jobId: e.attrs.jobId }))!, /REPORT of PAYROLL/);
    assert.deepEqual(await f.queued(), [], 'nothing queued while held');

    const r = await f.held.release(h.id);
    assert.deepEqual(r, { ok: true, value: h.id });
    assert.deepEqual(await f.held.list(), []);
    const q = await f.queued();
    assert.equal(q.length, 1);
    assert.equal(q[0]!.kind, 'spool');
    assert.equal(q[0]!.jobName, 'PAYROLL');
    assert.ok(q[0]!.data.equals(BIG), 'the released bytes are the held bytes');
    assert.equal((await f.held.release(h.id)).ok, false, 'a second release finds nothing');
  });

  test(`held files (${backend.name}): a message entry held from a claimed copy; the same name twice is held twice; purge removes one; a file without a report shows its reason`, async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const { f, layout } = s;
    const m = await enqueueMessage({ root: layout.root, writer: 'W', envelope: ENVELOPE, data: Buffer.from('Subject: m\r\n\r\nbody\r\n'), origin: { kind: 'report' }, jobName: 'MSGJOB' });
    const copy = join(tempDir(t), 'db-1');
    writeFileSync(copy, 'Subject: m\r\n\r\nbody\r\n');
    const attrs = { jobName: 'MSGJOB', jobId: m.attrs.jobId, originUser: m.attrs.originUser };
    const attributes = { file: 'db-1', jobName: 'MSGJOB', jobId: m.attrs.jobId, envelope: formatEnvelopeFile(m.message!) };
    const a = await f.held.hold({ entry: { id: 'db-1', attrs }, kind: 'message', attributes, from: copy }, 'message entry over the limit', new Date());
    writeFileSync(copy, 'second');
    const b = await f.held.hold({ entry: { id: 'db-1', attrs }, kind: 'message', attributes, from: copy }, 'again', new Date(Date.now() + 1000));
    assert.deepEqual([a, b], ['db-1', 'db-1.2']);
    assert.equal(existsSync(copy), false, 'the copy was taken');
    const list = await f.held.list();
    assert.deepEqual(list.map((h) => [h.id, h.reason]), [['db-1', 'message entry over the limit'], ['db-1.2', 'again']]);
    assert.match(await f.held.report(list[0]!), /message entry over the limit/, 'no report: the reason is shown');
    assert.deepEqual(await f.held.purge('db-1.2'), { ok: true, value: 'db-1.2' });
    assert.equal((await f.held.purge('db-1.2')).ok, false);
    assert.deepEqual((await f.held.list()).map((h) => h.id), ['db-1']);
    for (const bad of HOSTILE) {
      assert.equal((await f.held.release(bad)).ok, false, `release ${JSON.stringify(bad.slice(0, 20))}`);
      assert.equal((await f.held.purge(bad)).ok, false, `purge ${JSON.stringify(bad.slice(0, 20))}`);
    }
    assert.equal((await f.held.list()).length, 1, 'nothing else was touched');
  });

  test(`held files (${backend.name}): a bad file that is a symbolic link is held without following it; reports are pruned by age`, async (t) => {
    const s = await setup(t);
    if (s === undefined) return;
    const { f, layout } = s;
    const secret = join(tempDir(t), 'secret');
    writeFileSync(secret, 'not for the spool');
    symlinkSync(secret, join(layout.incoming, 'LINK1'));
    await f.held.hold({ entry: { id: 'LINK1', attrs: { jobName: 'J', jobId: 'J1', originUser: 'u' } }, kind: 'spool', attributes: {} }, 'the spool file is a symbolic link', new Date());
    assert.equal(readFileSync(secret, 'utf8'), 'not for the spool', 'the target is untouched');
    assert.deepEqual((await f.held.list()).map((h) => h.id), ['LINK1']);
    assert.equal(existsSync(join(layout.incoming, 'LINK1')), false);
    const r = await f.held.release('LINK1');
    assert.equal(r.ok, true);
    for (const q of await f.queued()) assert.ok(!q.data.toString().includes('not for the spool'), 'the link target was never read into the store');

    await f.held.writeReport({ id: 'E1', attrs: { jobName: 'J', jobId: 'J1', originUser: 'u' } }, 'old report', new Date());
    assert.equal(await f.held.pruneReports(Date.now() - 86_400_000, 100, 10), 0, 'younger than the cutoff: kept');
    assert.equal(await f.held.reportOf({ id: 'E1', jobId: 'J1' }), 'old report');
    assert.equal(await f.held.pruneReports(Date.now() + 60_000, 100, 10), 1);
    assert.equal(await f.held.reportOf({ id: 'E1', jobId: 'J1' }), undefined);
  });
}
