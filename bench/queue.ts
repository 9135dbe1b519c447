// Benchmark 7 — the queue (O1 #17): 10,000 messages (× BENCH_SCALE) waiting in retry, and the time
// `spoolgate queue list --json` takes against the running instance (a new CLI process each time,
// as an operator runs it: process start, the control socket, the queue model over the mail
// directory, JSON out), plus a filtered list and `queue shape`. The messages wait in extended
// retry (the mail directory), where a backlog of this size lives: long retry keeps at most
// SpoolTasks × 200 messages in memory. The directory is filled before the gateway starts
// (MailDirectory.put, the forwarder's own writer) with next attempts a day ahead, so nothing is
// sent while measuring. Writes bench/out/queue.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeConfig } from '../src/testing/gateway.js';
import { MailDirectory } from '../src/forwarder/index.js';
import { queueIdFor, parseMailbox, type Envelope } from '../src/core/index.js';
import { sendCommand } from '../src/control/index.js';
import { pct, SCALE, spoolgateArgs, startCountingSink, stopChild, writeResult } from './lib.js';

const N = Math.max(100, Math.round(10_000 * SCALE));
const ROUNDS = 5;

function mailbox(s: string): ReturnType<typeof parseMailbox> extends { ok: true; value: infer V } ? V : never {
  const m = parseMailbox(s);
  if (!m.ok) throw new Error(s);
  return m.value as never;
}

/** Runs `spoolgate <args>`; wall time and stdout size. */
function cli(args: readonly string[]): Promise<{ seconds: number; bytes: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [...spoolgateArgs(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', () => undefined);
    p.once('error', reject);
    p.once('exit', (code) => {
      const out = Buffer.concat(chunks);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes: out.length, code, out: out.toString('utf8') });
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-queue-'));
  const sink = await startCountingSink();
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 2 }\nRetryLimit { Count 0 Interval 1 }\nExtendedRetry { Age 5 Interval 1440 MailDirectory ${join(dir, 'maildir')} }`);
  const md = await MailDirectory.open(join(dir, 'maildir'));
  const t0 = performance.now();
  const now = Date.now();
  const data = Buffer.from('From: job@corp.test\r\nSubject: queue bench\r\n\r\n' + 'x'.repeat(2000) + '\r\n');
  for (let i = 0; i < N; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, N - i) }, async (_, k) => {
      const n = i + k;
      const rcpt = { mailbox: mailbox(`user${n}@domain${n % 50}.test`) };
      const envelope: Envelope = { from: { kind: 'mailbox', mailbox: mailbox(`sender${n % 20}@corp.test`) }, recipients: [rcpt], requireTls: false };
      const r = await md.put({
        id: `bench${String(n).padStart(8, '0')}`, envelope, data, pendingRecipients: [rcpt], firstAttempt: new Date(now - (n % 3000) * 60_000),
        nextAttempt: new Date(now + 86_400_000), attempts: 3, jobName: `JOB${n % 10}`, jobId: `J${String(n).padStart(7, '0')}`, originUser: 'bench',
        lastReply: { code: 451, enhanced: '4.2.0', text: 'mailbox busy' }, queueId: queueIdFor(`bench${n}`, 'J', 1),
      });
      if (!r.ok) throw r.error;
    }));
  }
  const fillS = (performance.now() - t0) / 1000;
  const gw = spawn(process.execPath, [...spoolgateArgs(), 'start', '--config', path], { stdio: ['ignore', 'ignore', 'ignore'] });
  const rows: { name: string; p50: number; min: number; max: number; bytes: number; items: number }[] = [];
  try {
    // Ready: the control socket answers and sees the whole backlog.
    for (let i = 0; ; i++) {
      const r = await sendCommand(config.controlSocket, 'D,QUEUE,STATE=extended,LIMIT=1');
      if (r.ok && (r.value.data as { total?: number }).total === N) break;
      if (i > 600) throw new Error(`the gateway did not show ${N} messages: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const measure = async (name: string, args: readonly string[]): Promise<void> => {
      const times: number[] = [];
      let bytes = 0;
      let items = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const r = await cli(args);
        if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}`);
        times.push(r.seconds);
        bytes = r.bytes;
        if (args.includes('--json')) items = (JSON.parse(r.out) as { items: unknown[] }).items.length;
      }
      const sorted = times.sort((a, b) => a - b);
      rows.push({ name, p50: pct(sorted, 50), min: sorted[0]!, max: sorted[sorted.length - 1]!, bytes, items });
    };
    // The instance's share alone: the same command over the control socket from this process.
    const socketTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t1 = performance.now();
      const r = await sendCommand(config.controlSocket, `D,QUEUE,LIMIT=${Math.min(N, 10_000)}`);
      if (!r.ok || !r.value.ok) throw new Error(`D,QUEUE failed: ${JSON.stringify(r).slice(0, 300)}`);
      socketTimes.push((performance.now() - t1) / 1000);
    }
    socketTimes.sort((a, b) => a - b);
    rows.push({ name: 'D,QUEUE over the control socket (no CLI process)', p50: pct(socketTimes, 50), min: socketTimes[0]!, max: socketTimes[socketTimes.length - 1]!, bytes: 0, items: 0 });
    await measure(`queue list --json (${N} in retry)`, ['queue', 'list', '--json', '--config', path]);
    await measure('queue list --json --sender sender7@corp.test', ['queue', 'list', '--json', '--sender', 'sender7@corp.test', '--config', path]);
    await measure('queue list (text, mailq form)', ['queue', 'list', '--config', path]);
    await measure('queue shape --by domain', ['queue', 'shape', '--config', path]);
    await measure('spoolgate --version (process start alone)', ['--version']);
  } finally {
    await stopChild(gw);
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nQueue: ${N} messages in (extended) retry, filled in ${fillS.toFixed(1)} s; each command a new CLI process, ${ROUNDS} runs`);
  console.table(rows.map((r) => ({ command: r.name, p50: r.p50.toFixed(3), min: r.min.toFixed(3), max: r.max.toFixed(3), unit: 's', items: r.items || '', outputKB: (r.bytes / 1024).toFixed(0) })));
  writeResult('queue', { scale: SCALE, n: N, rounds: ROUNDS, fillSeconds: fillS, rows });
}

await main();
