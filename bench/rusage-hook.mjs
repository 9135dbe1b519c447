// Preloaded into the spoolgate child by the benchmarks (node --import): at exit, write this
// process's own getrusage() (peak RSS, user and system CPU time) to $BENCH_RUSAGE, with the CPU
// seconds of its waited-for child processes (cutime + cstime of /proc/self/stat) as childCpuS.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_RUSAGE;
// Only the measured process's main thread writes (not worker threads, not cluster workers).
if (file && isMainThread && process.env.NODE_UNIQUE_ID === undefined) {
  process.on('exit', () => {
    let childCpuS = 0;
    try {
      const stat = readFileSync('/proc/self/stat', 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      childCpuS = (Number(f[13]) + Number(f[14])) / 100; // USER_HZ
    } catch { /* not Linux */ }
    writeFileSync(file, JSON.stringify({ ...process.resourceUsage(), childCpuS }));
  });
}
