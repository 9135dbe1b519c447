// EnqueueGroup (B2 item 3): concurrent message entries are published by a shared group commit.
// Checked: every enqueue() resolves only when its entry is complete in incoming/ (data, attrs.json,
// envelope.json as enqueueMessage writes them, read back by the real SpoolQueue reader); entries
// staged while a publication runs go out together in the next one (fewer publications than
// entries: the shared fsync of incoming/ and tmp/); nothing is left in tmp/; and a failure of the
// shared step fails every entry of that group instead of answering "durable".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMailbox, systemClock, type Envelope } from '../core/index.js';
import { EnqueueGroup } from './enqueue.js';
import { SpoolQueue } from './queue.js';
import { commitStaged, spoolLayout } from './submit.js';

function envelope(i: number): Envelope {
  const to = parseMailbox(`r${i}@far.test`);
  const from = parseMailbox('s@client.test');
  if (!to.ok || !from.ok) throw new Error('bad test address');
  return { from: { kind: 'mailbox', mailbox: from.value }, recipients: [{ mailbox: to.value }], requireTls: false };
}

const origin = { kind: 'receiver', client: '127.0.0.1', helo: 'c.test', auth: null, tls: false, session: 's1' } as const;

test('concurrent entries share publications; each resolves only when complete in incoming/', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'spoolgate-group-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const group = new EnqueueGroup({ root, writer: 'GW' });
  const l = spoolLayout(root, 'GW');
  const N = 40;
  const ids = await Promise.all(Array.from({ length: N }, async (_, i) => {
    const e = await group.enqueue({ envelope: envelope(i), data: Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`), origin, jobName: 'RECEIVER' });
    // Resolved: the entry is renamed into incoming/ with all three files.
    for (const f of ['data', 'attrs.json', 'envelope.json']) assert.ok(existsSync(join(l.incoming, e.id, f)), `${e.id}/${f} at resolve`);
    assert.equal(e.kind, 'message');
    assert.equal(e.attrs.jobName, 'RECEIVER');
    assert.equal(e.message?.envelope.recipients[0]?.mailbox.local, `r${i}`);
    return e.id;
  }));
  assert.equal(new Set(ids).size, N);
  assert.equal(group.stats.entries, N);
  assert.ok(group.stats.groups < N, `${group.stats.groups} publications for ${N} concurrent entries: no group commit`);
  assert.deepEqual(readdirSync(l.tmp), [], 'nothing left in tmp/');

  // The reader sees every entry as a message entry with its envelope.
  const q = await SpoolQueue.open({ root, writer: 'GW', clock: systemClock });
  assert.ok(q.ok);
  t.after(() => q.value.close());
  const listed = await q.value.list();
  assert.deepEqual(listed.map((e) => e.id).sort(), [...ids].sort());
  assert.ok(listed.every((e) => e.kind === 'message' && e.problem === undefined));
});

test('a failed publication fails every entry of its group (no 250 for an entry that is not durable)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'spoolgate-group-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const group = new EnqueueGroup({ root, writer: 'GW' });
  const l = spoolLayout(root, 'GW');
  await group.enqueue({ envelope: envelope(0), data: Buffer.from('x\r\n'), origin, jobName: 'RECEIVER' });
  // incoming/ replaced by a file: the renames fail; every entry must reject, none resolve.
  rmSync(l.incoming, { recursive: true, force: true });
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => group.enqueue({ envelope: envelope(i), data: Buffer.from('y\r\n'), origin, jobName: 'RECEIVER' })));
  assert.ok(results.every((r) => r.status === 'rejected'), 'every entry of the failed group rejected');
  assert.deepEqual(readdirSync(l.tmp), [], 'failed entries removed from tmp/');
});

test('beforeRename: the group records the staged entry before its rename, and a failed publication keeps a recorded one in tmp/ for commitStaged', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'spoolgate-group-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const group = new EnqueueGroup({ root, writer: 'GW' });
  const l = spoolLayout(root, 'GW');
  // Recorded while still in tmp/ (not yet visible in incoming/), then published by the group.
  const seen: { id: string; inTmp: boolean; inIncoming: boolean }[] = [];
  const record = async (id: string): Promise<void> => { seen.push({ id, inTmp: existsSync(join(l.tmp, id, 'data')), inIncoming: existsSync(join(l.incoming, id)) }); };
  const e = await group.enqueue({ envelope: envelope(0), data: Buffer.from('x\r\n'), origin, jobName: 'RECEIVER', beforeRename: record });
  assert.deepEqual(seen, [{ id: e.id, inTmp: true, inIncoming: false }]);
  assert.ok(existsSync(join(l.incoming, e.id, 'envelope.json')));
  // The publication fails (incoming/ gone): the recorded entry stays in tmp/, an unrecorded one does not.
  rmSync(l.incoming, { recursive: true, force: true });
  const [kept, dropped] = await Promise.allSettled([
    group.enqueue({ envelope: envelope(1), data: Buffer.from('y\r\n'), origin, jobName: 'RECEIVER', beforeRename: record }),
    group.enqueue({ envelope: envelope(2), data: Buffer.from('z\r\n'), origin, jobName: 'RECEIVER' }),
  ]);
  assert.equal(kept.status, 'rejected');
  assert.equal(dropped.status, 'rejected');
  const recorded = seen[1]!.id;
  assert.deepEqual(readdirSync(l.tmp), [recorded], 'only the recorded entry is kept in tmp/');
  // After the fault (a restart): commitStaged puts exactly that entry into incoming/.
  mkdirSync(l.incoming);
  assert.equal(await commitStaged(root, 'GW', recorded), true);
  assert.ok(existsSync(join(l.incoming, recorded, 'envelope.json')));
  assert.equal(await commitStaged(root, 'GW', recorded), false, 'never twice');
});
