// The figures of the benchmarks, free of any process or socket (bench/goals.ts and its unit test
// use them too): runs of each contender, the median of repeated runs with min and max, ratios
// per round, CPU seconds per unit and peak RSS per process.

export interface Usage { readonly maxRssMB: number; readonly cpuUserS: number; readonly cpuSysS: number }

export const cpuOf = (u: Usage): number => u.cpuUserS + u.cpuSysS;

/** The systems compared; each has one colour in every chart (bench/report.ts). */
export type System = 'spoolgate' | 'postfix' | 'dovecot' | 'iconv' | 'smtp-source' | 'smtp-sink' | 'enscript|ps2pdf';

/** One measured run: `count` units (messages, MB, pages) in `seconds`; usage per process involved. */
export interface Run {
  readonly round: number;
  readonly seconds: number;
  readonly count: number;
  readonly usage: Partial<Record<System, Usage>>;
  /** Other figures of this run (e.g. atSinkS, p50, p99). */
  readonly extra?: Readonly<Record<string, number>>;
}

/** The runs of one contender in one benchmark. */
export interface Series {
  readonly key: string;
  readonly name: string;
  readonly system: System;
  /** The unit of Run.count: 'msg', 'MB', 'page'. */
  readonly unit: string;
  readonly runs: readonly Run[];
  readonly note?: string;
}

/** The median of repeated runs with the lowest and highest value. */
export interface Figure { readonly median: number; readonly min: number; readonly max: number; readonly n: number }

/** median/min/max of the finite values, or undefined if there are none. */
export function figure(values: readonly number[]): Figure | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** Throughput per run (count / seconds, or count / extra[secondsKey]). */
export const rate = (s: Series | undefined, secondsKey?: string): Figure | undefined =>
  s && figure(s.runs.map((r) => r.count / (secondsKey === undefined ? r.seconds : (r.extra?.[secondsKey] ?? NaN))));

/** An extra figure per run (e.g. 'p50'). */
export const extraFigure = (s: Series | undefined, key: string): Figure | undefined => s && figure(s.runs.map((r) => r.extra?.[key] ?? NaN));

/**
 * a/b per round, from runs of the same round (neighbours in time, so a load change between
 * rounds cancels out); secondsKey takes the time from Run.extra (e.g. atSinkS).
 */
export function ratio(a: Series | undefined, b: Series | undefined, secondsKey?: string): Figure | undefined {
  if (a === undefined || b === undefined) return undefined;
  const secs = (r: Run): number => (secondsKey === undefined ? r.seconds : (r.extra?.[secondsKey] ?? NaN));
  return figure(a.runs.map((ra) => {
    const rb = b.runs.find((x) => x.round === ra.round);
    return rb === undefined ? NaN : (ra.count / secs(ra)) / (rb.count / secs(rb));
  }));
}

/** CPU seconds per unit of `system` in each run of s. */
export const cpuPerUnit = (s: Series, system: System): Figure | undefined =>
  figure(s.runs.map((r) => { const u = r.usage[system]; return u ? cpuOf(u) / r.count : NaN; }));

/** Peak RSS (MB) of `system` in each run of s. */
export const peakRss = (s: Series, system: System): Figure | undefined => figure(s.runs.map((r) => r.usage[system]?.maxRssMB ?? NaN));

export function mapFigure(x: Figure, fn: (v: number) => number): Figure {
  const a = fn(x.min);
  const b = fn(x.max);
  return { median: fn(x.median), min: Math.min(a, b), max: Math.max(a, b), n: x.n };
}

