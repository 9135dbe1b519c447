import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../log/index.js';
import { FakeClock } from '../testing/clock.js';
import { FakeConnector, allWith } from '../testing/fake-connector.js';
import { FakeResolver } from '../testing/resolver.js';
import { tempDir } from '../testing/peers.js';
import { Checkpoint } from './checkpoint.js';
import { Forwarder, type ExtendedSource, type ForwarderSettings } from './forwarder.js';
import { forwarderSettings, targetSpecs } from './settings.js';
import type { TaskEntry, TaskSettings } from './task.js';
import { batchFile, writeConfig } from '../testing/gateway.js';

test('R3 item 4: FLUSHRETRY,AGE=0 makes every extended-retry record due, also one dated after the clock (written before a backward step)', async (t) => {
  const clock = new FakeClock();
  const checkpoint = Checkpoint.open(join(tempDir(t), 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  // The record's first attempt is an hour after the clock's now: the clock was set back since.
  const first = clock.now() + 3_600_000;
  const calls: { olderThanMs: number; now: number }[] = [];
  const extended: ExtendedSource = {
    due: async () => [],
    count: async () => 1,
    // As ExtendedRetry.makeDue: records at least olderThanMs old at `now`.
    makeDue: async (olderThanMs, now) => { calls.push({ olderThanMs, now: now.getTime() }); return now.getTime() - first >= olderThanMs ? 1 : 0; },
  };
  const settings: ForwarderSettings = {
    tasks: 1, connectRetryMs: 120_000, idleMs: 1_000, retry: { count: 1, intervalMs: 60_000 },
    extended: { active: true, intervalMs: 1_800_000, ageMs: 5 * 86_400_000 }, task: {} as TaskSettings, maxTracked: 1_000,
  };
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver: new FakeResolver(), connector: new FakeConnector(), checkpoint,
    spool: { list: async () => [], watch: () => undefined, finish: async () => undefined, hold: async () => undefined, report: async () => undefined },
    undeliverable: { handle: async () => 'notified' }, extended, settings: () => settings, servers: () => [],
  });
  assert.equal(await fwd.flushExtended(0), 1);
  clock.step(-86_400_000); // a day back: the steady time used for the dates does not follow
  clock.advance(1_000);
  await fwd.flushExtended(1);
  assert.equal(calls[1]!.now, calls[0]!.now + 1_000, 'dates follow the monotonic clock across the step');
});

test('a task stays busy while its file is disposed of: the next file waits, and the SPOOL counters are the file\'s own (CI race: read=1 for a 3-message file)', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const clock = new FakeClock();
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  const file = (name: string, n: number): TaskEntry => {
    const path = join(dir, `${name}.txt`);
    writeFileSync(path, batchFile(name, n).text, 'latin1');
    return { id: name, path, attrs: { jobName: name, jobId: name, originUser: 'u', originUid: process.getuid?.() ?? 0, taskType: 'WRITER', recordFormat: 'text', encoding: 'ISO8859-1' } };
  };
  let openGate!: () => void;
  const gate = new Promise<void>((r) => { openGate = r; });
  let finishing!: () => void;
  const finishingSeen = new Promise<void>((r) => { finishing = r; });
  const done: { id: string; mailRead: number }[] = [];
  const fs = forwarderSettings(config, clock);
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver: new FakeResolver(), connector: new FakeConnector(), checkpoint,
    spool: {
      list: async () => [], watch: () => undefined, hold: async () => undefined, report: async () => undefined,
      finish: async (e) => { if (e.id === 'PAY') { finishing(); await gate; } },
    },
    undeliverable: { handle: async () => 'notified' }, settings: () => ({ ...fs, tasks: 1 }), servers: () => targetSpecs(config),
    onFileDone: (_tkid, e, st) => done.push({ id: e.id, mailRead: st.mailRead }),
  });
  t.after(() => fwd.stop());
  await fwd.start();
  fwd.enqueue(file('PAY', 3));
  await finishingSeen;
  // The file arrives while PAY is being disposed of (the notification of another file did in CI).
  fwd.enqueue(file('BILL', 1));
  await new Promise((r) => setImmediate(r));
  assert.equal(fwd.tasks[0]!.entry?.id, 'PAY', 'the task still owns PAY until it is disposed of');
  openGate();
  await fwd.idle();
  assert.deepEqual(done, [{ id: 'PAY', mailRead: 3 }, { id: 'BILL', mailRead: 1 }]);
});

test('rate limits: the addresses of one TargetServer share one limiter; REFRESH with new limits keeps it (and its history) and the connections', async (t) => {
  const dir = tempDir(t);
  const clock = new FakeClock();
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  const resolver = new FakeResolver();
  resolver.addresses.set('relay.example', ['192.0.2.1', '192.0.2.2']);
  let text = 'TargetServer { TargetName relay.example MaxMsgPerMinute 30 }\nTargetServer { TargetIP 192.0.2.9 }';
  const cfg = () => writeConfig(dir, text).config;
  let config = cfg();
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver, connector: new FakeConnector(), checkpoint,
    spool: { list: async () => [], watch: () => undefined, finish: async () => undefined, hold: async () => undefined, report: async () => undefined },
    undeliverable: { handle: async () => 'notified' }, settings: () => forwarderSettings(config, clock), servers: () => targetSpecs(config),
  });
  t.after(() => fwd.stop());
  await fwd.resolve();
  const [a, b, c] = fwd.listTargets();
  assert.ok(a!.limiter !== undefined && a!.limiter === b!.limiter, 'one limiter for the statement\'s two addresses');
  assert.notEqual(c!.limiter, a!.limiter, 'another statement, another limiter');
  assert.equal(a!.limiter.snapshot().msgPerMinute, 30);
  assert.equal(await a!.limiter.beginMessage(), true);
  text = 'TargetServer { TargetName relay.example MaxMsgPerMinute 1 MaxRcptPerMsg 50 }\nTargetServer { TargetIP 192.0.2.9 }';
  config = cfg();
  await fwd.resolve();
  const [a2, b2] = fwd.listTargets();
  assert.equal(a2, a, 'same Target: a rate change is not a connection change');
  assert.equal(a2!.limiter, a!.limiter, 'same limiter');
  assert.equal(b2!.limiter, a2!.limiter);
  assert.deepEqual([a2!.limiter!.snapshot().msgPerMinute, a2!.limiter!.rcptPerMsg], [1, 50]);
  assert.ok(a2!.limiter!.messageWait(clock.mono!()) > 0, 'the start before REFRESH still counts against the new limit');
});

/** A forwarder with one task over FakeConnector: `slow@` gets 451 (long retry), `bad@` 550, others 250. */
function parkingRig(t: TestContext, o: { maxParkedBytes?: number; checkpoint?: Checkpoint; dir?: string } = {}) {
  const dir = o.dir ?? tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const clock = new FakeClock();
  const checkpoint = o.checkpoint ?? Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  if (o.checkpoint === undefined) t.after(() => checkpoint.close());
  const connector = new FakeConnector();
  connector.scripts.set('127.0.0.1', {
    send: (m) => ({
      status: 'sent', connectionUsable: true, detail: 'scripted',
      recipients: m.envelope.recipients.map((recipient) => {
        const local = recipient.mailbox.local;
        return local === 'slow' ? { recipient, status: 'transient' as const, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } }
          : local === 'bad' ? { recipient, status: 'permanent' as const, reply: { code: 550, enhanced: '5.1.1', text: 'no such user' } }
            : { recipient, status: 'accepted' as const, reply: { code: 250, enhanced: '2.1.5', text: 'ok' } };
      }),
    }),
  });
  const file = (name: string, rcpts: readonly string[]): TaskEntry => {
    const path = join(dir, `${name}.txt`);
    const text = 'HELO JOBHOST\r\n' + rcpts.map((r, i) => `MAIL FROM:<job@corp.test>\r\nRCPT TO:<${r}>\r\nDATA\r\nSubject: ${name} ${i + 1}\r\n\r\nbody\r\n.\r\n`).join('') + 'QUIT\r\n';
    writeFileSync(path, text, 'latin1');
    return { id: name, path, attrs: { jobName: name, jobId: name, originUser: 'u', originUid: process.getuid?.() ?? 0, taskType: 'WRITER', recordFormat: 'text', encoding: 'ISO8859-1' } };
  };
  const done: { id: string; mailRead: number; undeliverable: number }[] = [];
  const finished: string[] = [];
  const waiters = new Set<() => void>();
  const fs = forwarderSettings(config, clock);
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver: new FakeResolver(), connector, checkpoint,
    spool: { list: async () => [], watch: () => undefined, hold: async () => undefined, report: async () => undefined, finish: async (e) => { finished.push(e.id); } },
    undeliverable: { handle: async () => 'notified' },
    settings: () => ({ ...fs, tasks: 1, retry: { count: 1, intervalMs: 600_000 }, ...(o.maxParkedBytes === undefined ? {} : { maxParkedBytes: o.maxParkedBytes }) }),
    servers: () => targetSpecs(config),
    onFileDone: (_tkid, e, st) => { done.push({ id: e.id, mailRead: st.mailRead, undeliverable: st.undeliverable }); for (const w of [...waiters]) w(); },
  });
  /** Resolves when file `id` was disposed of; fails after a bound (the old code never got there). */
  const disposed = (id: string): Promise<void> => new Promise((resolve, reject) => {
    const bound = setTimeout(() => { waiters.delete(check); reject(new Error(`${id} was not disposed of (done: ${JSON.stringify(done)})`)); }, 20_000);
    const check = (): void => { if (done.some((d) => d.id === id)) { clearTimeout(bound); waiters.delete(check); resolve(); } };
    waiters.add(check);
    check();
  });
  return { clock, checkpoint, connector, fwd, file, done, finished, disposed, dir };
}

test('R3 item 7: a file whose remaining mail is all in long retry is parked: its task takes the next file at once, and the parked file is disposed of with its own counters when its last message ends', async (t) => {
  const r = parkingRig(t);
  t.after(() => r.fwd.stop());
  await r.fwd.start();
  r.fwd.enqueue(r.file('LRT', ['ok@remote.test', 'slow@remote.test', 'bad@remote.test']));
  r.fwd.enqueue(r.file('NEXT', ['ok@remote.test']));
  // No time passes: the old task held LRT for the whole Interval and NEXT waited behind it.
  await r.disposed('NEXT');
  await new Promise((res) => setImmediate(res)); // the task lets go of NEXT right after its SPOOL record
  assert.deepEqual(r.done, [{ id: 'NEXT', mailRead: 1, undeliverable: 0 }]);
  const task = r.fwd.tasks[0]!;
  assert.equal(task.state, 'IDLE');
  assert.equal(task.lastEntry?.id, 'NEXT');
  assert.deepEqual({ ...task.counters }, { pend: 0, lrt: 0, mailRead: 1, undeliverable: 0 }, 'the task shows its last file, not the parked one');
  const parked = r.fwd.parkedFiles();
  assert.deepEqual(parked.map((p) => ({ id: p.entry.id, ...p.counters })), [{ id: 'LRT', pend: 1, lrt: 1, mailRead: 3, undeliverable: 1 }]);
  assert.deepEqual(r.finished, ['NEXT'], 'the parked file stays in the spool');
  // The Interval passes: the retry fails again, the limit (Count 1) is reached, LRT is disposed of.
  r.clock.advance(600_000);
  await r.disposed('LRT');
  await r.fwd.idle();
  assert.deepEqual(r.done, [{ id: 'NEXT', mailRead: 1, undeliverable: 0 }, { id: 'LRT', mailRead: 3, undeliverable: 2 }]);
  assert.deepEqual(r.finished, ['NEXT', 'LRT']);
  assert.deepEqual(r.fwd.parkedFiles(), []);
  assert.deepEqual({ ...task.counters }, { pend: 0, lrt: 0, mailRead: 1, undeliverable: 0 }, 'the parked file\'s end does not touch the task\'s counters');
  assert.equal(r.fwd.counters.currentRetry, 0);
});

test('R3 item 7: parking is bounded: a file that does not fit keeps its task, as before', async (t) => {
  const r = parkingRig(t, { maxParkedBytes: 1 });
  t.after(() => r.fwd.stop());
  await r.fwd.start();
  r.fwd.enqueue(r.file('LRT', ['ok@remote.test', 'slow@remote.test']));
  r.fwd.enqueue(r.file('NEXT', ['ok@remote.test']));
  // Wait until LRT's message sits in long retry, with the task still holding the file.
  while (r.fwd.lifecycle.waitingCount() === 0) await new Promise((res) => setImmediate(res));
  assert.equal(r.fwd.tasks[0]!.entry?.id, 'LRT');
  assert.equal(r.fwd.tasks[0]!.counters.lrt, 1);
  assert.deepEqual(r.fwd.parkedFiles(), []);
  r.clock.advance(600_000);
  await r.fwd.idle();
  assert.deepEqual(r.done.map((d) => d.id), ['LRT', 'NEXT']);
});

test('R3 item 7: a stop interrupts a parked file without disposing of it; a restart resends only its unfinished message', async (t) => {
  const dir = tempDir(t);
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  const a = parkingRig(t, { checkpoint, dir });
  await a.fwd.start();
  a.fwd.enqueue(a.file('LRT', ['ok@remote.test', 'slow@remote.test', 'bad@remote.test']));
  a.fwd.enqueue(a.file('NEXT', ['ok@remote.test']));
  await a.disposed('NEXT');
  assert.equal(a.fwd.parkedFiles().length, 1);
  await a.fwd.stop();
  assert.deepEqual(a.done.map((d) => d.id), ['NEXT'], 'LRT interrupted, not disposed of');
  assert.deepEqual(a.finished, ['NEXT']);
  assert.equal(a.connector.sent.length, 4, 'ok, slow, bad of LRT and NEXT once each');
  // Warm start on the same checkpoint: only the long-retry message is sent again.
  const b = parkingRig(t, { checkpoint, dir });
  t.after(() => b.fwd.stop());
  await b.fwd.start();
  b.fwd.enqueue(a.file('LRT', ['ok@remote.test', 'slow@remote.test', 'bad@remote.test']));
  while (b.fwd.parkedFiles().length === 0) await new Promise((res) => setImmediate(res));
  assert.deepEqual(b.connector.sent.map((s) => s.message.envelope.recipients.map((x) => x.mailbox.local)), [['slow']]);
  b.clock.advance(600_000);
  await b.disposed('LRT');
  // MAIL READ counts the file's messages read in this run (the finished ones are skipped, not sent).
  assert.deepEqual(b.done, [{ id: 'LRT', mailRead: 3, undeliverable: 1 }]);
});

test('R3 item 7: a message whose refusals are recorded no longer counts against the read-ahead: the DSNs of a file are written together, not one per connection', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 ConnectLimit 1 }');
  const clock = new FakeClock();
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  const connector = new FakeConnector();
  connector.scripts.set('127.0.0.1', { send: (m) => allWith(m, 'permanent', 550) });
  const path = join(dir, 'BAD.txt');
  writeFileSync(path, batchFile('BAD', 5).text, 'latin1');
  let handed = 0;
  let allHanded!: () => void;
  const five = new Promise<void>((r) => { allHanded = r; });
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  const fs = forwarderSettings(config, clock);
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver: new FakeResolver(), connector, checkpoint,
    spool: { list: async () => [], watch: () => undefined, hold: async () => undefined, report: async () => undefined, finish: async () => undefined },
    // The DSN write waits until the test opens the gate: as a batch being written would.
    undeliverable: { handle: async () => { if (++handed === 5) allHanded(); await gate; return 'notified'; } },
    settings: () => ({ ...fs, tasks: 1 }), servers: () => targetSpecs(config),
  });
  t.after(() => fwd.stop());
  await fwd.start();
  fwd.enqueue({ id: 'BAD', path, attrs: { jobName: 'BAD', jobId: 'BAD', originUser: 'u', originUid: process.getuid?.() ?? 0, taskType: 'WRITER', recordFormat: 'text', encoding: 'ISO8859-1' } });
  // One connection: the old read-ahead let one message at a time wait for its DSN.
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([five, new Promise((_, reject) => { bound = setTimeout(() => reject(new Error(`only ${handed} DSNs handed over together`)), 20_000); })]);
  clearTimeout(bound);
  assert.equal(connector.sent.length, 5);
  open();
  await fwd.idle();
  assert.equal(fwd.counters.undeliverable, 5);
});

test('O1 #17: a file withheld for the operator (withholdFile) is started by no task until given back; one a task reads cannot be withheld', async (t) => {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }');
  const clock = new FakeClock();
  const checkpoint = Checkpoint.open(join(dir, 'cp.db'), { worker: false });
  t.after(() => checkpoint.close());
  const file = (name: string): TaskEntry => {
    const path = join(dir, `${name}.txt`);
    writeFileSync(path, batchFile(name, 1).text, 'latin1');
    return { id: name, path, attrs: { jobName: name, jobId: name, originUser: 'u', originUid: process.getuid?.() ?? 0, taskType: 'WRITER', recordFormat: 'text', encoding: 'ISO8859-1' } };
  };
  const done: string[] = [];
  let openGate!: () => void;
  const gate = new Promise<void>((r) => { openGate = r; });
  let finishing!: () => void;
  const finishingSeen = new Promise<void>((r) => { finishing = r; });
  const fs = forwarderSettings(config, clock);
  const fwd = new Forwarder({
    clock, log: Logger.silent(), resolver: new FakeResolver(), connector: new FakeConnector(), checkpoint,
    spool: { list: async () => [], watch: () => undefined, hold: async () => undefined, report: async () => undefined, finish: async (e) => { if (e.id === 'B') { finishing(); await gate; } } },
    undeliverable: { handle: async () => 'notified' }, settings: () => ({ ...fs, tasks: 1 }), servers: () => targetSpecs(config),
    onFileDone: (_tkid, e) => done.push(e.id),
  });
  t.after(() => fwd.stop());
  await fwd.start();
  fwd.suspend('delay');
  fwd.enqueue(file('A'));
  assert.equal(fwd.withholdFile('A'), true);
  assert.equal(fwd.withholdFile('A'), false, 'withheld once');
  fwd.enqueue(file('A')); // the watcher reporting it again changes nothing
  fwd.resume();
  await fwd.idle();
  assert.deepEqual(done, [], 'no task started the withheld file');
  fwd.returnFile('A', false); // the operator's action failed: back in the queue
  await fwd.idle();
  assert.deepEqual(done, ['A']);
  // A file a task is reading is not the operator's to take.
  fwd.enqueue(file('B'));
  await finishingSeen;
  assert.equal(fwd.withholdFile('B'), false);
  openGate();
  await fwd.idle();
  assert.deepEqual(done, ['A', 'B']);
});
