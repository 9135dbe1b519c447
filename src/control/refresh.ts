// REFRESH (SPEC.md §3, seed 000 "MODIFY REFRESH"): re-read the configuration file and put it in
// force in every running role, or change nothing at all.
//   1. The file is parsed and validated whole; any error refuses the refresh (EZD1844E).
//   2. diffForRefresh keeps back what cannot change while running (ExtWrtName, listen
//      addresses, TLS files, ...; docs/configuration.md "no R"), each with a warning (EZD1843I).
//   3. Checks that need the outside world run before anything changes (a new UserExit module
//      must load); a failure refuses the whole refresh.
//   4. Every role is handed the new configuration, in the order given (the gateway first, so the
//      roles that read it through the gateway see the new one), then targets re-resolve when
//      TargetServer changed.
import { loadConfig, diffForRefresh, formatDiagnostic, testModeWithoutReport, type Config, type RefreshDiff } from '../config/index.js';
import { Msg } from './messages.js';
import { err, ok, type Result } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { RefreshOutcome } from './execute.js';

export interface RefreshDeps {
  /** The configuration in force (its configFile is re-read). */
  readonly current: () => Config;
  /** Checks before anything changes; each text refuses the refresh ("file: what; the fix"). */
  readonly check: (next: Config, current: Config) => Promise<readonly string[]>;
  /** The roles, each applying the new configuration; `changed` names the statements that changed. */
  readonly apply: readonly ((next: Config, changed: RefreshDiff['changed']) => void | Promise<void>)[];
  readonly log: Logger;
}

export async function refreshFromFile(d: RefreshDeps): Promise<Result<RefreshOutcome, readonly string[]>> {
  const current = d.current();
  const loaded = loadConfig(current.configFile);
  if (!loaded.ok) return err(loaded.error.map((e) => formatDiagnostic(e)));
  const diff = diffForRefresh(current, loaded.value.config);
  const problems = await d.check(diff.apply, current);
  if (problems.length > 0) return err(problems);
  for (const a of d.apply) await a(diff.apply, diff.changed);
  for (const i of diff.ignored) d.log.warn('refresh.ignored', { statement: i.statement, detail: i.message });
  d.log.event('refresh.applied', { changed: diff.changed.join(',') || '-', ignored: diff.ignored.length });
  // Report is refreshable, TestMode is not: a refresh can leave test mode without a destination.
  if (testModeWithoutReport(diff.apply)) d.log.warn('testmode.no-report', { message: Msg.testModeNoReport(diff.apply.instance.toUpperCase()) });
  return ok({ ignored: diff.ignored, changed: diff.changed });
}
