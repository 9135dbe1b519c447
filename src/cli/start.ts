// `spoolgate start --config FILE [-f] [--once]`: runs the instance.
//   -f      cold start: discard checkpoint records and process unfinished files from the start.
//   --once  process what is in the spool now (and due extended retries), then exit (cron use).
// SIGTERM/SIGINT drain: stop reading, let in-flight attempts end, exit 0; the spool and the
// checkpoint keep everything unfinished for the next start.
import { parseArgs } from 'node:util';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { startGateway } from '../main.js';

const USAGE = 'usage: spoolgate start --config FILE [-f] [--once]';

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, f: { type: 'boolean', short: 'f' }, cold: { type: 'boolean' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) { process.stdout.write(USAGE + '\n'); return 0; }
  const file = args.values.config;
  if (file === undefined) { process.stderr.write(`--config is required\n${USAGE}\n`); return 2; }
  const loaded = loadConfig(file);
  if (!loaded.ok) {
    for (const e of loaded.error) process.stderr.write(formatDiagnostic(e) + '\n');
    process.stderr.write(`spoolgate: ${loaded.error.length} configuration error(s); not started\n`);
    return 2;
  }
  for (const w of loaded.value.warnings) process.stderr.write(formatDiagnostic(w) + '\n');
  const gw = await startGateway(loaded.value.config, { cold: args.values.f === true || args.values.cold === true });
  if (args.values.once) {
    await gw.forwarder.runOnce();
    await gw.stop();
    return 0;
  }
  await gw.forwarder.start();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      gw.log.event('gateway.signal', { signal: sig });
      gw.stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
