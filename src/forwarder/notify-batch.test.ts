import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../core/index.js';
import { NotificationBatcher, type NotificationMail } from './notify-batch.js';

const mail = (n: number, octets = 10): NotificationMail => ({
  envelope: { from: { kind: 'null' }, recipients: [{ mailbox: { local: `s${n}`, domain: 'corp.test' } }], requireTls: false } satisfies Envelope,
  data: Buffer.alloc(octets, 0x41 + (n % 26)),
});

/** A write that stays open until the test lets it end. */
function gatedWriter() {
  const writes: { mails: readonly NotificationMail[]; end: (e?: Error) => void }[] = [];
  const waiters = new Set<() => void>();
  const write = (mails: readonly NotificationMail[]): Promise<void> => new Promise((resolve, reject) => {
    writes.push({ mails, end: (e) => (e === undefined ? resolve() : reject(e)) });
    for (const w of [...waiters]) w();
  });
  const nth = (i: number): Promise<(typeof writes)[number]> => new Promise((resolve) => {
    const check = (): void => { if (writes[i] !== undefined) { waiters.delete(check); resolve(writes[i]); } };
    waiters.add(check);
    check();
  });
  return { write, writes, nth };
}

test('R3 item 7: the first notification is written at once; those handed in meanwhile share the next entry; each resolves when its entry is durable', async () => {
  const g = gatedWriter();
  const b = new NotificationBatcher({ write: g.write, maxBytes: () => 1_000_000 });
  const done: number[] = [];
  const first = b.submit(mail(1)).then(() => done.push(1));
  const w0 = await g.nth(0);
  assert.equal(w0.mails.length, 1, 'not held back waiting for company');
  const rest = [2, 3, 4].map((n) => b.submit(mail(n)).then(() => done.push(n)));
  assert.equal(g.writes.length, 1, 'one write at a time');
  w0.end();
  await first;
  const w1 = await g.nth(1);
  assert.deepEqual(w1.mails.map((m) => m.envelope.recipients[0]!.mailbox.local), ['s2', 's3', 's4']);
  assert.deepEqual(done, [1], 'not resolved before their entry is written');
  w1.end();
  await Promise.all(rest);
  assert.deepEqual(done, [1, 2, 3, 4]);
  assert.deepEqual(b.stats, { entries: 2, notifications: 4 });
});

test('R3 item 7: a batch is bounded by count and octets; a failed write fails only its own notifications', async () => {
  const g = gatedWriter();
  const b = new NotificationBatcher({ write: g.write, maxBytes: () => 25, maxMails: 3 });
  const results: string[] = [];
  const all = [1, 2, 3, 4, 5, 6].map((n) => b.submit(mail(n)).then(() => results.push(`ok ${n}`), (e: Error) => results.push(`${e.message} ${n}`)));
  const w0 = await g.nth(0);
  assert.equal(w0.mails.length, 1);
  w0.end(new Error('ENOSPC'));
  const w1 = await g.nth(1);
  assert.equal(w1.mails.length, 2, '25 octets hold two of 10');
  w1.end();
  const w2 = await g.nth(2);
  assert.equal(w2.mails.length, 2);
  w2.end();
  const w3 = await g.nth(3);
  assert.equal(w3.mails.length, 1);
  w3.end();
  await Promise.all(all);
  assert.deepEqual(results, ['ENOSPC 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5', 'ok 6']);
  // A mail bigger than the bound alone still goes (alone), as it did before batching.
  const big = b.submit(mail(7, 100));
  const w4 = await g.nth(4);
  assert.equal(w4.mails.length, 1);
  w4.end();
  await big;
});
