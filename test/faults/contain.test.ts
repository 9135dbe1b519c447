// R3 item 2, 5, 7 and S2 item 7 (first bullet): failures are contained. An I/O error in one part
// (the extended-retry mail directory, the dead-letter directory, the log file, the mailbox
// database, one spool file) is logged, marked in health (/readyz, metrics), retried with
// back-off, and never crashes another role or stops the start of roles that do not need it.
// Real file systems where the fault can be made (a regular file where a directory should be,
// a full tmpfs, a FIFO); an injected errno (EIO) where it cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, readFileSync, statSync, symlinkSync, utimesSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, startServices, type Gateway } from '../../src/main.js';
import { stateLayout } from '../../src/config/index.js';
import { sendCommand } from '../../src/control/index.js';
import { FakeClock } from '../../src/testing/clock.js';
import { FakeSmtpServer, type FakeScript } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { ExtendedRetry } from '../../src/forwarder/extended.js';
import { MailDirectory } from '../../src/forwarder/mail-directory.js';
import type { WorkItem } from '../../src/forwarder/lifecycle.js';
import { Health } from '../../src/core/index.js';
import { Checkpoint } from '../../src/forwarder/checkpoint.js';
import { run as start } from '../../src/cli/start.js';
import { runCli } from '../../src/testing/cli.js';
import { errnoError, recordingLog, smallTmpfs } from './contain-helpers.js';
import { PassThrough } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { SpoolQueue } from '../../src/spool/queue.js';
import { ensureLayout, spoolLayout } from '../../src/spool/submit.js';
import { Logger, LogOutput } from '../../src/log/index.js';

async function gateway(t: import('node:test').TestContext, script: FakeScript, extra: string) {
  const server = await FakeSmtpServer.start(script);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} }\n${extra}`);
  const clock = new FakeClock(Date.now());
  const rec = recordingLog();
  const gw: Gateway = await startGateway(config, { clock, log: rec.log });
  await gw.forwarder.start();
  t.after(async () => { await gw.stop(); await server.close(); });
  return { server, dir, config, clock, gw, ...rec };
}

/** Fake minutes pass, one per look, until cond holds (each look lets the I/O it started finish). */
async function advanceUntil(clock: FakeClock, what: string, cond: () => boolean, minutes = 30): Promise<void> {
  for (let i = 0; i < minutes && !cond(); i++) {
    clock.advance(60_000);
    await until(`${what} (look ${i + 1})`, cond, 200).catch(() => undefined);
  }
  assert.ok(cond(), `${what} within ${minutes} fake minutes`);
}

function item(): WorkItem {
  const rcpt = { mailbox: { local: 'a', domain: 'x.test' } };
  return {
    origin: { kind: 'spool', entryId: 'e1', messageNo: 1, tkid: 1 },
    envelope: { from: { kind: 'mailbox', mailbox: { local: 'job', domain: 'corp.test' } }, recipients: [rcpt], requireTls: false },
    data: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    job: { jobName: 'JOB', jobId: 'J1', originUser: 'u' },
    arrival: new Date(0), pending: [rcpt], failed: [], attempts: 3,
  };
}

test('extended retry: a MailDirectory that cannot be made does not stop start-up; the fault shows, and clears once the path is fixed', async (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'not-a-dir');
  writeFileSync(blocker, 'x');
  const g = await gateway(t, {}, `ExtendedRetry { Age 1 Interval 5 MailDirectory ${join(blocker, 'mail')} }`);
  const f = g.gw.health.get('extended-retry');
  assert.ok(f, 'the fault is marked');
  assert.match(f.problem, /ExtendedRetry MailDirectory .*not-a-dir\/mail: open failed \(.*ENOTDIR/);
  assert.equal(g.events('fault.raised').length, 1);
  // Mail still flows: the forwarder does not need the mail directory for a first attempt.
  await submitText(g.config, batchFile('C1', 1).text);
  await until('delivery', () => g.server.messages.length === 1);
  // Fixed: the next look (the scheduler checks every minute; the back-off has passed) opens it.
  rmSync(blocker);
  g.clock.advance(60_000);
  await until('fault cleared', () => g.gw.health.get('extended-retry') === undefined, 20_000);
  assert.equal(g.events('fault.cleared').length, 1);
  assert.ok(existsSync(join(blocker, 'mail')));
});

test('extended retry: the MailDirectory replaced by a file while running is an error in the log, not a crash; records are due again after the fix', async (t) => {
  const g = await gateway(t, {}, 'ExtendedRetry { Age 1 Interval 5 }');
  const mail = g.config.extendedRetry.mailDirectory;
  const md = await MailDirectory.open(mail);
  const ext = new ExtendedRetry(md, g.clock, g.log);
  const id = await ext.put(item(), new Date(g.clock.now()));
  // Today (before R3) the scheduler's readdir rejection was unhandled and ended the process.
  renameSync(mail, join(g.dir, 'moved'));
  writeFileSync(mail, 'not a directory');
  g.clock.advance(60_000);
  await until('the fault', () => g.gw.health.get('extended-retry') !== undefined, 20_000);
  assert.match(g.gw.health.get('extended-retry')!.problem, /read failed|open failed/);
  assert.ok(g.events('extended.directory').length >= 1);
  // Fixed: the directory comes back with its record; the next looks (after the back-off) deliver it.
  rmSync(mail);
  renameSync(join(g.dir, 'moved'), mail);
  await advanceUntil(g.clock, 'the record delivered', () => g.server.messages.length === 1);
  assert.equal(g.gw.health.get('extended-retry'), undefined);
  assert.equal(g.events('fault.cleared').length, 1);
  await until('the record removed', () => !existsSync(join(mail, `${id}.json`)));
});

test('extended retry: EIO from the mail directory (injected) is marked, retried with back-off and cleared; nothing is thrown', async (t) => {
  const clock = new FakeClock();
  const md = await MailDirectory.open(join(tempDir(t), 'ext'));
  const health = new Health();
  const rec = recordingLog();
  let failing = false;
  // The fault wrapper: every file operation of the directory fails with EIO while `failing`.
  const faulty = new Proxy(md, {
    get(target, prop, recv) {
      const v: unknown = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (failing ? Promise.reject(errnoError('EIO', String(prop))) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  const ext = new ExtendedRetry(faulty, clock, rec.log, health);
  await ext.put(item(), new Date(clock.now()));
  failing = true;
  assert.deepEqual(await ext.due(new Date(clock.now())), []);
  assert.equal(await ext.count(), 0, 'the last known count (none read yet)');
  const f = health.get('extended-retry');
  assert.ok(f);
  assert.match(f.problem, /EIO/);
  await assert.rejects(ext.put(item(), new Date(clock.now())), /not usable now/);
  // Within the back-off no file operation is tried.
  failing = false;
  assert.deepEqual(await ext.due(new Date(clock.now())), []);
  clock.advance(1000);
  assert.equal((await ext.due(new Date(clock.now()))).length, 1);
  assert.equal(health.get('extended-retry'), undefined);
  assert.equal(rec.events('extended.directory').length, 1, 'one error line per failed attempt, none while waiting');
});

test('dead letters: an unwritable DeadLetterDirectory (Store) does not stop start-up; the spool file waits and is retried with back-off until the directory works', async (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'dead-blocker');
  writeFileSync(blocker, 'x');
  const dead = join(blocker, 'dead');
  const g = await gateway(t, { rcpt: () => '550 5.1.1 no such user' }, `Undeliverable { DeadLetterAction Store DeadLetterDirectory ${dead} }`);
  await submitText(g.config, batchFile('D1', 1, ['gone@remote.test']).text.replace('MAIL FROM:<job@corp.test>', 'MAIL FROM:<>'));
  await until('the dead letter fails', () => g.gw.health.get('dead-letters') !== undefined, 20_000);
  await until('the file is put back for a retry', () => g.events('spool.retry-later').length >= 1, 20_000);
  assert.equal((await g.gw.queue.list()).length, 1, 'the spool file stays');
  // Fixed: the next retry of the file stores the dead letter and finishes the file.
  rmSync(blocker);
  await advanceUntil(g.clock, 'the dead letter stored', () => existsSync(dead) && readdirSync(dead).some((n) => n.endsWith('.dead')));
  await until('spool empty', async () => (await g.gw.queue.list()).length === 0, 20_000);
  assert.equal(g.gw.health.get('dead-letters'), undefined);
  assert.equal(g.gw.forwarder.counters.deadLetter, 1);
});

test('checkpoint: a corrupt database stops a warm start with an operator message (no stack trace); -f discards it and starts', async (t) => {
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }');
  mkdirSync(config.stateDirectory, { recursive: true });
  const db = join(config.stateDirectory, readdirSync(config.stateDirectory).find((n) => n.endsWith('.checkpoint.db')) ?? 'TESTW.checkpoint.db');
  writeFileSync(db, Buffer.alloc(8192, 0x5a)); // not an SQLite file
  const warm = await runCli(start, ['--config', path, '--once']);
  assert.equal(warm.code, 1);
  assert.match(warm.stderr, /spoolgate: TEST: not started: checkpoint .*TESTW\.checkpoint\.db is corrupt \(.*\); start once with -f/);
  assert.doesNotMatch(warm.stderr, /\n\s+at /, 'no stack trace');
  // Before R3 the database was opened before the cold reset, so -f failed the same way.
  const cold = await runCli(start, ['--config', path, '--once', '-f']);
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal((await runCli(start, ['--config', path, '--once'])).code, 0, 'a warm start after -f works');
});

test('checkpoint: a missing database, one that lost its WAL after a crash, or an older copy is announced before anything is resent; a clean stop or a crash with its WAL is not', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'W.checkpoint.db');
  const copy = (to: string, files: readonly string[]): string => {
    mkdirSync(to);
    for (const f of files) if (existsSync(path + f)) copyFileSync(path + f, join(to, 'W.checkpoint.db' + f));
    return join(to, 'W.checkpoint.db');
  };
  Checkpoint.open(path, { worker: false }).close(); // a first run: the database file holds its tables
  const cp = Checkpoint.open(path, { worker: false });
  await cp.markMessage('e1', 1, 'delivered');
  // A "crash" is a copy of the files while the database is open (the WAL holds the last commits).
  const crashed = copy(join(dir, 'crash'), ['', '-wal', '.gen']);
  const walLost = copy(join(dir, 'wal-lost'), ['', '.gen']);
  const missing = copy(join(dir, 'missing'), ['.gen']);
  cp.close();
  const clean = Checkpoint.open(path, { worker: false });
  assert.deepEqual(clean.lost, [], 'clean stop');
  clean.close();
  const afterCrash = Checkpoint.open(crashed, { worker: false });
  assert.deepEqual(afterCrash.lost, [], 'crash with the WAL: nothing lost');
  assert.equal(afterCrash.load('e1').messages.get(1), 'delivered');
  afterCrash.close();
  const a = Checkpoint.open(walLost, { worker: false });
  assert.equal(a.lost.length, 1);
  assert.match(a.lost[0]!, /write-ahead log .* is gone|older than the last run/);
  a.close();
  const b = Checkpoint.open(missing, { worker: false });
  assert.match(b.lost.join(), /is missing or empty/);
  b.close();
  // Restored from a copy taken before the last run.
  const old = copy(join(dir, 'old'), ['']);
  const c0 = Checkpoint.open(path, { worker: false });
  c0.close();
  copyFileSync(path + '.gen', old + '.gen');
  const c = Checkpoint.open(old, { worker: false });
  assert.match(c.lost.join(), /older than the last run/);
  c.close();
  // -f starts a new history: nothing to announce.
  const d = Checkpoint.open(walLost, { worker: false, cold: true });
  assert.deepEqual(d.lost, []);
  d.close();
});

test('checkpoint: the gateway logs checkpoint.lost before it reads the spool again', async (t) => {
  const g0dir = tempDir(t);
  const { config } = writeConfig(g0dir, 'TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }');
  const first = await startGateway(config, { log: recordingLog().log });
  await first.stop();
  for (const f of readdirSync(config.stateDirectory)) if (/\.checkpoint\.db(-wal|-shm)?$/.test(f)) rmSync(join(config.stateDirectory, f));
  const rec = recordingLog();
  const gw = await startGateway(config, { log: rec.log });
  t.after(() => gw.stop());
  const lost = rec.records.findIndex((r) => r.event === 'checkpoint.lost');
  assert.ok(lost >= 0, 'announced');
  assert.equal(rec.records[lost]!.level, 'error');
  assert.ok(lost < rec.records.findIndex((r) => r.event === 'gateway.starting'), 'before the forwarder starts');
});

test('mailbox database: a corrupt one disables the receiver and POP3 with a message; the forwarder runs; /readyz says 503 and /metrics shows the fault', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }
    Receiver { Listen 127.0.0.1:0 HostName mx.gw.test LocalDomain local.test }
    Pop3 { Listen 127.0.0.1:0 AllowPlaintext YES }
    Http { Listen 127.0.0.1:0 }`);
  mkdirSync(config.stateDirectory, { recursive: true });
  writeFileSync(stateLayout(config).database, Buffer.alloc(8192, 0x5a));
  const rec = recordingLog();
  // Before R3 startServices threw (SQLITE_NOTADB) and the forwarder did not start either.
  const services = await startServices(config, { log: rec.log });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  assert.deepEqual(services.listening.map((l) => l.role).filter((r) => r === 'smtp' || r === 'pop3'), [], 'receiver and POP3 not started');
  const raised = rec.events('fault.raised');
  assert.equal(raised.length, 1);
  assert.match(String(raised[0]!.fields.problem), /mailbox database .* cannot be opened .*: the receiver and POP3 not started, the forwarder runs; restore/);
  await submitText(config, batchFile('M1', 1).text);
  await until('the forwarder delivers', () => srv.messages.length === 1);
  const http = services.listening.find((l) => l.role === 'http')!;
  const ready = await fetch(`http://127.0.0.1:${http.port}/readyz`);
  assert.equal(ready.status, 503);
  const body = await ready.json() as { ready: boolean; faults: { component: string; disabling: boolean }[] };
  assert.equal(body.ready, false);
  assert.deepEqual(body.faults.map((f) => [f.component, f.disabling]), [['mailbox-store', true]]);
  const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
  assert.match(metrics, /^spoolgate_fault\{component="mailbox-store"\} 1$/m);
  assert.match(metrics, /^spoolgate_fault\{component="extended-retry"\} 0$/m);
  // The display: DISPLAY,TARGETS ends with the FAULTS lines.
  const control = services.listening.find((l) => l.role === 'control')!;
  const d = await sendCommand(control.host, 'D,TARGETS');
  assert.ok(d.ok);
  const lines = d.value.lines.join('\n');
  assert.match(lines, /\nFAULTS:\n {2}MAILBOX-STORE SINCE \S+ FAILURES 1 ROLE DISABLED\n {4}mailbox database .* cannot be opened/);
});

test('LogFile on a full file system (tmpfs): lines go to standard error with the reason, the file is tried again with back-off and used once there is space', async (t) => {
  const mnt = smallTmpfs(t, '64k');
  if (mnt === undefined) return;
  const filler = join(mnt, 'filler');
  try {
    for (;;) appendFileSync(filler, Buffer.alloc(4096, 0x41));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (d: Buffer) => { errText += d.toString('utf8'); });
  const logFile = join(mnt, 'gw.log');
  const out = new LogOutput({ logFile, logFormat: 'text' }, stderr, () => 5);
  t.after(() => out.close());
  const faults: (string | undefined)[] = [];
  out.onFault((p) => faults.push(p));
  const log = Logger.create({ sink: out, instance: 'I', level: 255 });
  for (let i = 0; i < 200 && faults.length === 0; i++) {
    log.event('fill', { n: i, pad: 'x'.repeat(2000) });
    await new Promise((r) => setImmediate(r));
  }
  await until('the fault', () => faults.length > 0, 10_000);
  assert.match(faults[0]!, /^LogFile .*gw\.log failed \(.*ENOSPC.*\); logging to standard error/);
  assert.match(errText, /spoolgate: LogFile .*ENOSPC/);
  log.event('while-full', {});
  assert.match(errText, /while-full/, 'lines are not lost while the file fails');
  rmSync(filler);
  await until('the file works again', () => faults.at(-1) === undefined, 10_000);
  log.event('after-space', {});
  await out.close();
  assert.match(readFileSync(logFile, 'utf8'), /log\.file-resumed failures=\d+ .*\n.*after-space/, 'the gap is marked, then the lines continue');
});

test('LogFile that cannot be made at start: the gateway starts, logs to standard error and marks the fault', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'blocker'), '');
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (d: Buffer) => { errText += d.toString('utf8'); });
  // Before R3 the constructor threw (mkdirSync ENOTDIR) and start-up ended with a stack trace.
  const out = new LogOutput({ logFile: join(dir, 'blocker', 'logs', 'gw.log'), logFormat: 'text' }, stderr, () => 60_000);
  t.after(() => out.close());
  const faults: (string | undefined)[] = [];
  out.onFault((p) => faults.push(p));
  assert.equal(faults.length, 1);
  assert.match(faults[0]!, /ENOTDIR/);
  Logger.create({ sink: out, instance: 'I', level: 255 }).event('still-logged', {});
  assert.match(errText, /still-logged/);
});

test('S2 item 7: a FIFO as attrs.json or as the data file does not block start or the scan; the entry is refused as bad and held; other files flow', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }\nBadSpoolDisp Hold`);
  const incoming = (id: string): string => join(config.spool.directory, config.extWrtName, 'incoming', id);
  // Producers wrote these before the gateway started; then swapped a file for a FIFO.
  const a = await submitText(config, batchFile('F1', 1).text);
  rmSync(join(incoming(a), 'attrs.json'));
  execFileSync('mkfifo', [join(incoming(a), 'attrs.json')]);
  const d = await submitText(config, batchFile('F2', 1).text);
  rmSync(join(incoming(d), 'data'));
  execFileSync('mkfifo', [join(incoming(d), 'data')]);
  const rec = recordingLog();
  // Before: open(2) of the FIFO attrs.json waited for a writer; start-up never returned.
  const gw = await startGateway(config, { log: rec.log });
  t.after(() => gw.stop());
  await gw.forwarder.start();
  await submitText(config, batchFile('F3', 1).text);
  await until('the good file delivered', () => srv.messages.length === 1);
  const held = (await gw.queue.listHeld()).map((h) => h.id).sort();
  assert.deepEqual(held, [a, d].sort());
  const reasons = rec.events('spool.bad-entry').map((r) => String(r.fields.problem));
  assert.ok(reasons.some((r) => /attrs\.json is not a regular file/.test(r)), reasons.join(' | '));
  assert.ok(reasons.some((r) => /not a regular file/.test(r)));
});

test('R3 item 7: litter of crashed runs is removed at start (temp files, a dead contender\'s stale lock, tmp/ entries older than a day); live ones stay', async (t) => {
  const root = join(tempDir(t), 'spool');
  const l = spoolLayout(root, 'LITTER');
  await ensureLayout(l, { gateway: true });
  const old = new Date(Date.now() - 2 * 86_400_000);
  const litter = [join(l.writerDir, '.tmp-0a1b2c-.lock'), join(l.sysout, '.tmp-3d4e5f-J0000001.x.report.txt'), join(l.held, '.tmp-777777-x.reason'), join(l.writerDir, '.lock.stale.2147483646')];
  for (const p of litter) writeFileSync(p, 'x');
  mkdirSync(join(l.tmp, 'abandoned'));
  writeFileSync(join(l.tmp, 'abandoned', 'data'), 'HELO half');
  utimesSync(join(l.tmp, 'abandoned', 'data'), old, old);
  utimesSync(join(l.tmp, 'abandoned'), old, old);
  mkdirSync(join(l.tmp, 'being-written'));
  writeFileSync(join(l.tmp, 'report.smtp'), 'HELO x'); // a producer's cp, before its mv
  const opened = await SpoolQueue.open({ root, writer: 'LITTER', clock: new FakeClock(Date.now()) });
  assert.ok(opened.ok);
  t.after(() => opened.value.close());
  for (const p of litter) assert.equal(existsSync(p), false, p);
  assert.equal(existsSync(join(l.tmp, 'abandoned')), false);
  assert.ok(existsSync(join(l.tmp, 'being-written')) && existsSync(join(l.tmp, 'report.smtp')), 'young tmp/ entries stay');
  assert.ok(existsSync(join(l.writerDir, '.lock')), 'our own lock');
  assert.equal(opened.value.litter.removed.length, litter.length + 1);
});

test('R3 item 7: a plain file written in place in incoming/ is left while it grows, with a warning, and read once it has settled', async (t) => {
  const root = join(tempDir(t), 'spool');
  const errors: string[] = [];
  const opened = await SpoolQueue.open({ root, writer: 'GROW', clock: new FakeClock(Date.now()), onError: (e) => errors.push(e.message) });
  assert.ok(opened.ok);
  const q = opened.value;
  t.after(() => q.close());
  const path = join(q.layout.incoming, 'inplace.smtp');
  writeFileSync(path, 'HELO x\r\nMAIL FROM:<a@b.test>\r\n');
  // Before: listed at once, and a task read the half-written file.
  assert.deepEqual((await q.list()).map((e) => e.id), []);
  appendFileSync(path, 'RCPT TO:<c@d.test>\r\n');
  assert.deepEqual((await q.list()).map((e) => e.id), []);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /inplace\.smtp is growing in incoming\/: .*producers must write in tmp\/ and rename/);
  // Settled (its time is past the bound): it is an entry, whole.
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
  const [e] = await q.list();
  assert.equal(e?.id, 'inplace.smtp');
  assert.equal(e.size, statSync(path).size);
});

test('R3 item 7: a spool file that ends at a message boundary without QUIT is sent and finished, with a warning in the log', async (t) => {
  const g = await gateway(t, {}, '');
  const text = batchFile('Q1', 2).text;
  assert.ok(text.endsWith('QUIT\r\n'));
  const id = await submitText(g.config, text.slice(0, -'QUIT\r\n'.length));
  await until('delivered', () => g.server.messages.length === 2);
  await until('finished', async () => (await g.gw.queue.list()).length === 0);
  const w = g.events('spool.warning');
  assert.equal(w.length, 1);
  assert.equal(w[0]!.level, 'warning');
  assert.equal(w[0]!.fields.id, id);
  assert.match(String(w[0]!.fields.reply), /End of file without QUIT/);
  // A complete file has none.
  await submitText(g.config, batchFile('Q2', 1).text);
  await until('delivered', () => g.server.messages.length === 3);
  await until('finished', async () => (await g.gw.queue.list()).length === 0);
  assert.equal(g.events('spool.warning').length, 1);
});

test('no self-recovery (R3): an unreadable spool file that is fixed later is read then, without a restart; it is reported once', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }`);
  const text = batchFile('U1', 1).text;
  const id = await submitText(config, text);
  const data = join(config.spool.directory, config.extWrtName, 'incoming', id, 'data');
  // Root reads any mode, so "unreadable" is made the other way the queue knows: a directory.
  rmSync(data);
  mkdirSync(data);
  const rec = recordingLog();
  const clock = new FakeClock(Date.now());
  const gw = await startGateway(config, { clock, log: rec.log });
  t.after(() => gw.stop());
  await gw.forwarder.start();
  await until('reported unreadable', () => rec.events('spool.bad-entry').length === 1);
  assert.match(String(rec.events('spool.bad-entry')[0]!.fields.problem), /directory/);
  // A sentinel: the scan that reports it has looked at the unreadable entry too.
  await submitText(config, batchFile('U2', 1).text);
  await until('the sentinel delivered', () => srv.messages.length === 1);
  // Before: the entry stayed "seen" and was never looked at again until a restart.
  rmSync(data, { recursive: true });
  writeFileSync(data, text, 'latin1');
  await advanceUntil(clock, 'delivered after the fix', () => srv.messages.length === 2);
  await until('finished', async () => (await gw.queue.list()).length === 0);
  assert.equal(rec.events('spool.bad-entry').length, 1, 'reported once, not at every look');
});

test('no self-recovery (R3): with the spool full (tmpfs) the DSN of a rejected message cannot be queued; the file is retried with back-off and finished once there is space', async (t) => {
  const mnt = smallTmpfs(t, '256k');
  if (mnt === undefined) return;
  const srv = await FakeSmtpServer.start({ rcpt: (a) => (a.includes('gone@') ? '550 5.1.1 no such user' : undefined) });
  t.after(() => srv.close());
  const dir = tempDir(t);
  const written = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }`);
  // The spool is the tmpfs itself: the gateway refuses a spool root that is a symbolic link.
  const config = { ...written.config, spool: { ...written.config.spool, directory: mnt } };
  const rec = recordingLog();
  const clock = new FakeClock(Date.now());
  const gw = await startGateway(config, { clock, log: rec.log });
  t.after(() => gw.stop());
  await submitText(config, batchFile('S1', 1, ['gone@remote.test']).text);
  const filler = join(mnt, 'filler');
  try {
    for (;;) appendFileSync(filler, Buffer.alloc(4096, 0x41));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  await gw.forwarder.start();
  await until('the file is put back for a retry', () => rec.events('spool.retry-later').length >= 1, 20_000);
  assert.match(rec.records.filter((r) => r.level === 'error').map((r) => JSON.stringify(r.fields)).join(' '), /ENOSPC/);
  assert.equal((await gw.queue.list()).length, 1, 'the spool file stays');
  rmSync(filler);
  // Before: the file stayed unfinished until a restart.
  await advanceUntil(clock, 'the DSN delivered', () => srv.messages.some((m) => m.from === ''));
  await until('spool empty', async () => (await gw.queue.list()).length === 0, 20_000);
});

test('start-up on a full file system (tmpfs state directory) ends with one operator line, not a stack trace', async (t) => {
  const mnt = smallTmpfs(t, '64k');
  if (mnt === undefined) return;
  const dir = tempDir(t);
  symlinkSync(mnt, join(dir, 'state'));
  const { path } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }');
  try {
    for (;;) appendFileSync(join(mnt, 'filler'), Buffer.alloc(4096, 0x41));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // Before: the rejection left run() and node printed the stack trace.
  const r = await runCli(start, ['--config', path, '--once']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /spoolgate: TEST: not started: .*\(the file system is full: free space and start again\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('extended retry: EACCES on the mail directory (a child process as uid 65534) is a fault, not a crash; it clears once the mode is fixed', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to run a child as uid 65534'); return; }
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const mail = join(dir, 'mail');
  mkdirSync(join(mail, 'quarantine'), { recursive: true, mode: 0o700 });
  chmodSync(mail, 0o700); // root's: uid 65534 gets EACCES
  const child = join(import.meta.dirname, 'contain-eacces-child.ts');
  const run = (): { due: number; fault: string | null } => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', child, mail], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: join(import.meta.dirname, '../..') })) as { due: number; fault: string | null };
  const denied = run();
  assert.equal(denied.due, 0);
  assert.match(denied.fault ?? '', /ExtendedRetry MailDirectory .*mail: open failed \(.*EACCES/);
  chownSync(mail, 65534, 65534);
  chownSync(join(mail, 'quarantine'), 65534, 65534);
  assert.deepEqual(run(), { due: 0, fault: null });
});

test('R3 item 7: one spool enumeration at start (a second list() could hand back a file that had just finished: a spurious ENOENT)', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }`);
  for (let i = 0; i < 5; i++) await submitText(config, batchFile(`E${i}`, 1).text);
  const rec = recordingLog();
  const gw = await startGateway(config, { log: rec.log });
  t.after(() => gw.stop());
  // The watch's first scan reports every entry present; start() lists nothing more.
  const list = gw.queue.list.bind(gw.queue);
  let listed = 0;
  gw.queue.list = () => { listed++; return list(); };
  await gw.forwarder.start();
  await until('all delivered', () => srv.messages.length === 5);
  await until('spool empty', async () => (await list()).length === 0);
  await until('five finished', () => rec.events('spool.finished').length === 5);
  assert.equal(listed, 0);
  assert.equal(rec.events('spool.unreadable').length, 0);
});
