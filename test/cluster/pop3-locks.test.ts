// [IN-USE] across nodes when a hold is lost (in one process, two POP3 servers on one PostgreSQL
// schema, each with its node's PgMaildropLocks): a session whose hold ran out and was taken by
// another node deletes nothing at QUIT (-ERR [SYS/TEMP]), and is ended at its node's next
// heartbeat. The child-process cases (kill -9) are in pop3.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pop3Server } from '../../src/pop3/server.js';
import { FakeClock } from '../../src/testing/clock.js';
import { needPostgres } from '../../src/testing/pg.js';
import { Pop3TestClient } from '../../src/testing/pop3-client.js';
import { FAST_SCRYPT } from '../../src/testing/store-contract.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { openPgStore } from '../../src/store/pg/store.js';
import { PgMaildropLocks } from '../../src/store/pg/maildrop-locks.js';

test('a session whose maildrop hold another node took deletes nothing at QUIT and is ended at its node\'s next heartbeat', { timeout: 120_000 }, async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const admin = tdb.pool();
  await migrate(admin);
  const clock = new FakeClock();
  const node = async (name: string): Promise<{ port: number; locks: PgMaildropLocks }> => {
    const pool = tdb.pool({ applicationName: name });
    const store = openPgStore(pool, { scrypt: FAST_SCRYPT });
    const locks = new PgMaildropLocks(pool, { node: name, leaseSeconds: 30, heartbeatMs: 10_000, clock });
    await locks.start();
    const server = new Pop3Server({ users: store.users, mailboxes: store.mailboxes, journal: store.journal, maildropLocks: locks, allowPlaintext: true, throttle: { failDelayMs: 0 } });
    t.after(() => server.close());
    return { port: (await server.listen()).port, locks };
  };
  const a = await node('a');
  const b = await node('b');
  const store = openPgStore(admin, { scrypt: FAST_SCRYPT });
  await store.users.addUser('alice', 'pw');
  await store.mailboxes.deliver('alice', Buffer.from('Subject: one\r\n\r\nx\r\n'));
  const login = async (port: number): Promise<{ c: Pop3TestClient; reply: string }> => {
    const c = await Pop3TestClient.connect(port);
    t.after(() => c.close());
    await c.readLine();
    await c.cmd('USER alice');
    return { c, reply: await c.cmd('PASS pw') };
  };
  const expire = (): Promise<unknown> => admin.query(`UPDATE pop3_locks SET expires_at = now() - interval '1 second'`);

  // 1. A's hold runs out (A could not renew) and B takes the maildrop: A's QUIT deletes nothing.
  const s1 = await login(a.port);
  assert.match(s1.reply, /^\+OK/);
  assert.match((await login(b.port)).reply, /^-ERR \[IN-USE\]/);
  assert.match(await s1.c.cmd('DELE 1'), /^\+OK/);
  await expire();
  const s2 = await login(b.port);
  assert.match(s2.reply, /^\+OK/, 'B takes the maildrop once A\'s hold ran out');
  assert.match(await s1.c.cmd('QUIT'), /^-ERR \[SYS\/TEMP\]/, 'A no longer holds it: its deletion is refused');
  assert.equal((await store.mailboxes.list('alice')).length, 1, 'nothing deleted');
  assert.match(await s2.c.cmd('QUIT'), /^\+OK/);

  // 2. Taken over while A's session is open: A's next heartbeat ends that session.
  const s3 = await login(a.port);
  assert.match(s3.reply, /^\+OK/);
  await expire();
  const s4 = await login(b.port);
  assert.match(s4.reply, /^\+OK/);
  await a.locks.renew();
  await assert.rejects(s3.c.readLine(), /connection closed/, 'A\'s session was ended');
  assert.match(await s4.c.cmd('DELE 1'), /^\+OK/);
  assert.match(await s4.c.cmd('QUIT'), /^\+OK/, 'B, which holds it, deletes');
  assert.equal((await store.mailboxes.list('alice')).length, 0);
});
