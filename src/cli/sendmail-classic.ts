// The classic sendmail interface: `spoolgate sendmail [options] [recipient ...]` without
// --from/--to, and the same program installed or linked as /usr/sbin/sendmail or mailq
// (bin/spoolgate.js looks at its own name). Options: submit/sendmail-args.ts; what happens to the
// message: submit/sendmail-compat.ts. Exit codes are sysexits.h values, as every sendmail has:
// 0 queued, 64 usage, 65 bad data, 69 too large, 75 try again later (spool not writable),
// 77 not allowed (sender policy), 78 configuration. Nothing is printed on success unless -v.
import { loadConfig, messageEntryLimit, formatDiagnostic } from '../config/index.js';
import { locateConfig } from '../config/locate.js';
import { EX, parseSendmailArgs } from '../submit/sendmail-args.js';
import { enqueueSendmail, readMessage } from '../submit/sendmail-compat.js';
import { currentCaller } from '../submit/sendmail.js';
import { localDomain, type Caller } from '../submit/policy.js';
import { processIo, type CliIo } from './io.js';

export const CLASSIC_USAGE = `usage: sendmail [-t] [-i|-oi] [-f sender] [-F full-name] [-N dsn] [-R full|hdrs] [-V envid]
                [-B 8BITMIME|7BIT] [-C config] [-v] [-bm|-bs|-bp|-q] [recipient ...]
Reads one message on standard input and queues it for the gateway. Without -i, a line holding
only "." ends the message. -t takes recipients from To:, Cc: and Bcc: (Bcc: is never sent).
The configuration: -C, else $SPOOLGATE_CONFIG, else ./config/spoolgate.conf, else
/etc/spoolgate/spoolgate.conf. Exit codes (sysexits.h): 0 queued, 64 usage, 65 bad input,
69 too large, 75 spool not writable (try later), 77 sender not allowed, 78 configuration.`;

export async function runClassic(argv: string[], io: CliIo = processIo, invokedAs = 'sendmail', caller: Caller = currentCaller()): Promise<number> {
  const name = invokedAs;
  const say = (code: number, msg: string): number => { io.stderr.write(`${name}: ${msg}\n`); return code; };
  if (argv.includes('--help') || argv.includes('-h')) { io.stdout.write(CLASSIC_USAGE + '\n'); return EX.OK; }
  const parsed = parseSendmailArgs(argv, invokedAs);
  if (!parsed.ok) return say(EX.USAGE, `${parsed.error}\n${CLASSIC_USAGE}`);
  const args = parsed.value;
  // Postfix ignores these silently unless -v; a batch job's stderr is often mailed, so only -v says.
  if (args.verbose > 0) for (const o of args.ignored) io.stderr.write(`${name}: warning: option ${o} ignored\n`);

  if (args.mode === 'newaliases') return say(EX.OK, 'no alias database to build: aliases are kept with "spoolgate user alias"');

  const where = locateConfig(args.config, io.env);
  if (where === undefined) return say(EX.CONFIG, 'no configuration: give -C FILE, set SPOOLGATE_CONFIG, or install /etc/spoolgate/spoolgate.conf');
  // -bp / mailq is `spoolgate queue list` and -q is FLUSHRETRY (long-retry mail tried now), both
  // asked of the running instance over its control socket (Postfix: postqueue -p / -f).
  if (args.mode === 'mailq') {
    const code = await (await import('./queue.js')).run(['list', '--config', where.path], io);
    return code === 0 ? EX.OK : code === 2 ? EX.CONFIG : EX.UNAVAILABLE;
  }
  if (args.mode === 'flush') {
    const code = await (await import('./modify.js')).run(['--config', where.path, 'FLUSHRETRY,TKID=0'], io);
    return code === 0 ? EX.OK : code === 2 ? EX.CONFIG : EX.UNAVAILABLE;
  }
  const loaded = loadConfig(where.path, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) io.stderr.write(`${name}: ${formatDiagnostic(e)}\n`);
    return EX.CONFIG;
  }
  const config = loaded.value.config;
  if (args.mode === 'smtp') return (await import('./sendmail-smtp.js')).runSmtpDialog(io, config, caller);
  const message = await readMessage(io.stdin, { dotEnds: args.dotEnds, limit: messageEntryLimit(config) });
  if (!message.ok) return say(message.error.exit, message.error.message);
  const r = await enqueueSendmail({
    args, message: message.value, caller, policy: config.users.senderPolicy, domain: localDomain(config),
    target: { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header },
  });
  if (!r.ok) return say(r.error.exit, r.error.message);
  if (args.verbose > 0) {
    const e = r.value.entry;
    io.stderr.write(`${name}: queued as ${e.id} ${e.attrs.jobName}(${e.attrs.jobId}) for ${r.value.envelope.recipients.length} recipient(s) (configuration ${where.path}, from the ${where.source})\n`);
  }
  return EX.OK;
}
