// The `spoolgate` dispatcher; the command table is cli/commands.ts. Each subcommand lives in src/cli/<name>.ts and exports
// `run(argv: string[], io?: CliIo): Promise<number>` returning the exit code (cli/io.ts); main()
// only dispatches. src/cli.ts runs it for the process; tests run it in-process with a captured io.
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
import { readFileSync } from 'node:fs';
import { processIo, type CliIo } from './io.js';
import { COMMANDS } from './commands.js';

type Runner = (argv: string[], io: CliIo) => Promise<number>;

// What each name runs; what each command takes is in the table of cli/commands.ts.
const LOADERS: Record<string, () => Promise<{ run: Runner }>> = {
  accounting: () => import('./accounting.js'),
  completion: () => import('./completion.js'),
  config: () => import('./config.js'),
  db: () => import('./db.js'),
  deadletter: () => import('./deadletter.js'),
  doctor: () => import('./doctor.js'),
  init: () => import('./init.js'),
  journal: () => import('./journal.js'),
  modify: () => import('./modify.js'),
  note: () => import('./note.js'),
  pdfmail: () => import('./pdfmail.js'),
  queue: () => import('./queue.js'),
  sendmail: () => import('./sendmail.js'),
  spool: () => import('./spool.js'),
  start: () => import('./start.js'),
  status: () => import('./status.js'),
  submit: () => import('./submit.js'),
  user: () => import('./user.js'),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return [
    'usage: spoolgate <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run "spoolgate <command> --help" for the options of one command, its exit codes and examples;',
    '"man spoolgate" has them all. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration',
    'error (sendmail: the sysexits.h codes).',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout.write(usage() + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    io.stdout.write(`spoolgate ${version()}\n`);
    return 0;
  }
  // `F` is the operator's alias of `modify` (SPEC.md §4).
  const load = LOADERS[cmd === 'F' || cmd === 'f' ? 'modify' : cmd];
  if (load === undefined) {
    io.stderr.write(`spoolgate: unknown command "${cmd}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest, io);
}
