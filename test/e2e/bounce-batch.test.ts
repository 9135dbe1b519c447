// R3 #22 item 7: bounces batched, and a long-retry file does not pin a task. The audit's scenario
// on a real gateway: a batch file whose messages are all refused 550 by recipient, plus one
// message refused 451 (long retry). Each original gets exactly one DSN listing all its failed
// recipients; DSNs written close together share spool entries; the job file is parked while its
// last message waits, and the DSNs drain meanwhile. Then the same under kill -9: a notification
// is durable before its original is marked undeliverable, so none is lost, and duplicates are
// bounded by the originals in flight at each kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startGateway } from '../../src/gateway.js';
import { FakeSmtpServer, type FakeMessage } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { TEST_BACKEND } from '../../src/testing/backend.js';

const CONNECT_LIMIT = 4;

/** n messages to bad1.<i> and bad2.<i> (550), then one to slow@ (451: long retry). */
function bounceJob(n: number): string {
  let text = 'HELO JOBHOST\r\n';
  for (let i = 1; i <= n; i++) text += `MAIL FROM:<job@corp.test>\r\nRCPT TO:<bad1.${i}@remote.test>\r\nRCPT TO:<bad2.${i}@remote.test>\r\nDATA\r\nSubject: B${i}\r\n\r\nbody ${i}\r\n.\r\n`;
  return text + 'MAIL FROM:<job@corp.test>\r\nRCPT TO:<slow@remote.test>\r\nDATA\r\nSubject: SLOW\r\n\r\nbody\r\n.\r\nQUIT\r\n';
}

const target = (): Promise<FakeSmtpServer> => FakeSmtpServer.start({ rcpt: (a) => (a.startsWith('bad') ? '550 5.1.1 no such user' : a.startsWith('slow') ? '451 4.3.0 try later' : undefined) });

/** Original message number → DSNs at the target about it (the DSN carries the original's header). */
function dsnsByOriginal(msgs: readonly FakeMessage[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const m of msgs) {
    if (m.from !== '') continue;
    const text = m.data.toString('latin1');
    const n = /^Subject: B(\d+)\r$/m.exec(text);
    if (n === null) continue;
    out.set(Number(n[1]), [...(out.get(Number(n[1])) ?? []), text]);
  }
  return out;
}

test('R3 item 7: 400 messages refused 550 (800 recipients) and one in long retry: one DSN per message with both recipients, DSNs share entries, the job file is parked', { timeout: 300_000 }, async (t) => {
  const server = await target();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit ${CONNECT_LIMIT} }\nRetryLimit { Count 1 Interval 10 }`);
  const logs: LogRecord[] = [];
  const gw = await startGateway(config, { log: Logger.create({ sink: { write: (r) => { logs.push(r); } }, instance: 'TEST', level: 7 }) });
  t.after(() => gw.stop());
  await gw.forwarder.start();
  const n = 400;
  const job = await submitText(config, bounceJob(n), 'BOUNCES');
  await until('a DSN for every message', () => dsnsByOriginal(server.messages).size >= n, 240_000);
  // Drained while the job's last message waits in long retry: only the job file is left. On
  // PostgreSQL long retry is the shared queue's: the file is released to its retry time instead
  // of parked (docs/cluster.md "Long retry is the entry's next_attempt"), under its spool entry id.
  const released = (): LogRecord[] => logs.filter((l) => l.event === 'spool.retry-released' && l.fields.id === job);
  if (TEST_BACKEND === 'postgresql') await until('the job file released for long retry', () => released().length === 1, 60_000);
  else await until('only the parked job file left', async () => (await gw.queue.list()).every((e) => e.id === job));
  const byOriginal = dsnsByOriginal(server.messages);
  for (let i = 1; i <= n; i++) {
    const d = byOriginal.get(i);
    assert.equal(d?.length, 1, `message ${i}: one DSN`);
    assert.match(d[0]!, new RegExp(`Final-Recipient: rfc822; ?bad1\\.${i}@remote\\.test`));
    assert.match(d[0]!, new RegExp(`Final-Recipient: rfc822; ?bad2\\.${i}@remote\\.test`));
  }
  const notifyEntries = logs.filter((l) => l.event === 'spool.start' && l.fields.job === 'SGNOTIFY').length;
  t.diagnostic(`${n} DSNs in ${notifyEntries} spool entries`);
  assert.ok(notifyEntries < n, `DSNs batched: ${notifyEntries} entries for ${n} DSNs`);
  if (TEST_BACKEND === 'postgresql') {
    assert.equal(released()[0]?.fields.messages, 1, 'the job file was released with its one message in long retry');
    assert.equal(logs.filter((l) => l.event === 'spool.parked').length, 0);
    assert.deepEqual(gw.forwarder.parkedFiles(), []);
  } else {
    assert.equal(logs.filter((l) => l.event === 'spool.parked' && l.fields.id === job).length, 1, 'the job file was parked');
    assert.deepEqual(gw.forwarder.parkedFiles().map((p) => ({ id: p.entry.id, lrt: p.counters.lrt, read: p.counters.mailRead, undeliverable: p.counters.undeliverable })), [{ id: job, lrt: 1, read: n + 1, undeliverable: n }]);
  }
  // The last DSN entry's task lets go once its checkpoint rows are forgotten; then no task is held.
  await until('every task idle (none held by the long retry)', () => gw.forwarder.tasks.every((x) => x.state === 'IDLE'), 30_000);
});

function startChild(configPath: string, log: string[]): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Read it all: a pipe nobody reads fills up and stops the gateway.
  c.stderr?.on('data', (d: Buffer) => { log.push(...d.toString().split('\n').filter((l) => l !== '')); log.splice(0, Math.max(0, log.length - 50)); });
  return c;
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

test('R3 item 7: kill -9 while batched DSNs are written and sent: no notification lost, duplicates only for originals in flight', { timeout: 400_000 }, async (t) => {
  const server = await target();
  t.after(() => server.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${server.port} ConnectLimit ${CONNECT_LIMIT} }\nRetryLimit { Count 1 Interval 10 }`);
  const n = 300;
  await submitText(config, bounceJob(n), 'BOUNCES');
  const log: string[] = [];
  let child = startChild(path, log);
  t.after(() => { child.kill('SIGKILL'); });
  const kills = [20, 90, 170];
  for (const k of kills) {
    // Kill once the target has k DSNs: batches are being written and sent at that moment.
    await until(`${k} DSNs at the target`, () => dsnsByOriginal(server.messages).size >= k, 120_000);
    child.kill('SIGKILL');
    await exited(child);
    child = startChild(path, log);
  }
  await until('a DSN for every message', () => dsnsByOriginal(server.messages).size >= n, 240_000);
  child.kill('SIGTERM');
  await exited(child);
  const byOriginal = dsnsByOriginal(server.messages);
  const lost = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byOriginal.has(i));
  assert.deepEqual(lost, [], `notifications lost; the gateway last logged: ${log.slice(-5).join(' | ')}`);
  // A DSN is sent twice when the gateway dies after its entry is durable and before its original's
  // mark (the originals in flight: at most one per connection at each kill), or after the target
  // took a DSN and before its own checkpoint row (again one per connection).
  const duplicates = [...byOriginal.values()].reduce((a, d) => a + d.length - 1, 0);
  t.diagnostic(`kills=${kills.length} DSNs=${server.messages.length} originals notified=${byOriginal.size} duplicates=${duplicates}`);
  assert.ok(duplicates <= kills.length * CONNECT_LIMIT * 2, `duplicates ${duplicates} > ${kills.length} kills × ${CONNECT_LIMIT} connections × 2`);
});
