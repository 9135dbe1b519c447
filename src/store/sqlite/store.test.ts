// The Store contract (testing/store-contract.ts) on the embedded SQLite store, and what only this
// backend has: the database file's mode, no plain text in its bytes, WAL frames of a batched
// journal commit, its schema table and pragmas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { FAST_SCRYPT, storeContract } from '../../testing/store-contract.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openSqliteStore, STORE_MIGRATIONS } from './index.js';

storeContract({
  name: 'SQLite',
  setup(t) {
    const path = join(tempDir(t), 'spoolgate.db');
    return Promise.resolve({
      open: (opts = {}) => openSqliteStore(path, opts),
      passwordHashes: () => {
        const s = openSqliteStore(path);
        try {
          return Promise.resolve((s.db.prepare('SELECT password_hash FROM users').all() as { password_hash: string }[]).map((r) => r.password_hash));
        } finally {
          void s.close();
        }
      },
    });
  },
});

test('SQLite: the database file is made mode 0600 and holds no password in plain text', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'spoolgate.db');
  const s = openSqliteStore(path, { scrypt: FAST_SCRYPT });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const secret = 'Plaintext-Canary-7391';
  await s.users.addUser('carol', secret);
  assert.ok((await s.users.setPassword('carol', 'Second-Canary-2')).ok);
  await s.close();
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    for (const needle of [secret, 'Second-Canary-2']) {
      assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} found in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(needle, 'utf16le')), -1, `${needle} (UTF-16) found in ${f}`);
    }
  }
});

test('SQLite: journal events recorded together share one transaction (WAL frames)', async (t) => {
  const path = join(tempDir(t), 'j.db');
  const s = openSqliteStore(path);
  t.after(() => s.close());
  const walFrames = (): number => (s.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  // One event per commit writes at least one WAL frame per event (the control case).
  for (let i = 0; i < 20; i++) s.db.prepare('INSERT INTO journal (at, type) VALUES (?, ?)').run(i, 'control');
  const separate = walFrames();
  assert.ok(separate >= 20, 'twenty separate commits: twenty frames or more');
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.journal.record({ type: 'queued', messageId: `q${i}` })));
  const together = walFrames();
  assert.ok(together * 3 < separate, `twenty concurrent events in one commit: ${together} frames, against ${separate} for twenty commits`);
});

test('SQLite: schema migrations are recorded and applied once', async (t) => {
  const path = join(tempDir(t), 'db');
  await openSqliteStore(path, { scrypt: FAST_SCRYPT }).close();
  const s = openSqliteStore(path, { scrypt: FAST_SCRYPT });
  t.after(() => s.close());
  const rows = s.db.prepare('SELECT component, version FROM schema_migrations').all();
  assert.deepEqual(rows, STORE_MIGRATIONS.map((m) => ({ component: 'store', version: m.version })));
  assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(s.db.pragma('synchronous', { simple: true }), 2, 'FULL');
});

test('SQLite: a mailbox is listed from the covering index alone', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'db'), { scrypt: FAST_SCRYPT });
  t.after(() => s.close());
  const plan = (s.db.prepare('EXPLAIN QUERY PLAN SELECT id, size FROM messages WHERE user = ? ORDER BY seq').all('a') as { detail: string }[]).map((r) => r.detail).join('; ');
  assert.match(plan, /USING COVERING INDEX messages_list/);
});

test('SQLite: POP3 reads in order find the next message read ahead; a deleted one is never answered from it', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'db'), { scrypt: FAST_SCRYPT });
  t.after(() => s.close());
  await s.users.addUser('ann', 'pw-ann-1');
  await s.users.addUser('bob', 'pw-bob-1');
  const body = (i: number): Buffer => Buffer.from(`Subject: ${i}\r\n\r\nline ${i}\r\n`);
  for (let i = 1; i <= 4; i++) await s.mailboxes.deliver('ann', body(i));
  await s.mailboxes.deliver('bob', body(9));
  const ids = (await s.mailboxes.list('ann')).map((m) => m.id);
  const mb = s.mailboxes as unknown as { aheadHits: number };
  assert.deepEqual(await s.mailboxes.read('ann', ids[0]!), body(1));
  await nextTurn();
  assert.deepEqual(await s.mailboxes.read('ann', ids[1]!), body(2));
  assert.equal(mb.aheadHits, 1, 'message 2 came from the read-ahead');
  // Another user's read, or another message, is not answered from it.
  await nextTurn();
  assert.equal(await s.mailboxes.read('bob', ids[2]!), undefined);
  assert.equal(mb.aheadHits, 1);
  assert.deepEqual(await s.mailboxes.read('ann', ids[2]!), body(3));
  await nextTurn();
  // Message 4 is held ahead; its row deleted behind the store's back (as a purge does): no answer.
  s.db.prepare('DELETE FROM messages WHERE id = ?').run(ids[3]);
  assert.equal(await s.mailboxes.read('ann', ids[3]!), undefined);
  assert.equal(mb.aheadHits, 1);
  // delete() drops what was read ahead.
  assert.deepEqual(await s.mailboxes.read('ann', ids[0]!), body(1));
  await nextTurn();
  assert.equal(await s.mailboxes.delete('ann', [ids[1]!]), 1);
  assert.equal(await s.mailboxes.read('ann', ids[1]!), undefined);
  assert.equal(mb.aheadHits, 1);
});
