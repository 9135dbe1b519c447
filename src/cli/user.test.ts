import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../store/sqlite/index.js';
import { tempDir } from '../testing/peers.js';
import { captureIo, type CapturedIo } from '../testing/cli.js';
import { run as userCommand } from './user.js';

const io = (stdin = ''): CapturedIo => captureIo({ stdin });

test('spoolgate user add/passwd/alias/list/remove against --db', async (t) => {
  const db = join(tempDir(t), 'state', 'spoolgate.db');
  const a = io('s3cret\n');
  assert.equal(await userCommand(['add', 'Alice', '--db', db, '--password-stdin'], a), 0, a.err());
  assert.equal(a.out(), 'user alice added\n');
  const b = io();
  assert.equal(await userCommand(['--db', db, 'add', 'bob', '--domain', 'b.example'], b), 0);
  const generated = /password: (\S+)/.exec(b.out())?.[1];
  assert.ok(generated !== undefined && generated.length >= 16, b.out());
  assert.equal(await userCommand(['--db', db, 'alias', 'postmaster', 'alice'], io()), 0);
  const dup = io();
  assert.equal(await userCommand(['--db', db, 'add', 'alice'], dup), 1);
  assert.match(dup.err(), /already exists/);
  assert.equal(await userCommand(['--db', db, 'passwd', 'alice', '--password-stdin'], io('new one\n')), 0);
  const l = io();
  assert.equal(await userCommand(['--db', db, 'list'], l), 0);
  assert.match(l.out(), /^alice +\* +active +0 +0 postmaster$/m);
  assert.match(l.out(), /^bob +b\.example +active/m);
  // O2 #18 item 8: --json where data is printed.
  const lj = io();
  assert.equal(await userCommand(['--db', db, 'list', '--json'], lj), 0, lj.err());
  assert.deepEqual(JSON.parse(lj.out()), [
    { name: 'alice', domain: null, active: true, messages: 0, octets: 0, aliases: ['postmaster'] },
    { name: 'bob', domain: 'b.example', active: true, messages: 0, octets: 0, aliases: [] },
  ]);
  assert.equal(await userCommand(['--db', db, 'remove', 'bob'], io()), 0);

  const s = openSqliteStore(db);
  t.after(() => s.close());
  assert.equal(await s.users.verify('alice', 'new one'), true);
  assert.equal(await s.users.verify('bob', generated), true);
  assert.equal(await s.users.resolve('postmaster@x.example'), 'alice');
  assert.equal(await s.users.resolve('bob@b.example'), undefined, 'removed: no more delivery');
});

test('usage errors exit 2; without --config or --db the configuration search decides (never the checkout\'s by accident)', async () => {
  const cases: string[][] = [[], ['add'], ['frob', 'x', '--db', 'x'], ['add', 'a'], ['list', '--bogus']];
  for (const argv of cases) {
    // $SPOOLGATE_CONFIG names a file that is not there: a clear error, not ./config/spoolgate.conf.
    const o = captureIo({ env: { ...process.env, SPOOLGATE_CONFIG: '/nonexistent/spoolgate.conf' } });
    assert.equal(await userCommand(argv, o), 2, argv.join(' '));
    assert.match(o.err(), /usage: spoolgate user|\/nonexistent\/spoolgate\.conf/);
  }
});
