// Configuration diagnostics. Every error and warning has one fixed text format:
//
//   <file>:<line>: <Statement>[ <Parameter>]: <problem>[; allowed <what is allowed>]
//
// e.g. `spoolgate.conf:12: RetryLimit Count: value 9000 out of range; allowed 0..7200`.
// Statement and parameter are the canonical spellings (as documented), except for an unknown
// statement, which is named as written. A problem not inside any statement names the offending
// token instead. Problems about the file as a whole (e.g. no TargetServer) use the last line.
import { ConfigError as CoreConfigError } from '../core/errors.js';

export interface ConfigDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly statement: string;
  readonly parameter: string | null;
  readonly problem: string;
  readonly allowed: string | null;
}

export function formatDiagnostic(d: ConfigDiagnostic): string {
  const subject = d.parameter === null ? d.statement : `${d.statement} ${d.parameter}`;
  const allowed = d.allowed === null ? '' : `; allowed ${d.allowed}`;
  return `${d.file}:${d.line}: ${subject}: ${d.problem}${allowed}`;
}

/** A fatal configuration problem: the gateway refuses to start (or a REFRESH is rejected). */
export class ConfigError extends CoreConfigError implements ConfigDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly statement: string;
  readonly parameter: string | null;
  readonly problem: string;
  readonly allowed: string | null;
  constructor(d: ConfigDiagnostic) {
    super(formatDiagnostic(d));
    this.file = d.file;
    this.line = d.line;
    this.statement = d.statement;
    this.parameter = d.parameter;
    this.problem = d.problem;
    this.allowed = d.allowed;
  }
}

/** A non-fatal configuration remark; `text` has the same format as an error message. */
export interface ConfigWarning extends ConfigDiagnostic {
  readonly text: string;
}

export function makeWarning(d: ConfigDiagnostic): ConfigWarning {
  return { ...d, text: formatDiagnostic(d) };
}

/** Collects diagnostics for one file while it is parsed and checked. */
export class Diagnostics {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  /** Lines with a lexical problem: later messages about them would only repeat it. */
  private readonly muted = new Set<number>();
  constructor(readonly file: string) {}

  /** Reports a lexical problem and mutes further messages about the same line. */
  lexical(line: number, token: string, problem: string): void {
    this.error(line, token, null, problem);
    this.muted.add(line);
  }

  error(line: number, statement: string, parameter: string | null, problem: string, allowed: string | null = null): void {
    if (this.muted.has(line)) return;
    this.errors.push(new ConfigError({ file: this.file, line, statement, parameter, problem, allowed }));
  }

  warn(line: number, statement: string, parameter: string | null, problem: string, allowed: string | null = null): void {
    if (this.muted.has(line)) return;
    this.warnings.push(makeWarning({ file: this.file, line, statement, parameter, problem, allowed }));
  }
}
