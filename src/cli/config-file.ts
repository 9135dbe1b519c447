// One way for every subcommand to find its configuration file (O2 #18 item 2): --config FILE,
// else $SPOOLGATE_CONFIG, else ./config/spoolgate.conf, else /etc/spoolgate/spoolgate.conf
// (config/locate.ts). A command that has another way to be told where to work (--db, --file,
// --socket, --spool-dir) only looks when that is not given.
import { locateConfig, type LocatedConfig } from '../config/locate.js';
import type { CliIo } from './io.js';

export const CONFIG_SEARCH = '--config FILE, else $SPOOLGATE_CONFIG, else ./config/spoolgate.conf, else /etc/spoolgate/spoolgate.conf';

/** The configuration file for this command, or undefined when none of the places has one. */
export function configFile(explicit: string | undefined, io: CliIo): LocatedConfig | undefined {
  return locateConfig(explicit, io.env);
}

/** The path only (for code that already checked the alternatives). */
export function configPath(explicit: string | undefined, io: CliIo): string | undefined {
  return configFile(explicit, io)?.path;
}

/** The error when no configuration was found: where it was looked for. */
export function noConfig(alternative?: string): string {
  return `no configuration file found (looked for ${CONFIG_SEARCH})${alternative === undefined ? '' : `; or give ${alternative}`}`;
}

/** A line for --help output: which configuration this command would use here. */
export function configHelpLine(explicit: string | undefined, io: CliIo): string {
  const c = configFile(explicit, io);
  return c === undefined ? `configuration: none found (${CONFIG_SEARCH})` : `configuration: ${c.path} (from the ${c.source})`;
}
