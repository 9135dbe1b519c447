// `spoolgate sendmail` — the QtmmSendMail analog on the command line (SPEC.md §7): put a file that
// holds a complete RFC 5322 / MIME message on the spool for the given envelope. Without the
// file form's long options it is the classic `sendmail -t -i -f …` (cli/sendmail-classic.ts). The file is left
// in place unless --remove. Refusals print "spoolgate sendmail: <CODE>: <text>" and exit 2 (bad
// input) or 1 (the spool could not be written).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { describeError } from '../core/errors.js';
import { normalizeName } from '../spool/attributes.js';
import { sendMail, type SendMailRecipient } from '../submit/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig, configHelpLine } from './config-file.js';
import { CLASSIC_USAGE, runClassic } from './sendmail-classic.js';

/** The long options of the file form; any other command line is the classic sendmail one. */
const FILE_FORM = /^--(config|from|to|cc|bcc|remove|job)(=|$)/;

const USAGE = `usage: spoolgate sendmail --config FILE --from ADDR (--to ADDR | --cc ADDR | --bcc ADDR)...
                          [--remove] [--job NAME] FILE
Puts FILE (a complete message: header fields, a blank line, the body) on the writer's spool for
the given envelope and prints "<entry-id> <JOBNAME>(<JOBID>)". A Bcc: header field in FILE is left
out of the spooled copy. --remove unlinks FILE once the spool entry is durable.`;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  if (!argv.some((a) => FILE_FORM.test(a)) && !argv.includes('--help')) return runClassic(argv, io);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string', multiple: true },
        cc: { type: 'string', multiple: true },
        bcc: { type: 'string', multiple: true },
        remove: { type: 'boolean' },
        job: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.stderr.write(`spoolgate sendmail: ${describeError(e)}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help === true) {
    io.stdout.write(`${USAGE}\n${configHelpLine(v.config, io)}\n\nWithout --from/--to it is the classic sendmail interface (also when installed as\n/usr/sbin/sendmail):\n${CLASSIC_USAGE}\n`);
    return 0;
  }
  const usage = (msg: string): number => {
    io.stderr.write(`spoolgate sendmail: ${msg}\n${USAGE}\n`);
    return 2;
  };
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
