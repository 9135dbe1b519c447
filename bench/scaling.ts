// Benchmark 6 — scaling (issue B1): forwarding throughput of `spoolgate start --once` (as in
// benchmark 1: spool files of 10 messages → counting smtp-sink, durable checkpoint) at ConnectLimit
// 1, 2, 4, 8 and message bodies of 1 KB, 10 KB, 100 KB, 1 MB, each cell beside the smtp-source
// ceiling (bench/lib.ts measureCeiling, as benchmark 1) with the same sessions and size. Each cell
// is 3 alternating runs (ceiling, spoolgate, …; BENCH_RUNS): msg/s is their median, with min and
// max. The number of messages per cell is scaled to about 12 MB of bodies (at least 40, at most
// 1,500 messages; × BENCH_SCALE) so that 16 cells × 3 runs stay within ~5 minutes on 2 cores.
// Writes bench/out/scaling.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CEILING, RUNS, SCALE, alternate, cpuOf, figure, startCountingSink, writeResult } from './lib.js';
import type { Row } from './forwarding.js';
import { timeSmtpSource, timeSpoolgate } from './forwarding.js';

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
  try {
    for (const bodyBytes of SIZES) {
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
  writeResult('scaling', { scale: SCALE, runsPerFigure: RUNS, ceiling: CEILING, cells });
}

await main();
