// R1 acceptance: crash safety of the receiver. A child process runs the receiver; several
// concurrent clients flood it with a few hundred messages (local and relay); the child is killed
// with SIGKILL mid-flood, twice, and restarted. Every message that got 250 must be in the
// mailbox store or on the spool afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { until } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import { FAST_SCRYPT, RawSmtp, receiverConfig, spoolFilesOf } from './receiver-harness.js';

const CLIENTS = 4;
const PER_CLIENT = 100;

function startChild(configPath: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'receiver-crash-child.ts'), configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code} before listening`)));
  });
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

/** One client: sends its messages in order over one connection; returns when done or cut off. */
async function client(port: number, n: number, next: () => number | undefined, acked: Set<string>): Promise<void> {
  let c: RawSmtp;
  try {
    c = (await RawSmtp.open(port)).c;
  } catch {
    return; // the receiver is down
  }
  try {
    if ((await c.cmd(`EHLO client${n}.test`)).code !== 250) return;
    for (let i = next(); i !== undefined; i = next()) {
      const tag = `FLOOD-${i}`;
      const relay = i % 3 === 0;
      if ((await c.cmd('MAIL FROM:<s@client.test>')).code !== 250) return;
      if ((await c.cmd(`RCPT TO:<${relay ? `r${i}@far.test` : 'alice@local.test'}>`)).code !== 250) return;
      const r = await c.data(Buffer.from(`Subject: ${tag}\r\nX-Tag: ${tag}\r\n\r\n${'body line\r\n'.repeat(20)}`));
      if (r.code !== 250) return;
      acked.add(tag);
    }
    await c.quit();
  } finally {
    c.destroy();
  }
}

test('kill -9 during a flood: every message answered 250 is in a mailbox or on the spool', async (t) => {
  const dir = tempDir(t, 'spoolgate-rxcrash-');
  const config = receiverConfig(dir, 'RelayMode All');
  mkdirSync(config.stateDirectory, { recursive: true });
  const setup = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'), { scrypt: FAST_SCRYPT });
  await setup.users.addUser('alice', 'pw-alice');
  await setup.close();

  const acked = new Set<string>();
  const total = CLIENTS * PER_CLIENT;
  let counter = 0;
  const next = (): number | undefined => (counter < total ? ++counter : undefined);
  let current: ChildProcess | undefined;
  t.after(() => { current?.kill('SIGKILL'); });
  let kills = 0;
  while (acked.size < total && counter <= total) {
    const { child, port } = await startChild(config.configFile);
    current = child;
    // Messages handed out but cut off by a kill are simply not acknowledged (clients move on).
    const flood = Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(port, k, next, acked)));
    if (kills < 2) {
      const target = acked.size + 60 + kills * 40;
      await until('some progress', () => acked.size >= target || counter >= total, 60_000);
      child.kill('SIGKILL');
      kills++;
    }
    await flood;
    if (kills >= 2 || counter >= total) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await exited(child);
    if (counter >= total) break;
  }
  assert.equal(kills, 2, 'killed twice mid-flood');

  const store = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'));
  t.after(() => store.close());
  const seen = new Set<string>();
  for (const m of await store.mailboxes.list('alice')) {
    const tag = /X-Tag: (FLOOD-\d+)/.exec((await store.mailboxes.read('alice', m.id))!.toString('latin1'))?.[1];
    if (tag) seen.add(tag);
  }
  for (const f of spoolFilesOf(config)) for (const m of f.data.toString('latin1').matchAll(/X-Tag: (FLOOD-\d+)/g)) seen.add(m[1]!);
  const lost = [...acked].filter((tag) => !seen.has(tag));
  assert.deepEqual(lost, [], 'acknowledged messages lost');
  assert.ok(acked.size >= total - 2 * CLIENTS, `acked ${acked.size} of ${total}`);
  t.diagnostic(`acked=${acked.size} stored=${seen.size} kills=${kills}`);
});
