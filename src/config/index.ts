// config — reads the gateway's configuration file, written in the z/OS CSSMTP configuration
// language (SPEC.md §3) plus our (ext) statements, into one fully defaulted, validated Config.
//
// Standards: the CSSMTP statement set (seed 000, Table 3) and its syntax; RFC 5321 address and
// domain syntax for mailboxes and host names; RFC 1939 §3 for the POP3 autologout minimum.
// Untrusted input: the configuration file (any bytes; EBCDIC when CSSMTP_CODEPAGE_CONFIG names a
// code page). Every problem becomes a ConfigError naming file, line, statement and parameter;
// nothing here throws on bad input.
// Persists nothing; reads one file. Pure apart from that read and the host name default.
// Safe to crash at any time (no state).
import { readFileSync } from 'node:fs';
import { getCodePage } from '../codepage/index.js';
import { describeError } from '../core/errors.js';
import { type Result, ok, err } from '../core/result.js';
import { buildConfig } from './build.js';
import { ConfigError, Diagnostics, type ConfigWarning } from './errors.js';
import { lex } from './lexer.js';
import { parseStatements } from './parser.js';
import type { Config } from './types.js';
import { validateConfig } from './validate.js';

export type * from './types.js';
export { ConfigError, formatDiagnostic, type ConfigDiagnostic, type ConfigWarning } from './errors.js';
export { STATEMENTS, findStatement, type StatementDef } from './schema.js';
export { diffForRefresh, type RefreshDiff } from './refresh.js';
export { formatConfigDisplay, type DisplayRuntime } from './display.js';
export { defaultWriterName } from './build.js';
export { testModeWithoutReport } from './validate.js';
export { messageEntryLimit, pop3Settings, DEFAULT_MESSAGE_ENTRY_LIMIT } from './derived.js';
export { stateLayout, type StateLayout } from './state.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** Default of HostName; os.hostname() when absent (tests pass a fixed name). */
  readonly hostName?: string;
}

export type ConfigResult = Result<{ config: Config; warnings: ConfigWarning[] }, ConfigError[]>;

export const CONFIG_CODEPAGE_ENV = 'CSSMTP_CODEPAGE_CONFIG';

/** Parses configuration text (already decoded). */
export function parseConfig(text: string, fileName: string, env: Env = {}, opts: ParseOptions = {}): ConfigResult {
  const diag = new Diagnostics(fileName);
  try {
    const cpName = env[CONFIG_CODEPAGE_ENV];
    const configCodePage = cpName === undefined || cpName === '' ? 'UTF-8' : (getCodePage(cpName)?.name ?? cpName);
    const lexed = lex(text);
    for (const p of lexed.problems) diag.lexical(p.line, p.token, p.problem);
    const statements = parseStatements(lexed.tokens, diag, lexed.lastLine);
    const { config, groups } = buildConfig({ statements, fileName, configCodePage, ...(opts.hostName === undefined ? {} : { hostName: opts.hostName }) }, diag);
    validateConfig(config, groups, diag, lexed.lastLine);
    // In file order (sort is stable: messages about one line keep the order they were found in).
    const byLine = (a: { line: number }, b: { line: number }): number => a.line - b.line;
    if (diag.errors.length > 0) return err([...diag.errors].sort(byLine));
    return ok({ config, warnings: [...diag.warnings].sort(byLine) });
  } catch (e) {
    // Defence in depth: a bug here must still come out as a configuration error, not a crash.
    diag.error(0, '(parser)', null, `internal error: ${describeError(e)}`);
    return err(diag.errors);
  }
}

/** A configuration kept as a z/OS FB data set: 80-byte records, no line ends. */
export const FIXED_RECORD_LENGTH = 80;

/**
 * A data-set image (an FB80 member transferred in binary: a whole number of 80-byte records and
 * not one line-end byte) gets a line end after each record, so each record is one line and
 * keeps its number. Anything else is returned as it is. `ends` are the line-end bytes of the
 * file's code page; `nl` the one to insert.
 */
export function fixedRecordsAsLines(bytes: Uint8Array, ends: readonly number[], nl: number): Uint8Array {
  if (bytes.length === 0 || bytes.length % FIXED_RECORD_LENGTH !== 0 || ends.some((b) => bytes.includes(b))) return bytes;
  const out = Buffer.alloc(bytes.length + bytes.length / FIXED_RECORD_LENGTH);
  for (let r = 0, o = 0; r < bytes.length; r += FIXED_RECORD_LENGTH) {
    out.set(bytes.subarray(r, r + FIXED_RECORD_LENGTH), o);
    o += FIXED_RECORD_LENGTH;
    out[o++] = nl;
  }
  return out;
}

/**
 * Decodes file bytes and parses them: in the code page named by CSSMTP_CODEPAGE_CONFIG (e.g.
 * IBM-1047 for a file brought from z/OS), else as UTF-8. An FB80 data-set image is read one
 * record per line (fixedRecordsAsLines).
 */
export function parseConfigBytes(bytes: Uint8Array, fileName: string, env: Env = {}, opts: ParseOptions = {}): ConfigResult {
  const cpName = env[CONFIG_CODEPAGE_ENV];
  if (cpName === undefined || cpName === '') {
    return parseConfig(Buffer.from(fixedRecordsAsLines(bytes, [0x0a, 0x0d], 0x0a)).toString('utf8'), fileName, env, opts);
  }
  const page = getCodePage(cpName);
  if (page === undefined) {
    return err([new ConfigError({ file: fileName, line: 0, statement: CONFIG_CODEPAGE_ENV, parameter: null, problem: `code page '${cpName}' not known`, allowed: 'a code page such as IBM-1047, IBM-037, ISO8859-1, UTF-8' })]);
  }
  // EBCDIC line ends: NL X'15', LF X'25', CR X'0D'.
  const image = page.ebcdic ? fixedRecordsAsLines(bytes, [0x15, 0x25, 0x0d], 0x15) : fixedRecordsAsLines(bytes, [0x0a, 0x0d], 0x0a);
  let text: string;
  try {
    text = page.decode(image, { newline: 'nl-is-lf' });
  } catch (e) {
    return err([new ConfigError({ file: fileName, line: 0, statement: CONFIG_CODEPAGE_ENV, parameter: null, problem: `cannot decode the file as ${page.name}: ${describeError(e)}`, allowed: null })]);
  }
  return parseConfig(text, fileName, env, opts);
}

/** Reads and parses a configuration file. */
export function loadConfig(path: string, env: Env = process.env, opts: ParseOptions = {}): ConfigResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return err([new ConfigError({ file: path, line: 0, statement: '(file)', parameter: null, problem: `cannot read: ${describeError(e)}`, allowed: null })]);
  }
  return parseConfigBytes(bytes, path, env, opts);
}

