// Profiling helper (not part of `npm run bench`): runs only spoolgate's side of benchmark 1
// (a: spool → smtp-sink) once. With BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" the
// measured process writes a .cpuprofile; `node bench/profile-top.mjs DIR/*.cpuprofile` summarizes it.
// Usage: node --import tsx bench/profile-forwarding.ts [messages] [sessions] [bodyBytes]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCountingSink } from './lib.js';
import { timeSpoolgate } from './forwarding.js';

const [n = 10_000, sessions = 10, bodyBytes = 4096] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-prof-'));
const sink = await startCountingSink();
try {
  const r = await timeSpoolgate(sink, dir, { n, sessions, bodyBytes }, 'profile-spoolgate');
  console.log(`${n} messages: ${r.seconds.toFixed(2)} s, ${r.msgPerSec.toFixed(0)} msg/s, CPU ${(r.usage!.cpuUserS + r.usage!.cpuSysS).toFixed(2)} s, peak RSS ${r.usage!.maxRssMB.toFixed(0)} MB`);
} finally {
  await sink.stop();
  rmSync(dir, { recursive: true, force: true });
}
