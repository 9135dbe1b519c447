// The `spoolgate` command table. Each subcommand lives in src/cli/<name>.ts and exports
// `run(argv: string[], io?: CliIo): Promise<number>` returning the exit code (cli/io.ts); main()
// only dispatches. src/cli.ts runs it for the process; tests run it in-process with a captured io.
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
import { readFileSync } from 'node:fs';
import { processIo, type CliIo } from './io.js';

type Runner = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: Runner }> }> = {
  // (one line per subcommand; keep alphabetical)
  accounting: { summary: 'query accounting records (SMF 119 analog): --since --user --job --type --summary', load: () => import('./accounting.js') },
  config: { summary: 'check or show a configuration file', load: () => import('./config.js') },
  db: { summary: 'PostgreSQL store schema: migrate (apply pending versions) or status', load: () => import('./db.js') },
  deadletter: { summary: 'list, requeue or purge dead letters of the running instance', load: () => import('./deadletter.js') },
  doctor: { summary: 'check this machine for a start: TLS files, user exit, directories, ports, lock, targets (EHLO)', load: () => import('./doctor.js') },
  init: { summary: 'lay out a production install: /etc, /var, the service user, systemd unit, logrotate', load: () => import('./init.js') },
  note: { summary: 'compose a note with attachments and put it on the spool', load: () => import('./note.js') },
  sendmail: { summary: 'put a complete MIME message file on the spool (QtmmSendMail)', load: () => import('./sendmail.js') },
  queue: { summary: 'the running instance\'s queue: list, show, hold, release, retry, bounce, delete, shape', load: () => import('./queue.js') },
  pdfmail: { summary: 'mail a print report as PDF, one PDF per section with --split (iSeries spooled file as PDF)', load: () => import('./pdfmail.js') },
  modify: { summary: 'send an operator command to the running instance (alias F), e.g. D,TARGETS', load: () => import('./modify.js') },
  journal: { summary: 'show journal events: where is my mail? (--id, --from, --to, --since)', load: () => import('./journal.js') },
  start: { summary: 'run the gateway instance (-f/-F cold start, --once for cron; -p ignored)', load: () => import('./start.js') },
  spool: { summary: 'list, release or purge held spool files', load: () => import('./spool.js') },
  submit: { summary: 'put batch-SMTP files on a writer\'s spool', load: () => import('./submit.js') },
  user: { summary: 'enroll mailbox users: add, remove, passwd, list, alias', load: () => import('./user.js') },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return [
    'usage: spoolgate <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run "spoolgate <command> --help" for the options of one command.',
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
  const entry = COMMANDS[cmd === 'F' || cmd === 'f' ? 'modify' : cmd];
  if (entry === undefined) {
    io.stderr.write(`spoolgate: unknown command "${cmd}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await entry.load();
  return mod.run(rest, io);
}
