// O1 #17 acceptance: a kill -9 during a queue action loses nothing. A real `spoolgate start`
// process holds 30 messages in long retry (the target answers 451); the operator's bulk bounce
// (one action per message, each notifying the sender) and bulk hold run over the control socket
// and the process is killed with SIGKILL in the middle. After the restart every message is
// either notified (its DSN reached the target) or still in the queue with the same queue id, and
// a hold by filter is all or nothing (one atomic write of the hold list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { FaultTarget } from '../../src/testing/fault-target.js';
import { tempDir } from '../../src/testing/peers.js';
import { runCli } from '../../src/testing/cli.js';
import { submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { run as queueCli } from '../../src/cli/queue.js';
import type { QueueItem } from '../../src/queue/index.js';

const N = 30;

function startChild(configPath: string, onLine: (l: string) => void): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let rest = '';
  c.stderr?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  return c;
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

function job(): string {
  let text = 'HELO JOBHOST\r\n';
  for (let i = 1; i <= N; i++) {
    text += `MAIL FROM:<job@corp.test>\r\nRCPT TO:<user${i}@soft.test>\r\nDATA\r\nFrom: job@corp.test\r\nSubject: KQ ${i}\r\n\r\nbody ${i}\r\n.\r\n`;
  }
  return text + 'QUIT\r\n';
}

test('kill -9 during a bulk bounce and a bulk hold: every message is notified or still queued, holds are all or nothing', async (t) => {
  const target = await FaultTarget.start({ rcpt: (a) => (/@soft\.test>?$/i.test(a) ? '451 4.2.0 try later' : undefined) });
  t.after(() => target.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit 2 }\nRetryLimit { Count 5 Interval 60 }\nLogLevel 7`);
  await submitText(config, job(), 'KQJOB');
  let bounced = 0;
  const onLine = (l: string): void => { if (/ queue\.action /.test(l) && /action=bounce/.test(l)) bounced++; };
  let child = startChild(path, onLine);
  t.after(() => { child.kill('SIGKILL'); });
  const list = async (): Promise<QueueItem[]> => {
    const r = await runCli(queueCli, ['list', '--config', path, '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { items: QueueItem[] }).items : [];
  };
  await until('all in retry', async () => (await list()).filter((i) => i.state === 'retry').length === N, 60_000);
  const ids = new Map((await list()).map((i) => [i.id, i]));
  assert.equal(ids.size, N);

  // Bulk bounce, killed after a few messages were bounced.
  const bounce = runCli(queueCli, ['bounce', '--config', path, '--domain', 'soft.test', '--reason', 'crash test', '--timeout', '60']);
  await until('a few bounced', () => bounced >= 5, 60_000);
  child.kill('SIGKILL');
  await exited(child);
  const answer = await bounce;
  assert.equal(answer.code, 1, 'the CLI saw the instance go away');

  child = startChild(path, onLine);
  let after: QueueItem[] = [];
  // The job's messages that were not bounced are read again and wait in retry (notifications may pass by meanwhile).
  // With PostgreSQL a bounce stored with its message before the kill is carried out by the node
  // that claims the file next (after the killed node's lease ran out): that one is bounced, not
  // waiting (its `why` says so until then).
  await until('restarted and back in retry', async () => {
    after = (await list()).filter((i) => ids.has(i.id) || i.id.endsWith('-0'));
    return after.length > 0 && after.every((i) => i.state === 'retry' && !/bounce or delete waits/.test(i.why ?? ''));
  }, 180_000);
  // Notified: the DSNs that reached the target name the original's subject in its header part.
  const notifiedSubject = (): Set<string> => new Set(target.accepted.filter((m) => m.from === '').map((m) => /Subject: (KQ \d+)/.exec(m.data.toString('latin1'))?.[1] ?? '?'));
  await until('notifications of the bounced ones delivered', () => notifiedSubject().size >= 5, 60_000);
  const remaining = new Set(after.map((i) => i.id));
  for (const id of remaining) assert.ok(ids.has(id), `${id} is a queue id from before the kill`);
  // Every message: still queued (same id) or notified. Nothing lost.
  await until('every bounced message notified', () => {
    const notified = notifiedSubject();
    return [...ids.values()].every((i) => remaining.has(i.id) || notified.has(`KQ ${i.id.split('-')[1]}`));
  }, 60_000);

  // Bulk hold, killed right away: after the restart all held, or none.
  const hold = runCli(queueCli, ['hold', '--config', path, '--domain', 'soft.test', '--reason', 'crash test']);
  await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited(child);
  await hold;
  child = startChild(path, onLine);
  let held: QueueItem[] = [];
  await until('restarted', async () => { held = (await list()).filter((i) => ids.has(i.id)); return held.length === remaining.size && held.every((i) => i.state === 'retry' || i.state === 'held'); }, 180_000)
    .catch((e: unknown) => { throw new Error(`${String(e)}: ${remaining.size} expected, listed ${held.map((i) => `${i.id} ${i.state} ${i.why ?? ''}`).join('; ')}`); });
  const heldCount = held.filter((i) => i.state === 'held').length;
  assert.ok(heldCount === 0 || heldCount === remaining.size, `held ${heldCount} of ${remaining.size}: a hold by filter is all or nothing`);

  // The rest bounced cleanly: every one of the 30 notified at least once, none twice more than the kill allows.
  if (heldCount > 0) assert.equal((await runCli(queueCli, ['release', '--config', path, '--state', 'held'])).code, 0);
  const r = await runCli(queueCli, ['bounce', '--config', path, '--domain', 'soft.test', '--reason', 'finish']);
  assert.equal(r.code, 0, r.stderr);
  await until('all 30 notified', () => notifiedSubject().size === N, 60_000);
  const dsns = target.accepted.filter((m) => m.from === '').length;
  assert.ok(dsns <= N + 1, `${dsns} notifications for ${N} messages: at most the one being bounced at the kill twice`);
  await until('queue empty', async () => (await list()).length === 0, 60_000);
  child.kill('SIGTERM');
  await exited(child);
});
