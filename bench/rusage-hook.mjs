// Preloaded into the spoolgate child by the benchmarks (node --import): at exit, write this
// process's own getrusage() (peak RSS, user and system CPU time) to $BENCH_RUSAGE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.resourceUsage())));
