// Where a command finds its configuration file when the caller names none: the same order for
// every command that looks (O2 #18 item 2): the explicit file, then $SPOOLGATE_CONFIG, then
// ./config/spoolgate.conf (the embedded default of a checkout, `npm start`), then the installed
// /etc/spoolgate/spoolgate.conf. The answer says which rule found it, for help and error output.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export type ConfigSource = 'option' | 'environment' | 'working directory' | 'system';

export interface LocatedConfig {
  readonly path: string;
  readonly source: ConfigSource;
}

export const SYSTEM_CONFIG = '/etc/spoolgate/spoolgate.conf';
export const LOCAL_CONFIG = 'config/spoolgate.conf';

/**
 * The configuration file to use, or undefined when none of the places has one. An explicit file
 * or $SPOOLGATE_CONFIG is returned even when missing, so that loading it names the missing file.
 */
export function locateConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd(), exists: (p: string) => boolean = existsSync): LocatedConfig | undefined {
  if (explicit !== undefined && explicit !== '') return { path: explicit, source: 'option' };
  const fromEnv = env['SPOOLGATE_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: 'environment' };
  const local = resolve(cwd, LOCAL_CONFIG);
  if (exists(local)) return { path: local, source: 'working directory' };
  if (exists(SYSTEM_CONFIG)) return { path: SYSTEM_CONFIG, source: 'system' };
  return undefined;
}
