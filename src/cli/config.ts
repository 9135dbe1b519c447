// `spoolgate config check|show [--config FILE] [--json]`: validate a configuration file, or print the
// values in force in the Display,CONFig (EZD1829I) layout (--json: as data).
// Exit codes: 0 valid, 2 usage or configuration error.
import { loadConfig, formatConfigDisplay, type Config } from '../config/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

/** Keys whose values are secrets: shown as "(set)", as the console's /api/v1/config shows them. */
const SECRET = /password$/i;

/** The configuration as JSON for `config show --json`: secrets as "(set)", a PostgreSQL URL without its password. */
async function configJson(c: Config): Promise<unknown> {
  const masked = JSON.parse(JSON.stringify(c, (k, v: unknown) => (SECRET.test(k) && typeof v === 'string' ? '(set)' : v))) as Config;
  const pg = masked.store.postgres;
  if (pg === null) return masked;
  const { redactUrl } = await import('../store/pg/index.js'); // only with Backend PostgreSQL
  return { ...masked, store: { ...masked.store, postgres: { ...pg, url: redactUrl(pg.url) } } };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = parseCommand('config', argv, io);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { config?: string; json?: boolean };
  const { positionals } = parsed;
  const action = positionals[0];
  if ((action !== 'check' && action !== 'show') || positionals.length > 1) {
    return usageError('config', io, action === undefined ? 'name the action: check or show' : positionals.length > 1 ? `unexpected "${positionals[1]!}"` : `unknown action "${action}"`);
  }
  const file = configPath(values.config, io);
  if (file === undefined) { io.stderr.write(`spoolgate config: ${noConfig()}\n`); return 2; }
  const r = loadConfig(file, io.env);
  if (values.json === true && action === 'check') {
    // --json: the verdict as data, errors and warnings with their file:line text.
    const errors = r.ok ? [] : r.error.map((e) => e.message);
    const warnings = r.ok ? r.value.warnings.map((w) => w.text) : [];
    io.stdout.write(JSON.stringify({ file, valid: r.ok, errors, warnings }, null, 2) + '\n');
    return r.ok ? 0 : 2;
  }
  if (!r.ok) {
    for (const e of r.error) io.stderr.write(`${e.message}\n`);
    io.stderr.write(`${file}: ${r.error.length} error${r.error.length === 1 ? '' : 's'}; configuration not valid\n`);
    return 2;
  }
  const warnings = r.value.warnings.map((w) => `warning: ${w.text}\n`).join('');
  if (action === 'check') {
    io.stdout.write(`${warnings}${file}: valid\n`);
  } else {
    io.stderr.write(warnings);
    if (values.json === true) io.stdout.write(JSON.stringify(await configJson(r.value.config), null, 2) + '\n');
    else io.stdout.write(formatConfigDisplay(r.value.config).join('\n') + '\n');
  }
  return 0;
}
