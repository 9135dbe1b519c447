// Held spool files and reports on both backends ([P2] #19): the contract (testing/held-contract.ts)
// on the held/ and sysout/ directories of one node and on the PostgreSQL tables, then what only
// the shared tables do — a file one node held is listed, shown, released and purged by another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { heldContract } from '../testing/held-contract.js';
import { needPostgres } from '../testing/pg.js';
import { tempDir } from '../testing/peers.js';
import { migrate } from '../store/pg/migrations.js';
import { PgHeldTable } from '../store/pg/held.js';
import { PgQueueStore } from '../store/pg/queue.js';
import { DirectoryHeldFiles, TableHeldFiles } from './held-files.js';
import { spoolLayout, submitToSpool } from './submit.js';
import { ENVELOPE_FILE } from './message-entry.js';

heldContract({
  name: 'directories',
  setup(_t, layout) {
    return Promise.resolve({
      held: new DirectoryHeldFiles(layout),
      async queued() {
        const out: { kind: 'spool' | 'message'; data: Buffer; jobName: string }[] = [];
        for (const name of await readdir(layout.incoming)) {
          const p = join(layout.incoming, name);
          const st = await lstat(p);
          if (st.isSymbolicLink()) { out.push({ kind: 'spool', data: Buffer.alloc(0), jobName: '' }); continue; }
          if (!st.isDirectory()) { out.push({ kind: 'spool', data: await readFile(p), jobName: '' }); continue; }
          const attrs = JSON.parse(await readFile(join(p, 'attrs.json'), 'utf8')) as { jobName?: string };
          out.push({ kind: existsSync(join(p, ENVELOPE_FILE)) ? 'message' : 'spool', data: await readFile(join(p, 'data')), jobName: attrs.jobName ?? '' });
        }
        return out;
      },
    });
  },
});

heldContract({
  name: 'PostgreSQL',
  async setup(t, layout) {
    const tdb = await needPostgres(t);
    if (tdb === undefined) return undefined;
    const db = tdb.pool();
    await migrate(db);
    const queue = new PgQueueStore(db, { node: 'n1', leaseSeconds: 30 });
    return {
      held: new TableHeldFiles(new PgHeldTable(db, 'n1'), layout),
      async queued() {
        const out: { kind: 'spool' | 'message'; data: Buffer; jobName: string }[] = [];
        for (const c of await queue.claim(layout.writer, 100)) {
          const parts: Buffer[] = [];
          for await (const b of queue.read(c.id)) parts.push(b);
          out.push({ kind: c.kind, data: Buffer.concat(parts), jobName: typeof c.attributes.jobName === 'string' ? c.attributes.jobName : '' });
        }
        return out;
      },
    };
  },
});

test('held files on PostgreSQL: a file held on node a is listed, shown with its report, released and purged from node b; the release is an entry of the shared queue', async (t) => {
  const tdb = await needPostgres(t);
  if (tdb === undefined) return;
  await migrate(tdb.pool());
  const la = spoolLayout(join(tempDir(t), 'a'), 'W');
  const lb = spoolLayout(join(tempDir(t), 'b'), 'W');
  const a = new TableHeldFiles(new PgHeldTable(tdb.pool({ applicationName: 'a' }), 'a'), la);
  const b = new TableHeldFiles(new PgHeldTable(tdb.pool({ applicationName: 'b' }), 'b'), lb);
  const one = await submitToSpool({ root: la.root, writer: 'W', data: Buffer.from('HELO X\r\nBOGUS\r\n'), attrs: { jobName: 'ONE' } });
  const two = await submitToSpool({ root: la.root, writer: 'W', data: Buffer.from('HELO Y\r\nBOGUS\r\n'), attrs: { jobName: 'TWO' } });
  for (const e of [one, two]) {
    await a.writeReport(e, `report of ${e.attrs.jobName}`, new Date());
    await a.hold({ entry: e, kind: 'spool', attributes: { file: e.id, jobName: e.attrs.jobName, jobId: e.attrs.jobId } }, `bad ${e.attrs.jobName}`, new Date());
  }
  // Node b has no held/ of its own to look into: it sees a's files in the tables.
  const seen = await b.list();
  assert.deepEqual(seen.map((h) => [h.jobName, h.node, h.reason]), [['ONE', 'a', 'bad ONE'], ['TWO', 'a', 'bad TWO']]);
  assert.match(await b.report(seen[0]!), /report of ONE/);
  assert.deepEqual(await b.release(seen[0]!.id), { ok: true, value: seen[0]!.id });
  assert.deepEqual(await b.purge(seen[1]!.id), { ok: true, value: seen[1]!.id });
  assert.deepEqual(await a.list(), [], 'a sees b\'s release and purge');
  // The release is due at once on the shared queue, for any node; a third node claims it.
  const c = new PgQueueStore(tdb.pool({ applicationName: 'c' }), { node: 'c', leaseSeconds: 30 });
  const claimed = await c.claim('W', 10);
  assert.equal(claimed.length, 1);
  assert.equal(claimed[0]!.attributes.jobName, 'ONE');
  const parts: Buffer[] = [];
  for await (const x of c.read(claimed[0]!.id)) parts.push(x);
  assert.equal(Buffer.concat(parts).toString(), 'HELO X\r\nBOGUS\r\n');
});
