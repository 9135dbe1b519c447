#!/usr/bin/env node
// `npm run bench`: builds a private compiled copy of spoolgate (bench/out/dist, so the measured
// process runs plain JavaScript like an installed one), runs each benchmark in its own process
// (forwarding, latency, inbound, pop3, scaling, parsing, pdf, queue, cluster), then writes docs/benchmarks.md and bench/charts/*.svg.
// Every peer (smtp-sink, smtp-source, Postfix, Dovecot) is started on 127.0.0.1 by the benchmark and stopped by PID.
// Each figure is the median of 3 alternating runs (BENCH_RUNS), with min and max; each benchmark profiles
// spoolgate once more (BENCH_PROFILE=0 skips it). The goal table (bench/goals.ts) is printed at the end.
// BENCH_INSTALL=1 (as root) apt-installs missing peers first. BENCH_SCALE (default 1) shrinks the message counts and the parse file for a quick run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const elapsed = [];
const step = (args, what) => {
  console.log(`\n== ${what}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.error(`${what} failed (exit ${r.status}); continuing`);
  const s = (Date.now() - t0) / 1000;
  elapsed.push(`${what} ${s.toFixed(0)} s`);
  console.log(`== ${what}: ${s.toFixed(0)} s`);
  return r.status === 0;
};

// Peers (Debian packages). Missing ones are installed when BENCH_INSTALL=1 and we are root (the
// PEERS.md commands), else named so the operator can install them; benchmarks needing them fail alone.
const PEERS = [
  { pkg: 'postfix', bins: ['/usr/sbin/smtp-sink', '/usr/sbin/smtp-source', '/usr/sbin/postfix', '/usr/sbin/sendmail'] },
  { pkg: 'dovecot-pop3d', bins: ['/usr/sbin/dovecot'] },
  { pkg: 'libc-bin', bins: ['/usr/bin/iconv'] },
  { pkg: 'time', bins: ['/usr/bin/time'] },
  { pkg: 'enscript ghostscript poppler-utils', bins: ['/usr/bin/enscript', '/usr/bin/ps2pdf', '/usr/bin/pdfinfo'] },
];
const missing = PEERS.filter((p) => p.bins.some((b) => !existsSync(b))).map((p) => p.pkg);
if (missing.length > 0) {
  if (process.env.BENCH_INSTALL === '1' && process.getuid?.() === 0) {
    const sh = (cmd) => spawnSync('sh', ['-c', cmd], { stdio: 'inherit' });
    sh('echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections');
    sh(`apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  } else {
    console.error(`missing peers: ${missing.join(' ')} — install them (as root: BENCH_INSTALL=1 npm run bench, or see /work/shared/PEERS.md)`);
  }
}

// tsc may report errors in files other people are still writing; it emits anyway.
step([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', 'bench/out/dist', '--declaration', 'false', '--sourceMap', 'false'], 'build bench/out/dist');
if (!existsSync(join(root, 'bench', 'out', 'dist', 'cli.js'))) console.error('no compiled CLI: the benchmarks fall back to tsx');
// The CLI reads its version from ../package.json beside dist/, as in an installed tree.
copyFileSync(join(root, 'package.json'), join(root, 'bench', 'out', 'package.json'));
const only = process.argv.slice(2);
for (const name of ['forwarding', 'latency', 'inbound', 'pop3', 'scaling', 'parsing', 'pdf', 'queue', 'cluster']) {
  if (only.length === 0 || only.includes(name)) step(['--import', 'tsx', `bench/${name}.ts`], name);
}
// The report prints the goal table (met / not met / not measured) last, as docs/benchmarks.md starts with it.
step(['--import', 'tsx', 'bench/report.ts'], 'report → docs/benchmarks.md');
const total = (Date.now() - started) / 1000;
console.log(`\nbench finished in ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min; BENCH_SCALE ${process.env.BENCH_SCALE ?? '1'}, ${process.env.BENCH_RUNS ?? '3'} runs per figure): ${elapsed.join(', ')}`);
