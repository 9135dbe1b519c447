import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../testing/peers.js';
import { openSqliteStore } from './index.js';
import { CommitWorker } from './commit-worker.js';

const FAST = { N: 1024, r: 8, p: 1 };

/** Rows of the journal as another process would see them (a fresh connection). */
function journalTypes(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT type FROM journal ORDER BY seq').all() as { type: string }[]).map((r) => r.type);
  } finally {
    db.close();
  }
}

test('the journal commits on its own connection (off the event loop), and record() resolves only once the row is committed', async (t) => {
  const path = join(tempDir(t), 'spoolgate.db');
  const s = openSqliteStore(path, { scrypt: FAST });
  t.after(() => s.close());
  // total_changes() counts the rows changed through THIS connection: a commit made by the
  // journal's worker connection does not count here (it did when the journal committed on the
  // store's own connection, on the JavaScript thread).
  const changes = (): number => (s.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const before = changes();
  await s.journal.record({ type: 'received', messageId: 'A1', detail: '95 one' });
  assert.deepEqual(journalTypes(path), ['received'], 'committed when record() resolves');
  assert.equal(changes(), before, 'not written through the event loop\'s connection');
  assert.equal(s.journal.offThread, true);
  // The store's own connection reads what the worker committed.
  assert.equal((await s.journal.query({ id: 'A1' })).length, 1);
});

test('events keep their order across batches, and close() commits what is still queued', async (t) => {
  const path = join(tempDir(t), 'spoolgate.db');
  const s = openSqliteStore(path, { scrypt: FAST });
  const first = Array.from({ length: 50 }, (_, i) => s.journal.record({ type: `e${i}` }));
  await Promise.all(first.slice(0, 1)); // the first batch went to the worker; more queued behind it
  const later = Array.from({ length: 50 }, (_, i) => s.journal.record({ type: `e${50 + i}` }));
  await Promise.all(first);
  // Not awaited: close() must wait for the commit in flight and commit the rest itself.
  const pending = Promise.all(later);
  await s.close();
  await pending;
  assert.deepEqual(journalTypes(path), Array.from({ length: 100 }, (_, i) => `e${i}`));
});

test('an in-memory database (or worker: false) commits on the caller\'s connection', async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v TEXT)');
  const w = new CommitWorker(db, ['INSERT INTO t (v) VALUES (?)']);
  assert.equal(w.offThread, false);
  await Promise.all([w.run([0, ['a']]), w.run([0, ['b']])]);
  assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 'a' }, { v: 'b' }]);
  w.close();
  db.close();
});

test('a write that fails rejects its batch only; later writes commit', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  const w = new CommitWorker(db, ['INSERT INTO t (v) VALUES (?)']);
  t.after(() => { w.close(); db.close(); });
  await assert.rejects(w.run([0, [null]]), /NOT NULL/);
  await w.run([0, ['ok']]);
  assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: 'ok' }]);
  assert.equal(w.offThread, true);
});

for (const worker of [true, false]) {
  test(`${worker ? 'worker' : 'caller\'s thread'}: runAll() commits its writes in one transaction; writes of one turn are one batch (stats count it)`, async (t) => {
    const path = join(tempDir(t), 'w.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT NOT NULL)');
    const w = new CommitWorker(db, ['INSERT INTO t (v) VALUES (?)', 'DELETE FROM t WHERE v = ?'], { worker, label: 'test' });
    t.after(() => { w.close(); db.close(); });
    assert.equal(w.offThread, worker);
    await Promise.all(Array.from({ length: 10 }, (_, i) => w.run([0, [`v${i}`]])));
    assert.deepEqual({ ...w.stats }, { batches: 1, writes: 10, largest: 10 }, 'ten callers of one turn share one commit');
    // All or nothing: the second insert fails, so the delete before it is rolled back too.
    await assert.rejects(w.runAll([[1, ['v0']], [0, [null]]]), worker ? /^Error: test commit failed: NOT NULL/ : /NOT NULL/);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 10);
    await w.runAll([[1, ['v0']], [1, ['v1']], [0, ['x']]]);
    assert.deepEqual((db.prepare('SELECT v FROM t ORDER BY v').all() as { v: string }[]).map((r) => r.v), ['v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'x']);
    assert.deepEqual({ ...w.stats }, { batches: 3, writes: 15, largest: 10 });
  });
}
