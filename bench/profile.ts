// Where the time goes: summarizes the V8 CPU profiles (node --cpu-prof) that a benchmark's extra
// profiled run of spoolgate wrote into bench/out/prof/<benchmark>/ (one file per thread): self
// time per function (top N) and per area (spoolgate's folders under dist/, node internals, native
// bindings, GC, packages), as shares of the busy samples (idle left out), over all threads.
// bench/report.ts puts the summary into docs/benchmarks.md. CLI: node --import tsx bench/profile.ts DIR
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: CallFrame; readonly children?: readonly number[] }
interface CpuProfile { readonly nodes: readonly ProfileNode[]; readonly samples: readonly number[]; readonly startTime: number; readonly endTime: number }

export interface ProfileSummary {
  readonly files: number;
  /** Seconds of wall time covered by the main thread's profile. */
  readonly seconds: number;
  readonly samples: number;
  readonly busySamples: number;
  readonly top: readonly { readonly fn: string; readonly where: string; readonly pct: number }[];
  readonly areas: readonly { readonly area: string; readonly pct: number }[];
}

/** Where a frame belongs: "spoolgate <folder>", "node internals", "native", "GC", a package name. */
export function areaOf(f: CallFrame): string {
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)') return 'V8 / native (program)';
  if (f.url === '') return 'native bindings';
  if (f.url.startsWith('node:')) return 'node internals';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.url);
  if (pkg !== null) return `package ${pkg[1]}`;
  const own = /\/(?:dist|src)\/([^/]+)\//.exec(f.url);
  if (own !== null) return `spoolgate ${own[1]}/`;
  return 'other';
}

const where = (f: CallFrame): string => (f.url === '' ? '' : `${f.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/')}:${f.lineNumber + 1}`);

export function summarize(dir: string, topN = 15): ProfileSummary | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) return undefined;
  const self = new Map<string, { fn: string; where: string; n: number }>();
  const areas = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let seconds = 0;
  for (const file of files) {
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    // File names are CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
    if (file.split('.')[4] === '0') seconds = (prof.endTime - prof.startTime) / 1e6;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    for (const id of prof.samples) {
      samples++;
      const f = byId.get(id)?.callFrame;
      if (f === undefined || f.functionName === '(idle)') continue;
      busy++;
      const key = `${f.functionName}|${f.url}|${f.lineNumber}`;
      const e = self.get(key) ?? { fn: f.functionName || '(anonymous)', where: where(f), n: 0 };
      e.n++;
      self.set(key, e);
      const a = areaOf(f);
      areas.set(a, (areas.get(a) ?? 0) + 1);
    }
  }
  const pct = (n: number): number => (busy === 0 ? 0 : (100 * n) / busy);
  return {
    files: files.length, seconds, samples, busySamples: busy,
    top: [...self.values()].sort((a, b) => b.n - a.n).slice(0, topN).map((e) => ({ fn: e.fn, where: e.where, pct: pct(e.n) })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, n]) => ({ area, pct: pct(n) })),
  };
}

/** Markdown lines: the areas in one line, then the top functions as a table. */
export function profileMarkdown(p: ProfileSummary): string[] {
  return [
    `${p.busySamples} busy samples of ${p.samples} (${p.files} thread${p.files === 1 ? '' : 's'}, main thread ${p.seconds.toFixed(1)} s); self time by area: ${p.areas.filter((a) => a.pct >= 1).map((a) => `${a.area} ${a.pct.toFixed(0)} %`).join(', ')}.`, '',
    '| self time | function | where |', '|---:|---|---|',
    ...p.top.map((t) => `| ${t.pct.toFixed(1)} % | \`${t.fn}\` | ${t.where} |`), '',
  ];
}

if (process.argv[1] === import.meta.filename) {
  const s = summarize(process.argv[2] ?? '.');
  console.log(s === undefined ? 'no .cpuprofile files there' : profileMarkdown(s).join('\n'));
}
