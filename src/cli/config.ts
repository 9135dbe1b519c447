// `spoolgate config check|show [--config FILE]`: validate a configuration file, or print the
// values in force in the Display,CONFig (EZD1829I) layout.
// Exit codes: 0 valid, 2 usage or configuration error.
import { parseArgs } from 'node:util';
import { loadConfig, formatConfigDisplay } from '../config/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig, configHelpLine } from './config-file.js';

const USAGE = [
  'usage: spoolgate config check [--config FILE]   validate; prints "valid" and any warnings',
  '       spoolgate config show  [--config FILE]   print every value in force (EZD1829I layout)',
  '',
  'FILE defaults to config/spoolgate.conf. Set CSSMTP_CODEPAGE_CONFIG=IBM-1047 (or another',
  'code page) to read a file in EBCDIC.',
].join('\n');

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.stderr.write(`spoolgate config: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout.write(`${USAGE}\n${configHelpLine(values.config, io)}\n`);
    return 0;
  }
  const action = positionals[0];
  if ((action !== 'check' && action !== 'show') || positionals.length > 1) {
    io.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = configPath(values.config, io);
  if (file === undefined) { io.stderr.write(`spoolgate config: ${noConfig()}\n`); return 2; }
  const r = loadConfig(file, io.env);
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
    io.stdout.write(formatConfigDisplay(r.value.config).join('\n') + '\n');
  }
  return 0;
}
