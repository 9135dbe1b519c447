// The runner against real exit modules in a worker: every answer, sync and async, a throw, a
// bad answer, load failures, and a hanging exit that is timed out while the gateway's own event
// loop keeps running, followed by a fresh worker. The timeouts run on a FakeClock: a test moves
// time only once the exit says (over a BroadcastChannel) that it is in its endless loop, so a
// loaded machine can neither fire a timeout early nor make the test miss one.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import { UserExitRunner, checkUserExit, prepareUserExit, type ExitCallResult } from './runner.js';
import type { CommandEvent } from './events.js';

const JOB = { jobName: 'PAYROLL', jobId: 'JOB00042', originUser: 'alice', taskType: 'WRITER', spoolId: 'S1' } as const;

function cmd(argument: string): CommandEvent {
  return { kind: 'command', job: JOB, verb: 'MAIL', argument, recordNo: 2, messageNo: 1 };
}

function exitFile(t: TestContext, source: string, name = 'exit.mjs'): string {
  const path = join(tempDir(t), name);
  writeFileSync(path, source);
  return path;
}

function runner(t: TestContext, module: string, timeoutMs = 2000, clock = new FakeClock()): UserExitRunner {
  const r = new UserExitRunner({ module, timeoutMs: () => timeoutMs, clock });
  t.after(() => r.close());
  return r;
}

/** A channel the exit posts 'looping' on just before `while (true) {}`; its source line for the exit. */
function loopSignal(t: TestContext): { looping(): Promise<unknown>; post: string } {
  const name = `userexit-test-${process.pid}-${Math.random()}`;
  const channel = new BroadcastChannel(name);
  t.after(() => channel.close());
  return {
    looping: () => once(channel, 'message'),
    post: `new BroadcastChannel(${JSON.stringify(name)}).postMessage('looping');`,
  };
}

function answerOf(r: ExitCallResult): unknown {
  return r.ok ? r.answer : `${r.cause}: ${r.detail}`;
}

// The exit answers whatever the MAIL argument names, so one module covers every answer.
const ECHO = `export default function (ev) { return JSON.parse(ev.argument); }\n`;

test('each answer, as a string or an object, reaches the caller validated', async (t) => {
  const r = runner(t, exitFile(t, ECHO));
  const cases: { name: string; answer: unknown; want: unknown }[] = [
    { name: 'CONTINUE', answer: 'CONTINUE', want: { action: 'CONTINUE' } },
    { name: 'ACCEPT', answer: 'ACCEPT', want: { action: 'ACCEPT' } },
    { name: 'REJECT_FILE', answer: { action: 'REJECT_FILE', reason: 'job not allowed' }, want: { action: 'REJECT_FILE', reason: 'job not allowed' } },
    { name: 'REJECT_MAIL', answer: { action: 'REJECT_MAIL' }, want: { action: 'REJECT_MAIL' } },
    { name: 'mailFrom', answer: { action: 'ACCEPT', mailFrom: 'alice@corp.test' }, want: { action: 'ACCEPT', mailFrom: { kind: 'mailbox', mailbox: { local: 'alice', domain: 'corp.test' } } } },
    { name: 'null mailFrom', answer: { action: 'CONTINUE', mailFrom: '<>' }, want: { action: 'CONTINUE', mailFrom: { kind: 'null' } } },
  ];
  for (const c of cases) assert.deepEqual(answerOf(await r.call(cmd(JSON.stringify(c.answer)))), c.want, c.name);
  assert.equal(r.starts, 1, 'one worker for all calls');
});

test('the job attributes and the event arrive in the exit; async exits and a named export work', async (t) => {
  const r = runner(t, exitFile(t, `
    export async function exit(ev) {
      await new Promise((done) => setTimeout(done, 5));
      return { action: 'REJECT_MAIL', reason: [ev.kind, ev.verb, ev.argument, ev.recordNo, ev.job.jobName, ev.job.jobId, ev.job.originUser].join(' ') };
    }`));
  assert.deepEqual(answerOf(await r.call(cmd('FROM:<a@b.test>'))), { action: 'REJECT_MAIL', reason: 'command MAIL FROM:<a@b.test> 2 PAYROLL JOB00042 alice' });
});

test('a throw, a rejected promise and bad answers are failures with the cause, and the worker stays', async (t) => {
  const r = runner(t, exitFile(t, `
    export default function (ev) {
      switch (ev.argument) {
        case 'throw': throw new TypeError('boom');
        case 'reject': return Promise.reject(new Error('async boom'));
        case 'maybe': return 'MAYBE';
        case 'number': return 42;
        case 'nothing': return undefined;
        case 'bad-from': return { action: 'ACCEPT', mailFrom: 'not an address' };
        case 'function': return { action: 'ACCEPT', extra: () => 1 };
        default: return 'ACCEPT';
      }
    }`));
  const cases: { argument: string; want: RegExp }[] = [
    { argument: 'throw', want: /^throw: TypeError: boom$/ },
    { argument: 'reject', want: /^throw: Error: async boom$/ },
    { argument: 'maybe', want: /^bad-answer: action "MAYBE" is not one of CONTINUE, ACCEPT, REJECT_FILE, REJECT_MAIL$/ },
    { argument: 'number', want: /^bad-answer: answer is number/ },
    { argument: 'nothing', want: /^bad-answer: answer is undefined/ },
    { argument: 'bad-from', want: /^bad-answer: mailFrom "not an address" is not an address$/ },
    { argument: 'function', want: /^bad-answer: answer cannot be passed back/ },
  ];
  for (const c of cases) assert.match(String(answerOf(await r.call(cmd(c.argument)))), c.want, c.argument);
  assert.deepEqual(answerOf(await r.call(cmd('fine'))), { action: 'ACCEPT' });
  assert.equal(r.starts, 1);
});

test('load failures: missing file, syntax error, no function, top-level throw, top-level hang', async (t) => {
  const dir = tempDir(t);
  const signal = loopSignal(t);
  const cases: { name: string; source?: string; want: RegExp }[] = [
    { name: 'missing', want: /^load: .*(Cannot find module|ERR_MODULE_NOT_FOUND)/ },
    { name: 'syntax', source: 'export default function ( {', want: /^load: SyntaxError/ },
    { name: 'no function', source: 'export const x = 1;', want: /^load: the module exports no function/ },
    { name: 'top-level throw', source: 'throw new Error("cannot start");', want: /^load: Error: cannot start$/ },
    { name: 'top-level hang', source: `${signal.post} while (true) {}`, want: /^timeout: loading took longer than 100 ms$/ },
  ];
  for (const [i, c] of cases.entries()) {
    const path = join(dir, `exit${i}.mjs`);
    if (c.source !== undefined) writeFileSync(path, c.source);
    const clock = new FakeClock();
    const r = runner(t, path, 100, clock);
    const first = r.call(cmd('x'));
    if (c.name === 'top-level hang') {
      await signal.looping();
      assert.equal(clock.pending(), 1, 'the load timeout is set');
      clock.advance(99);
      assert.equal(clock.pending(), 1, 'not before 100 ms');
      clock.advance(1);
    }
    assert.match(String(answerOf(await first)), c.want, c.name);
    // Not retried for every event: the failure is kept until reset() (the next spool file).
    assert.match(String(answerOf(await r.call(cmd('x')))), c.want, c.name);
    assert.equal(r.starts, 1, `${c.name}: loaded once`);
  }
});

test('a hanging exit is timed out without stopping the event loop; the next call gets a fresh worker', async (t) => {
  const signal = loopSignal(t);
  const clock = new FakeClock();
  const r = runner(t, exitFile(t, `
    let calls = 0;
    export default function (ev) {
      calls++;
      if (ev.argument === 'hang') { ${signal.post} while (true) {} }
      return { action: 'REJECT_MAIL', reason: 'call ' + calls };
    }`), 150, clock);
  assert.deepEqual(answerOf(await r.call(cmd('ok'))), { action: 'REJECT_MAIL', reason: 'call 1' });
  assert.equal(clock.pending(), 0, 'an answered call holds no timer');
  const res = r.call(cmd('hang'));
  // This test goes on running while the exit spins: the gateway's event loop is not blocked.
  await signal.looping();
  assert.equal(clock.pending(), 1, 'the call timeout is set');
  clock.advance(149);
  assert.equal(clock.pending(), 1, 'not timed out before 150 ms');
  clock.advance(1);
  assert.equal(answerOf(await res), 'timeout: no answer within 150 ms');
  // A fresh worker: the module's state starts again.
  assert.deepEqual(answerOf(await r.call(cmd('ok'))), { action: 'REJECT_MAIL', reason: 'call 1' });
  assert.equal(r.starts, 2);
});

test('an exit that crashes its worker from a timer fails the call in progress; the next call works', async (t) => {
  const r = runner(t, exitFile(t, `
    export default function (ev) {
      if (ev.argument === 'crash') return new Promise(() => setTimeout(() => { throw new Error('late crash'); }, 1));
      return 'CONTINUE';
    }`));
  assert.match(String(answerOf(await r.call(cmd('crash')))), /^throw: worker failed: .*late crash/);
  assert.deepEqual(answerOf(await r.call(cmd('fine'))), { action: 'CONTINUE' });
  assert.equal(r.starts, 2);
});

test('calls are answered in order even when issued together', async (t) => {
  const r = runner(t, exitFile(t, ECHO));
  const all = await Promise.all(['ACCEPT', 'REJECT_MAIL', 'CONTINUE'].map((a) => r.call(cmd(JSON.stringify(a)))));
  assert.deepEqual(all.map(answerOf), [{ action: 'ACCEPT' }, { action: 'REJECT_MAIL' }, { action: 'CONTINUE' }]);
});

test('a closed runner fails calls and stops its worker', async (t) => {
  const r = runner(t, exitFile(t, ECHO));
  await r.call(cmd('"ACCEPT"'));
  await r.close();
  assert.equal(answerOf(await r.call(cmd('"ACCEPT"'))), 'load: user exit runner closed');
});

test('USEREXIT,LEVEL= check: a loadable module is accepted with its absolute path; others are refused with the reason', async (t) => {
  const good = exitFile(t, ECHO, 'good.mjs');
  assert.deepEqual(await checkUserExit(good, 2000, new FakeClock()), { ok: true });
  const dir = join(good, '..');
  assert.deepEqual(await prepareUserExit('good.mjs', dir, 2000, new FakeClock()), { ok: true, value: good });
  const bad = await prepareUserExit('missing.mjs', dir, 2000, new FakeClock());
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, new RegExp(`^${join(dir, 'missing.mjs')} NOT LOADED: `));
  assert.deepEqual(await prepareUserExit('VERSION2', dir, 2000), { ok: false, error: 'VERSION2 NAMES AN MVS EXIT INTERFACE; USE NONE OR A MODULE PATH' });
});

test('a module fixed after a load failure is loaded again after reset() (the next spool file)', async (t) => {
  const path = exitFile(t, 'export default function ( {');
  const r = runner(t, path);
  assert.match(String(answerOf(await r.call(cmd('"ACCEPT"')))), /^load: SyntaxError/);
  writeFileSync(path, ECHO);
  assert.match(String(answerOf(await r.call(cmd('"ACCEPT"')))), /^load: SyntaxError/, 'same file: not retried');
  r.reset();
  assert.deepEqual(answerOf(await r.call(cmd('"ACCEPT"'))), { action: 'ACCEPT' });
  assert.equal(r.starts, 2);
});
