// Writes docs/benchmarks.md and one SVG chart per benchmark (bench/charts/) from the JSON results
// in bench/out/ and the facts of this machine, and prints the goal table (bench/goals.ts) with
// "met" / "not met" / "not measured" per row — the same table stands at the top of the page.
// Every figure is the median of the alternating runs with min and max; every system has one
// colour in every chart; every benchmark lists CPU per unit and peak RSS of every process; each
// benchmark's section ends with where spoolgate's time goes (its --cpu-prof run, summarized by
// bench/profile.ts, and the perf notes in docs/perf/ when they exist).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, SCALE, machine, profileDir, CEILING } from './lib.js';
import { cpuPerUnit, mapFigure, peakRss, rate, ratio, extraFigure, type Figure, type Series, type System } from './stats.js';
import { evaluateAll, goalTable, num, type Results } from './goals.js';
import { profileMarkdown, summarize } from './profile.js';

const ROOT = join(import.meta.dirname, '..');
const CHARTS = join(import.meta.dirname, 'charts');

/** One colour per system, the same in every chart. */
export const COLOURS: Readonly<Record<System, string>> = {
  spoolgate: '#d9480f',
  postfix: '#1c7ed6',
  dovecot: '#2b8a3e',
  iconv: '#7048e8',
  'smtp-source': '#868e96',
  'smtp-sink': '#495057',
  'enscript|ps2pdf': '#0c8599',
};

interface Bar { readonly label: string; readonly value: Figure; readonly system: System; readonly light?: boolean }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart as a standalone SVG: one bar per row (the median), a whisker from min to max, the median printed. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const width = 760;
  const labelW = 300;
  const rowH = 30;
  const top = 44;
  const legend = [...new Set(bars.map((b) => b.system))];
  const height = top + bars.length * rowH + 24 + 18;
  const max = Math.max(...bars.map((b) => b.value.max), 1e-9);
  const span = width - labelW - 110;
  const x = (v: number): number => labelW + (span * v) / max;
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const w = Math.max(1, x(b.value.median) - labelW);
    const c = COLOURS[b.system];
    return `  <text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>\n` +
      `  <rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${c}"${b.light ? ' fill-opacity="0.45"' : ''}/>\n` +
      (b.value.min !== b.value.max ? `  <line x1="${x(b.value.min).toFixed(1)}" x2="${x(b.value.max).toFixed(1)}" y1="${y + 15}" y2="${y + 15}" stroke="#000" stroke-width="1.5"/>\n` +
        `  <line x1="${x(b.value.min).toFixed(1)}" x2="${x(b.value.min).toFixed(1)}" y1="${y + 10}" y2="${y + 20}" stroke="#000"/>\n  <line x1="${x(b.value.max).toFixed(1)}" x2="${x(b.value.max).toFixed(1)}" y1="${y + 10}" y2="${y + 20}" stroke="#000"/>\n` : '') +
      `  <text x="${(x(b.value.max) + 6).toFixed(1)}" y="${y + 18}">${num(b.value.median)} ${esc(unit)}</text>`;
  });
  const ly = top + bars.length * rowH + 20;
  const keys = legend.map((sys, i) => `  <rect x="${labelW + i * 120}" y="${ly - 10}" width="12" height="12" fill="${COLOURS[sys]}"/><text x="${labelW + i * 120 + 16}" y="${ly}">${esc(sys)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">\n` +
    `  <rect width="100%" height="100%" fill="#ffffff"/>\n  <text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>\n${rows.join('\n')}\n` +
    `  <text x="12" y="${ly}" font-size="11">bar: median of the runs; whisker: min–max</text>\n${keys.join('\n')}\n</svg>\n`;
}

interface LineSeries { readonly label: string; readonly color: string; readonly dashed?: boolean; readonly points: readonly { x: string; y: number }[] }

/** A line chart with a log-scale y axis (values spanning orders of magnitude), categorical x. */
export function lineChart(title: string, yUnit: string, xs: readonly string[], series: readonly LineSeries[]): string {
  const width = 720;
  const height = 420;
  const left = 70;
  const right = 190;
  const top = 44;
  const bottom = 50;
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ys, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys, 10)));
  const px = (i: number): number => left + ((width - left - right) * (i + 0.5)) / xs.length;
  const py = (v: number): number => top + (height - top - bottom) * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [];
  for (let d = lo; d <= hi; d *= 10) {
    out.push(`  <line x1="${left}" x2="${width - right}" y1="${py(d).toFixed(1)}" y2="${py(d).toFixed(1)}" stroke="#dddddd"/>`,
      `  <text x="${left - 6}" y="${(py(d) + 4).toFixed(1)}" text-anchor="end">${d >= 1000 ? `${d / 1000}k` : d}</text>`);
  }
  xs.forEach((x, i) => out.push(`  <text x="${px(i).toFixed(1)}" y="${height - bottom + 20}" text-anchor="middle">${esc(x)}</text>`));
  series.forEach((s, k) => {
    const pts = s.points.map((p) => [xs.indexOf(p.x), p.y] as const).filter(([i, y]) => i >= 0 && y > 0);
    out.push(`  <polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map(([i, y]) => `${px(i).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [i, y] of pts) out.push(`  <circle cx="${px(i).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = top + 10 + k * 20;
    out.push(`  <line x1="${width - right + 14}" x2="${width - right + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `  <text x="${width - right + 46}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n` +
    `  <rect width="100%" height="100%" fill="#ffffff"/>\n  <text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>\n` +
    `  <text x="${((left + width - right) / 2).toFixed(0)}" y="${height - 10}" text-anchor="middle">connections (ConnectLimit / smtp-source -s)</text>\n` +
    `  <text x="16" y="${(top + (height - top - bottom) / 2).toFixed(0)}" transform="rotate(-90 16 ${(top + (height - top - bottom) / 2).toFixed(0)})" text-anchor="middle">${esc(yUnit)} (log scale)</text>\n` +
    `${out.join('\n')}\n</svg>\n`;
}

/** The durability settings of every contender (numbers without fsync are not comparable). */
const DURABILITY = [
    '## Durability (fsync) settings', '',
    '- spoolgate spool submission: `submitToSpool` writes `data` and `attrs.json`, fsyncs them and the directory, then renames (atomic, durable).',
    '- spoolgate checkpoint: SQLite (better-sqlite3) WAL with `synchronous = FULL`, committed by a worker thread; writes queue while a commit is in flight and go in the next transaction (group commit); a message is recorded finished right after the target\'s final reply, and the caller continues only after that commit (SPEC §2.2). Finished spool files are unlinked.',
    '- spoolgate mailbox store and receiver journal (benchmarks 3, 4): SQLite WAL `synchronous = FULL`, each deliver its own fsynced commit, journal events of one event-loop turn one fsynced commit; a relayed message is a spool entry written + fsynced + renamed before 250.',
    '- Postfix (1b, 3): default settings (`compatibility_level = 3.6`); cleanup fsyncs each queue file before the message counts as queued (smtpd answers 250 only then); in 1b that happens inside the timed window (pickup → cleanup), in 3 before smtp-source gets its 250.',
    '- Dovecot (4): Maildir, default `mail_fsync = optimized`; DELE + QUIT unlinks the files.',
    '- smtp-sink stores nothing (`-c` counter only), smtp-source sends generated data: (c) touches no disk.'
].join('\n');

function load<T>(name: string): T | undefined {
  const p = join(OUT, `${name}.json`);
  if (!existsSync(p)) return undefined;
  try { return JSON.parse(readFileSync(p, 'utf8')) as T; } catch { return undefined; }
}

const fig = (x: Figure | undefined, d?: number): string => {
  if (x === undefined) return '';
  const f = (v: number): string => (d === undefined ? num(v) : v.toFixed(d));
  return x.min === x.max ? f(x.median) : `${f(x.median)} (${f(x.min)}–${f(x.max)})`;
};
const ms = (x: Figure | undefined): Figure | undefined => x && mapFigure(x, (v) => v * 1000);

/** Rate per series, then per process of each series CPU ms per unit and peak RSS (median (min–max) of the runs). */
function seriesTable(series: readonly Series[], secondsKey?: string, rateLabel?: string): string[] {
  const unit = series[0]?.unit ?? 'msg';
  return [
    `| run | ${rateLabel ?? `${unit}/s`} | runs | process | CPU ms/${unit} | peak RSS MB | note |`, '|---|---:|---:|---|---:|---:|---|',
    ...series.flatMap((s) => {
      const systems = [...new Set(s.runs.flatMap((r) => Object.keys(r.usage) as System[]))];
      if (systems.length === 0) return [`| ${s.name.replace(/\|/g, '\\|')} | ${fig(rate(s, secondsKey))} | ${s.runs.length} | | | | ${s.note ?? ''} |`];
      return systems.map((sys, i) => `| ${i === 0 ? s.name.replace(/\|/g, '\\|') : ''} | ${i === 0 ? fig(rate(s, secondsKey)) : ''} | ${i === 0 ? s.runs.length : ''} | ${sys.replace('|', '\\|')} | ${fig(ms(cpuPerUnit(s, sys)))} | ${fig(peakRss(s, sys), 0)} | ${i === 0 ? (s.note ?? '') : ''} |`);
    }),
    '',
  ];
}

const PERF: Readonly<Record<string, string>> = { forwarding: 'forwarding-profile.md', latency: 'forwarding-profile.md', inbound: 'inbound-profile.md', scaling: 'inbound-profile.md', pop3: 'parse-pop3-profile.md', parsing: 'parse-pop3-profile.md' };
const perfIncluded = new Set<string>();

/** "Where the time goes": the summarized --cpu-prof of the benchmark's profiled run, and the perf notes (docs/perf/), or a line saying there is none. */
function whereTheTimeGoes(name: string): string[] {
  const out = ['### Where the time goes', ''];
  const p = summarize(profileDir(name));
  if (p === undefined) out.push(`No CPU profile recorded for this benchmark (the profiled run writes bench/out/prof/${name}/; BENCH_PROFILE=0 skips it).`, '');
  else out.push(`spoolgate's own CPU profile (\`--cpu-prof\` of one extra run, not counted in the figures; self time of the busy samples):`, '', ...profileMarkdown(p));
  const perf = PERF[name];
  const file = perf === undefined ? undefined : join(ROOT, 'docs', 'perf', perf);
  if (file === undefined || !existsSync(file)) out.push(`no profile recorded in docs/perf/${perf ?? `${name}-profile.md`} (the analysis and what would be needed go there).`, '');
  else if (perfIncluded.has(file)) out.push(`Analysis: see [docs/perf/${perf}](perf/${perf}) (included above).`, '');
  else {
    perfIncluded.add(file);
    // The notes' own headings go two levels down, under this section.
    let fenced = false;
    const text = readFileSync(file, 'utf8').split('\n').map((l) => {
      if (l.startsWith('```')) fenced = !fenced;
      const h = fenced ? null : /^(#+) /.exec(l);
      return h === null ? l : `${'#'.repeat(Math.min(6, h[1]!.length + 2))} ${l.slice(h[0].length)}`;
    }).join('\n');
    out.push(`From [docs/perf/${perf}](perf/${perf}):`, '', text.trim(), '');
  }
  return out;
}

interface Fwd { scale?: number; n: number; perFile: number; sessions: number; bodyBytes: number; series?: Series[] }
interface Lat { rounds: number; series?: Series[] }
interface Inbound { m: number; sessions: number; bodyBytes: number; series?: Series[] }
interface Pop3 { count: number; sizeBytes: number; series?: Series[] }
interface Parse { sizeMB: number; messages: number; problems: number; series?: Series[] }
interface Pdf { sizeMB: number; peerMB?: number; pagesGenerated: number; series?: Series[] }
interface Cluster { n: number; perFile: number; bodyBytes: number; connectLimit: number; postgres: boolean; series?: Series[] }
interface Queue { n: number; rounds: number; fillSeconds: number; rows: { name: string; p50: number; min?: number; max: number; bytes: number; items: number }[] }
interface Scaling { cells: { sessions: number; bodyBytes: number; n: number; seconds: number; msgPerSec: number; mbPerSec: number; ceilingMsgPerSec: number; cpuS?: number; maxRssMB?: number; runs?: number; msgPerSecMin?: number; msgPerSecMax?: number; cpuMsPerMsg?: number }[] }

const key = (s: readonly Series[] | undefined, k: string): Series | undefined => s?.find((x) => x.key === k);
const bar = (s: Series | undefined, label: string, secondsKey?: string, light?: boolean): Bar[] => {
  const v = rate(s, secondsKey);
  return s === undefined || v === undefined ? [] : [{ label, value: v, system: s.system, ...(light ? { light } : {}) }];
};

function main(): void {
  mkdirSync(CHARTS, { recursive: true });
  const m = machine();
  const fwd = load<Fwd>('forwarding');
  const lat = load<Lat>('latency');
  const inb = load<Inbound>('inbound');
  const pop = load<Pop3>('pop3');
  const parse = load<Parse>('parsing');
  const scl = load<Scaling>('scaling');
  const pdf = load<Pdf>('pdf');
  const que = load<Queue>('queue');
  const clu = load<Cluster>('cluster');
  const results = { forwarding: fwd, latency: lat, inbound: inb, pop3: pop, parsing: parse, pdf, queue: que } as Results;
  const goals = evaluateAll(results);
  const md: string[] = [];
  md.push('# Benchmarks', '',
    'Generated by `npm run bench` (bench/run-all.mjs → bench/report.ts); numbers below are from the last run,',
    'not hand-edited. Every peer runs on 127.0.0.1, started and stopped by the benchmark itself.', '',
    '## Goals', '',
    'Issue #20 [B2] (ratios in one run on this 2-core machine), [O1] #17 (queue listing) and [X1] #21 (PDF). Each figure',
    'is the median of the runs (3 by default, the contenders alternating: A B A B A B), min–max in brackets; a ratio is',
    'taken per round (the two runs next to each other in time) and the median of those is compared with the goal.',
    'A goal is met only if every figure it names was measured and holds; bench/goals.ts defines them.', '',
    ...goalTable(goals), '',
    '## Machine', '',
    '| | |', '|---|---|',
    ...Object.entries(m).map(([k, v]) => `| ${k} | ${v} |`),
    `| BENCH_SCALE | ${SCALE} |`, '',
    'The 2 cores are shared with the load generator and the peers, and other work may run on the same cores: compare',
    'ratios within one run (each ratio is taken per round, from runs next to each other in time), not absolute numbers',
    'across runs. CPU seconds per message predict bigger machines better than wall time.', '',
    '## How it is measured', '',
    '- **Runs.** Each benchmark runs its contenders in turn, 3 rounds (BENCH_RUNS), so a change of load hits all alike; figures are the median with min–max.',
    `- **The ceiling** (benchmarks 1 and 6, one definition in bench/lib.ts): ${CEILING}.`,
    '- **spoolgate runs compiled** (`node bench/out/dist/cli.js`, built from src/ by the benchmark; the parse benchmark\'s child is bundled against the same build, no tsx).',
    '- **CPU and peak RSS of every process**: spoolgate\'s own getrusage() at exit (bench/rusage-hook.mjs) or its process tree over the measured window; Postfix and Dovecot as their process trees read from /proc every 50–100 ms (CPU of exited children counted through their waiting parent; peak RSS = the largest sum over the tree in one sample); smtp-source, iconv and enscript|ps2pdf under GNU time (wait4: CPU including children, the peak RSS of the largest process); the counting smtp-sink from /proc (CPU over the window, VmHWM).',
    '- **Where the time goes**: spoolgate runs once more under `--cpu-prof` in each benchmark (not counted); bench/profile.ts summarizes the profiles of all its threads.', '',
    DURABILITY, '');

  if (fwd?.series) {
    const s = fwd.series;
    writeFileSync(join(CHARTS, 'forwarding.svg'), barChart(`Forwarding ${fwd.n} × ${fwd.bodyBytes / 1024} KB, ${fwd.sessions} connections (msg/s, higher is better)`, 'msg/s',
      [...bar(key(s, 'spoolgate'), 'a: spoolgate'), ...bar(key(s, 'postfix'), 'b: Postfix relay'), ...bar(key(s, 'ceiling'), 'c: ceiling (smtp-source -d)')]));
    md.push('## 1. Forwarding throughput', '',
      `${fwd.n} messages with a ${fwd.bodyBytes}-byte body in ${fwd.n / fwd.perFile} spool files (${fwd.perFile} per file) to a counting smtp-sink, ${fwd.sessions} connections (spoolgate: one TargetServer, ConnectLimit ${fwd.sessions}, \`spoolgate start --once\`, process start to exit).`,
      '(b) is a private Postfix instance: started once so that `postfix start` creates its queue, stopped, the same',
      `${fwd.n} messages queued once with Postfix's own \`sendmail -C D -f … rcpt\` (postdrop → maildrop) while no master runs and`,
      'copied aside; each run restores the copy and is timed from `postfix -c D start` (relayhost = the sink, 10 connections) to the',
      'last message at the sink. (c) is the ceiling.', '',
      '![forwarding](../bench/charts/forwarding.svg)', '',
      ...seriesTable(s),
      `Ratios (median of the per-round ratios): a/b = **${fig(ratio(key(s, 'spoolgate'), key(s, 'postfix')))}**, a/c = **${fig(ratio(key(s, 'spoolgate'), key(s, 'ceiling')))}**.`, '',
      ...whereTheTimeGoes('forwarding'));
  }
  if (lat?.series) {
    const s = key(lat.series, 'spoolgate');
    const ks = ['min', 'p50', 'p90', 'p99', 'max'];
    const bars = ks.flatMap((k): Bar[] => { const v = extraFigure(s, k); return v ? [{ label: k, value: v, system: 'spoolgate' }] : []; });
    writeFileSync(join(CHARTS, 'latency.svg'), barChart(`Latency: spool submit → at the sink, ${lat.rounds} messages (ms, lower is better)`, 'ms', bars));
    md.push('## 2. Latency', '',
      `One message at a time, ${lat.rounds} times, against a running \`spoolgate start\` (ConnectLimit 2), a fresh instance per run: from the start of \`submitToSpool\` (write + fsync + rename) until smtp-sink counted the message.`,
      'Included: the producer\'s fsyncs, file-system notification of the arrival, reading and parsing the file, the SMTP',
      'transaction on a kept-open connection, the checkpoint commit. The waiting harness polls with setImmediate on the same cores.', '',
      '![latency](../bench/charts/latency.svg)', '',
      '| | min | p50 | p90 | p99 | max |', '|---|---:|---:|---:|---:|---:|',
      `| ms, median (min–max) of ${s?.runs.length ?? 0} runs | ${ks.map((k) => fig(extraFigure(s, k), 1)).join(' | ')} |`, '',
      ...(s ? seriesTable([s], undefined, 'msg/s (one at a time)') : []),
      ...whereTheTimeGoes('latency'));
  }
  if (inb?.series) {
    const s = inb.series;
    const bars = (['a', 'b'] as const).flatMap((mode) => (['spoolgate', 'postfix'] as const).flatMap((sys) => [
      ...bar(key(s, `${sys}-${mode}`), `${sys} (${mode}) accepted`), ...bar(key(s, `${sys}-${mode}`), `${sys} (${mode}) at the sink`, 'atSinkS', true)]));
    writeFileSync(join(CHARTS, 'inbound.svg'), barChart(`Inbound ${inb.m} × 4 KB, ${inb.sessions} sessions: msg/s accepted and at the sink (higher is better)`, 'msg/s', bars));
    const r = (sys: string, mode: string, k?: string): string => fig(ratio(key(s, `spoolgate-${mode}`), key(s, `postfix-${mode}`), k)) || (sys === '' ? 'n/a' : 'n/a');
    md.push('## 3. Inbound SMTP', '',
      `smtp-source → the receiver, ${inb.m} messages with a ${inb.bodyBytes}-byte body to a relay recipient from 127.0.0.1 (allowed to relay), relayed on to a counting smtp-sink:`,
      `(a) one message per session, ${inb.sessions} sessions at a time; (b) smtp-source \`-d\`: ${inb.m / inb.sessions} messages per session over ${inb.sessions} sessions.`,
      'spoolgate: `spoolgate start` with `Receiver { RelayMode AddressList RelayAddress 127.0.0.0/8 }` and a TargetServer = the sink',
      '(ConnectLimit 10): 250 only after the message is a durable spool entry, then the forwarder relays it. Postfix: a private',
      'smtpd (`mynetworks = 127.0.0.0/8`, relayhost = the sink, 10 connections): 250 only after cleanup fsynced the queue file.',
      '"accepted" = smtp-source finished (all 250s received, all durable); "at the sink" = the sink counted them all (lighter bars).',
      'CPU and RSS of each server over the phase (its process tree), of smtp-source (the client, GNU time) and of the sink.', '',
      '![inbound](../bench/charts/inbound.svg)', '',
      'Accepted:', '', ...seriesTable(s),
      'At the sink (same runs, time from the start until the sink counted all; CPU and RSS as above):', '',
      '| run | msg/s at the sink | runs |', '|---|---:|---:|', ...s.map((x) => `| ${x.name} | ${fig(rate(x, 'atSinkS'))} | ${x.runs.length} |`), '',
      `Ratios spoolgate/Postfix (median of per-round ratios): accepted (a) **${r('x', 'a')}**, (b) **${r('x', 'b')}**; at the sink (a) **${r('x', 'a', 'atSinkS')}**, (b) **${r('x', 'b', 'atSinkS')}**.`, '',
      ...whereTheTimeGoes('inbound'));
  }
  if (pop?.series) {
    const s = pop.series;
    writeFileSync(join(CHARTS, 'pop3.svg'), barChart(`POP3: ${pop.count} × ${pop.sizeBytes / 1024} KB, RETR+DELE all (msg/s, higher is better)`, 'msg/s',
      [...bar(key(s, 'spoolgate'), 'spoolgate POP3'), ...bar(key(s, 'dovecot'), 'Dovecot pop3')]));
    md.push('## 4. POP3', '',
      `A mailbox of ${pop.count} messages of ${pop.sizeBytes / 1024} KB; one client logs in with USER/PASS, STAT, then RETR and DELE of every message, one`,
      'command at a time, and QUIT (deletions committed in the UPDATE state); a second session checks the mailbox is empty.',
      'The client is the same small Node POP3 client (bench/pop3.ts) for both. spoolgate: `spoolgate start` with',
      '`Pop3 { Listen … AllowPlaintext YES }`, the mailbox filled beforehand through the store\'s `deliver()`. Dovecot:',
      'dovecot-pop3d with a private config (src/testing/dovecot.ts), the same messages as Maildir files. Page cache warm for both.',
      'CPU of each server\'s process tree over the session (USER → QUIT); peak RSS of spoolgate over its life.', '',
      '![pop3](../bench/charts/pop3.svg)', '',
      ...seriesTable(s),
      `Ratio spoolgate/Dovecot (msg/s, median of per-round ratios): **${fig(ratio(key(s, 'spoolgate'), key(s, 'dovecot'))) || 'n/a'}**.`, '',
      ...whereTheTimeGoes('pop3'));
  }
  if (parse?.series) {
    const s = parse.series;
    writeFileSync(join(CHARTS, 'parsing.svg'), barChart(`Parsing ${parse.sizeMB.toFixed(0)} MB EBCDIC FB80 (MB/s, higher is better)`, 'MB/s',
      [...bar(key(s, 'spoolgate'), 'spoolgate RecordDecoder + BatchParser'), ...bar(key(s, 'iconv'), 'iconv -f IBM1047 -t UTF-8')]));
    md.push('## 5. Spool parsing', '',
      `A generated ${parse.sizeMB.toFixed(0)} MB IBM-1047 fixed-80 (FB80) batch-SMTP file (${parse.messages} messages of ~3.5 KB, ${parse.problems} problems) read in 1 MB chunks through \`RecordDecoder\` + \`BatchParser\` (no delivery), in its own process, compiled (no tsx); compared with \`iconv -f IBM1047 -t UTF-8\` over the same file (page cache warm for both).`,
      'iconv only translates bytes; the parser also splits records, strips trailing blanks, joins continuations, runs the batch-SMTP',
      'state machine, parses addresses and builds headers and one Buffer per message.', '',
      '![parsing](../bench/charts/parsing.svg)', '',
      ...seriesTable(s),
      `Ratio spoolgate/iconv (MB/s, median of per-round ratios): **${fig(ratio(key(s, 'spoolgate'), key(s, 'iconv'))) || 'n/a'}**.`, '',
      ...whereTheTimeGoes('parsing'));
  }
  if (scl) {
    const xs = [...new Set(scl.cells.map((c) => String(c.sessions)))].sort((a, b) => Number(a) - Number(b));
    const sizes = [...new Set(scl.cells.map((c) => c.bodyBytes))].sort((a, b) => a - b);
    const label = (b: number): string => (b >= 2 ** 20 ? `${b / 2 ** 20} MB` : `${b / 1024} KB`);
    const series = sizes.flatMap((b) => {
      const cells = scl.cells.filter((c) => c.bodyBytes === b);
      return [
        { label: `spoolgate ${label(b)}`, color: COLOURS.spoolgate, points: cells.map((c) => ({ x: String(c.sessions), y: c.msgPerSec })) },
        { label: `ceiling ${label(b)}`, color: COLOURS['smtp-source'], dashed: true, points: cells.map((c) => ({ x: String(c.sessions), y: c.ceilingMsgPerSec })) },
      ];
    });
    writeFileSync(join(CHARTS, 'scaling.svg'), lineChart('Forwarding msg/s by connections and message size', 'msg/s', xs, series));
    md.push('## 6. Scaling', '',
      'Benchmark 1\'s spoolgate run (spool files of 10 messages → counting smtp-sink, durable checkpoint, process start to exit)',
      'at each connection count and body size, each cell next to the ceiling with the same sessions and size (dashed; the same',
      'definition as in 1). Each cell: 3 alternating runs, median (min–max). **N is scaled** per cell (see bench/scaling.ts) to',
      'keep the matrix within minutes; the start-up weighs more in small cells.', '',
      '![scaling](../bench/charts/scaling.svg)', '',
      `| size × N | ${xs.map((x) => `${x} conn`).join(' | ')} |`, `|---|${xs.map(() => '---:').join('|')}|`,
      ...sizes.map((b) => {
        const cells = scl.cells.filter((c) => c.bodyBytes === b);
        return `| ${label(b)} × ${cells[0]?.n ?? '?'} | ${xs.map((x) => {
          const c = cells.find((y) => String(y.sessions) === x);
          if (!c) return 'failed';
          const spread = c.msgPerSecMin !== undefined && c.msgPerSecMax !== undefined && c.msgPerSecMin !== c.msgPerSecMax ? ` (${c.msgPerSecMin.toFixed(0)}–${c.msgPerSecMax.toFixed(0)})` : '';
          const cpu = c.cpuMsPerMsg !== undefined ? `, ${c.cpuMsPerMsg.toFixed(2)} CPU ms/msg` : c.cpuS !== undefined ? `, ${((1000 * c.cpuS) / c.n).toFixed(2)} CPU ms/msg` : '';
          return `${c.msgPerSec.toFixed(0)}${spread} msg/s, ${c.mbPerSec.toFixed(1)} MB/s${cpu}, ${c.maxRssMB?.toFixed(0) ?? '?'} MB RSS (ceiling ${c.ceilingMsgPerSec.toFixed(0)})`;
        }).join(' | ')} |`;
      }), '',
      ...whereTheTimeGoes('scaling'));
  }
  if (pdf?.series) {
    const s = pdf.series;
    writeFileSync(join(CHARTS, 'pdf.svg'), barChart('Print report to PDF (pages/s, higher is better)', 'pages/s',
      [...bar(key(s, 'spoolgate'), 'spoolgate pdfmail --output'), ...bar(key(s, 'peer'), 'enscript | ps2pdf')]));
    md.push('## 7. Print report to PDF', '',
      `A generated ${pdf.sizeMB.toFixed(0)} MB print report (${pdf.pagesGenerated} pages of 60 lines × 132 columns, form feeds) through`,
      '`spoolgate pdfmail --output` (compiled CLI, streaming: one page in memory, the PDF written as it grows), against the',
      `classic pipeline \`enscript -r -f Courier8 | ps2pdf\` (GNU enscript + Ghostscript) on the first ${pdf.peerMB?.toFixed(1) ?? '?'} MB of the same report`,
      '(it is slower; both are linear in pages, so pages per second compare). The size is BENCH_PDF_MB (64 MB by default: 1 GB takes',
      'a quarter of an hour or more per run here; `BENCH_PDF_MB=1024 node bench/run-all.mjs pdf` measures the 1 GB case). pdfinfo counts the pages.', '',
      '![pdf](../bench/charts/pdf.svg)', '',
      ...seriesTable(s, undefined, 'pages/s'),
      `spoolgate / enscript|ps2pdf, pages per second: **${fig(ratio(key(s, 'spoolgate'), key(s, 'peer'))) || 'n/a'}**. spoolgate's RSS grows with the page count (pdfkit keeps`,
      'an object table entry per page), so the 1 GB class is where it matters.', '');
  }
  if (que) {
    md.push('## 8. Queue listing', '',
      `${que.n} messages waiting in (extended) retry (bench/queue.ts: the mail directory filled before the start, next attempts a day`,
      'ahead, so nothing is sent while measuring). Each command is a new `spoolgate` process against the running instance, as an',
      `operator runs it (process start, the control socket, the queue model, JSON or text out); ${que.rounds} runs each, median (min–max). The control-socket`,
      'row is the instance\'s share alone. Goal ([O1] #17): `queue list --json` under 1 s for 10,000 messages.', '',
      '| command | seconds, median (min–max) | items | output KB |', '|---|---:|---:|---:|',
      ...que.rows.map((r) => `| ${r.name} | ${fig({ median: r.p50, min: r.min ?? r.p50, max: r.max, n: que.rounds }, 3)} | ${r.items || ''} | ${r.bytes > 0 ? (r.bytes / 1024).toFixed(0) : ''} |`), '');
  }
  if (clu?.series) {
    const s = clu.series;
    const base = key(s, 'sqlite-1');
    writeFileSync(join(CHARTS, 'cluster.svg'), barChart(`Forwarding ${clu.n} × ${clu.bodyBytes / 1024} KB by backend and nodes on one 2-core machine (msg/s, higher is better)`, 'msg/s',
      s.flatMap((x) => bar(x, x.name))));
    md.push('## 9. Cluster: SQLite on one node against PostgreSQL with 1, 2 and 3 nodes', '',
      `${clu.n} messages with a ${clu.bodyBytes}-byte body in ${clu.n / clu.perFile} spool files, spread over the nodes' spool directories before they start, to a counting`,
      `smtp-sink; each node \`spoolgate start\` with one TargetServer, ConnectLimit ${clu.connectLimit}; timed from the start of the node processes until the sink`,
      'counted all (start-up, arrival — with PostgreSQL stored in the database and unlinked —, claims, sending, checkpoint). bench/cluster.ts;',
      'the design is in [cluster.md](cluster.md). **Caveat:** the nodes, PostgreSQL, the sink and the harness share this machine\'s 2 cores, so',
      'more nodes here measure contention for the same cores, not scale-out; on separate machines each node brings its own.',
      ...(clu.postgres ? [] : ['', 'No PostgreSQL was available for this run: only the SQLite row.']), '',
      '![cluster](../bench/charts/cluster.svg)', '',
      ...seriesTable(s),
      `Against SQLite on one node (median of the per-round ratios): ${s.filter((x) => x !== base).map((x) => `${x.name} **${fig(ratio(x, base))}**`).join(', ') || 'n/a'}.`, '');
  }
  md.push('## Not measured yet', '',
    '- Scaling to several targets, and 10 MB messages.',
    '- Inbound with local delivery into mailboxes (benchmark 3 relays), and Postfix local/virtual delivery as its peer.',
    '- Postfix latency (sendmail → sink) as a reference for benchmark 2.',
    '- CPU and RSS of the `spoolgate queue` CLI processes in benchmark 8 (only their wall time is measured).', '');
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), md.join('\n'));
  console.log('wrote docs/benchmarks.md and bench/charts/*.svg\n');
  console.log(`Goals (median of the runs; BENCH_SCALE ${SCALE}):`);
  for (const g of goals) console.log(`  ${g.status.padEnd(12)} ${g.goal.what.replace(/`/g, '')}\n${' '.repeat(15)}${g.measured.join('; ')}${g.scale !== undefined && g.scale !== 1 ? ` [BENCH_SCALE ${g.scale}]` : ''}`);
}

main();
