import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Checkpoint, type MessageFinal } from './checkpoint.js';
import { tempDir } from '../testing/peers.js';

const MODES = [{ name: 'worker commits', worker: true }, { name: 'main-thread commits', worker: false }] as const;

/** Rows as another process would see them after a crash: a separate connection. */
function committedMessages(path: string): { entry: string; no: number; outcome: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT entry, no, outcome FROM messages ORDER BY entry, no').all() as { entry: string; no: number; outcome: string }[];
  } finally {
    db.close();
  }
}

for (const mode of MODES) {
  test(`${mode.name}: records survive reopen; cold start discards them; forget removes a file`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    await Promise.all([
      cp.markRecipient('e1', 1, { address: 'a@x.test', outcome: 'accepted' }),
      cp.markRecipient('e1', 2, { address: 'b@x.test', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no' } }),
      cp.markRecipient('e1', 2, { address: 'c@x.test', outcome: 'failed', reply: { code: 554, text: '' } }),
      cp.markMessage('e1', 1, 'delivered'),
      cp.markMessage('e2', 1, 'extended'),
    ]);
    cp.close();
    const again = Checkpoint.open(path, { worker: mode.worker });
    const f = again.load('e1');
    assert.equal(f.messages.get(1), 'delivered');
    assert.deepEqual(f.recipients.get(2)?.get('b@x.test'), { address: 'b@x.test', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no' } });
    assert.deepEqual(f.recipients.get(2)?.get('c@x.test'), { address: 'c@x.test', outcome: 'failed', reply: { code: 554, text: '' } });
    assert.deepEqual(f.recipients.get(1)?.get('a@x.test'), { address: 'a@x.test', outcome: 'accepted' });
    assert.deepEqual(again.entries().sort(), ['e1', 'e2']);
    await again.forget('e1');
    assert.deepEqual(again.entries(), ['e2']);
    again.close();
    const cold = Checkpoint.open(path, { cold: true, worker: mode.worker });
    assert.deepEqual(cold.entries(), []);
    cold.close();
  });

  test(`${mode.name}: a write's promise resolves only once another connection can read it`, async (t) => {
    const path = join(tempDir(t), 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    t.after(() => cp.close());
    for (let i = 1; i <= 20; i++) {
      await cp.markMessage('e', i, 'delivered');
      assert.equal(committedMessages(path).length, i);
    }
  });

  test(`${mode.name}: writes from many concurrent callers keep their order across batches`, async (t) => {
    const path = join(tempDir(t), 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    t.after(() => cp.close());
    const all: Promise<void>[] = [];
    for (let round = 0; round < 50; round++) {
      all.push(cp.markMessage(`f${round % 5}`, round, 'delivered'));
      // Every tenth round forgets f0: what f0 holds at the end is what came after the last forget.
      if (round % 10 === 9) all.push(cp.forget('f0'));
      if (round % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    assert.deepEqual(cp.load('f0').messages, new Map());
    assert.deepEqual([...cp.load('f1').messages.keys()], [1, 6, 11, 16, 21, 26, 31, 36, 41, 46]);
  });

  test(`${mode.name}: flush() commits synchronously what is queued and in flight, then the promises resolve`, async (t) => {
    const path = join(tempDir(t), 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    const first = cp.markMessage('e', 1, 'delivered');
    await new Promise((r) => setImmediate(r)); // the first batch is now with the worker
    const rest = [2, 3, 4].map((no) => cp.markMessage('e', no, 'undeliverable'));
    cp.flush();
    assert.deepEqual(committedMessages(path).map((r) => r.no), [1, 2, 3, 4]);
    await Promise.all([first, ...rest]);
    cp.close();
    assert.equal(committedMessages(path).length, 4);
  });
  test(`${mode.name}: concurrent marks go in one commit (the store's CommitWorker: group commit, batch sizes counted)`, async (t) => {
    const path = join(tempDir(t), 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    t.after(() => cp.close());
    // Ten connections finishing a message in the same turn of the event loop.
    await Promise.all(Array.from({ length: 10 }, (_, i) => cp.markMessage(`e${i}`, 1, 'delivered')));
    assert.deepEqual({ ...cp.commits }, { batches: 1, writes: 10, largest: 10 });
    await cp.forget('e0'); // both tables of the file, in one transaction
    assert.deepEqual({ ...cp.commits }, { batches: 2, writes: 12, largest: 10 });
    assert.equal(committedMessages(path).length, 9);
  });

  test(`${mode.name}: a commit that fails rejects its callers (the lifecycle's checkpoint fault); later marks commit`, async (t) => {
    const path = join(tempDir(t), 'cp.db');
    const cp = Checkpoint.open(path, { worker: mode.worker });
    t.after(() => cp.close());
    // outcome NOT NULL: SQLite refuses the row, as it refuses any write on a full disk.
    const bad = cp.markMessage('e', 1, null as unknown as MessageFinal);
    const sameBatch = cp.markMessage('e', 2, 'delivered');
    await assert.rejects(bad, mode.worker ? /^Error: checkpoint commit failed: NOT NULL constraint failed: messages.outcome$/ : /NOT NULL/);
    await assert.rejects(sameBatch, 'its batch is one transaction: nothing of it was committed');
    await cp.markMessage('e', 3, 'delivered');
    assert.deepEqual(committedMessages(path).map((r) => r.no), [3]);
  });
}

test('a batch window (batchMs) still resolves every caller after one commit', async (t) => {
  const path = join(tempDir(t), 'cp.db');
  const cp = Checkpoint.open(path, { batchMs: 5 });
  t.after(() => cp.close());
  await Promise.all(Array.from({ length: 30 }, (_, i) => cp.markRecipient('e', i, { address: `r${i}@x.test`, outcome: 'accepted' })));
  assert.equal(cp.load('e').recipients.size, 30);
});

test('a checkpoint written before replies were structured loads after the upgrade (warm start loses nothing)', (t) => {
  const path = join(tempDir(t), 'cp.db');
  // Schema version 0, as spoolgate 0.1 wrote it: the reply as one line of text.
  const old = new Database(path);
  old.exec(`
    CREATE TABLE messages (entry TEXT NOT NULL, no INTEGER NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (entry, no));
    CREATE TABLE recipients (entry TEXT NOT NULL, no INTEGER NOT NULL, address TEXT NOT NULL, outcome TEXT NOT NULL, reply TEXT,
      PRIMARY KEY (entry, no, address));
    INSERT INTO messages VALUES ('e1', 1, 'delivered'), ('e1', 3, 'undeliverable');
    INSERT INTO recipients VALUES
      ('e1', 2, 'a@x.test', 'accepted', NULL),
      ('e1', 2, 'b@x.test', 'failed', '550 5.1.1 no such user'),
      ('e1', 2, 'c@x.test', 'failed', '451 retry limit reached'),
      ('e1', 2, 'd@x.test', 'failed', '554 5.7.10 '),
      ('e1', 2, 'e@x.test', 'failed', 'connection refused by everyone');
  `);
  old.close();
  for (const round of [1, 2]) { // the second open finds the schema current and changes nothing
    const cp = Checkpoint.open(path, { worker: false });
    const f = cp.load('e1');
    assert.deepEqual([...f.messages], [[1, 'delivered'], [3, 'undeliverable']], `round ${round}`);
    const marks = Object.fromEntries([...f.recipients.get(2)!].map(([k, v]) => [k, v]));
    assert.deepEqual(marks, {
      'a@x.test': { address: 'a@x.test', outcome: 'accepted' },
      'b@x.test': { address: 'b@x.test', outcome: 'failed', reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } },
      'c@x.test': { address: 'c@x.test', outcome: 'failed', reply: { code: 451, text: 'retry limit reached' } },
      'd@x.test': { address: 'd@x.test', outcome: 'failed', reply: { code: 554, enhanced: '5.7.10', text: '' } },
      'e@x.test': { address: 'e@x.test', outcome: 'failed', reply: { code: 554, text: 'connection refused by everyone' } },
    }, `round ${round}`);
    cp.close();
  }
});

test('the checkpoint database and its WAL files are owner-only (0600), whatever the umask', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'W.checkpoint.db');
  const old = process.umask(0o022);
  try {
    const cp = Checkpoint.open(path, { worker: false });
    await cp.markMessage('entry-1', 1, 'delivered');
    for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    cp.close();
  } finally {
    process.umask(old);
  }
});
