// Typed access to the parameters of one parsed statement, reporting each bad value as a
// diagnostic that names statement, parameter and line. An absent statement (undefined) yields
// the defaults, so the builder reads every statement the same way whether it was coded or not.
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostics } from './errors.js';
import type { RawParam, RawStatement } from './parser.js';
import { type Parsed, integer, oneOf, yesNo, show } from './values.js';

export class StatementReader {
  constructor(
    readonly st: RawStatement | undefined,
    private readonly diag: Diagnostics,
    private readonly baseDir: string,
  ) {}

  get present(): boolean {
    return this.st !== undefined;
  }

  get line(): number {
    return this.st?.line ?? 0;
  }

  get name(): string {
    return this.st?.def.name ?? '';
  }

  private params(param: string): RawParam[] {
    return this.st === undefined ? [] : this.st.params.filter((x) => x.def.name === param);
  }

  has(param: string): boolean {
    return this.params(param).length > 0;
  }

  lineOf(param: string): number {
    return this.params(param)[0]?.line ?? this.line;
  }

  /** A single parameter (duplicates are reported by checkDuplicates). */
  get<T>(param: string, parse: (text: string) => Parsed<T>, dflt: T): T {
    const raw = this.params(param)[0];
    if (raw === undefined) return dflt;
    const r = parse(raw.value.text);
    if (!r.ok) {
      this.diag.error(raw.value.line, this.name, param, r.problem, r.allowed);
      return dflt;
    }
    return r.value;
  }

  /** Every occurrence of a repeatable parameter, in file order (bad ones reported and left out). */
  all<T>(param: string, parse: (text: string) => Parsed<T>): T[] {
    const out: T[] = [];
    for (const raw of this.params(param)) {
      const r = parse(raw.value.text);
      if (r.ok) out.push(r.value);
      else this.diag.error(raw.value.line, this.name, param, r.problem, r.allowed);
    }
    return out;
  }

  int(param: string, min: number, max: number, dflt: number, note = ''): number {
    return this.get(param, (t) => integer(t, min, max, note), dflt);
  }

  yesNo(param: string, dflt: boolean): boolean {
    return this.get(param, yesNo, dflt);
  }

  oneOf<T>(param: string, choices: readonly (readonly [string, T])[], dflt: T): T {
    return this.get(param, (t) => oneOf(t, choices), dflt);
  }

  path(param: string, dflt: string): string;
  path(param: string, dflt: null): string | null;
  path(param: string, dflt: string | null): string | null {
    return this.get(param, (t) => resolvePath(t, this.baseDir), dflt);
  }
}

/** Relative paths resolve against the configuration file's directory. */
export function resolvePath(text: string, baseDir: string): Parsed<string> {
  if (text.length === 0 || text.length > 4095 || text.includes('\0')) {
    return { ok: false, problem: `value ${show(text)} is not a usable path`, allowed: 'a file system path of 1..4095 characters' };
  }
  return { ok: true, value: isAbsolute(text) ? resolve(text) : resolve(baseDir, text) };
}

/** Reports parameters given twice in one block when they may appear only once. */
export function checkDuplicateParams(st: RawStatement, diag: Diagnostics): void {
  const seen = new Map<string, number>();
  for (const p of st.params) {
    if (p.def.repeatable) continue;
    const first = seen.get(p.def.name);
    if (first !== undefined) diag.error(p.line, st.def.name, p.def.name, `duplicate parameter (first at line ${first})`, 'once per statement');
    else seen.set(p.def.name, p.line);
  }
}

/** Reader over the value of a value statement. */
export function readValue<T>(st: RawStatement | undefined, diag: Diagnostics, parse: (text: string) => Parsed<T>, dflt: T): T {
  if (st === undefined || st.value === null) return dflt;
  const r = parse(st.value.text);
  if (!r.ok) {
    diag.error(st.value.line, st.def.name, null, r.problem, r.allowed);
    return dflt;
  }
  return r.value;
}
