import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Logger, type LogRecord } from '../log/index.js';
import { DeadLetterStore } from '../notify/index.js';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import type { WorkItem } from './lifecycle.js';
import { NotifyingUndeliverable } from './undeliverable.js';

function item(from: WorkItem['envelope']['from'], body = 'Subject: pay\r\n\r\nbody\r\n'): WorkItem {
  const rcpt = { mailbox: { local: 'gone', domain: 'remote.test' } };
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: 1, tkid: 1 },
    envelope: { from, recipients: [rcpt], requireTls: false },
    data: Buffer.from(body),
    job: { jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'ops' },
    arrival: new Date(0),
    pending: [],
    failed: [{ address: 'gone@remote.test', recipient: rcpt, reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } }],
    attempts: 0,
  };
}

async function handler(t: import('node:test').TestContext, returnToMailFrom: boolean) {
  const clock = new FakeClock(0);
  const store = await DeadLetterStore.open(join(tempDir(t), 'dead'), clock);
  const submitted: unknown[] = [];
  const records: LogRecord[] = [];
  const h = new NotifyingUndeliverable({
    settings: () => ({ returnToMailFrom, deadLetterAction: 'store', reportingMta: 'gw.test' }),
    deadLetters: () => store,
    submit: async (m) => { submitted.push(m); },
    log: Logger.create({ sink: { write: (r) => records.push(r) }, instance: 'TEST' }),
    now: () => new Date(0),
  });
  return { h, store, submitted, records };
}

// Issue #16 item 3 (seed 001): ReturnToMailFrom NO logs the undeliverable mail and finishes it;
// it is neither returned nor stored as a dead letter.
test('ReturnToMailFrom NO: logged and finished, no notification, no dead letter', async (t) => {
  const { h, store, submitted, records } = await handler(t, false);
  const how = await h.handle(item({ kind: 'mailbox', mailbox: { local: 'payroll', domain: 'corp.test' } }));
  assert.equal(how, 'dropped');
  assert.equal(submitted.length, 0);
  assert.equal((await store.list()).letters.length, 0);
  const rec = records.find((r) => r.event === 'mail.undeliverable-logged');
  assert.ok(rec, 'the log line is the record');
  assert.equal(rec.fields.from, 'payroll@corp.test');
  assert.equal(rec.fields.job, 'PAYROLL');
  assert.match(String(rec.fields.reason), /gone@remote\.test: 550 5\.1\.1 no such user/);
});

test('ReturnToMailFrom YES: one notification to MAIL FROM', async (t) => {
  const { h, store, submitted } = await handler(t, true);
  assert.equal(await h.handle(item({ kind: 'mailbox', mailbox: { local: 'payroll', domain: 'corp.test' } })), 'notified');
  assert.equal(submitted.length, 1);
  assert.equal((await store.list()).letters.length, 0);
});

test('a failed notification (null sender) is a dead letter whatever ReturnToMailFrom says', async (t) => {
  for (const rtmf of [true, false]) {
    const { h, store, submitted } = await handler(t, rtmf);
    assert.equal(await h.handle(item({ kind: 'null' })), 'dead-letter', `ReturnToMailFrom ${rtmf ? 'YES' : 'NO'}`);
    assert.equal(submitted.length, 0);
    assert.equal((await store.list()).letters.length, 1);
  }
});

// Issue #16 item 16: a recipient the job wrote badly is named in the notification as written:
// once bracketed, without its parameters, never re-quoted around an invented mailbox.
test('the notification names bad recipients as written', async (t) => {
  const cases: { address: string; line: string; final: string }[] = [
    { address: '<bad address>', line: '<bad address>: delivery failed', final: 'Final-Recipient: rfc822; bad address' },
    { address: '<@x.example:a@b.example>', line: '<@x.example:a@b.example>: delivery failed', final: 'Final-Recipient: rfc822; @x.example:a@b.example' },
    { address: '<a@b.example> FOO=1', line: '<a@b.example>: delivery failed', final: 'Final-Recipient: rfc822; a@b.example' },
    { address: 'nobrackets@x.example', line: '<nobrackets@x.example>: delivery failed', final: 'Final-Recipient: rfc822; nobrackets@x.example' },
    { address: '<"two words"@x.example>', line: '<"two words"@x.example>: delivery failed', final: 'Final-Recipient: rfc822; "two words"@x.example' },
  ];
  for (const c of cases) {
    const { h, submitted } = await handler(t, true);
    const it = item({ kind: 'mailbox', mailbox: { local: 'payroll', domain: 'corp.test' } });
    it.failed.splice(0, 1, { address: c.address, reply: { code: 553, enhanced: '5.1.3', text: 'JES Bad recipient address' } });
    assert.equal(await h.handle(it), 'notified', c.address);
    const text = (submitted[0] as { data: Buffer }).data.toString('latin1');
    assert.ok(text.includes(`\r\n${c.line} permanently`), `${c.address}:\n${text}`);
    assert.ok(text.includes(`\r\n${c.final}\r\n`), `${c.address}:\n${text}`);
  }
});
