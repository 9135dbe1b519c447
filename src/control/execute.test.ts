// Action commands against a fake forwarder (no sockets), the socket's guards, and the message
// catalogue against docs/messages.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseConfig } from '../config/index.js';
import { ok, err } from '../core/result.js';
import { Logger } from '../log/logger.js';
import { Accounting } from '../log/accounting.js';
import { tempDir } from '../testing/peers.js';
import { FakeClock, SignallingClock } from '../testing/clock.js';
import { executeLine, type OperatorTarget } from './execute.js';
import { MESSAGE_IDS } from './messages.js';
import type { ForwarderView, TargetView } from './snapshot.js';
import { ControlSocketError, sendCommand, startControl } from './socket.js';

function fakeTarget(address: string, answer: 'ok' | 'fail' | 'hang'): TargetView {
  return {
    addr: { address, port: 25, source: { kind: 'TargetIP' }, server: { connectLimit: 1, maxMsgSent: 0, messageSize: 1000, secure: false } },
    state: 'UNKNOWN', capabilities: undefined, counters: { mailAttempts: 0, mailSent: 0, connectFail: 0 }, lastError: '',
    acquire: (): ReturnType<TargetView['acquire']> => answer === 'ok' ? Promise.resolve(ok({ release: () => undefined }))
      : answer === 'fail' ? Promise.resolve(err({ detail: 'connection refused' })) : new Promise(() => undefined),
  };
}

function fixture(opts: { refresh?: OperatorTarget['refresh'] } = {}) {
  const calls: string[] = [];
  let addrs = ['192.0.2.1'];
  const f: ForwarderView & { suspendMode: 'none' | 'immediate' | 'delay' } = {
    counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
    tasks: [{ tkid: 1, state: 'IDLE', counters: { pend: 0, lrt: 0, mailRead: 0, undeliverable: 0 } }],
    suspendMode: 'none',
    listTargets: () => addrs.map((a) => fakeTarget(a, a === '192.0.2.9' ? 'fail' : a === '192.0.2.8' ? 'hang' : 'ok')),
    suspend: (m) => { f.suspendMode = m; calls.push(`suspend ${m}`); },
    resume: () => { f.suspendMode = 'none'; calls.push('resume'); },
    flushRetry: (k) => { calls.push(`flush ${k}`); return 3; },
    flushExtended: async (d) => { calls.push(`ext ${d}`); return 2; },
    resolve: async () => { addrs = ['192.0.2.1', '192.0.2.9', '192.0.2.8']; calls.push('resolve'); },
    refreshTargets: () => { calls.push('refreshTargets'); },
  };
  const parsed = parseConfig('Instance Test\nTargetServer { TargetIP 192.0.2.1 }\nSMF119 { Config Yes }\n', '/etc/sg.conf', {}, { hostName: 'gw.test' });
  if (!parsed.ok) throw new Error('config');
  let userExit: string | null = null;
  const lines: string[] = [];
  const target: OperatorTarget = {
    forwarder: f,
    config: () => parsed.value.config,
    refresh: opts.refresh ?? (async () => ok({ ignored: [{ statement: 'Translate', message: 'Translate cannot change on REFRESH; IBM-1047 stays' }], changed: ['TargetServer', 'LogLevel'] })),
    userExit: () => userExit,
    setUserExit: async (v) => (v === '/bad' ? err('MODULE NOT FOUND') : ((userExit = v), ok(undefined))),
  };
  const log = Logger.create({ sink: { write: (r) => lines.push(r.event) }, instance: 'TEST', level: 7 });
  return { f, target, log, calls, lines };
}


test('action commands: seed message sequences and forwarder calls', async () => {
  const { target, log, calls } = fixture();
  // REFRESHTARGETS probes every target with a deadline; time is a FakeClock moved on only after
  // the probes started and the answering targets have answered (their timers cancelled), so the
  // silent one times out and no other can.
  const clock = new SignallingClock();
  const run = async (c: string) => {
    const started = clock.nextTimer();
    const p = executeLine(c, { target, log, probeMs: 50, clock });
    if (c === 'REFRESHT') {
      await started;
      await new Promise((r) => setImmediate(r));
      assert.equal(clock.pending(), 1, 'only the silent target is still waiting for its deadline');
      clock.advance(50);
    }
    return (await p).lines;
  };
  assert.deepEqual(await run('SUS,DELAY'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1822I TEST MODIFY SUSPEND DELAY COMMAND COMPLETED']);
  assert.deepEqual(await run('FLUSHRETRY,AGE=2'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1823I TEST MODIFY FLUSHRETRY, AGE=2 COMMAND COMPLETED']);
  assert.deepEqual(await run('FLUSHRETRY,TKID=7'), ['EZD1836E TEST MODIFY FLUSHRETRY, TKID=7 COMMAND FAILED : TKID 7 IS NOT A TASK']);
  assert.deepEqual(await run('LOGLEVEL'), ['EZD1809I TEST MODIFY LOGLEVEL COMMAND COMPLETED : NOT UPDATED']);
  assert.equal(log.level, 7);
  assert.deepEqual(await run('USEREXIT,LEVEL=/opt/x.js'), ['EZD1809I TEST MODIFY USEREXIT COMMAND COMPLETED : UPDATED']);
  assert.equal(target.userExit(), '/opt/x.js');
  assert.deepEqual(await run('USER,LEVEL=/bad'), ['EZD1836E TEST MODIFY USEREXIT COMMAND FAILED : MODULE NOT FOUND']);
  // Issue #16 item 5: an MVS exit level is answered with a warning; the exit in force stays.
  assert.deepEqual(await run('USEREXIT,LEVEL=VERSION2'), [
    'EZD1847I TEST USEREXIT VERSION2 IS AN MVS EXIT AND CANNOT RUN HERE : USER EXIT NOT CHANGED; WRITE IT AS A JAVASCRIPT MODULE (DOCS/USEREXIT.MD)',
    'EZD1809I TEST MODIFY USEREXIT COMMAND COMPLETED : NOT UPDATED',
  ]);
  assert.equal(target.userExit(), '/opt/x.js');
  assert.deepEqual(await run('REFRESH'), [
    'EZD1834I TEST MODIFY COMMAND ACCEPTED',
    'EZD1843I TEST REFRESH IGNORED TRANSLATE CHANGE : Translate cannot change on REFRESH; IBM-1047 stays',
    'EZD1840I TEST UPDATED CONFIGURATION',
    'EZD1846I TEST UPDATED TARGET SERVERS',
    'EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED',
  ]);
  assert.deepEqual(await run('REFRESHIPLIST'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1845I TEST UPDATED TARGET SERVERS', 'EZD1842I TEST MODIFY REFRESHIPLIST COMMAND COMPLETED']);
  assert.deepEqual(await run('REFRESHIP'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1842I TEST MODIFY REFRESHIPLIST COMMAND COMPLETED'], 'no change: no EZD1845I');
  assert.deepEqual(await run('REFRESHT'), [
    'EZD1834I TEST MODIFY COMMAND ACCEPTED',
    'EZD1821I TEST ABLE TO USE TARGET SERVER 192.0.2.1',
    'EZD1839I TEST UNABLE TO USE TARGET SERVER 192.0.2.9 : connection refused',
    'EZD1839I TEST UNABLE TO USE TARGET SERVER 192.0.2.8 : NO ANSWER WITHIN 0 SECONDS',
    'EZD1837I TEST MODIFY REFRESHTARGETS COMMAND COMPLETED',
  ]);
  assert.deepEqual(calls, ['suspend delay', 'ext 2', 'resolve', 'resolve', 'refreshTargets']);
});

test('REFRESH rejected: errors listed, command fails', async () => {
  const { target, log } = fixture({ refresh: async () => err(['sg.conf line 3: LogLevel: 300 is out of range 0-255']) });
  const r = await executeLine('REFRESH', { target, log });
  assert.equal(r.ok, false);
  assert.deepEqual(r.lines, [
    'EZD1834I TEST MODIFY COMMAND ACCEPTED',
    'EZD1844E TEST REFRESH REJECTED : sg.conf line 3: LogLevel: 300 is out of range 0-255',
    'EZD1836E TEST MODIFY REFRESH COMMAND FAILED : CONFIGURATION NOT CHANGED',
  ]);
});

test('LOGLEVEL and USEREXIT write CONFIG (48) accounting records', async (t) => {
  const dir = tempDir(t);
  const { target, log } = fixture();
  const accounting = new Accounting({ path: join(dir, 'accounting.jsonl'), instance: 'TEST', enabled: () => target.config().smf119 });
  const r = await executeLine('LOGL,LEVEL=15', { target: { ...target, accounting }, log });
  assert.equal(r.ok, true);
  assert.equal(log.level, 15);
  accounting.close();
  const rec = JSON.parse(readFileSync(join(dir, 'accounting.jsonl'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([rec.type, rec.reason, rec.logLevel, rec.targets], [48, 'loglevel', 15, ['192.0.2.1:25']]);
});

test('socket: mode 0600, refuses a second instance, replaces a stale socket, bounds the line', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'run', 'T.sock');
  const { target, log } = fixture();
  const c = await startControl({ socketPath: path, target, log });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o700);
  await assert.rejects(startControl({ socketPath: path, target, log }), ControlSocketError);
  const r = await sendCommand(path, 'D,LOG');
  assert.ok(r.ok);
  assert.deepEqual(r.value.lines, ['EZD1828I TEST DISPLAY LOGLEVEL = 7']);
  const long = await sendCommand(path, 'D,' + 'X'.repeat(5000));
  assert.ok(long.ok);
  assert.match(long.value.lines[0]!, /^EZD1835E .*LONGER THAN 4096 BYTES/);
  await c.close();
  const gone = await sendCommand(path, 'D,LOG');
  assert.ok(!gone.ok);
  assert.match(gone.error, /no instance is listening/);

  // A socket file left by a crashed instance (nothing listening) is replaced.
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res) => child.stdout.once('data', () => res()));
  child.kill('SIGKILL');
  await new Promise<void>((res) => child.once('exit', () => res()));
  assert.ok(lstatSync(path).isSocket(), 'the killed process left its socket file');
  writeFileSync(join(dir, 'not-a-socket'), '');
  await assert.rejects(startControl({ socketPath: join(dir, 'not-a-socket'), target, log }), /not a socket/);
  const again = await startControl({ socketPath: path, target, log });
  await again.close();
});

/** Connects to `path` as another user (uid/gid 65534, "nobody") and returns the error code, or 'connected'. */
function connectAs(path: string): Promise<string> {
  const script = "const s=require('net').connect(process.argv[1]);s.on('connect',()=>{process.stdout.write('connected');s.destroy()});s.on('error',(e)=>process.stdout.write(e.code))";
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-e', script, path], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', () => done(out));
  });
}

test('socket: another user cannot connect (a real second uid), through the directory or the socket file itself', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to run a client as a second uid; the mode bits are checked in the test above'); return; }
  const dir = tempDir(t);
  chmodSync(dir, 0o711); // let the other user reach run/, so each guard is tested on its own
  const path = join(dir, 'run', 'T.sock');
  const { target, log } = fixture();
  const c = await startControl({ socketPath: path, target, log });
  t.after(() => c.close());
  assert.equal(await connectAs(path), 'EACCES', 'the 0700 directory keeps other users out');
  chmodSync(join(dir, 'run'), 0o711);
  assert.equal(await connectAs(path), 'EACCES', 'and so does the 0600 socket itself');
  chmodSync(path, 0o666);
  assert.equal(await connectAs(path), 'connected', 'control: with the modes opened the same client gets in');
  const r = await sendCommand(path, 'D,LOG');
  assert.ok(r.ok, 'the owner is served');
});

test('docs/messages.md lists every message ID of the catalogue, and no other', () => {
  const doc = readFileSync(resolve(import.meta.dirname, '../../docs/messages.md'), 'utf8');
  const inDoc = new Set([...doc.matchAll(/^\| (EZD\d{4}[IE]) \|/gm)].map((m) => m[1]));
  assert.deepEqual([...inDoc].sort(), [...MESSAGE_IDS].sort());
});

// R3 #22 and issue #16 item 10: the checkpoint fault follows D,TARGETS (ext FAULTS lines);
// DisplayCompat IBM leaves every (ext) line out, the command's JSON data keeps the facts.
test('D,TARGETS: FAULTS lines for a contained fault (checkpoint), none with DisplayCompat IBM', async () => {
  const { target, log } = fixture();
  const fault = { component: 'checkpoint' as const, problem: 'checkpoint cannot be written: SQLITE_FULL; sending stopped until it can', since: Date.UTC(2026, 10, 27), failures: 2, disabling: true };
  const withFault: OperatorTarget = { ...target, faults: () => [fault] };
  const r = await executeLine('D,TARGETS', { target: withFault, log });
  assert.deepEqual(r.lines.slice(-3), ['FAULTS:', '  CHECKPOINT SINCE 2026-11-27T00:00:00.000Z FAILURES 2 ROLE DISABLED', `    ${fault.problem}`]);
  const parsed = parseConfig('Instance Test\nDisplayCompat IBM\nTargetServer { TargetIP 192.0.2.1 }\n', '/etc/sg.conf', {}, { hostName: 'gw.test' });
  assert.ok(parsed.ok);
  const ibm = await executeLine('D,TARGETS', { target: { ...withFault, config: () => parsed.value.config }, log });
  assert.ok(!ibm.lines.includes('FAULTS:'));
  assert.ok(!ibm.lines.some((l) => l.startsWith('LOST ATTEMPTS')));
  assert.deepEqual((ibm.data as { faults: unknown[] }).faults, [fault]);
});

test('operator.command: actions at event (in LogLevel 7), displays at debug (not in 7, in 64)', async () => {
  const { target } = fixture();
  const recs: { level: string; command: unknown }[] = [];
  const log = Logger.create({ sink: { write: (r) => { if (r.event === 'operator.command') recs.push({ level: r.level, command: r.fields.command }); } }, instance: 'TEST', level: 7 });
  await executeLine('D,TARGETS', { target, log });
  await executeLine('LOGLEVEL', { target, log });
  await executeLine('SUS,DELAY', { target, log });
  assert.deepEqual(recs.map((r) => r.level), ['event'], 'only the action at level 7');
  log.setLevel(7 | 64);
  await executeLine('D,TARGETS', { target, log });
  assert.deepEqual(recs.map((r) => r.level), ['event', 'debug']);
});

// [P2] D,NODES (ext): the nodes on the shared store, from whichever node is asked.
test('D,NODES: one line per node on the store; with Backend SQLite an E line; a store error an E line', async () => {
  const { target, log } = fixture();
  const nodes = [
    { name: 'gw1', address: 'gw1.example.com', version: '1.2.0', heartbeatAge: 0.42, claimed: 3 },
    { name: 'gw2', address: null, version: null, heartbeatAge: 31, claimed: 0 },
  ];
  const r = await executeLine('DIS,NODES', { target: { ...target, cluster: () => ({ node: 'gw1', nodes: async () => nodes }) }, log });
  assert.ok(r.ok);
  assert.equal(r.command, 'DISPLAY,NODES');
  assert.equal(r.lines[0], 'EZD1860I TEST NODES: 2 (THIS NODE gw1)');
  assert.match(r.lines[2]!, /^ {2}gw1 +gw1\.example\.com +1\.2\.0 +0\.4S +3$/);
  assert.match(r.lines[3]!, /^ {2}gw2 +- +- +31\.0S +0$/);
  assert.deepEqual((r.data as { nodes: unknown }).nodes, nodes);
  const sqlite = await executeLine('D,NODES', { target, log });
  assert.equal(sqlite.ok, false);
  assert.match(sqlite.lines[0]!, /STORE BACKEND IS SQLITE/);
  const down = await executeLine('D,NODES', { target: { ...target, cluster: () => ({ node: 'gw1', nodes: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } }) }, log });
  assert.equal(down.ok, false);
  assert.match(down.lines[0]!, /THE STORE CANNOT BE READ: CONNECT ECONNREFUSED/);
});

// (ext, O2 #18 item 6) DISPLAY,STATUS (abbreviated D,STAT): the process facts the instance gives,
// its uptime from the clock, the targets; a display (logged at debug).
test('DISPLAY,STATUS: EZD1865I with pid, version, uptime, listeners, targets; data for --json', async () => {
  const { target, log, lines: events } = fixture();
  const startedAt = Date.UTC(2026, 10, 27, 10, 0, 0);
  const withFacts: OperatorTarget = { ...target, process: { pid: 4242, version: '9.9.9', startedAt, node: 'node-a', listening: () => [{ role: 'smtp', host: '127.0.0.1', port: 2525 }, { role: 'control', host: '/run/sg.sock', port: 0 }] } };
  const r = await executeLine('D,STAT', { target: withFacts, log, clock: new FakeClock(startedAt + 3725_000) });
  assert.equal(r.ok, true);
  assert.equal(r.command, 'DISPLAY,STATUS');
  assert.equal(r.lines[0], 'EZD1865I TEST STATUS:');
  assert.ok(r.lines.includes(`  PID          : 4242   VERSION : 9.9.9   NODE.JS : ${process.version}`), r.lines.join('\n'));
  assert.ok(r.lines.includes('  NODE         : node-a   STARTED : 2026-11-27T10:00:00.000Z   UPTIME : 1h 2m 5s'));
  assert.ok(r.lines.includes('  SMTP     127.0.0.1:2525'));
  assert.ok(r.lines.includes('  CONTROL  /run/sg.sock'));
  assert.ok(r.lines.includes('  192.0.2.1   UNKNOWN   SENT 0   CONNECT FAIL 0'), r.lines.join('\n'));
  const d = r.data as { pid: number; uptimeSeconds: number; queue: unknown; suspendMode: string };
  assert.deepEqual([d.pid, d.uptimeSeconds, d.queue, d.suspendMode], [4242, 3725, null, 'none']);
  assert.ok(!events.includes('operator.command'), 'a display: debug, not in LogLevel 7');
});
