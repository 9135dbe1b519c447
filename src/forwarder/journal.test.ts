// The forwarder's journal listener (journal.ts): events are handed to the journal in batches —
// one journal transaction (one fsync on the event loop) per batch, not per turn of the loop —
// in order, with the time they happened, and all of them by flush() (the forwarder's stop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../log/index.js';
import type { Journal, JournalEvent } from '../store/types.js';
import type { WorkItem } from './lifecycle.js';
import { forwarderJournal, JOURNAL_BATCH_MAX } from './journal.js';

function item(n: number): WorkItem {
  const rcpt = { mailbox: { local: 'r', domain: 'remote.test' } };
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: n, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [rcpt], requireTls: false },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'ops' },
    arrival: new Date(0),
    pending: [rcpt],
    failed: [],
    attempts: 0,
  };
}

/** A journal that remembers what it was given, and in which turn of the event loop. */
function recorder(): { journal: Journal; got: { e: JournalEvent; turn: number }[]; waitFor(n: number): Promise<void> } {
  const got: { e: JournalEvent; turn: number }[] = [];
  let turn = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const tick = (): void => { turn++; };
  return {
    got,
    journal: {
      record: async (e) => {
        got.push({ e, turn });
        setImmediate(tick);
        if (waiter !== undefined && got.length >= waiter.n) waiter.resolve();
      },
      query: async () => [],
    },
    waitFor: (n) => (got.length >= n ? Promise.resolve() : new Promise((resolve) => { waiter = { n, resolve }; })),
  };
}

const log = Logger.create({ sink: { write: () => undefined }, instance: 'TEST' });

test('forwarder journal: events wait for their batch, then go together, in order, with their own time', async () => {
  const r = recorder();
  let clock = 1000;
  const listen = forwarderJournal(() => r.journal, log, { now: () => clock, batchMs: 60_000 });
  for (let n = 1; n <= 3; n++) {
    listen({ type: 'attempt', key: `e1#${n}`, item: item(n), detail: 'attempt to 127.0.0.1:25 for 1 recipient(s)' });
    clock += 10;
    await new Promise((resolve) => setImmediate(resolve)); // turns of the event loop pass
  }
  assert.equal(r.got.length, 0, 'nothing is handed over per event');
  listen.flush();
  assert.deepEqual(r.got.map((g) => g.e.messageId), ['e1#1', 'e1#2', 'e1#3']);
  assert.deepEqual(r.got.map((g) => g.e.at), [1000, 1010, 1020], 'each event keeps the time it happened');
  assert.equal(new Set(r.got.map((g) => g.turn)).size, 1, 'one batch: one turn, one journal transaction');
  assert.equal(r.got[0]!.e.detail, '8B attempt to 127.0.0.1:25 for 1 recipient(s) job PAYROLL(JOB00042)');
});

test('forwarder journal: flush() hands over what waits at once (the forwarder stops); a full batch goes without waiting', () => {
  const r = recorder();
  const listen = forwarderJournal(() => r.journal, log, { batchMs: 60_000 });
  listen({ type: 'delivered', key: 'e1#1', item: item(1), to: 'r@remote.test', detail: 'sent by 127.0.0.1:25: 250 ok' });
  assert.equal(r.got.length, 0);
  listen.flush();
  assert.equal(r.got.length, 1);
  assert.equal(r.got[0]!.e.type, 'delivered');
  for (let n = 0; n < JOURNAL_BATCH_MAX; n++) listen({ type: 'attempt', key: `e1#${n}`, item: item(n), detail: 'attempt' });
  assert.equal(r.got.length, 1 + JOURNAL_BATCH_MAX, 'a full batch is handed over when it fills');
  listen.flush();
});

test('forwarder journal: the batch timer hands the events over without a flush', async () => {
  const r = recorder();
  const listen = forwarderJournal(() => r.journal, log, { batchMs: 1 });
  listen({ type: 'attempt', key: 'e1#1', item: item(1), detail: 'attempt' });
  listen({ type: 'delivered', key: 'e1#1', item: item(1), to: 'r@remote.test', detail: 'sent' });
  await r.waitFor(2);
  assert.deepEqual(r.got.map((g) => g.e.type), ['attempt', 'delivered']);
});
