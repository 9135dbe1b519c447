// Issue #16 item 14: NOTIFY=SUCCESS ("relayed" when the target offers no DSN) and NOTIFY=DELAY
// (one notice after Undeliverable DelayNotice), and forwarder events for the journal. The
// lifecycle runs against a scripted connector with a signalling clock; the notices are built by
// DsnStatusNotices (notify/dsn.ts), so the bytes checked are the ones that would be spooled.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DsnNotify, Envelope, Recipient } from '../core/index.js';
import { Logger } from '../log/index.js';
import { SignallingClock } from '../testing/clock.js';
import { ESMTP_CAPS, FakeConnector, allWith } from '../testing/fake-connector.js';
import { tempDir } from '../testing/peers.js';
import { Checkpoint } from './checkpoint.js';
import { Lifecycle, newCounters, type ExtendedRetryStore, type ForwarderEvent, type WorkItem } from './lifecycle.js';
import { Target } from './pool.js';
import { Router } from './router.js';
import { DsnStatusNotices } from './status-notices.js';
import type { TargetServerSpec } from './types.js';

const spec: TargetServerSpec = { targetIp: [], targetName: [], port: 25, connectLimit: 2, maxMsgSent: 0, messageSize: 524288, secure: false, tls: { caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }, auth: null, sourceIp: null };

const SUCCESS: DsnNotify = { kind: 'on', success: true, failure: true, delay: false };
const DELAY: DsnNotify = { kind: 'on', success: false, failure: true, delay: true };

function rcpt(a: string, notify?: DsnNotify): Recipient {
  const [local, domain] = a.split('@') as [string, string];
  return { mailbox: { local, domain }, ...(notify ? { notify } : {}) };
}

function item(recipients: Recipient[], arrival: Date): WorkItem {
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: 1, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients, requireTls: false, dsn: { envid: 'PAYROLL-0042' } },
    data: Buffer.from('Subject: payroll\r\n\r\nbody\r\n'),
    job: { jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'u' },
    arrival,
    pending: [...recipients],
    failed: [],
    attempts: 0,
  };
}

function setup(t: TestContext, opts: { dsn: boolean; delayMinutes?: number; retry?: { count: number; intervalMs: number }; extended?: ExtendedRetryStore }) {
  const clock = new SignallingClock();
  const connector = new FakeConnector();
  const target = new Target({ address: '192.0.2.1', port: 25, source: { kind: 'TargetIP' }, server: spec }, connector, clock, { connectRetryMs: 120_000, idleMs: 1000 });
  connector.scripts.set('192.0.2.1', { capabilities: { ...ESMTP_CAPS, dsn: opts.dsn } });
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { batchMs: 0 });
  t.after(() => checkpoint.close());
  const spooled: { envelope: Envelope; data: Buffer }[] = [];
  const events: ForwarderEvent[] = [];
  const lifecycle = new Lifecycle({
    router: new Router([target], clock), checkpoint, clock, log: Logger.silent(), counters: newCounters(),
    undeliverable: { handle: async () => 'notified' },
    retry: () => opts.retry ?? { count: 0, intervalMs: 0 },
    extended: () => ({ active: opts.extended !== undefined, intervalMs: 1_800_000, ageMs: 5 * 86_400_000, store: opts.extended }),
    journal: (e) => events.push(e),
    notices: new DsnStatusNotices({
      settings: () => ({ reportingMta: 'gw.test', delayNoticeMinutes: opts.delayMinutes ?? 240, copyTo: null }),
      submit: async (m) => { spooled.push(m); },
      now: () => new Date(clock.now()),
    }),
  });
  return { clock, connector, lifecycle, spooled, events };
}

test('NOTIFY=SUCCESS to a target without DSN: one "relayed" notice for that recipient only, null sender, to the sender', async (t) => {
  const s = setup(t, { dsn: false });
  assert.equal(await s.lifecycle.run(item([rcpt('a@far.test', SUCCESS), rcpt('b@far.test')], new Date(s.clock.now()))), 'delivered');
  assert.equal(s.spooled.length, 1);
  const n = s.spooled[0]!;
  assert.equal(n.envelope.from.kind, 'null');
  assert.deepEqual(n.envelope.recipients.map((r) => `${r.mailbox.local}@${r.mailbox.domain}`), ['job@corp.test']);
  const text = n.data.toString('latin1');
  assert.match(text, /^Subject: Successful Mail Delivery Report$/m);
  assert.match(text, /^Original-Envelope-Id: PAYROLL-0042$/m);
  assert.match(text, /^Final-Recipient: rfc822; a@far\.test\r\nAction: relayed\r\nStatus: 2\.1\.5\r\nRemote-MTA: dns; 192\.0\.2\.1$/m);
  assert.doesNotMatch(text, /b@far\.test/, 'b did not ask for SUCCESS');
  assert.ok(s.events.some((e) => e.type === 'relayed-notice'));
});

test('NOTIFY=SUCCESS to a target that offers DSN: NOTIFY was passed on, no notice from the gateway', async (t) => {
  const s = setup(t, { dsn: true });
  assert.equal(await s.lifecycle.run(item([rcpt('a@far.test', SUCCESS)], new Date(s.clock.now()))), 'delivered');
  assert.equal(s.spooled.length, 0);
  assert.deepEqual(s.connector.sent[0]!.message.envelope.recipients[0]!.notify, SUCCESS, 'the target is given NOTIFY');
});

test('NOTIFY=DELAY: one "delayed" notice once the message has waited DelayNotice, none before, none again', async (t) => {
  // Long retry of 6 tries 1 minute apart; DelayNotice 3 minutes; the target answers 451 until the end.
  const s = setup(t, { dsn: false, delayMinutes: 3, retry: { count: 6, intervalMs: 60_000 } });
  s.connector.scripts.set('192.0.2.1', { capabilities: ESMTP_CAPS, send: (m) => allWith(m, 'transient', 451) });
  const run = s.lifecycle.run(item([rcpt('a@far.test', DELAY), rcpt('b@far.test')], new Date(s.clock.now())));
  for (let minute = 0; minute < 6; minute++) {
    while (s.lifecycle.waitingCount() === 0) await s.clock.nextTimer();
    assert.equal(s.spooled.length, minute >= 3 ? 1 : 0, `after ${minute} minutes`);
    s.clock.advance(60_000);
  }
  await run;
  const delays = s.spooled.filter((m) => /Action: delayed/.test(m.data.toString('latin1')));
  assert.equal(delays.length, 1, 'one delay notice');
  const text = delays[0]!.data.toString('latin1');
  assert.match(text, /^Subject: Delayed Mail \(still being retried\)$/m);
  assert.match(text, /^Final-Recipient: rfc822; a@far\.test\r\nAction: delayed\r\nStatus: 4\.0\.0$/m);
  assert.doesNotMatch(text, /Final-Recipient: rfc822; b@far\.test/, 'b did not ask for DELAY');
  assert.equal(s.events.filter((e) => e.type === 'delay-notice').length, 1);
});

test('DelayNotice 0: no delay notice however long the mail waits', async (t) => {
  const s = setup(t, { dsn: false, delayMinutes: 0, retry: { count: 3, intervalMs: 60 * 60_000 } });
  s.connector.scripts.set('192.0.2.1', { capabilities: ESMTP_CAPS, send: (m) => allWith(m, 'transient', 451) });
  const run = s.lifecycle.run(item([rcpt('a@far.test', DELAY)], new Date(s.clock.now())));
  for (let i = 0; i < 3; i++) {
    while (s.lifecycle.waitingCount() === 0) await s.clock.nextTimer();
    s.clock.advance(60 * 60_000);
  }
  await run;
  assert.equal(s.spooled.filter((m) => /Action: delayed/.test(m.data.toString('latin1'))).length, 0);
});

test('journal events: attempt, deferred, delivered, undeliverable and the outcome, keyed by entry#message', async (t) => {
  const s = setup(t, { dsn: true, retry: { count: 1, intervalMs: 60_000 } });
  s.connector.scripts.set('192.0.2.1', {
    capabilities: ESMTP_CAPS,
    send: (m, n) => ({
      status: 'partial', connectionUsable: true, detail: 'scripted',
      recipients: m.envelope.recipients.map((recipient) => recipient.mailbox.local === 'gone'
        ? { recipient, status: 'permanent' as const, reply: { code: 550, enhanced: '5.1.1', text: 'user unknown' } }
        : recipient.mailbox.local === 'slow' && n === 0
          ? { recipient, status: 'transient' as const, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } }
          : { recipient, status: 'accepted' as const, reply: { code: 250, enhanced: '2.0.0', text: 'queued as 4AbC' } }),
    }),
  });
  const run = s.lifecycle.run(item([rcpt('ok@far.test'), rcpt('slow@far.test'), rcpt('gone@far.test')], new Date(s.clock.now())));
  while (s.lifecycle.waitingCount() === 0) await s.clock.nextTimer();
  s.clock.advance(60_000);
  assert.equal(await run, 'undeliverable');
  assert.deepEqual(s.events.map((e) => [e.type, e.key, e.to ?? '', e.detail]), [
    ['attempt', 'e1#1', '', 'attempt to 192.0.2.1:25 for 3 recipient(s)'],
    ['delivered', 'e1#1', 'ok@far.test', 'sent by 192.0.2.1:25: 250 2.0.0 queued as 4AbC'],
    ['deferred', 'e1#1', 'slow@far.test', 'deferred by 192.0.2.1:25: 451 4.3.0 try later'],
    ['undeliverable', 'e1#1', 'gone@far.test', 'bounced by 192.0.2.1:25: 550 5.1.1 user unknown'],
    ['attempt', 'e1#1', '', 'attempt to 192.0.2.1:25 for 1 recipient(s)'],
    ['delivered', 'e1#1', 'slow@far.test', 'sent by 192.0.2.1:25: 250 2.0.0 queued as 4AbC'],
    ['notified', 'e1#1', '', 'notification to the sender for 1 recipient(s)'],
  ]);
});

test('NOTIFY=DELAY in extended retry: the notice comes with the retry step that crosses DelayNotice, not again after a re-read', async (t) => {
  const updates: string[] = [];
  const store: ExtendedRetryStore = {
    put: async () => 'x1',
    update: async (id) => { updates.push(id); },
    remove: async () => undefined,
  };
  // DelayNotice 60 minutes; extended Interval 30 minutes (setup); each step rebuilds the item from the directory.
  const s = setup(t, { dsn: false, delayMinutes: 60, extended: store });
  s.connector.scripts.set('192.0.2.1', { capabilities: ESMTP_CAPS, send: (m) => allWith(m, 'transient', 451) });
  const delays = (): number => s.spooled.filter((m) => /Action: delayed/.test(m.data.toString('latin1'))).length;
  for (const [ageMinutes, want] of [[30, 0], [60, 1], [90, 1], [120, 1]] as const) {
    const parked: WorkItem = { ...item([rcpt('a@far.test', DELAY)], new Date(s.clock.now() - ageMinutes * 60_000)), origin: { kind: 'extended' as const, id: 'x1' } };
    assert.equal(await s.lifecycle.run(parked), undefined, 'rescheduled');
    assert.equal(delays(), want, `after ${ageMinutes} minutes`);
  }
  const text = s.spooled[0]!.data.toString('latin1');
  assert.match(text, /^Will-Retry-Until: /m, 'extended retry says until when');
  assert.equal(updates.length, 4);
});
