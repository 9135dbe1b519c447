// Test helper: a small, strict checker of the Prometheus text exposition format 0.0.4, so the
// tests (unit and e2e) prove /metrics parses, not only that it contains some strings. Throws on
// the first problem with the line number; returns the samples for assertions.

export interface ExpoSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?[0-9]+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/.test(text)) throw new Error(`${where}: value '${text}' is not a number`);
  return Number(text);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    if (m === null) throw new Error(`${where}: bad label syntax at '${rest}'`);
    if (m[1]! in out) throw new Error(`${where}: label ${m[1]!} repeated`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** The family a sample belongs to: histogram/summary samples carry a suffix. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

export function checkExposition(text: string): ExpoSample[] {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a line feed');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seenFamilies: string[] = [];
  const samples: ExpoSample[] = [];
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '') throw new Error(`${where}: empty line`);
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (samples.some((s) => familyOf(s.name, new Map([[name, rest]])) === name)) throw new Error(`${where}: TYPE for ${name} after its samples`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${where}: bad escape in HELP`);
        helps.add(name);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`${where}: not a sample line: ${line}`);
    const name = m[1]!;
    const family = familyOf(name, types);
    if (family === undefined) throw new Error(`${where}: ${name} has no TYPE line before it`);
    if (seenFamilies.at(-1) !== family) {
      if (seenFamilies.includes(family)) throw new Error(`${where}: samples of ${family} are not together`);
      seenFamilies.push(family);
    }
    const labels = parseLabels(m[2] ?? '', where);
    const value = parseValue(m[3]!, where);
    if (types.get(family) === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
    if (samples.some((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))) throw new Error(`${where}: duplicate series ${name}${JSON.stringify(labels)}`);
    samples.push({ name, labels, value });
  });
  for (const [name, type] of types) if (type === 'histogram') checkHistogram(name, samples);
  return samples;
}

/** Buckets per series: le ascending, counts non-decreasing, +Inf present and equal to _count. */
function checkHistogram(name: string, samples: readonly ExpoSample[]): void {
  const series = new Map<string, ExpoSample[]>();
  for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${name}_bucket without le`);
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    let lastLe = -Infinity;
    let lastCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, `${name} le`);
      if (!(le > lastLe)) throw new Error(`${name}${key}: le ${b.labels.le!} not ascending`);
      if (b.value < lastCount) throw new Error(`${name}${key}: bucket counts not cumulative`);
      lastLe = le;
      lastCount = b.value;
    }
    if (lastLe !== Infinity) throw new Error(`${name}${key}: no +Inf bucket`);
    const count = samples.find((x) => x.name === `${name}_count` && JSON.stringify(x.labels) === key);
    if (count === undefined || count.value !== lastCount) throw new Error(`${name}${key}: _count missing or not the +Inf bucket`);
    if (!samples.some((x) => x.name === `${name}_sum` && JSON.stringify(x.labels) === key)) throw new Error(`${name}${key}: _sum missing`);
  }
}

/**
 * The value of one series (labels must match exactly those given), or undefined. The `node` label
 * that every sample of a cluster node carries ([P2], Store Node) is compared only when given, so
 * a test reads the same series on either store backend (testing/backend.ts).
 */
export function sampleValue(samples: readonly ExpoSample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const own = (s: ExpoSample): Record<string, string> => {
    if ('node' in labels) return s.labels;
    const { node: _node, ...rest } = s.labels;
    return rest;
  };
  return samples.find((s) => s.name === name && Object.keys(own(s)).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
