// Benchmark 2 — latency (issue B1): a running `spoolgate start` (child process) and a counting
// smtp-sink; one message at a time, 200 times: time from the start of submitToSpool (atomic,
// fsynced) until the sink has received the message. Reports p50/p99/max. Writes
// bench/out/latency.json. Three runs (a fresh instance each; BENCH_RUNS), each figure their
// median with min and max; spoolgate's CPU per message over the measured window, the sink's too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchFile, writeConfig } from '../src/testing/gateway.js';
import { submitToSpool } from '../src/spool/submit.js';
import { COMPILED, RUNS, SCALE, alternate, extraFigure, meterProcess, pct, printSeries, profileDir, startCountingSink, startSpoolgate, writeResult, type Run, type Series, type Usage } from './lib.js';

const ROUNDS = 200;

/** One run: a fresh `spoolgate start`, one warm-up message, then ROUNDS messages one at a time. */
async function once(round: number, profile: string | undefined): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-lat-'));
  const sink = await startCountingSink();
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 2 }\nRetryLimit { Count 2 Interval 1 }`);
  const gw = await startSpoolgate(['start', '--config', path], 'latency-spoolgate', undefined, { profile });
  const samples: number[] = [];
  let sgUsage: Usage | undefined;
  let sinkUsage: Usage | undefined;
  let seconds: number | undefined;
  try {
    const { text } = batchFile('LAT', 1);
    const data = Buffer.from(text, 'latin1');
    // Warm-up: the first message also waits for start-up and the first connection.
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data, attrs: { jobName: 'WARM', recordFormat: 'text', encoding: 'ISO8859-1' } });
    await sink.waitFor(1, 30_000);
    const sgMeter = meterProcess(gw.pid);
    const sinkMeter = meterProcess(sink.pid);
    const t0all = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      const want = sink.count() + 1;
      const t0 = performance.now();
      await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data, attrs: { jobName: `LAT${i}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
      while (sink.count() < want) await new Promise((r) => setImmediate(r));
      samples.push(performance.now() - t0);
    }
    seconds = (performance.now() - t0all) / 1000;
    sgUsage = sgMeter.stop();
    sinkUsage = sinkMeter.stop();
  } finally {
    const stopped = await gw.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
    // Peak RSS: the process's own over its life (the window meter only sees VmHWM so far).
    if (sgUsage && stopped.usage) sgUsage = { ...sgUsage, maxRssMB: Math.max(sgUsage.maxRssMB, stopped.usage.maxRssMB) };
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    round, seconds: seconds ?? NaN, count: ROUNDS, usage: { spoolgate: sgUsage, 'smtp-sink': sinkUsage },
    extra: { min: sorted[0] ?? NaN, p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted[sorted.length - 1] ?? NaN },
  };
}

async function main(): Promise<void> {
  const runs = await alternate<Run>([{ key: 'spoolgate', run: once }], { profiled: 'spoolgate', profileName: 'latency' });
  const series: Series[] = [{ key: 'spoolgate', name: 'spoolgate (spool submit → at the sink)', system: 'spoolgate', unit: 'msg', runs: (runs.get('spoolgate') ?? []).map((r) => r.value), note: 'one message at a time' }];
  const s = series[0];
  const f = (k: string): string => { const x = extraFigure(s, k); return x === undefined ? 'n/a' : `${x.median.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})`; };
  console.log(`\nLatency: spool submit → smtp-sink has it, ${ROUNDS} messages one at a time; ${RUNS} runs, median (min–max)`);
  console.table([{ min: f('min'), p50: f('p50'), p90: f('p90'), p99: f('p99'), max: f('max'), unit: 'ms' }]);
  printSeries(series);
  writeResult('latency', { scale: SCALE, compiled: COMPILED, runsPerFigure: RUNS, rounds: ROUNDS, series, profile: profileDir('latency') });
}

await main();
