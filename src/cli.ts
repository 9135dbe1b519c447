// The `spoolgate` command line (bin/spoolgate.js runs the compiled copy): the command table and
// dispatch are in cli/index.ts; this file only runs them for the process.
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
import { basename } from 'node:path';
import { main } from './cli/index.js';
import { runClassic } from './cli/sendmail-classic.js';

// A reader that goes away (`spoolgate journal | head`) is not a failure of the command: stop
// quietly, as Unix filters do, instead of an unhandled 'error' with a stack. A running gateway
// (`start`) keeps running: its output just has no reader any more.
const quietOnEpipe = (e: NodeJS.ErrnoException): void => {
  if (e.code !== 'EPIPE') throw e;
  if (process.argv[2] !== 'start') process.exit(process.exitCode ?? 0);
};
process.stdout.on('error', quietOnEpipe);
process.stderr.on('error', quietOnEpipe);

// Installed or linked as /usr/sbin/sendmail, mailq or newaliases, it is the classic interface.
const invokedAs = basename(process.argv[1] ?? 'spoolgate').replace(/\.js$/, '');
const classic = invokedAs === 'sendmail' || invokedAs === 'mailq' || invokedAs === 'newaliases';
(classic ? runClassic(process.argv.slice(2), undefined, invokedAs) : main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`spoolgate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
