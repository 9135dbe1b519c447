// F4 acceptance: `spoolgate start` as a real child process. `--once` drains the spool and exits
// 0; SIGTERM under load drains in-flight mail, exits 0, and a following `--once` run delivers
// the rest: every message arrives at least once, none is lost. On both store backends: what is
// left is counted in the spool directory and, with PostgreSQL, the shared queue (queuedEntries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig, subjects } from '../../src/testing/gateway.js';
import { queuedEntries } from '../../src/testing/queued.js';

interface Child { readonly proc: ChildProcess; readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr(): string; stdout(): string }

function start(configPath: string, extra: readonly string[] = []): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', configPath, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, exit, stderr: () => err, stdout: () => out };
}

test('spoolgate start --once: exits 0, spool empty, every message at the server', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit 3 }\nRetryLimit { Count 2 Interval 1 }`);
  for (let f = 0; f < 10; f++) await submitText(config, batchFile(`O${f}`, 5).text, `ONCE${f}`);
  const c = start(path, ['--once']);
  t.after(() => { c.proc.kill('SIGKILL'); });
  const { code, signal } = await c.exit;
  assert.equal(signal, null);
  assert.equal(code, 0, c.stderr());
  assert.equal(server.messages.length, 50);
  assert.equal(subjects(server).size, 50);
  assert.equal(await queuedEntries(config), 0);
});

test('SIGTERM under load exits 0; a second --once run delivers the rest; nothing lost', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit 3 }\nRetryLimit { Count 2 Interval 1 }`);
  const first = start(path);
  t.after(() => { first.proc.kill('SIGKILL'); });
  for (let f = 0; f < 30; f++) await submitText(config, batchFile(`G${f}`, 10).text, `TERM${f}`);
  await until('~100 arrived', () => server.messages.length >= 100, 60_000);
  first.proc.kill('SIGTERM');
  const r1 = await first.exit;
  assert.equal(r1.signal, null, first.stderr());
  assert.equal(r1.code, 0, first.stderr());
  const afterTerm = server.messages.length;
  t.diagnostic(`delivered before/at SIGTERM: ${afterTerm}`);
  const second = start(path, ['--once']);
  t.after(() => { second.proc.kill('SIGKILL'); });
  const r2 = await second.exit;
  assert.equal(r2.code, 0, second.stderr());
  const seen = subjects(server);
  for (let f = 0; f < 30; f++) for (let i = 1; i <= 10; i++) assert.ok(seen.has(`G${f} message ${i}`), `G${f} message ${i} lost`);
  assert.equal(seen.size, 300);
  const duplicates = server.messages.length - seen.size;
  // A drained stop finishes in-flight mail and checkpoints it: duplicates only for mail whose
  // final reply came after the checkpoint write was cut short (at most one per connection).
  assert.ok(duplicates <= 3, `duplicates ${duplicates}`);
  assert.equal(await queuedEntries(config), 0);
});

test('O2 item 8: start --once with every target down says what it waits for, ends after RetryLimit, and prints where the mail went', async (t) => {
  // A port nobody listens on: every connection is refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${closed} }\nRetryLimit { Count 0 Interval 1 }`);
  for (let f = 0; f < 2; f++) await submitText(config, batchFile(`DOWN${f}`, 2).text, `DOWN${f}`);
  const c = start(path, ['--once']);
  t.after(() => { c.proc.kill('SIGKILL'); });
  const { code } = await c.exit;
  assert.equal(code, 0, c.stderr());
  const lines = c.stdout().trimEnd().split('\n');
  assert.match(lines[0]!, /--once: 2 spool file\(s\); a message no target takes is tried 1 time\(s\), 1 min apart, then returned to its sender as undeliverable$/);
  const done = /--once done: 0 sent, 0 to extended retry, 4 undeliverable \(0 dead letter\(s\)\); (\d+) spool file\(s\) left/.exec(lines.at(-1)!);
  assert.ok(done !== null, lines.at(-1));
  // The four notifications wait in the spool for the next run: DSNs written close together share
  // an entry (notify-batch.ts), so 1 to 4 entries, and the summary counts them.
  const left = await queuedEntries(config);
  assert.ok(left >= 1 && left <= 4, `${left} entries`);
  assert.equal(Number(done[1]), left);
});
