import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../testing/peers.js';
import { FakeClock } from '../../testing/clock.js';
import { openSqliteStore } from './index.js';

const FAST = { N: 1024, r: 8, p: 1 };

test('delivered messages keep ids, order, exact CRLF sizes and UIDLs across a reopen', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'spoolgate.db');
  const s1 = openSqliteStore(path, { scrypt: FAST });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.ok((await s1.users.addUser('alice', 'pw')).ok);
  const a = await s1.mailboxes.deliver('alice', Buffer.from('Subject: a\n\nline\n'));
  const b = await s1.mailboxes.deliver('Alice', Buffer.from('Subject: b\r\n\r\nbody'));
  assert.equal(a.size, 'Subject: a\r\n\r\nline\r\n'.length);
  assert.equal(b.size, 'Subject: b\r\n\r\nbody\r\n'.length);
  assert.notEqual(a.id, b.id);
  const before = await s1.mailboxes.list('alice');
  assert.deepEqual(before.map((m) => m.id), [a.id, b.id]);
  assert.deepEqual(before.map((m) => m.size), [a.size, b.size]);
  assert.equal((await s1.mailboxes.read('alice', a.id))?.toString(), 'Subject: a\r\n\r\nline\r\n');
  await s1.close();

  const s2 = openSqliteStore(path, { scrypt: FAST });
  t.after(() => s2.close());
  assert.deepEqual(await s2.mailboxes.list('alice'), before, 'same ids, UIDLs and sizes after reopen');
  assert.equal(await s2.mailboxes.delete('alice', [a.id, 'nonexistent']), 1);
  assert.deepEqual((await s2.mailboxes.list('alice')).map((m) => m.uidl), [b.id]);
  const c = await s2.mailboxes.deliver('alice', Buffer.from('x'));
  assert.ok(![a.id, b.id].includes(c.id), 'ids are never reused');
  assert.equal(await s2.mailboxes.read('bob', b.id), undefined, 'another user cannot read it');
  assert.equal(await s2.mailboxes.delete('bob', [b.id]), 0, 'nor delete it');
});

test('delivery to an unknown or removed user is refused; removed users can still log in until purged', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'db'), { scrypt: FAST });
  t.after(() => s.close());
  await assert.rejects(s.mailboxes.deliver('nobody', Buffer.from('x')), { reason: 'ERR_USER_UNKNOWN' });
  await s.users.addUser('bob', 'pw');
  await s.mailboxes.deliver('bob', Buffer.from('x'));
  assert.ok((await s.users.removeUser('bob')).ok);
  await assert.rejects(s.mailboxes.deliver('bob', Buffer.from('y')), { reason: 'ERR_USER_REMOVED' });
  assert.equal(await s.users.resolve('bob@example.com'), undefined);
  assert.equal(await s.users.verify('bob', 'pw'), true);
  assert.equal((await s.mailboxes.list('bob')).length, 1);
  assert.ok((await s.users.removeUser('bob', { purge: true })).ok);
  assert.equal(await s.users.verify('bob', 'pw'), false);
  assert.equal((await s.mailboxes.list('bob')).length, 0);
  const again = await s.users.removeUser('bob');
  assert.ok(!again.ok && again.error.reason === 'ERR_USER_UNKNOWN');
});

test('passwords are scrypt hashes, never plain text in the database file', async (t) => {
  const dir = tempDir(t);
  const s = openSqliteStore(join(dir, 'spoolgate.db'), { scrypt: FAST });
  const secret = 'Plaintext-Canary-7391';
  await s.users.addUser('carol', secret);
  assert.equal(await s.users.verify('carol', secret), true);
  assert.equal(await s.users.verify('carol', 'wrong'), false);
  assert.equal(await s.users.verify('nosuch', secret), false);
  assert.ok((await s.users.setPassword('carol', 'Second-Canary-2')).ok);
  assert.equal(await s.users.verify('carol', secret), false);
  assert.equal(await s.users.verify('CAROL', 'Second-Canary-2'), true);
  const hash = (s.db.prepare('SELECT password_hash FROM users').get() as { password_hash: string }).password_hash;
  assert.match(hash, /^scrypt\$1024\$8\$1\$/);
  await s.close();
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    for (const needle of [secret, 'Second-Canary-2']) {
      assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} found in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(needle, 'utf16le')), -1, `${needle} (UTF-16) found in ${f}`);
    }
  }
});

test('user directory validation and listing', async (t) => {
  const s = openSqliteStore(':memory:', { scrypt: FAST });
  t.after(() => s.close());
  const cases: { name: string; user: string; pw: string; domain?: string; want: string | undefined }[] = [
    { name: 'ok', user: 'Dave', pw: 'x', want: undefined },
    { name: 'duplicate', user: 'dave', pw: 'x', want: 'ERR_USER_EXISTS' },
    { name: 'bad name', user: 'a b', pw: 'x', want: 'ERR_BAD_NAME' },
    { name: 'bad domain', user: 'erin', pw: 'x', domain: 'not a domain', want: 'ERR_BAD_NAME' },
    { name: 'empty password', user: 'frank', pw: '', want: 'ERR_BAD_NAME' },
  ];
  for (const c of cases) {
    const r = await s.users.addUser(c.user, c.pw, c.domain === undefined ? {} : { domain: c.domain });
    assert.equal(r.ok ? undefined : r.error.reason, c.want, c.name);
  }
  const users = await s.users.listUsers();
  assert.deepEqual(users.map((u) => [u.name, u.active]), [['dave', true]]);
});

test('aliases and domains resolve to the receiving user', async (t) => {
  const s = openSqliteStore(':memory:', { scrypt: FAST });
  t.after(() => s.close());
  await s.users.addUser('alice', 'pw');
  await s.users.addUser('bob', 'pw', { domain: 'b.example' });
  assert.ok((await s.users.addAlias('postmaster', 'alice')).ok);
  assert.ok((await s.users.addAlias('sales@b.example', 'bob')).ok);
  const dup = await s.users.addAlias('postmaster', 'bob');
  assert.ok(!dup.ok && dup.error.reason === 'ERR_ALIAS_EXISTS');
  const clash = await s.users.addAlias('alice', 'bob');
  assert.ok(!clash.ok && clash.error.reason === 'ERR_ALIAS_EXISTS');
  const table: [string, string | undefined][] = [
    ['alice@a.example', 'alice'],
    ['ALICE@A.EXAMPLE', 'alice'],
    ['alice', 'alice'],
    ['postmaster@anything.example', 'alice'],
    ['bob@b.example', 'bob'],
    ['bob@other.example', undefined],
    ['sales@b.example', 'bob'],
    ['sales@other.example', undefined],
    ['nobody@a.example', undefined],
    ['bad local@a.example', undefined],
    ['alice@bad domain', undefined],
  ];
  for (const [addr, want] of table) assert.equal(await s.users.resolve(addr), want, addr);
  assert.deepEqual((await s.users.listUsers()).find((u) => u.name === 'alice')?.aliases, ['postmaster']);
  assert.ok((await s.users.removeAlias('postmaster')).ok);
  assert.equal(await s.users.resolve('postmaster@a.example'), undefined);
});

test('journal records events and answers queries by id, sender, recipient, type and time', async (t) => {
  const clock = new FakeClock();
  const s = openSqliteStore(':memory:', { clock, scrypt: FAST });
  t.after(() => s.close());
  const t0 = clock.now();
  await s.journal.record({ type: 'received', messageId: 'm1', from: 'a@x.test', to: 'b@y.test', ip: '127.0.0.1' });
  clock.advance(1000);
  await s.journal.record({ type: 'delivered', messageId: 'm1', to: 'B@Y.test', detail: '250 ok' });
  clock.advance(1000);
  await s.journal.record({ type: 'pop3.login', user: 'alice', ip: '::1' });
  assert.deepEqual((await s.journal.query({ id: 'm1' })).map((e) => e.type), ['received', 'delivered']);
  assert.equal((await s.journal.query({ to: 'b@y.test' })).length, 2, 'recipient matches case-insensitively');
  assert.equal((await s.journal.query({ from: 'A@X.TEST' })).length, 1);
  assert.deepEqual(await s.journal.query({ type: 'pop3.login' }), [{ seq: 3, at: t0 + 2000, type: 'pop3.login', user: 'alice', ip: '::1' }]);
  assert.equal((await s.journal.query({ since: t0 + 1000 })).length, 2);
  assert.equal((await s.journal.query({ limit: 1 })).length, 1);
  assert.equal((await s.journal.query({})).length, 3);
});

test('journal events recorded together share one transaction; each promise resolves after the commit, in order; close writes what is pending', async (t) => {
  const path = join(tempDir(t), 'j.db');
  const s = openSqliteStore(path);
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
  const other = openSqliteStore(path);
  t.after(() => other.close());
  assert.deepEqual((await other.journal.query({ type: 'queued' })).map((e) => e.messageId), Array.from({ length: 20 }, (_, i) => `q${i}`), 'committed, in order, before the promises resolved');
  // An event not awaited before close() is still written.
  void s.journal.record({ type: 'delivered', messageId: 'last' });
  await s.close();
  assert.equal((await other.journal.query({ id: 'last' })).length, 1);
});

test('schema migrations are recorded and applied once', async (t) => {
  const path = join(tempDir(t), 'db');
  openSqliteStore(path, { scrypt: FAST }).close();
  const s = openSqliteStore(path, { scrypt: FAST });
  t.after(() => s.close());
  const rows = s.db.prepare('SELECT component, version FROM schema_migrations').all();
  assert.deepEqual(rows, [{ component: 'store', version: 1 }]);
  assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(s.db.pragma('synchronous', { simple: true }), 2, 'FULL');
});
