// `spoolgate status [--config FILE | --socket PATH] [--json]` (O2 #18 item 6): what is running —
// pid, version, node, uptime, the listeners, messages per queue state, target states, suspended or
// not — asked of the running instance over its control socket with the (ext) DISPLAY,STATUS
// command (control/status.ts assembles it, as it does the console's /api/v1/status). Exit 0 when
// the instance answered, 1 when none runs (one line says where it was looked for), 2 for usage.
import { sendCommand } from '../control/index.js';
import { processIo, type CliIo } from './io.js';
import { besideSocket, controlSocket } from './modify.js';
import { parseCommand, usageError } from './parse.js';

/** A short default: a status that hangs is worse than one that says the instance does not answer. */
const DEFAULT_TIMEOUT_MS = 10_000;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('status', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; socket?: string; json?: boolean; timeout?: string };
  if (args.positionals.length > 0) return usageError('status', io, `unexpected "${args.positionals[0]!}"`);
  const timeoutMs = v.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(v.timeout) * 1000;
  if (!(timeoutMs > 0)) return usageError('status', io, '--timeout takes seconds > 0');
  const control = controlSocket(v, io);
  if (!control.ok) {
    if (control.error.usage) return usageError('status', io, control.error.message);
    io.stderr.write(control.error.message);
    return 2;
  }
  const socket = v.socket === undefined ? besideSocket(control.value.socketPath, 'status', io) : control.value.socketPath;
  const r = await sendCommand(socket, 'DISPLAY,STATUS', { timeoutMs });
  if (!r.ok) {
    io.stderr.write(`spoolgate status: not running: ${r.error}\n`);
    return 1;
  }
  if (!r.value.ok) {
    // An instance older than DISPLAY,STATUS answers EZD1835E: say so rather than print it raw.
    for (const l of r.value.lines) io.stderr.write(l + '\n');
    io.stderr.write('spoolgate status: the running instance does not know DISPLAY,STATUS (started from an older spoolgate?)\n');
    return 1;
  }
  if (v.json === true) io.stdout.write(JSON.stringify(r.value.data, null, 2) + '\n');
  else for (const l of r.value.lines) io.stdout.write(l + '\n');
  return 0;
}
