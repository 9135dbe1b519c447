// `spoolgate start --config FILE [-f] [--once]`: runs the instance.
//   -f      cold start: discard checkpoint records and process unfinished files from the start.
//   --once  process what is in the spool now (and due extended retries), then exit (cron use).
// SIGTERM/SIGINT drain: stop reading, let in-flight attempts end, exit 0; the spool and the
// checkpoint keep everything unfinished for the next start.
import { parseArgs } from 'node:util';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { defaultConfigPath, startServices } from '../main.js';
import { processIo, type CliIo } from './io.js';

const USAGE = 'usage: spoolgate start --config FILE [-f] [--once]';

/** One line for a start-up failure: the message, the file and errno when the error has them. */
function startFailure(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as NodeJS.ErrnoException;
  const hint = x.code === 'ENOSPC' || x.code === 'SQLITE_FULL' ? ' (the file system is full: free space and start again)'
    : x.code === 'EACCES' || x.code === 'EPERM' ? ' (permission denied: check the owner and mode of that path)' : '';
  return `${e.message}${hint}`;
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, f: { type: 'boolean', short: 'f' }, cold: { type: 'boolean' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) { io.stdout.write(USAGE + '\n'); return 0; }
  const file = args.values.config ?? defaultConfigPath();
  if (file === undefined) { io.stderr.write(`--config is required (no config/spoolgate.conf here)\n${USAGE}\n`); return 2; }
  const loaded = loadConfig(file, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
    io.stderr.write(`spoolgate: ${loaded.error.length} configuration error(s); not started\n`);
    return 2;
  }
  for (const w of loaded.value.warnings) io.stderr.write(formatDiagnostic(w) + '\n');
  const config = loaded.value.config;
  let services;
  try {
    services = await startServices(config, { cold: args.values.f === true || args.values.cold === true });
  } catch (e) {
    // An operator message, not a stack trace (a corrupt checkpoint, a full or unwritable state
    // or spool directory, a writer lock held): what failed and, where known, what to do.
    io.stderr.write(`spoolgate: not started: ${startFailure(e)}\n`);
    return 1;
  }
  const gw = services.gateway;
  if (args.values.once) {
    await gw.forwarder.runOnce();
    await services.stop();
    return 0;
  }
  await gw.forwarder.start();
  const out: string[] = [`spoolgate ${config.instance}: running (writer ${config.extWrtName}, spool ${config.spool.directory})`];
  for (const l of services.listening) {
    out.push(`  ${l.role.padEnd(8)} ${l.role === 'control' ? l.host : `${l.host}:${l.port}`}${l.role === 'http' ? `  (console http://${l.host}:${l.port}/, API token in ${services.httpTokenFile ?? '?'})` : ''}`);
  }
  if (services.demo) {
    const pop = services.listening.find((l) => l.role === 'pop3');
    out.push(
      '',
      // The password is not printed (logs and terminals are kept): it is in the owner-only file.
      `First start: created mailbox user "${services.demo.user}"; its password is in ${services.demo.passwordFile} (mode 0600).`,
      'Try, from another terminal:',
      `  npx spoolgate submit examples/hello.smtp`,
      pop ? `  curl --user "demo:$(cat ${services.demo.passwordFile})" pop3://${pop.host}:${pop.port}/1` : '',
    );
  }
  io.stdout.write(out.join('\n') + '\n');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      gw.log.event('gateway.signal', { signal: sig });
      services.stop().then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
