// Benchmark 6 — scaling (issue B1): forwarding throughput of `spoolgate start --once` (as in
// benchmark 1: spool files of 10 messages → counting smtp-sink, durable checkpoint) at ConnectLimit
// 1, 2, 4, 8 and message bodies of 1 KB, 10 KB, 100 KB, 1 MB, each cell beside the smtp-source
// ceiling with the same sessions and size. The number of messages per cell is scaled to about
// 24 MB of bodies (at least 60, at most 3,000 messages; × BENCH_SCALE) to keep the whole matrix
// within a few minutes on 2 cores. Writes bench/out/scaling.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCALE, startCountingSink, writeResult } from './lib.js';
import { timeSmtpSource, timeSpoolgate } from './forwarding.js';

export const CONNECTIONS = [1, 2, 4, 8] as const;
export const SIZES = [1024, 10 * 1024, 100 * 1024, 1024 * 1024] as const;

export function messagesFor(size: number): number {
  return Math.max(20, Math.round(Math.min(3000, Math.max(60, (24 * 2 ** 20) / size)) * SCALE));
}

export interface Cell { readonly sessions: number; readonly bodyBytes: number; readonly n: number; readonly seconds: number; readonly msgPerSec: number; readonly mbPerSec: number; readonly ceilingMsgPerSec: number; readonly cpuS?: number; readonly maxRssMB?: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-scale-'));
  const sink = await startCountingSink();
  const cells: Cell[] = [];
  try {
    for (const bodyBytes of SIZES) {
      const n = messagesFor(bodyBytes);
      for (const sessions of CONNECTIONS) {
        const shape = { n, sessions, bodyBytes };
        try {
          const c = await timeSmtpSource(sink, shape);
          const a = await timeSpoolgate(sink, join(dir, `${bodyBytes}-${sessions}`), shape, 'scaling-spoolgate');
          rmSync(join(dir, `${bodyBytes}-${sessions}`), { recursive: true, force: true });
          cells.push({ sessions, bodyBytes, n, seconds: a.seconds, msgPerSec: a.msgPerSec, mbPerSec: (a.msgPerSec * bodyBytes) / 2 ** 20, ceilingMsgPerSec: c.msgPerSec, cpuS: a.usage ? a.usage.cpuUserS + a.usage.cpuSysS : undefined, maxRssMB: a.usage?.maxRssMB });
          process.stdout.write(`${bodyBytes} B × ${n}, ${sessions} conn: ${a.msgPerSec.toFixed(0)} msg/s (ceiling ${c.msgPerSec.toFixed(0)})\n`);
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
  writeResult('scaling', { cells });
}

await main();
