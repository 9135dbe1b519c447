// Reading a mailbox ahead on the real PostgreSQL (mailboxes.ts): messages read in the mailbox's
// order (as POP3 RETRieves them) are mostly served from the message read ahead — fewer statements
// than messages — byte-exact; a message larger than READ_AHEAD_BYTES is read when asked for; a
// message deleted through the store is not served from what was read ahead; another mailbox's
// reads do not mix with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { needPostgres } from '../../testing/pg.js';
import { READ_AHEAD_BYTES } from './mailboxes.js';
import { migrate } from './migrations.js';
import { openPgStore } from './store.js';

/** A message of about `size` bytes of CRLF lines (what deliver() keeps as it is). */
function message(i: number, size: number): Buffer {
  const line = `Line of message ${i} ${randomBytes(20).toString('hex')}\r\n`;
  return Buffer.from(`Subject: ${i}\r\n\r\n` + line.repeat(Math.ceil(size / line.length)), 'latin1');
}

test('a mailbox read in order is served mostly from the message read ahead, byte-exact; large and deleted ones are read when asked for', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const store = openPgStore(tdb.pool(), { scrypt: { N: 1024, r: 8, p: 1 } });
  t.after(() => store.close());
  await store.users.addUser('alice', 'secret-alice');
  await store.users.addUser('bob', 'secret-bob');
  const sizes = [5_000, 50_000, 300_000, READ_AHEAD_BYTES + 10, 7_000, 60_000, 1_000, 2_000];
  const sent: Buffer[] = [];
  for (const [i, size] of sizes.entries()) {
    const m = message(i, size);
    await store.mailboxes.deliver('alice', m);
    sent.push(m);
  }
  await store.mailboxes.deliver('bob', message(99, 1000));
  const list = await store.mailboxes.list('alice');
  const bobs = await store.mailboxes.list('bob');
  const mb = store.mailboxes;
  const before = { ...mb.readAheadStats };
  for (const [i, m] of list.entries()) {
    assert.deepEqual(await mb.read('alice', m.id), sent[i], `message ${i} as delivered`);
    // Another mailbox read in between keeps its own.
    if (i === 1) assert.ok((await mb.read('bob', bobs[0]!.id))?.includes('Subject: 99'));
  }
  const hits = mb.readAheadStats.hits - before.hits;
  // Every message but the first and the large one (not read ahead: over READ_AHEAD_BYTES).
  assert.equal(hits, list.length - 2, `${hits} of ${list.length} reads served from the message read ahead`);
  assert.ok(mb.readAheadStats.statements - before.statements < list.length, `${mb.readAheadStats.statements - before.statements} statements for ${list.length + 1} reads`);

  // Read message 0 (message 1 is read ahead), delete message 1: not served any more.
  assert.deepEqual(await mb.read('alice', list[0]!.id), sent[0]);
  assert.equal(await mb.delete('alice', [list[1]!.id]), 1);
  assert.equal(await mb.read('alice', list[1]!.id), undefined);
  // Out of order: the message asked for, not the one read ahead.
  assert.deepEqual(await mb.read('alice', list[2]!.id), sent[2]);
  assert.deepEqual(await mb.read('alice', list[6]!.id), sent[6]);
  assert.equal(await mb.read('alice', 'no-such-id'), undefined);
  assert.deepEqual(await mb.read('alice', list[7]!.id), sent[7]);
});
