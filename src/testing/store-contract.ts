// The behaviour every Store (store/types.ts: users, mailboxes, journal) keeps, as one set of
// tests run against each backend — store/sqlite/store.test.ts and store/pg/store.test.ts call
// storeContract() with their fixture — so the two implementations are held to the same
// semantics, not to copies. What only one backend has (file modes, WAL frames, its schema table)
// stays in that backend's test file.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { ScryptParams } from '../store/password.js';
import type { Journal, Store } from '../store/types.js';
import { ensureDemoUser } from '../store/demo.js';
import { FakeClock } from './clock.js';
import { tempDir } from './peers.js';
import { join } from 'node:path';

/** A Store whose journal can be pruned (retention), as both backends' are. */
export type PrunableStore = Store & { readonly journal: Journal & { prune(cutoff: number, max: number, batch: number): Promise<number> } };

export interface StoreFixture {
  /** A store on the test's database; a second call opens another on the same data (a reopen, another node). */
  open(opts?: { clock?: Clock; scrypt?: ScryptParams }): PrunableStore;
  /** Every stored password hash, as the database holds it. */
  passwordHashes(): Promise<string[]>;
}

export interface StoreBackend {
  readonly name: string;
  /** An empty, migrated database for one test; undefined after the test was skipped. */
  setup(t: TestContext): Promise<StoreFixture | undefined>;
}

export const FAST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 };

export function storeContract(backend: StoreBackend): void {
  const it = (name: string, fn: (t: TestContext, f: StoreFixture, open: (opts?: { clock?: Clock }) => PrunableStore) => Promise<void>): void => {
    test(`${backend.name}: ${name}`, async (t) => {
      const f = await backend.setup(t);
      if (f === undefined) return;
      const open = (opts: { clock?: Clock } = {}): PrunableStore => {
        const s = f.open({ scrypt: FAST_SCRYPT, ...opts });
        t.after(() => s.close());
        return s;
      };
      await fn(t, f, open);
    }).catch((e: unknown) => { console.error(e); });
  };

  it('delivered messages keep ids, order, exact CRLF sizes and UIDLs across a reopen', async (_t, _f, open) => {
    const s1 = open();
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

    const s2 = open();
    assert.deepEqual(await s2.mailboxes.list('alice'), before, 'same ids, UIDLs and sizes after reopen');
    assert.equal(await s2.mailboxes.delete('alice', [a.id, 'nonexistent']), 1);
    assert.deepEqual((await s2.mailboxes.list('alice')).map((m) => m.uidl), [b.id]);
    const c = await s2.mailboxes.deliver('alice', Buffer.from('x'));
    assert.ok(![a.id, b.id].includes(c.id), 'ids are never reused');
    assert.equal(await s2.mailboxes.read('bob', b.id), undefined, 'another user cannot read it');
    assert.equal(await s2.mailboxes.delete('bob', [b.id]), 0, 'nor delete it');
  });

  it('a large binary message is stored and read back byte-exact; delete takes several at once', async (_t, _f, open) => {
    const s = open();
    await s.users.addUser('big', 'pw');
    // Random bytes with every CR and LF removed, then CRLF lines: normalisation changes nothing.
    const raw = Buffer.from(randomBytes(700 * 1024).map((x) => (x === 13 || x === 10 ? 65 : x)));
    const lines: Buffer[] = [];
    for (let i = 0; i < raw.length; i += 997) lines.push(raw.subarray(i, i + 997), Buffer.from('\r\n'));
    const body = Buffer.concat(lines);
    const d = await s.mailboxes.deliver('big', body);
    const small = await s.mailboxes.deliver('big', Buffer.alloc(0));
    assert.equal(d.size, body.length);
    const back = await s.mailboxes.read('big', d.id);
    assert.ok(back !== undefined && back.equals(body), 'byte-exact');
    assert.equal((await s.mailboxes.read('big', small.id))?.length, small.size);
    assert.equal(await s.mailboxes.delete('big', [d.id, small.id, d.id]), 2);
    assert.deepEqual(await s.mailboxes.list('big'), []);
  });

  it('delivery to an unknown or removed user is refused; removed users can still log in until purged', async (_t, _f, open) => {
    const s = open();
    await assert.rejects(s.mailboxes.deliver('nobody', Buffer.from('x')), { reason: 'ERR_USER_UNKNOWN' });
    await s.users.addUser('bob', 'pw');
    await s.mailboxes.deliver('bob', Buffer.from('x'));
    assert.ok((await s.users.removeUser('bob')).ok);
    await assert.rejects(s.mailboxes.deliver('bob', Buffer.from('y')), { reason: 'ERR_USER_REMOVED' });
    assert.equal(await s.users.resolve('bob@example.com'), undefined);
    assert.equal(await s.users.verify('bob', 'pw'), true);
    assert.deepEqual(await s.users.authenticate('BOB', 'pw'), { name: 'bob', active: false });
    assert.equal((await s.mailboxes.list('bob')).length, 1);
    assert.ok((await s.users.removeUser('bob', { purge: true })).ok);
    assert.equal(await s.users.verify('bob', 'pw'), false);
    assert.equal((await s.mailboxes.list('bob')).length, 0);
    const again = await s.users.removeUser('bob');
    assert.ok(!again.ok && again.error.reason === 'ERR_USER_UNKNOWN');
  });

  it('passwords are stored as scrypt hashes only; a changed password counts at the next login', async (_t, f, open) => {
    const s = open();
    const secret = 'Plaintext-Canary-7391';
    await s.users.addUser('carol', secret);
    assert.equal(await s.users.verify('carol', secret), true);
    assert.equal(await s.users.verify('carol', 'wrong'), false);
    assert.equal(await s.users.verify('nosuch', secret), false);
    assert.equal(await s.users.authenticate('nosuch', secret), undefined);
    assert.ok((await s.users.setPassword('carol', 'Second-Canary-2')).ok);
    assert.equal(await s.users.verify('carol', secret), false);
    assert.equal(await s.users.verify('CAROL', 'Second-Canary-2'), true);
    const unknown = await s.users.setPassword('nosuch', 'x');
    assert.ok(!unknown.ok && unknown.error.reason === 'ERR_USER_UNKNOWN');
    const hashes = await f.passwordHashes();
    assert.equal(hashes.length, 1);
    assert.match(hashes[0]!, /^scrypt\$1024\$8\$1\$/);
    for (const needle of [secret, 'Second-Canary-2']) assert.ok(!hashes[0]!.includes(needle));
  });

  it('user directory validation and listing', async (_t, _f, open) => {
    const s = open();
    const cases: { name: string; user: string; pw: string; domain?: string; want: string | undefined }[] = [
      { name: 'ok', user: 'Dave', pw: 'x', want: undefined },
      { name: 'duplicate', user: 'dave', pw: 'x', want: 'ERR_USER_EXISTS' },
      { name: 'bad name', user: 'a b', pw: 'x', want: 'ERR_BAD_NAME' },
      { name: 'bad domain', user: 'erin', pw: 'x', domain: 'not a domain', want: 'ERR_BAD_NAME' },
      { name: 'empty password', user: 'frank', pw: '', want: 'ERR_BAD_NAME' },
      { name: 'SQL in the name', user: "x'; DROP TABLE users; --", pw: 'x', want: 'ERR_BAD_NAME' },
      { name: 'SQL in the domain', user: 'gina', pw: 'x', domain: "a.example' OR '1'='1", want: 'ERR_BAD_NAME' },
      { name: 'too long', user: 'u'.repeat(65), pw: 'x', want: 'ERR_BAD_NAME' },
    ];
    for (const c of cases) {
      const r = await s.users.addUser(c.user, c.pw, c.domain === undefined ? {} : { domain: c.domain });
      assert.equal(r.ok ? undefined : r.error.reason, c.want, c.name);
    }
    const users = await s.users.listUsers();
    assert.deepEqual(users.map((u) => [u.name, u.active]), [['dave', true]]);
    assert.ok((await s.users.addUser('zed', 'x', { domain: 'Z.Example.' })).ok);
    const zed = (await s.users.listUsers()).find((u) => u.name === 'zed');
    assert.equal(zed?.domain, 'z.example');
    assert.equal(typeof zed?.created, 'number');
  });

  it('two stores adding the same user at once: one succeeds, the other is told it exists', async (_t, _f, open) => {
    const a = open();
    const b = open();
    const [ra, rb] = await Promise.all([a.users.addUser('race', 'one'), b.users.addUser('race', 'two')]);
    assert.equal([ra, rb].filter((r) => r.ok).length, 1);
    const lost = [ra, rb].find((r) => !r.ok);
    assert.ok(lost !== undefined && !lost.ok && lost.error.reason === 'ERR_USER_EXISTS');
    assert.equal((await a.users.listUsers()).length, 1);
  });

  it('aliases and domains resolve to the receiving user; hostile addresses resolve to nobody', async (_t, _f, open) => {
    const s = open();
    await s.users.addUser('alice', 'pw');
    await s.users.addUser('bob', 'pw', { domain: 'b.example' });
    assert.ok((await s.users.addAlias('postmaster', 'alice')).ok);
    assert.ok((await s.users.addAlias('sales@b.example', 'bob')).ok);
    const dup = await s.users.addAlias('postmaster', 'bob');
    assert.ok(!dup.ok && dup.error.reason === 'ERR_ALIAS_EXISTS');
    const clash = await s.users.addAlias('alice', 'bob');
    assert.ok(!clash.ok && clash.error.reason === 'ERR_ALIAS_EXISTS');
    const noUser = await s.users.addAlias('info', 'nobody');
    assert.ok(!noUser.ok && noUser.error.reason === 'ERR_USER_UNKNOWN');
    const bad = await s.users.addAlias("x' OR 1=1 --", 'alice');
    assert.ok(!bad.ok && bad.error.reason === 'ERR_BAD_NAME');
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
      ["alice' OR '1'='1@a.example", undefined],
      ["x@a.example'; DELETE FROM users; --", undefined],
      ['%@a.example', undefined],
    ];
    for (const [addr, want] of table) assert.equal(await s.users.resolve(addr), want, addr);
    assert.deepEqual((await s.users.listUsers()).find((u) => u.name === 'alice')?.aliases, ['postmaster']);
    assert.ok((await s.users.removeAlias('postmaster')).ok);
    assert.equal(await s.users.resolve('postmaster@a.example'), undefined);
    const gone = await s.users.removeAlias('postmaster');
    assert.ok(!gone.ok && gone.error.reason === 'ERR_USER_UNKNOWN');
    assert.equal((await s.users.listUsers()).length, 2, 'the hostile inputs changed nothing');
  });

  it('journal records events and answers queries by id, sender, recipient, type and time', async (_t, _f, open) => {
    const clock = new FakeClock();
    const s = open({ clock });
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
    assert.equal((await s.journal.query({ user: 'alice' })).length, 1);
    assert.equal((await s.journal.query({ since: t0 + 1000 })).length, 2);
    assert.equal((await s.journal.query({ limit: 1 })).length, 1);
    assert.equal((await s.journal.query({})).length, 3);
    assert.deepEqual(await s.journal.query({ from: "' OR 1=1 --" }), [], 'a hostile query value is a value');
  });

  it('journal: an entry id finds its messages\' events (<id>#<n>), not another entry\'s; an event keeps its own time', async (_t, _f, open) => {
    const s = open();
    for (const id of ['E1', 'E1#1', 'E1#2', 'E10', 'E1$', 'E2#1']) await s.journal.record({ type: 'queued', messageId: id, at: 5 });
    assert.deepEqual((await s.journal.query({ id: 'E1' })).map((e) => e.messageId), ['E1', 'E1#1', 'E1#2']);
    assert.deepEqual((await s.journal.query({ id: 'E1' })).map((e) => e.at), [5, 5, 5]);
  });

  it('journal events recorded together resolve after the commit, in order; close writes what is pending', async (_t, _f, open) => {
    const s = open();
    const other = open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.journal.record({ type: 'queued', messageId: `q${i}` })));
    assert.deepEqual((await other.journal.query({ type: 'queued' })).map((e) => e.messageId), Array.from({ length: 20 }, (_, i) => `q${i}`), 'committed, in order, before the promises resolved');
    const last = s.journal.record({ type: 'delivered', messageId: 'last' });
    await s.close();
    await last;
    assert.equal((await other.journal.query({ id: 'last' })).length, 1);
  });

  // Seen in CI once the journal committed on a worker thread: the receiver records a refused
  // connection without waiting (it answers 554 at once) and an operator's query right after did
  // not find it. A query answers with every event recorded before it.
  it('journal: a query sees the events recorded before it, even when nobody awaited record()', async (_t, _f, open) => {
    const s = open();
    const recorded = Array.from({ length: 5 }, (_, i) => s.journal.record({ type: 'connection-refused', ip: '127.0.0.1', detail: `r${i}` }));
    assert.deepEqual((await s.journal.query({ type: 'connection-refused' })).map((e) => e.detail), ['r0', 'r1', 'r2', 'r3', 'r4']);
    await Promise.all(recorded);
  });

  it('journal prune (retention) deletes the oldest first, at most max, in batches', async (_t, _f, open) => {
    const s = open();
    for (let i = 0; i < 7; i++) await s.journal.record({ type: 'queued', messageId: `p${i}`, at: 1000 + i });
    assert.equal(await s.journal.prune(1005, 3, 2), 3, 'at most max');
    assert.deepEqual((await s.journal.query({})).map((e) => e.messageId), ['p3', 'p4', 'p5', 'p6']);
    assert.equal(await s.journal.prune(1005, 100, 2), 2, 'only what is older than the cutoff');
    assert.deepEqual((await s.journal.query({})).map((e) => e.messageId), ['p5', 'p6']);
  });

  it('the demo user is made only when asked for and only while there are no users', async (t, _f, open) => {
    const s = open();
    const file = join(tempDir(t), 'demo.password');
    assert.equal(await ensureDemoUser(s.users, { demo: false, defaultDomain: 'corp.test' }, file), undefined);
    const demo = await ensureDemoUser(s.users, { demo: true, defaultDomain: 'example.test' }, file);
    assert.ok(demo);
    assert.equal(await s.users.verify('demo', demo.password), true);
    assert.equal(await ensureDemoUser(s.users, { demo: true, defaultDomain: 'example.test' }, file), undefined, 'once any user exists: nothing');
  });
}
