// Shared pieces of the benchmarks: a counting smtp-sink (no dump files, so the sink costs as
// little as possible), spoolgate as a child process with its peak RSS and CPU time, machine
// facts, and results written as JSON under bench/out/ for bench/report.ts.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../src/testing/postfix.js';

export const OUT = join(import.meta.dirname, 'out');
export const SCALE = Number(process.env.BENCH_SCALE ?? '1');

export interface CountingSink {
  readonly port: number;
  readonly pid: number;
  /** Messages received so far (smtp-sink -c counter "mesg=N"). */
  count(): number;
  waitFor(n: number, ms: number): Promise<number>;
  stop(): Promise<void>;
}

/** smtp-sink -c on 127.0.0.1: counts messages on its stdout, stores nothing. */
export async function startCountingSink(extraArgs: readonly string[] = []): Promise<CountingSink> {
  const port = await freePort();
  const child: ChildProcess = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', '-c', ...extraArgs, `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let last = 0;
  let tail = '';
  child.stdout?.on('data', (d: Buffer) => {
    tail = (tail + d.toString('latin1')).slice(-200);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    const m = all[all.length - 1];
    if (m !== undefined) last = Number(m[1]);
  });
  await waitForPort(port);
  return {
    port,
    pid: child.pid ?? 0,
    count: () => last,
    async waitFor(n, ms) {
      const until = Date.now() + ms;
      while (last < n) {
        if (Date.now() > until) throw new Error(`smtp-sink has ${last} of ${n} messages after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return Date.now();
    },
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export interface Usage { readonly maxRssMB: number; readonly cpuUserS: number; readonly cpuSysS: number }

/**
 * The compiled CLI (bench/run-all.mjs builds it into bench/out/dist), else the tsx source.
 * BENCH_DIST names another compiled tree (A/B runs of two builds).
 */
export function spoolgateArgs(): string[] {
  const hook = join(import.meta.dirname, 'rusage-hook.mjs');
  const built = join(process.env.BENCH_DIST ?? join(OUT, 'dist'), 'cli.js');
  return existsSync(built) ? ['--import', hook, built] : ['--import', hook, '--import', 'tsx', join(import.meta.dirname, '..', 'src', 'cli.ts')];
}

/** Runs `spoolgate start --config F --once` (or other args) and returns its exit and resource use. */
export async function runSpoolgate(args: readonly string[], tag: string): Promise<{ code: number | null; usage: Usage; startedAt: number; endedAt: number; stderr: string }> {
  mkdirSync(OUT, { recursive: true });
  const usageFile = join(OUT, `${tag}.rusage.json`);
  const startedAt = Date.now();
  // BENCH_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=bench/out/prof', to profile the measured process.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...spoolgateArgs(), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BENCH_RUSAGE: usageFile } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const endedAt = Date.now();
  const ru = JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRSS: number; userCPUTime: number; systemCPUTime: number };
  return { code, startedAt, endedAt, stderr, usage: { maxRssMB: ru.maxRSS / 1024, cpuUserS: ru.userCPUTime / 1e6, cpuSysS: ru.systemCPUTime / 1e6 } };
}

function sh(cmd: string, args: readonly string[]): string {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'unknown'; }
}

export function machine(): Record<string, string> {
  const df = sh('df', ['-hT', '/tmp']).split('\n')[1]?.split(/\s+/) ?? [];
  return {
    date: new Date().toISOString(),
    cpu: `${sh('nproc', [])} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    disk: `/tmp on ${df[0] ?? '?'} (${df[1] ?? '?'}, ${df[2] ?? '?'} size, ${df[4] ?? '?'} free)`,
    kernel: sh('uname', ['-r']),
    node: process.version,
    postfix: sh('postconf', ['-dh', 'mail_version']),
  };
}

export function writeResult(name: string, result: unknown): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify(result, null, 2));
}

export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface ProcStat { readonly pid: number; readonly ppid: number; readonly cpuTicks: number; readonly rssPages: number }

function procTable(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // Fields 4 (ppid), 14–17 (utime, stime, cutime, cstime: waited-for children), 24 (rss).
      out.push({ pid: Number(name), ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssPages: Number(f[21]) });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function treeOf(root: number, table: readonly ProcStat[]): ProcStat[] {
  const kids = new Map<number, ProcStat[]>();
  for (const p of table) { const k = kids.get(p.ppid) ?? []; k.push(p); kids.set(p.ppid, k); }
  const self = table.find((p) => p.pid === root);
  if (self === undefined) return [];
  const tree = [self];
  for (let i = 0; i < tree.length; i++) tree.push(...(kids.get(tree[i]!.pid) ?? []));
  return tree;
}

export interface TreeMonitor { stop(): Usage & { readonly samples: number } }

/**
 * CPU time and peak RSS of a peer that is not our child (Postfix master and its daemons, Dovecot
 * and its login/pop3 processes): polls /proc every `everyMs` for the process tree under root()
 * (a function, because the root may start later, e.g. Postfix's master). CPU = utime+stime+
 * cutime+cstime summed over the live tree (exited children are counted through their waiting
 * parent), as a delta from the first sample; peak RSS = the largest sum of the tree's RSS seen in
 * one sample (so short-lived processes between samples can be missed).
 */
export function monitorTree(root: () => number | undefined, everyMs = 100): TreeMonitor {
  const tick = 100; // USER_HZ (CLK_TCK) on Linux
  const page = 4096;
  let first: number | undefined;
  let lastCpu = 0;
  let peak = 0;
  let samples = 0;
  const sample = (): void => {
    const r = root();
    if (r === undefined) return;
    const tree = treeOf(r, procTable());
    if (tree.length === 0) return;
    const cpu = tree.reduce((s, p) => s + p.cpuTicks, 0);
    first ??= cpu;
    lastCpu = Math.max(lastCpu, cpu);
    peak = Math.max(peak, tree.reduce((s, p) => s + p.rssPages, 0));
    samples++;
  };
  sample();
  first ??= 0; // the root starts later: all of its CPU time falls in the window
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      const cpuS = (lastCpu - (first ?? lastCpu)) / tick;
      return { maxRssMB: (peak * page) / 2 ** 20, cpuUserS: cpuS, cpuSysS: 0, samples };
    },
  };
}

export interface RunningSpoolgate {
  readonly pid: number;
  /** SIGTERM, wait for the exit, read the child's own getrusage(). */
  stop(): Promise<{ code: number | null; usage: Usage | undefined; stderr: string }>;
}

/** `spoolgate start --config F` (long-running) as a child with the rusage hook; waits for `port` if given. */
export async function startSpoolgate(args: readonly string[], tag: string, port?: number): Promise<RunningSpoolgate> {
  mkdirSync(OUT, { recursive: true });
  const usageFile = join(OUT, `${tag}.rusage.json`);
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...spoolgateArgs(), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BENCH_RUSAGE: usageFile } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const stop = async (): Promise<{ code: number | null; usage: Usage | undefined; stderr: string }> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    let usage: Usage | undefined;
    try {
      const ru = JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRSS: number; userCPUTime: number; systemCPUTime: number };
      usage = { maxRssMB: ru.maxRSS / 1024, cpuUserS: ru.userCPUTime / 1e6, cpuSysS: ru.systemCPUTime / 1e6 };
    } catch { /* killed before it could write */ }
    return { code, usage, stderr };
  };
  if (port !== undefined) {
    try {
      await Promise.race([waitForPort(port, 20_000), exited.then((c) => { throw new Error(`spoolgate exited ${c}: ${stderr}`); })]);
    } catch (e) {
      await stop();
      throw e;
    }
  }
  return { pid: child.pid ?? 0, stop };
}

/** Runs a command without blocking the event loop, with `input` on stdin if given; rejects on a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
    if (input !== undefined) p.stdin?.end(input);
  });
}

/** The pid of the oldest process whose command line contains `needle` (a peer we did not spawn directly). */
export function pidByCmdline(needle: string): number | undefined {
  let best: number | undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0/g, ' ').includes(needle) && (best === undefined || Number(name) < best)) best = Number(name);
    } catch { /* exited */ }
  }
  return best;
}
