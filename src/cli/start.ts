// `spoolgate start --config FILE [-f|-F] [-p STACK] [--once]`: runs the instance.
//   -f, -F  cold start: discard checkpoint records and process unfinished files from the start
//           (the seed's start option, either case).
//   -p, -P  the seed's TCP/IP stack choice (common INET): accepted so an unchanged start command
//           works, and ignored with a warning (the host has one stack).
//   --once  process what is in the spool now (and due extended retries), then exit (cron use);
//           says first what it waits for and prints at the end where the mail went. With Store
//           Backend PostgreSQL: this node's spool is stored, then the writer's shared-queue
//           entries due at that moment and held by no other node are sent (docs/cluster.md).
// SIGTERM/SIGINT drain: stop reading, let in-flight attempts end, exit 0; the spool and the
// checkpoint keep everything unfinished for the next start.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import type { GlobalCounters } from '../forwarder/index.js';
import { startServices } from '../main.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';
import { sendCommand } from '../control/index.js';
import { packageRoot } from './init.js';
import { SpoolgateError } from '../core/index.js';

/** The installed package directory (inside node_modules) that contains `dir`, if any. */
export function insidePackage(dir: string, root = packageRoot()): string | undefined {
  if (!root.split(sep).includes('node_modules')) return undefined; // a checkout: npm start's var/ is fine
  const rel = relative(root, resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? root : undefined;
}

/** One line for a start-up failure: the message, and what to do when the errno says it. */
function startFailure(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as NodeJS.ErrnoException;
  const hint = x.code === 'ENOSPC' || x.code === 'SQLITE_FULL' ? ' (the file system is full: free space and start again)'
    : x.code === 'EACCES' || x.code === 'EPERM' ? ' (permission denied: check the owner and mode of that path)' : '';
  return `${e.message}${hint}`;
}


export interface StartOptions {
  readonly config: string | undefined;
  readonly cold: boolean;
  readonly once: boolean;
  /** Lines for standard error: start options accepted but without effect here. */
  readonly warnings: readonly string[];
}

/** The start command line (cli/commands.ts); the exit code when there is nothing to start (--help printed: 0, a usage error printed: 2). */
export function parseStartArgs(argv: string[], io: CliIo = processIo): { ok: true; value: StartOptions } | { ok: false; code: number } {
  const args = parseCommand('start', argv, io);
  if (typeof args === 'number') return { ok: false, code: args };
  const v = args.values as { config?: string; cold?: boolean; F?: boolean; stack?: string; P?: string; once?: boolean };
  if (args.positionals.length > 0) return { ok: false, code: usageError('start', io, `unexpected "${args.positionals[0]!}"`) };
  const stack = v.stack ?? v.P;
  const warnings = stack === undefined ? [] : [`spoolgate: start option -p ${stack} ignored: it chooses a z/OS TCP/IP stack; this host has one network stack`];
  return { ok: true, value: { config: v.config, cold: v.cold === true || v.F === true, once: v.once === true, warnings } };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const parsed = parseStartArgs(argv, io);
  if (!parsed.ok) return parsed.code;
  const args = { values: parsed.value };
  for (const w of args.values.warnings) io.stderr.write(w + '\n');
  const file = configPath(args.values.config, io);
  if (file === undefined) return usageError('start', io, noConfig());
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
  let services;
  try {
    services = await startServices(config, { cold: args.values.cold });
  } catch (e) {
    // An expected refusal (the writer is locked by another instance, the control socket is in
    // use, a corrupt checkpoint, a store that cannot be opened, a full or unwritable directory)
    // is one line for the operator, with what to do where known; anything else is a bug and
    // keeps its stack (src/cli.ts).
    if (!(e instanceof SpoolgateError) && typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    io.stderr.write(`spoolgate: ${config.instance}: not started: ${startFailure(e)}\n`);
    return 1;
  }
  const gw = services.gateway;
  if (args.values.once) {
    // O2 item 8: --once says what it will wait for and, at the end, where every message went, so
    // a cron run with every target down is not a silent wait (the wait is bounded by RetryLimit).
    // [P2] With Store Backend PostgreSQL the spool is this node's spool directory plus the writer's
    // shared queue (docs/cluster.md, "start --once and cold start -f on a cluster").
    const shared = gw.cluster?.source;
    const waiting = async (): Promise<{ local: number; shared: number }> => ({ local: (await gw.queue.list()).length, shared: (await shared?.queued()) ?? 0 });
    let summary: string;
    try {
      const at = await waiting();
      const rl = config.retryLimit;
      const after = config.extendedRetry.active && config.extendedRetry.interval > 0 ? 'moved to extended retry (a later run or the daemon tries it)' : 'returned to its sender as undeliverable';
      io.stdout.write(`spoolgate ${config.instance}: --once: ${at.local + at.shared} spool file(s); a message no target takes is tried ${rl.count + 1} time(s), ${rl.interval} min apart, then ${after}\n`);
      if (shared !== undefined) {
        io.stdout.write(`spoolgate ${config.instance}: --once on the shared queue of writer ${config.extWrtName}: ${at.local} file(s) in this node's spool are stored, then every entry due now that no other node holds is sent here; entries that arrive later are left to the other nodes or the next run\n`);
      }
      const before = { ...gw.forwarder.counters };
      await gw.forwarder.runOnce();
      const left = await waiting();
      summary = onceSummary(config.instance, before, gw.forwarder.counters, left.local + left.shared, shared === undefined ? undefined : left.shared);
    } catch (e) {
      // The shared queue could not be read or claimed (the database is gone for longer than a lease).
      io.stderr.write(`spoolgate: ${config.instance}: --once ended early: ${startFailure(e)}; what is not sent stays queued for the next run\n`);
      await services.stop();
      return 1;
    }
    io.stdout.write(`${summary}\n`);
    await services.stop();
    return 0;
  }
  await gw.forwarder.start();
  const out: string[] = [`spoolgate ${config.instance}: running (writer ${config.extWrtName}, spool ${config.spool.directory})`];
  for (const l of services.listening) {
    out.push(`  ${l.role.padEnd(8)} ${l.role === 'control' ? l.host : `${l.host}:${l.port}`}${l.role === 'http' ? `  (console http://${l.host}:${l.port}/, API token in ${services.httpTokenFile ?? '?'}, send-only token in http-send.token beside it)` : ''}`);
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

/**
 * The last line of `start --once`: what this run did with the mail it read (counter deltas).
 * `sharedLeft` (Store Backend PostgreSQL): how many of `spoolLeft` are entries of the shared queue.
 */
export function onceSummary(instance: string, before: GlobalCounters, after: GlobalCounters, spoolLeft: number, sharedLeft?: number): string {
  const d = (k: keyof GlobalCounters): number => after[k] - before[k];
  const why = sharedLeft === undefined ? 'held, or notifications for the next run'
    : `${sharedLeft} in the shared queue: notifications and entries that arrived since the start, held ones, or other nodes' work`;
  return `spoolgate ${instance}: --once done: ${d('mailSent')} sent, ${d('extended')} to extended retry, ${d('undeliver')} undeliverable (${d('deadLetter')} dead letter(s)); ${spoolLeft} spool file(s) left (${why})`;
}
