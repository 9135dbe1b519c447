import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../log/index.js';
import { FakeClock } from '../testing/clock.js';
import { FakeConnector } from '../testing/fake-connector.js';
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
