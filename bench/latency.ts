// Benchmark 2 — latency (issue B1): a running `spoolgate start` (child process) and a counting
// smtp-sink; one message at a time, 200 times: time from the start of submitToSpool (atomic,
// fsynced) until the sink has received the message. Reports p50/p99/max. Writes
// bench/out/latency.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { batchFile, writeConfig } from '../src/testing/gateway.js';
import { submitToSpool } from '../src/spool/submit.js';
import { pct, spoolgateArgs, startCountingSink, stopChild, writeResult } from './lib.js';

const ROUNDS = 200;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-lat-'));
  const sink = await startCountingSink();
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 2 }\nRetryLimit { Count 2 Interval 1 }`);
  const gw = spawn(process.execPath, [...spoolgateArgs(), 'start', '--config', path], { stdio: ['ignore', 'ignore', 'ignore'] });
  const samples: number[] = [];
  try {
    const { text } = batchFile('LAT', 1);
    const data = Buffer.from(text, 'latin1');
    // Warm-up: the first message also waits for start-up and the first connection.
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data, attrs: { jobName: 'WARM', recordFormat: 'text', encoding: 'ISO8859-1' } });
    await sink.waitFor(1, 30_000);
    for (let i = 0; i < ROUNDS; i++) {
      const want = sink.count() + 1;
      const t0 = performance.now();
      await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data, attrs: { jobName: `LAT${i}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
      while (sink.count() < want) await new Promise((r) => setImmediate(r));
      samples.push(performance.now() - t0);
    }
  } finally {
    await stopChild(gw);
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const r = { rounds: ROUNDS, p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, min: sorted[0] ?? NaN };
  console.log(`\nLatency: spool submit → smtp-sink has it, ${ROUNDS} messages one at a time`);
  console.table([{ min: r.min.toFixed(1), p50: r.p50.toFixed(1), p90: r.p90.toFixed(1), p99: r.p99.toFixed(1), max: r.max.toFixed(1), unit: 'ms' }]);
  writeResult('latency', r);
}

await main();
