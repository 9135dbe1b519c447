// The goals of `npm run bench`, defined once: the table of issue #20 [B2] (ratios in one run on
// this 2-core machine), the queue-listing acceptance of [O1] #17 and the PDF benchmark of [X1].
// bench/report.ts prints them with "met" / "not met" / "not measured" at the end of the run and
// at the top of docs/benchmarks.md. A goal is decided on the median of the runs; a missing or
// non-numeric result is "not measured", never "met".
import { extraFigure, peakRss, ratio, type Figure, type Series } from './stats.js';

/** The JSON results of bench/out/<name>.json, as far as the goals read them. */
export interface Results {
  readonly forwarding?: { readonly series?: readonly Series[]; readonly scale?: number };
  readonly latency?: { readonly series?: readonly Series[]; readonly scale?: number };
  readonly inbound?: { readonly series?: readonly Series[]; readonly scale?: number };
  readonly pop3?: { readonly series?: readonly Series[]; readonly scale?: number };
  readonly parsing?: { readonly series?: readonly Series[]; readonly scale?: number; readonly compiled?: boolean };
  readonly pdf?: { readonly series?: readonly Series[]; readonly scale?: number };
  readonly queue?: { readonly n?: number; readonly scale?: number; readonly rows?: readonly { readonly name: string; readonly p50: number; readonly min?: number; readonly max: number }[] };
}

export type Op = '>=' | '<=' | '<';

export interface Condition {
  /** What is compared, e.g. "spoolgate/Postfix msg/s". */
  readonly label: string;
  readonly op: Op;
  readonly target: number;
  /** Unit printed after the numbers ('' for ratios). */
  readonly unit: string;
  measure(r: Results): Figure | undefined;
}

export interface Goal {
  readonly id: string;
  /** The benchmark's section in docs/benchmarks.md, e.g. "1. Forwarding throughput". */
  readonly section: string;
  /** The bench/out result it reads (its BENCH_SCALE is shown beside the row). */
  readonly result: keyof Results;
  readonly what: string;
  /** Where it stood when the goal was set (issue #20's "now" column). */
  readonly before: string;
  readonly conditions: readonly Condition[];
}

const find = (s: readonly Series[] | undefined, key: string): Series | undefined => s?.find((x) => x.key === key);

export const GOALS: readonly Goal[] = [
  {
    id: 'forwarding-postfix', section: '1. Forwarding throughput', result: 'forwarding', before: '2.77',
    what: '1 forwarding 10,000 × 4 KB, 10 connections: vs Postfix relay',
    conditions: [{ label: 'spoolgate / Postfix msg/s', op: '>=', target: 4, unit: '', measure: (r) => ratio(find(r.forwarding?.series, 'spoolgate'), find(r.forwarding?.series, 'postfix')) }],
  },
  {
    id: 'forwarding-ceiling', section: '1. Forwarding throughput', result: 'forwarding', before: '0.12',
    what: '1 same, vs the ceiling `smtp-source -d` with the same sessions and size',
    conditions: [{ label: 'spoolgate / ceiling msg/s', op: '>=', target: 0.35, unit: '', measure: (r) => ratio(find(r.forwarding?.series, 'spoolgate'), find(r.forwarding?.series, 'ceiling')) }],
  },
  {
    id: 'latency', section: '2. Latency', result: 'latency', before: 'p50 11 ms, p99 31 ms',
    what: '2 latency spool arrival → sink',
    conditions: [
      { label: 'p50', op: '<=', target: 4, unit: 'ms', measure: (r) => extraFigure(find(r.latency?.series, 'spoolgate'), 'p50') },
      { label: 'p99', op: '<=', target: 12, unit: 'ms', measure: (r) => extraFigure(find(r.latency?.series, 'spoolgate'), 'p99') },
    ],
  },
  {
    id: 'inbound-a', section: '3. Inbound SMTP', result: 'inbound', before: '0.78',
    what: '3 inbound accepted, 1 msg/session, 20 sessions, vs Postfix smtpd',
    conditions: [{ label: 'spoolgate / Postfix accepted msg/s (a)', op: '>=', target: 1.5, unit: '', measure: (r) => ratio(find(r.inbound?.series, 'spoolgate-a'), find(r.inbound?.series, 'postfix-a')) }],
  },
  {
    id: 'inbound-b', section: '3. Inbound SMTP', result: 'inbound', before: '1.47',
    what: '3 inbound accepted, 100 msgs/session',
    conditions: [{ label: 'spoolgate / Postfix accepted msg/s (b)', op: '>=', target: 2, unit: '', measure: (r) => ratio(find(r.inbound?.series, 'spoolgate-b'), find(r.inbound?.series, 'postfix-b')) }],
  },
  {
    id: 'inbound-sink', section: '3. Inbound SMTP', result: 'inbound', before: '0.49 / 0.59',
    what: '3 relayed mail at the sink, vs Postfix',
    conditions: [
      { label: '(a) at the sink', op: '>=', target: 1.2, unit: '', measure: (r) => ratio(find(r.inbound?.series, 'spoolgate-a'), find(r.inbound?.series, 'postfix-a'), 'atSinkS') },
      { label: '(b) at the sink', op: '>=', target: 1.2, unit: '', measure: (r) => ratio(find(r.inbound?.series, 'spoolgate-b'), find(r.inbound?.series, 'postfix-b'), 'atSinkS') },
    ],
  },
  {
    id: 'pop3', section: '4. POP3', result: 'pop3', before: '0.76',
    what: '4 POP3 RETR+DELE 1,000 × 50 KB vs Dovecot',
    conditions: [{ label: 'spoolgate / Dovecot msg/s', op: '>=', target: 1.2, unit: '', measure: (r) => ratio(find(r.pop3?.series, 'spoolgate'), find(r.pop3?.series, 'dovecot')) }],
  },
  {
    id: 'parsing', section: '5. Spool parsing', result: 'parsing', before: '0.125, RSS 185 MB',
    what: '5 parse 1 GB IBM-1047 FB80 vs iconv (compiled, no tsx)',
    conditions: [
      { label: 'spoolgate / iconv MB/s', op: '>=', target: 0.5, unit: '', measure: (r) => (r.parsing?.compiled === true ? ratio(find(r.parsing.series, 'spoolgate'), find(r.parsing.series, 'iconv')) : undefined) },
      { label: 'spoolgate peak RSS', op: '<=', target: 120, unit: 'MB', measure: (r) => { const s = find(r.parsing?.series, 'spoolgate'); return r.parsing?.compiled === true && s ? peakRss(s, 'spoolgate') : undefined; } },
    ],
  },
  {
    id: 'pdf', section: '7. Print report to PDF', result: 'pdf', before: '2.14 at BENCH_SCALE 0.01',
    what: '7 report → PDF pages/s vs `enscript | ps2pdf` ([X1] asks for pages/s and RSS, no number: this row checks spoolgate is not the slower one)',
    conditions: [{ label: 'spoolgate / enscript|ps2pdf pages/s', op: '>=', target: 1, unit: '', measure: (r) => ratio(find(r.pdf?.series, 'spoolgate'), find(r.pdf?.series, 'peer')) }],
  },
  {
    id: 'queue-list', section: '8. Queue listing', result: 'queue', before: 'not run at full size',
    what: '8 `queue list --json` with 10,000 messages in retry answers in under 1 s ([O1] acceptance)',
    conditions: [{
      label: 'queue list --json', op: '<', target: 1, unit: 's', measure: (r) => {
        const row = r.queue?.rows?.find((x) => x.name.startsWith('queue list --json ('));
        // queue.ts times 5 runs of each command: p50 is their median.
        return row === undefined ? undefined : { median: row.p50, min: row.min ?? row.p50, max: row.max, n: 5 };
      },
    }],
  },
];

export type Status = 'met' | 'not met' | 'not measured';

export interface Evaluated {
  readonly goal: Goal;
  readonly status: Status;
  /** Per condition: "label median (min–max) unit op target" or "label: not measured". */
  readonly measured: readonly string[];
  /** BENCH_SCALE of the result read, when known. */
  readonly scale?: number;
}

const holds = (op: Op, v: number, target: number): boolean => (op === '>=' ? v >= target : op === '<=' ? v <= target : v < target);

/** Numbers as the table prints them: 3 significant digits, at most 3 decimals. */
export function num(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** A goal against the results: met only if every condition is measured and holds on its median. */
export function evaluate(goal: Goal, results: Results): Evaluated {
  let missing = false;
  let failed = false;
  const measured = goal.conditions.map((c) => {
    let f: Figure | undefined;
    try { f = c.measure(results); } catch { f = undefined; }
    if (f === undefined || !Number.isFinite(f.median)) {
      missing = true;
      return `${c.label}: not measured`;
    }
    if (!holds(c.op, f.median, c.target)) failed = true;
    const u = c.unit === '' ? '' : ` ${c.unit}`;
    const spread = f.min === f.max ? '' : ` (${num(f.min)}–${num(f.max)})`;
    return `${c.label} ${num(f.median)}${spread}${u} (goal ${c.op.replace('>=', '≥').replace('<=', '≤')} ${num(c.target)}${u})`;
  });
  const status: Status = missing ? 'not measured' : failed ? 'not met' : 'met';
  const scale = (results[goal.result] as { scale?: number } | undefined)?.scale;
  return { goal, status, measured, ...(scale === undefined ? {} : { scale }) };
}

export const evaluateAll = (results: Results): Evaluated[] => GOALS.map((g) => evaluate(g, results));

/** GitHub's anchor of a Markdown heading ("1. Forwarding throughput" → "1-forwarding-throughput"). */
export const anchor = (heading: string): string => heading.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');

/** A Markdown table cell: a | inside (enscript | ps2pdf) would end the cell. */
const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The goal table as Markdown (docs/benchmarks.md) — the same rows as the console table; a row not met links to its section's profile. */
export function goalTable(rows: readonly Evaluated[]): string[] {
  const scaled = rows.some((r) => r.scale !== undefined && r.scale !== 1);
  return [
    '| goal | before | measured: median (min–max) of the runs | status |', '|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.goal.what)} | ${r.goal.before} | ${cell(r.measured.join('; '))}${r.scale !== undefined && r.scale !== 1 ? ` — at BENCH_SCALE ${r.scale}` : ''} | **${r.status}**${r.status === 'not met' ? ` — [where the time goes](#${anchor(r.goal.section)})` : ''} |`),
    ...(scaled ? ['', 'Rows marked with a BENCH_SCALE below 1 were measured on smaller inputs than the goal names: indicative only.'] : []),
  ];
}
