// Benchmark 6 — scaling (issue B1): forwarding throughput of `spoolgate start --once` (as in
// benchmark 1: spool files of 10 messages → counting smtp-sink, durable checkpoint) at ConnectLimit
// 1, 2, 4, 8 and message bodies of 1 KB, 10 KB, 100 KB, 1 MB, each cell beside the smtp-source
// ceiling (bench/lib.ts measureCeiling, as benchmark 1) with the same sessions and size. Each cell
// is 3 alternating runs (ceiling, spoolgate, …; BENCH_RUNS): msg/s is their median, with min and
// max. The number of messages per cell is scaled to about 12 MB of bodies (at least 40, at most
// 1,500 messages; × BENCH_SCALE) so that 16 cells × 3 runs stay within ~5 minutes on 2 cores.
// Writes bench/out/scaling.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConfig } from '../src/testing/gateway.js';
import { freePort } from '../src/testing/postfix.js';
import { CEILING, RUNS, SCALE, alternate, cpuOf, figure, monitorTree, runCommand, startCountingSink, writeResult } from './lib.js';
import type { Row } from './forwarding.js';
import { timeSmtpSource, timeSpoolgate } from './forwarding.js';

/** Receiver processes in the receiver curve (B2 item 6). */
export const WORKERS = [1, 2, 4] as const;

export interface ReceiverCell { readonly workers: number; readonly mode: 'a' | 'b'; readonly n: number; readonly acceptedS: number; readonly msgPerSec: number; readonly cpuS: number; readonly cpuMsPerMsg: number }

/**
 * The receiver curve: inbound acceptance (benchmark 3's load: 4 KB to a relay recipient, 20
 * sessions; (a) one message per session, (b) all of a session's messages in it) against 1, 2, 4
 * receiver processes sharing the port (bench/receiver-cluster.ts), with the CPU seconds of the
 * whole process tree per message, which is what predicts a machine with more cores.
 */
async function receiverCurve(dir: string): Promise<ReceiverCell[]> {
  const n = Math.max(200, Math.round(1000 * SCALE));
  const out: ReceiverCell[] = [];
  for (const workers of WORKERS) {
    const d = join(dir, `rx-${workers}`);
    mkdirSync(d, { recursive: true });
    const port = await freePort();
    const { path } = writeConfig(d, `TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }\nReceiver { Listen 127.0.0.1:${port} HostName mx.bench.test LocalDomain local.bench.test RelayMode AddressList RelayAddress 127.0.0.0/8 MaxConnections 200 MaxConnectionsPerIP 200 }`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'receiver-cluster.ts'), path, String(port), String(workers), process.env.BENCH_CLUSTER_POLICY ?? 'none'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let text = '';
        child.stdout!.on('data', (b: Buffer) => { text += b.toString(); if (text.includes('READY')) resolve(); });
        child.once('exit', (c) => reject(new Error(`receiver cluster exited ${c}`)));
      });
      for (const mode of ['a', 'b'] as const) {
        const mon = monitorTree(() => child.pid);
        const t0 = Date.now();
        await runCommand('/usr/sbin/smtp-source', [...(mode === 'b' ? ['-d'] : []), '-s', '20', '-m', String(n), '-l', '4096', '-M', 'bench.test', '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${port}`]);
        const acceptedS = (Date.now() - t0) / 1000;
        const u = mon.stop();
        const cpuS = u.cpuUserS + u.cpuSysS;
        out.push({ workers, mode, n, acceptedS, msgPerSec: n / acceptedS, cpuS, cpuMsPerMsg: (1000 * cpuS) / n });
        process.stdout.write(`receiver ${workers} worker(s), mode ${mode}: ${(n / acceptedS).toFixed(0)} msg/s accepted, ${((1000 * cpuS) / n).toFixed(2)} CPU ms/msg\n`);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null || child.signalCode !== null) r(undefined); else child.once('exit', r); });
      rmSync(d, { recursive: true, force: true });
    }
  }
  return out;
}

export const CONNECTIONS = [1, 2, 4, 8] as const;
export const SIZES = [1024, 10 * 1024, 100 * 1024, 1024 * 1024] as const;

export function messagesFor(size: number): number {
  return Math.max(20, Math.round(Math.min(1500, Math.max(40, (12 * 2 ** 20) / size)) * SCALE));
}

export interface Cell { readonly sessions: number; readonly bodyBytes: number; readonly n: number; readonly seconds: number; readonly msgPerSec: number; readonly mbPerSec: number; readonly ceilingMsgPerSec: number; readonly cpuS?: number; readonly maxRssMB?: number; readonly runs?: number; readonly msgPerSecMin?: number; readonly msgPerSecMax?: number; readonly ceilingMin?: number; readonly ceilingMax?: number; readonly cpuMsPerMsg?: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-scale-'));
  const sink = await startCountingSink();
  const cells: Cell[] = [];
  let receiver: ReceiverCell[] = [];
  // BENCH_SCALING_PART=receiver or =forwarding runs one half only.
  const part = process.env.BENCH_SCALING_PART;
  try {
    if (part !== 'forwarding') {
      try {
        receiver = await receiverCurve(dir);
      } catch (e) {
        process.stderr.write(`receiver curve failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    for (const bodyBytes of part === 'receiver' ? [] : SIZES) {
      const n = messagesFor(bodyBytes);
      for (const sessions of CONNECTIONS) {
        const shape = { n, sessions, bodyBytes };
        try {
          const runs = await alternate<Row>([
            { key: 'ceiling', run: () => timeSmtpSource(sink, shape) },
            {
              key: 'spoolgate', run: async (round) => {
                const d = join(dir, `${bodyBytes}-${sessions}-${round}`);
                try { return await timeSpoolgate(sink, d, shape, 'scaling-spoolgate'); } finally { rmSync(d, { recursive: true, force: true }); }
              },
            },
          ]);
          const sg = figure((runs.get('spoolgate') ?? []).map((r) => r.value.msgPerSec));
          const ce = figure((runs.get('ceiling') ?? []).map((r) => r.value.msgPerSec));
          const cpu = figure((runs.get('spoolgate') ?? []).map((r) => (r.value.usage ? cpuOf(r.value.usage) : NaN)));
          const rss = figure((runs.get('spoolgate') ?? []).map((r) => r.value.usage?.maxRssMB ?? NaN));
          if (sg === undefined || ce === undefined) throw new Error('no successful run');
          cells.push({
            sessions, bodyBytes, n, seconds: n / sg.median, msgPerSec: sg.median, mbPerSec: (sg.median * bodyBytes) / 2 ** 20, ceilingMsgPerSec: ce.median, cpuS: cpu?.median, maxRssMB: rss?.median,
            runs: sg.n, msgPerSecMin: sg.min, msgPerSecMax: sg.max, ceilingMin: ce.min, ceilingMax: ce.max, cpuMsPerMsg: cpu === undefined ? undefined : (1000 * cpu.median) / n,
          });
          process.stdout.write(`${bodyBytes} B × ${n}, ${sessions} conn: ${sg.median.toFixed(0)} msg/s (${sg.min.toFixed(0)}–${sg.max.toFixed(0)}; ceiling ${ce.median.toFixed(0)})\n`);
        } catch (e) {
          process.stderr.write(`cell ${bodyBytes} B / ${sessions} connections failed: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nScaling: spoolgate msg/s (MB/s of bodies) by ConnectLimit and message size; smtp-source ceiling in brackets');
  console.table(SIZES.map((size) => Object.fromEntries([['size', `${size / 1024} KB × ${messagesFor(size)}`], ...CONNECTIONS.map((s) => {
    const c = cells.find((x) => x.bodyBytes === size && x.sessions === s);
    return [`${s} conn`, c ? `${c.msgPerSec.toFixed(0)} (${c.mbPerSec.toFixed(1)} MB/s) [${c.ceilingMsgPerSec.toFixed(0)}]` : 'failed'];
  })])));
  if (receiver.length > 0) {
    console.log('\nReceiver curve: inbound acceptance by receiver processes (node:cluster, one shared port); CPU of the process tree per message');
    console.table(receiver.map((c) => ({ workers: c.workers, mode: c.mode, 'accepted msg/s': c.msgPerSec.toFixed(0), 'CPU ms/msg': c.cpuMsPerMsg.toFixed(2) })));
  }
  writeResult('scaling', { scale: SCALE, runsPerFigure: RUNS, ceiling: CEILING, cells, receiver });
}

await main();
