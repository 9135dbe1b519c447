// Shared pieces of the benchmarks: a counting smtp-sink (no dump files, so the sink costs as
// little as possible), spoolgate as a child process with its peak RSS and CPU time, CPU and RSS
// of every other process (peers through /proc, short commands through GNU time), the one
// ceiling definition (smtp-source -d), repeated alternating runs summarized as median/min/max,
// CPU profiles of the measured spoolgate process, machine facts, and results written as JSON
// under bench/out/ for bench/report.ts.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, waitForPort } from '../src/testing/postfix.js';
import { cpuOf, cpuPerUnit, mapFigure, peakRss, rate, type Figure, type Series, type System, type Usage } from './stats.js';

export * from './stats.js';

export const OUT = join(import.meta.dirname, 'out');
export const SCALE = Number(process.env.BENCH_SCALE ?? '1');
/** Measured runs per figure (alternating between the contenders); BENCH_RUNS overrides the 3. */
export const RUNS = Math.max(1, Math.round(Number(process.env.BENCH_RUNS ?? '3')));
/** BENCH_PROFILE=0 skips the extra --cpu-prof run of spoolgate that each benchmark makes. */
export const PROFILE = process.env.BENCH_PROFILE !== '0';

export interface CountingSink {
  readonly port: number;
  readonly pid: number;
  /** Messages received so far (smtp-sink -c counter "mesg=N"). */
  count(): number;
  waitFor(n: number, ms: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Children a benchmark started and has not stopped yet: killed when the benchmark exits, also on
 * SIGTERM/SIGINT (a timeout or Ctrl-C), so no sink or spoolgate is left behind.
 */
const live = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}
process.once('exit', () => { for (const c of live) c.kill('SIGTERM'); });
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)));

/** smtp-sink -c on 127.0.0.1: counts messages on its stdout, stores nothing. */
export async function startCountingSink(extraArgs: readonly string[] = []): Promise<CountingSink> {
  const port = await freePort();
  const child: ChildProcess = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', '-c', ...extraArgs, `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
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


/**
 * The compiled CLI (bench/run-all.mjs builds it into bench/out/dist), else the tsx source.
 * BENCH_DIST names another compiled tree (A/B runs of two builds).
 */
export function spoolgateArgs(): string[] {
  const hook = join(import.meta.dirname, 'rusage-hook.mjs');
  const built = join(process.env.BENCH_DIST ?? join(OUT, 'dist'), 'cli.js');
  return existsSync(built) ? ['--import', hook, built] : ['--import', hook, '--import', 'tsx', join(import.meta.dirname, '..', 'src', 'cli.ts')];
}

/** Whether the measured spoolgate runs compiled (recorded in every result). */
export const COMPILED = existsSync(join(process.env.BENCH_DIST ?? join(OUT, 'dist'), 'cli.js'));

/** The directory that `--cpu-prof` of benchmark `name` writes to (bench/out/prof/<name>). */
export const profileDir = (name: string): string => join(OUT, 'prof', name);

/** Node options for the measured process: BENCH_NODE_ARGS, plus --cpu-prof into profileDir(profile) (emptied first). */
export function nodeArgsFor(profile: string | undefined): string[] {
  const args = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
  if (profile === undefined) return args;
  const dir = profileDir(profile);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return [...args, '--cpu-prof', `--cpu-prof-dir=${dir}`];
}

interface HookUsage { maxRSS: number; userCPUTime: number; systemCPUTime: number; childCpuS?: number }

/**
 * The child's own getrusage() written by the hook at exit (CPU of its waited-for children
 * added), combined with a /proc sample of its process tree: peak RSS = the larger of the
 * process's own peak and the tree's sampled sum (worker processes), CPU = the larger of the two.
 */
function combine(usageFile: string, tree: Usage): Usage | undefined {
  try {
    const ru = JSON.parse(readFileSync(usageFile, 'utf8')) as HookUsage;
    const user = ru.userCPUTime / 1e6;
    const sys = ru.systemCPUTime / 1e6 + (ru.childCpuS ?? 0);
    const extra = Math.max(0, cpuOf(tree) - (user + sys));
    return { maxRssMB: Math.max(ru.maxRSS / 1024, tree.maxRssMB), cpuUserS: user, cpuSysS: sys + extra };
  } catch {
    return undefined; // killed before it could write
  }
}

interface SpoolgateChild { readonly child: ChildProcess; readonly exited: Promise<number | null>; stderr(): string; usage(): Usage | undefined }

function spawnSpoolgate(args: readonly string[], tag: string, opts: SpoolgateOptions): SpoolgateChild {
  mkdirSync(OUT, { recursive: true });
  const usageFile = join(OUT, `${tag}.rusage.json`);
  rmSync(usageFile, { force: true });
  // BENCH_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=bench/out/prof', to profile the measured process.
  const child = spawn(process.execPath, [...nodeArgsFor(opts.profile), ...spoolgateArgs(), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BENCH_RUSAGE: usageFile } });
  track(child);
  const mon = monitorTree(() => child.pid);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let tree: Usage | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => { tree = mon.stop(); r(c); }));
  return { child, exited, stderr: () => stderr, usage: () => combine(usageFile, tree ?? mon.stop()) };
}

export interface SpoolgateOptions {
  /** Write a --cpu-prof of this process into profileDir(profile). */
  readonly profile?: string;
}

/** Runs `spoolgate start --config F --once` (or other args) and returns its exit and resource use. */
export async function runSpoolgate(args: readonly string[], tag: string, opts: SpoolgateOptions = {}): Promise<{ code: number | null; usage: Usage; startedAt: number; endedAt: number; stderr: string }> {
  const startedAt = Date.now();
  const sg = spawnSpoolgate(args, tag, opts);
  const code = await sg.exited;
  const endedAt = Date.now();
  const usage = sg.usage();
  if (usage === undefined) throw new Error(`spoolgate ${args.join(' ')} exited ${code} without its resource use: ${sg.stderr()}`);
  return { code, startedAt, endedAt, stderr: sg.stderr(), usage };
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

interface ProcStat { readonly pid: number; readonly cpuTicks: number; readonly rssPages: number }

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 (utime, stime, cutime, cstime: waited-for children), 24 (rss).
    return { pid, cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssPages: Number(f[21]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'latin1').split(' ')) if (c.trim() !== '') out.push(Number(c));
    } catch { /* task ended */ }
  }
  return out;
}

/**
 * The process tree under root, walked through /proc/PID/task/TID/children (a few files per
 * member: scanning all of /proc costs ~30 ms on this loaded machine, too much at 10 Hz).
 */
function treeOf(root: number): ProcStat[] {
  const tree: ProcStat[] = [];
  const todo = [root];
  while (todo.length > 0 && tree.length < 1000) {
    const pid = todo.pop()!;
    const st = readStat(pid);
    if (st === undefined) continue;
    tree.push(st);
    todo.push(...childrenOf(pid));
  }
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
    const tree = treeOf(r);
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
  timer.unref(); // never what keeps a benchmark process alive
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
export async function startSpoolgate(args: readonly string[], tag: string, port?: number, opts: SpoolgateOptions = {}): Promise<RunningSpoolgate> {
  const sg = spawnSpoolgate(args, tag, opts);
  const stop = async (): Promise<{ code: number | null; usage: Usage | undefined; stderr: string }> => {
    if (sg.child.exitCode === null && sg.child.signalCode === null) sg.child.kill('SIGTERM');
    const code = await sg.exited;
    return { code, usage: sg.usage(), stderr: sg.stderr() };
  };
  if (port !== undefined) {
    try {
      await Promise.race([waitForPort(port, 20_000), sg.exited.then((c) => { throw new Error(`spoolgate exited ${c}: ${sg.stderr()}`); })]);
    } catch (e) {
      await stop();
      throw e;
    }
  }
  return { pid: sg.child.pid ?? 0, stop };
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

// ---- resource use of processes that are not spoolgate ----------------------------------------

/** CPU seconds (utime+stime, children included) and the peak RSS (VmHWM) of one running process. */
function procNow(pid: number): { cpuS: number; hwmMB: number } | undefined {
  const st = readStat(pid);
  if (st === undefined) return undefined;
  let hwmKB = 0;
  try { hwmKB = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0); } catch { /* exited */ }
  return { cpuS: st.cpuTicks / 100, hwmMB: hwmKB / 1024 };
}

/**
 * CPU of a long-running single process (the counting smtp-sink) over a window: the delta of its
 * /proc CPU time between start and stop; peak RSS = its VmHWM (the peak since it started).
 */
export function meterProcess(pid: number): { stop(): Usage } {
  const first = procNow(pid);
  return {
    stop() {
      const last = procNow(pid);
      return { maxRssMB: last?.hwmMB ?? first?.hwmMB ?? 0, cpuUserS: Math.max(0, (last?.cpuS ?? 0) - (first?.cpuS ?? 0)), cpuSysS: 0 };
    },
  };
}

/**
 * Runs a command to completion under GNU time (/usr/bin/time): wall seconds, and the command's
 * CPU (user, sys, its waited-for children included) and peak RSS from wait4() (for `sh -c` with a
 * pipeline: the largest single process). Rejects on a non-zero exit.
 */
export async function runTimed(cmd: string, args: readonly string[], input?: string): Promise<{ seconds: number; usage: Usage }> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `time.${process.pid}.${Math.random().toString(36).slice(2)}.json`);
  const t0 = process.hrtime.bigint();
  await runCommand('/usr/bin/time', ['-f', '{"user":%U,"sys":%S,"maxRssKB":%M}', '-o', file, cmd, ...args], input);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const t = JSON.parse(readFileSync(file, 'utf8')) as { user: number; sys: number; maxRssKB: number };
  rmSync(file, { force: true });
  return { seconds, usage: { maxRssMB: t.maxRssKB / 1024, cpuUserS: t.user, cpuSysS: t.sys } };
}

// ---- the ceiling -----------------------------------------------------------------------------

export interface CeilingShape { readonly n: number; readonly sessions: number; readonly bodyBytes: number }

/** How the ceiling is defined (one sentence for the report and the printouts). */
export const CEILING = 'smtp-source -d (sessions stay open: -m N messages over -s S sessions, -l B bytes each) straight into the same counting smtp-sink, timed from its start until the sink has counted all N';

/**
 * The ceiling of benchmarks 1 and 6: smtp-source -d with the same number of messages, sessions and
 * message size straight into the sink (no disk, no parsing): what the loopback, the sink and the
 * SMTP dialogue allow on this machine. Usage: smtp-source's own (GNU time) and the sink's.
 */
export async function measureCeiling(sink: CountingSink, shape: CeilingShape): Promise<{ seconds: number; usage: Partial<Record<System, Usage>> }> {
  const before = sink.count();
  const meter = meterProcess(sink.pid);
  const t0 = Date.now();
  const src = await runTimed('/usr/sbin/smtp-source', ['-d', '-s', String(shape.sessions), '-m', String(shape.n), '-l', String(shape.bodyBytes), '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${sink.port}`]);
  await sink.waitFor(before + shape.n, 120_000);
  const seconds = (Date.now() - t0) / 1000;
  return { seconds, usage: { 'smtp-source': src.usage, 'smtp-sink': meter.stop() } };
}

// ---- repeated, alternating runs ---------------------------------------------------------------

export interface Contender<T> {
  readonly key: string;
  /** One measured run; `profile` is set on the extra profiled run only. */
  run(round: number, profile: string | undefined): Promise<T>;
}

/**
 * Runs the contenders in turn, `rounds` times (A B A B A B, not A A A B B B, so a change of the
 * machine's load hits all of them alike), then — unless BENCH_PROFILE=0 — `profiled` once more
 * with --cpu-prof into profileDir(profileName) (not counted). A failed run is reported on stderr
 * and left out. Returns the results per contender key, in round order.
 */
export async function alternate<T>(contenders: readonly Contender<T>[], opts: { rounds?: number; profiled?: string; profileName?: string } = {}): Promise<Map<string, { round: number; value: T }[]>> {
  const rounds = opts.rounds ?? RUNS;
  const out = new Map<string, { round: number; value: T }[]>(contenders.map((c) => [c.key, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const c of contenders) {
      const t0 = Date.now();
      try {
        out.get(c.key)!.push({ round, value: await c.run(round, undefined) });
        process.stdout.write(`  round ${round}/${rounds} ${c.key}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (e) {
        process.stderr.write(`  round ${round}/${rounds} ${c.key} failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  }
  const p = contenders.find((c) => c.key === opts.profiled);
  if (PROFILE && p !== undefined && opts.profileName !== undefined) {
    try {
      await p.run(rounds + 1, opts.profileName);
      process.stdout.write(`  profiled run of ${p.key}: ${profileDir(opts.profileName)}\n`);
    } catch (e) {
      process.stderr.write(`  profiled run of ${p.key} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  return out;
}

/** Console lines for a benchmark's series: rate median (min–max) and, per process, CPU s/unit and peak RSS. */
export function printSeries(series: readonly Series[], secondsKey?: string): void {
  const f = (x: Figure | undefined, d = 0): string => (x === undefined ? 'n/a' : `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`);
  console.table(series.flatMap((s) => {
    const systems = [...new Set(s.runs.flatMap((r) => Object.keys(r.usage) as System[]))];
    return systems.map((sys, i) => ({
      run: i === 0 ? s.name : '',
      [`${s.unit}/s median (min–max)`]: i === 0 ? f(rate(s, secondsKey), s.unit === 'MB' ? 1 : 0) : '',
      runs: i === 0 ? s.runs.length : '',
      process: sys,
      [`CPU ms/${s.unit}`]: f(cpuPerUnit(s, sys) && mapFigure(cpuPerUnit(s, sys)!, (x) => x * 1000), 3),
      'peak RSS MB': f(peakRss(s, sys)),
    }));
  }));
}

// ---- a benchmark's own code, compiled --------------------------------------------------------

/**
 * Node arguments that run bench/<file>.ts without tsx: the file and its bench/ imports bundled by
 * esbuild into bench/out/<name>.child.mjs, every import of src/ pointing at the compiled
 * bench/out/dist (BENCH_DIST) file when it exists (the measured code is the tsc build, as in an
 * installed spoolgate), packages left to node_modules. Falls back to tsx when there is no build.
 */
export async function compiledScript(file: string): Promise<string[]> {
  const dist = resolvePath(process.env.BENCH_DIST ?? join(OUT, 'dist'));
  if (!existsSync(join(dist, 'cli.js'))) return ['--import', 'tsx', file];
  const src = resolvePath(import.meta.dirname, '..', 'src');
  const esbuild = await import('esbuild');
  const outfile = join(OUT, `${relative(import.meta.dirname, file).replace(/\.ts$/, '').replace(/[/\\]/g, '_')}.child.mjs`);
  await esbuild.build({
    entryPoints: [file], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, packages: 'external', logLevel: 'error',
    plugins: [{
      name: 'src-to-dist',
      setup(b) {
        b.onResolve({ filter: /\/src\// }, (a) => {
          const abs = resolvePath(a.resolveDir, a.path);
          if (!abs.startsWith(src + '/')) return undefined;
          const target = join(dist, relative(src, abs)).replace(/\.ts$/, '.js');
          return existsSync(target) ? { path: pathToFileURL(target).href, external: true } : undefined;
        });
      },
    }],
  });
  return [outfile];
}
