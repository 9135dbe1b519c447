// `spoolgate start --config FILE [-f] [--once]`: runs the instance.
//   -f      cold start: discard checkpoint records and process unfinished files from the start.
//   --once  process what is in the spool now (and due extended retries), then exit (cron use).
// SIGTERM/SIGINT drain: stop reading, let in-flight attempts end, exit 0; the spool and the
// checkpoint keep everything unfinished for the next start.
import { parseArgs } from 'node:util';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { startServices } from '../main.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig, configHelpLine } from './config-file.js';
import { sendCommand } from '../control/index.js';
import { packageRoot } from './init.js';

/** The installed package directory (inside node_modules) that contains `dir`, if any. */
export function insidePackage(dir: string, root = packageRoot()): string | undefined {
  if (!root.split(sep).includes('node_modules')) return undefined; // a checkout: npm start's var/ is fine
  const rel = relative(root, resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? root : undefined;
}

const USAGE = 'usage: spoolgate start --config FILE [-f] [--once]';

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, f: { type: 'boolean', short: 'f' }, cold: { type: 'boolean' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) { io.stdout.write(`${USAGE}\n${configHelpLine(args.values.config, io)}\n`); return 0; }
  const file = configPath(args.values.config, io);
  if (file === undefined) { io.stderr.write(`spoolgate start: ${noConfig()}\n${USAGE}\n`); return 2; }
  const loaded = loadConfig(file, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
    io.stderr.write(`spoolgate: ${loaded.error.length} configuration error(s); not started\n`);
    return 2;
  }
  for (const w of loaded.value.warnings) io.stderr.write(formatDiagnostic(w) + '\n');
  const config = loaded.value.config;
  const inside = insidePackage(config.stateDirectory);
  if (inside !== undefined) {
    // An npm (re)install replaces the package directory: spool, checkpoint and mailboxes would go.
    io.stderr.write(`spoolgate: StateDirectory ${config.stateDirectory} is inside the installed package (${inside}); a reinstall would delete it. Set StateDirectory (and Spool Directory) outside it, e.g. run "spoolgate init" for /var/lib/spoolgate\n`);
    return 2;
  }
  const services = await startServices(config, { cold: args.values.f === true || args.values.cold === true });
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
    // SIGHUP (systemctl reload) = REFRESH, through the control socket like an operator's command.
    process.on('SIGHUP', () => {
      gw.log.event('gateway.signal', { signal: 'SIGHUP' });
      sendCommand(config.controlSocket, 'REFRESH').then(
        (r) => { if (!r.ok) gw.log.error('gateway.refresh-failed', { reason: r.error }); },
        (e: unknown) => gw.log.error('gateway.refresh-failed', { reason: String(e) }),
      );
    });
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
