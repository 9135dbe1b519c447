// `spoolgate sendmail` — the QtmmSendMail analog on the command line (SPEC.md §7): put a file that
// holds a complete RFC 5322 / MIME message on the spool for the given envelope. Without the
// file form's long options it is the classic `sendmail -t -i -f …` (cli/sendmail-classic.ts). The file is left
// in place unless --remove. Refusals print "spoolgate sendmail: <CODE>: <text>" and exit 2 (bad
// input) or 1 (the spool could not be written).
import { resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { normalizeName } from '../spool/attributes.js';
import { sendMail, type SendMailRecipient } from '../submit/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';
import { runClassic } from './sendmail-classic.js';

/** The long options of the file form; any other command line is the classic sendmail one. */
const FILE_FORM = /^--(config|from|to|cc|bcc|remove|job)(=|$)/;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  if (!argv.some((a) => FILE_FORM.test(a)) && !argv.includes('--help')) return runClassic(argv, io);
  const args = parseCommand('sendmail', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; from?: string; to?: string[]; cc?: string[]; bcc?: string[]; remove?: boolean; job?: string };
  const usage = (msg: string): number => usageError('sendmail', io, msg);
  const configFileName = configPath(v.config, io);
  if (configFileName === undefined) return usage(noConfig());
  if (v.from === undefined) return usage('--from ADDR is required');
  if (args.positionals.length !== 1) return usage('give exactly one FILE');
  let job: string | undefined;
  if (v.job !== undefined) {
    const j = normalizeName(v.job);
    if (!j.ok) return usage(`--job: ${j.error}`);
    job = j.value;
  }
  const loaded = loadConfig(configFileName, io.env);
  if (!loaded.ok) return usage(loaded.error.map((e) => e.message).join('\n'));
  const recipients: SendMailRecipient[] = [
    ...(v.to ?? []).map((address) => ({ address, type: 'normal' as const })),
    ...(v.cc ?? []).map((address) => ({ address, type: 'cc' as const })),
    ...(v.bcc ?? []).map((address) => ({ address, type: 'bcc' as const })),
  ];
  const r = await sendMail({
    // The API takes the entire path (seed 004); on the command line a relative FILE means the
    // working directory, as for every other command.
    file: resolve(args.positionals[0]!), originator: v.from, recipients, config: loaded.value.config,
    remove: v.remove === true, ...(job === undefined ? {} : { jobName: job }),
  });
  if (!r.ok) {
    io.stderr.write(`spoolgate sendmail: ${r.error.code}: ${r.error.message}\n`);
    return r.error.code === 'SG_SENDMAIL_SPOOL_FAILED' ? 1 : 2;
  }
  const e = r.value.entry;
  io.stdout.write(`${e.id} ${e.attrs.jobName}(${e.attrs.jobId})\n`);
  if (r.value.removeProblem !== undefined) io.stderr.write(`spoolgate sendmail: warning: ${r.value.removeProblem}\n`);
  return 0;
}
