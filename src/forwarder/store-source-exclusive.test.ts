// [P2] The operator's action on an unread file in incoming/ and its arrival in the shared queue
// exclude each other (store-source.ts exclusive, used by queue/service.ts): otherwise a file the
// operator deleted (or held) could be stored a moment before and sent anyway. On the SQLite
// QueueStore (the same contract as PostgreSQL's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../core/index.js';
import { Logger } from '../log/index.js';
import { tempDir } from '../testing/peers.js';
import { until } from '../testing/gateway.js';
import { spoolLayout, submitToSpool } from '../spool/submit.js';
import { SqliteQueueStore } from '../store/sqlite/queue.js';
import { DirectoryHeldFiles } from '../spool/held-files.js';
import { storeSource } from './store-source.js';

test('an arrival offered while the operator acts on the file is skipped (a rescan offers it again)', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'spool');
  const bytes = Buffer.from('HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'latin1');
  const submit = (job: string) => submitToSpool({ root, writer: 'W', data: bytes, attrs: { jobName: job, recordFormat: 'text', encoding: 'ISO8859-1' } });
  const store = new SqliteQueueStore(join(dir, 'queue.db'), { node: 'a', leaseSeconds: 30 });
  const src = storeSource({
    store, writer: 'W', layout: spoolLayout(root, 'W'), held: new DirectoryHeldFiles(spoolLayout(root, 'W')), clock: systemClock, log: Logger.silent(), leaseMs: 30_000, heartbeatMs: 10_000, pollMs: 60_000,
    policy: () => ({ badSpoolDisp: 'hold', report: 'none' }),
  });
  await src.start();
  t.after(async () => { await src.stop(); await store.close(); });

  // Offered during the action: skipped. Arrivals run one after another, so once the file offered
  // after it is stored, its turn has passed.
  const e = await submit('ACTED');
  const next = await submit('NEXT');
  await src.exclusive(e.id, async () => {
    src.divert(e);
    src.divert(next);
    await until('the next file stored', () => !existsSync(next.path), 10_000);
    assert.ok(existsSync(e.path), 'the file acted on was not stored meanwhile');
  });
  // The action left it there (it failed, say): the next rescan offers it, and it is stored.
  src.divert(e);
  await until('stored after the action', () => !existsSync(e.path), 10_000);

  // Offered just before the action, not started yet: the action has the file (its arrival waits
  // for it and then finds the file excluded). An arrival already storing it would end first, and
  // the action would then find the file gone (404: the cluster's queue acts on its row).
  const busy = await submit('BUSY');
  src.divert(busy);
  const seen = await src.exclusive(busy.id, async () => existsSync(busy.path));
  assert.equal(seen, true);
  src.divert(next);
  assert.ok(existsSync(busy.path), 'not stored behind the action\'s back');
});
