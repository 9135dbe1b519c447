import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeadLetterStore, deadLetterAction, disposeDeadLetter, describeDeadLetter, type DeadLetterInput } from './deadletter.js';
import { tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';

const LETTER: DeadLetterInput = {
  reason: '550 5.1.1 <batch@mvs.example.com>: user unknown (notification undeliverable)',
  kind: 'notification',
  envelope: {
    from: { kind: 'null' },
    recipients: [{ mailbox: { local: 'batch', domain: 'mvs.example.com' }, notify: { kind: 'never' }, orcpt: { type: 'rfc822', address: 'Batch@MVS.example.com' } }],
    requireTls: true,
    dsn: { ret: 'HDRS', envid: 'E1' },
    body8bit: true,
  },
  data: Buffer.from('Subject: x\r\n\r\nline one\r\n\u00e9\n{"not":"a header"}\r\n', 'utf8'),
  jobName: 'PAYROLL',
  jobId: 'JOB00042',
};

test('store / list / read / remove round trip', async (t) => {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const store = await DeadLetterStore.open(join(dir, 'deadletter'), clock);
  const a = await store.store(LETTER);
  clock.advance(1000);
  const b = await store.store({ ...LETTER, kind: 'null-sender', reason: 'null sender', jobName: undefined, jobId: undefined });
  assert.match(a.path, /deadletter\/[0-9a-z]{20}\.dead$/);

  const { letters, corrupt } = await store.list();
  assert.deepEqual(corrupt, []);
  assert.deepEqual(letters.map((l) => l.id), [a.id, b.id]);
  const first = letters[0]!;
  assert.equal(first.kind, 'notification');
  assert.equal(first.reason, LETTER.reason);
  assert.equal(first.jobName, 'PAYROLL');
  assert.equal(first.stored.getTime(), new FakeClock().now());
  assert.deepEqual(first.envelope, LETTER.envelope);
  assert.equal(letters[1]!.jobName, undefined);

  const r = await store.read(a.id);
  assert.ok(r.ok);
  assert.deepEqual(r.value.data, LETTER.data);
  assert.deepEqual(r.value.info.envelope, LETTER.envelope);

  // Documented format: line 1 JSON header, then the message bytes.
  const raw = await readFile(a.path);
  const nl = raw.indexOf(0x0a);
  assert.equal(JSON.parse(raw.subarray(0, nl).toString('utf8')).version, 1);
  assert.deepEqual(raw.subarray(nl + 1), LETTER.data);

  assert.equal(await store.remove(a.id), true);
  assert.equal(await store.remove(a.id), false);
  assert.deepEqual((await store.list()).letters.map((l) => l.id), [b.id]);
  const gone = await store.read(a.id);
  assert.equal(gone.ok, false);
  const bad = await store.read('../../etc/passwd');
  assert.equal(bad.ok, false);
});

test('atomic: no temp files left; listing ignores temp and foreign files, reports corrupt ones', async (t) => {
  const dir = tempDir(t);
  const store = await DeadLetterStore.open(dir, new FakeClock());
  for (let i = 0; i < 5; i++) await store.store(LETTER);
  assert.deepEqual((await readdir(dir)).filter((n) => !n.endsWith('.dead')), []);
  // A crash during store() leaves only a temp file; a foreign file and a corrupt letter too.
  await writeFile(join(dir, '.tmp-abc123-0000000000000000000a.dead'), '{"version":1');
  await writeFile(join(dir, 'README'), 'hello');
  await writeFile(join(dir, '0000000000000000000z.dead'), 'not json\r\nbody');
  const { letters, corrupt } = await store.list();
  assert.equal(letters.length, 5);
  assert.deepEqual(corrupt.map((c) => c.name), ['0000000000000000000z.dead']);
  assert.match(corrupt[0]!.problem, /not JSON/);
});

test('DeadLetterAction: Delete stores nothing, Store writes one file', async (t) => {
  const dir = tempDir(t);
  const store = await DeadLetterStore.open(dir, new FakeClock());
  const del = deadLetterAction({ undeliverable: { deadLetterAction: 'delete' } });
  assert.equal(del, 'delete');
  assert.deepEqual(await disposeDeadLetter(del, store, LETTER), { action: 'deleted' });
  assert.deepEqual(await readdir(dir), []);
  assert.deepEqual(await disposeDeadLetter('delete', undefined, LETTER), { action: 'deleted' });

  const kept = await disposeDeadLetter(deadLetterAction({ undeliverable: { deadLetterAction: 'store' } }), store, LETTER);
  assert.equal(kept.action, 'stored');
  assert.equal((await readdir(dir)).length, 1);
  await assert.rejects(disposeDeadLetter('store', undefined, LETTER), /needs a dead-letter directory/);
  assert.equal(describeDeadLetter(LETTER), `dead letter (notification) job PAYROLL JOB00042 from <> to <batch@mvs.example.com>: ${LETTER.reason}`);
});
