// F4 acceptance: crash safety. A real `spoolgate start` process is killed with SIGKILL at
// random points while 2,000 messages flow, at least 20 times, and restarted each time.
// No message may be lost; duplicates are bounded by what was in flight at each kill
// (at most ConnectLimit messages per kill: one per connection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig, subjects } from '../../src/testing/gateway.js';
import { prng } from '../../src/testing/prng.js';

const CONNECT_LIMIT = 4;

function startChild(configPath: string, extra: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', configPath, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

test('kill -9 at random points while 2,000 messages flow: nothing lost, duplicates only for mail in flight', async (t) => {
  const server = await FakeSmtpServer.start();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit ${CONNECT_LIMIT} }\nRetryLimit { Count 5 Interval 1 }`);
  for (let f = 0; f < 100; f++) await submitText(config, batchFile(`C${f}`, 20).text, `CRASH${f}`);
  const rnd = prng(Number(process.env.CRASH_SEED ?? 12345));
  let kills = 0;
  let child = startChild(path);
  t.after(() => { child.kill('SIGKILL'); });
  while (kills < 20) {
    const before = server.messages.length;
    // Wait until this incarnation delivers something, then kill at a random moment after.
    await until('progress', () => server.messages.length > before || server.messages.length >= 2000, 30_000);
    if (server.messages.length >= 2000) break;
    await new Promise((r) => setTimeout(r, 20 + Math.floor(rnd() * 250)));
    child.kill('SIGKILL');
    await exited(child);
    kills++;
    child = startChild(path);
  }
  await until('all 2,000 delivered', () => subjects(server).size >= 2000, 120_000);
  const seen = subjects(server);
  child.kill('SIGTERM');
  await exited(child);
  for (let f = 0; f < 100; f++) for (let i = 1; i <= 20; i++) assert.ok(seen.has(`C${f} message ${i}`), `C${f} message ${i} lost`);
  const duplicates = server.messages.length - seen.size;
  assert.ok(kills >= 20 || server.messages.length >= 2000, `kills=${kills}`);
  assert.ok(duplicates <= kills * CONNECT_LIMIT, `duplicates ${duplicates} > kills ${kills} × ConnectLimit ${CONNECT_LIMIT}`);
  t.diagnostic(`kills=${kills} delivered=${server.messages.length} unique=${seen.size} duplicates=${duplicates}`);
});

test('cold start -f resends unfinished files from the beginning', async (t) => {
  const server = await FakeSmtpServer.start({ onDot: (m) => (/Subject: W0 message ([6-9]|10)\b/.test(m.data.toString('latin1')) ? '451 4.3.0 not now' : '250 2.0.0 ok') });
  t.after(() => server.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit 1 }\nRetryLimit { Count 5 Interval 1 }`);
  await submitText(config, batchFile('W0', 10).text, 'WARM');
  let child = startChild(path);
  await until('first five delivered', () => server.messages.length >= 10, 30_000); // 5 accepted + 5 refused (in long retry)
  child.kill('SIGKILL');
  await exited(child);
  // Warm start would skip messages 1–5; cold start resends them.
  child = startChild(path, ['-f']);
  t.after(() => { child.kill('SIGKILL'); });
  await until('resent from the beginning', () => server.messages.filter((m) => /Subject: W0 message 1\r/.test(m.data.toString('latin1'))).length >= 2, 30_000);
  child.kill('SIGTERM');
  await exited(child);
});
