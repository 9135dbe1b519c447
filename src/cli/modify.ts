// `spoolgate modify [--config FILE | --socket PATH] [--json] [instance] <command>` (alias `F`):
// sends one operator command (SPEC.md §4, e.g. `D,TARGETS`, `LOGL,LEVEL=15`, `SUSPEND`) to the
// running instance over its control socket and prints the answer lines (or --json: the answer
// object). Exit 0 when the command was carried out, 1 when the instance refused or failed it or
// cannot be reached, 2 for usage and configuration errors.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { formatDiagnostic, loadConfig } from '../config/index.js';
import { sendCommand } from '../control/index.js';
import { processIo, type CliIo } from './io.js';
import { configPath, noConfig } from './config-file.js';
import { parseCommand, usageError } from './parse.js';

/** The only other Unix socket in the directory of `path`, if there is exactly one. */
function otherSocket(path: string): string | undefined {
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined; // no such directory: the caller's error message covers it
  }
  const found = names.map((n) => join(dir, n)).filter((p) => p !== path && lstatSync(p, { throwIfNoEntry: false })?.isSocket() === true);
  return found.length === 1 ? found[0] : undefined;
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('modify', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; socket?: string; json?: boolean; timeout?: string };
  const usage = (msg: string): number => usageError('modify', io, msg);

  const control = controlSocket(v, io);
  if (!control.ok) {
    if (control.error.usage) return usage(control.error.message);
    io.stderr.write(control.error.message);
    return 2;
  }
  let socketPath = control.value.socketPath;
  const instance = control.value.instance;

  const pos = [...args.positionals];
  // SPEC.md §4: `spoolgate modify <instance> <command>`; the seed's `F CSSMTP,DISPLAY,...` form too.
  if (pos.length >= 2 && !pos[0]!.includes(',')) {
    const named = pos.shift()!;
    if (instance !== undefined && named.toUpperCase() !== instance.toUpperCase()) return usage(`instance "${named}" is not the configured instance "${instance}"`);
  } else if (pos.length >= 1 && instance !== undefined && pos[0]!.toUpperCase().startsWith(`${instance.toUpperCase()},`)) {
    pos[0] = pos[0]!.slice(instance.length + 1);
  }
  // `DISPLAY, TARGETS` typed with blanks after the commas arrives as several words.
  const text = pos.join(' ').trim();
  if (text === '') return usage('no command given');
  const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) return usage('--timeout takes seconds > 0');

  if (v.socket === undefined) socketPath = besideSocket(socketPath, 'modify', io);
  const r = await sendCommand(socketPath, text, timeoutMs === undefined ? {} : { timeoutMs });
  if (!r.ok) {
    io.stderr.write(`spoolgate modify: ${r.error}\n`);
    return 1;
  }
  if (v.json === true) io.stdout.write(JSON.stringify(r.value, null, 2) + '\n');
  else for (const l of r.value.lines) io.stdout.write(l + '\n');
  return r.value.ok ? 0 : 1;
}

/**
 * The control socket of the instance: --socket, or ControlSocket of the configuration (--config or
 * the configuration search). err.usage: no way to find it; else the configuration's errors.
 */
export function controlSocket(v: { readonly config?: string | undefined; readonly socket?: string | undefined }, io: CliIo): Result<{ socketPath: string; instance: string | undefined }, { usage: boolean; message: string }> {
  let socketPath = v.socket;
  let instance: string | undefined;
  // Without --socket: the one configuration search (cli/config-file.ts).
  const configFile = v.config ?? (v.socket === undefined ? configPath(undefined, io) : undefined);
  if (configFile !== undefined) {
    const loaded = loadConfig(configFile, io.env);
    if (!loaded.ok) {
      return err({ usage: false, message: loaded.error.map((e) => formatDiagnostic(e) + '\n').join('') });
    }
    socketPath ??= loaded.value.config.controlSocket;
    instance = loaded.value.config.instance;
  }
  if (socketPath === undefined) return err({ usage: true, message: noConfig('--socket PATH') });
  return ok({ socketPath, instance });
}


/**
 * ExtWrtName and ControlSocket take effect at the next start, so after an edit of the file the
 * running instance still listens on the old path: the one socket beside it, with a note.
 */
export function besideSocket(socketPath: string, cmd: string, io: CliIo): string {
  if (existsSync(socketPath)) return socketPath;
  const other = otherSocket(socketPath);
  if (other === undefined) return socketPath;
  io.stderr.write(`spoolgate ${cmd}: note: ${socketPath} does not exist; using ${other} (ExtWrtName or ControlSocket changed in the file since the instance started: the new value takes effect at the next start)\n`);
  return other;
}
