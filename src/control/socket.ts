// The control socket (SPEC.md §4): a Unix domain socket only the instance's owner can use —
// the socket file is chmod 0600 right after listen and its directory is created 0700 (Node
// cannot read SO_PEERCRED, so the file system is the access check). Protocol: the client sends
// one command line ending in LF; the server answers one JSON object {ok, command, lines, data}
// and a LF, then closes. Commands run one at a time, in arrival order.
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import { SpoolgateError, describeError } from '../core/errors.js';
import { type Result, ok, err } from '../core/result.js';
import type { Logger } from '../log/logger.js';
import { executeLine, type ControlResponse, type OperatorTarget } from './execute.js';

/** A command line longer than this is refused (no command needs more). */
export const MAX_COMMAND_BYTES = 4096;

export class ControlSocketError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONTROL_SOCKET', message, options);
  }
}

export interface StartControlOptions {
  readonly socketPath: string;
  readonly target: OperatorTarget;
  readonly log: Logger;
  /** REFRESHTARGETS: how long to wait for each target (default 10 s). */
  readonly probeMs?: number;
  readonly clock?: Clock;
  /** A client that sends nothing is dropped after this long (default 30 s). */
  readonly idleMs?: number;
}

/** Is something answering on this socket path? */
function probeSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ControlSocketError(`cannot check control socket ${path}: ${describeError(e)}`, { cause: e });
  }
  if (!st.isSocket()) throw new ControlSocketError(`control socket path ${path} exists and is not a socket`);
  if (await probeSocket(path)) throw new ControlSocketError(`another instance is already listening on ${path}`);
  unlinkSync(path); // left behind by a crash
}

export async function startControl(opts: StartControlOptions): Promise<{ readonly path: string; close(): Promise<void> }> {
  const { socketPath: path, log } = opts;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dirMode = statSync(dir).mode & 0o777;
  if ((dirMode & 0o077) !== 0) log.warn('control.directory-mode', { directory: dir, mode: dirMode.toString(8), detail: 'others can reach the control socket directory; the socket itself is 0600' });
  await clearStale(path);

  let chain: Promise<unknown> = Promise.resolve();
  const sockets = new Set<Socket>();
  const server: Server = createServer((conn) => {
    sockets.add(conn);
    conn.on('close', () => sockets.delete(conn));
    conn.setTimeout(opts.idleMs ?? 30_000, () => conn.destroy());
    conn.on('error', (e) => log.debug('control.client-error', { error: describeError(e) }));
    let buf = '';
    let done = false;
    const answer = (r: ControlResponse): void => {
      if (!conn.destroyed) conn.end(JSON.stringify(r) + '\n');
    };
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      if (done) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0 && Buffer.byteLength(buf) <= MAX_COMMAND_BYTES) return;
      done = true;
      if (nl < 0 || nl > MAX_COMMAND_BYTES) {
        answer({ ok: false, lines: [`EZD1835E ${opts.target.config().instance.toUpperCase()} MODIFY COMMAND NOT VALID : COMMAND LONGER THAN ${MAX_COMMAND_BYTES} BYTES`], data: { error: 'too long' } });
        return;
      }
      const line = buf.slice(0, nl).replace(/\r$/, '');
      // One command at a time: REFRESH must not interleave with SUSPEND or another REFRESH.
      const run = chain.then(() => executeLine(line, { target: opts.target, log, ...(opts.probeMs === undefined ? {} : { probeMs: opts.probeMs }), ...(opts.clock === undefined ? {} : { clock: opts.clock }) }));
      chain = run.catch(() => undefined);
      run.then(answer, (e: unknown) => {
        log.error('control.failed', { error: describeError(e) });
        conn.destroy();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  try {
    chmodSync(path, 0o600);
  } catch (e) {
    server.close();
    throw new ControlSocketError(`cannot restrict control socket ${path} to its owner: ${describeError(e)}`, { cause: e });
  }
  server.on('error', (e) => log.error('control.socket', { error: describeError(e) }));
  log.event('control.listening', { socket: path });

  return {
    path,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await chain;
      for (const s of sockets) s.destroy();
      await closed;
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('control.unlink', { socket: path, error: describeError(e) });
      }
    },
  };
}

/** Client side: sends one command line, returns the instance's answer. */
export function sendCommand(path: string, line: string, opts: { timeoutMs?: number } = {}): Promise<Result<ControlResponse, string>> {
  return new Promise((resolve) => {
    if (line.includes('\n')) { resolve(err('a command is one line')); return; }
    const s = createConnection(path);
    let buf = '';
    s.setEncoding('utf8');
    s.setTimeout(opts.timeoutMs ?? 120_000, () => { s.destroy(); resolve(err(`no answer from ${path} within ${Math.round((opts.timeoutMs ?? 120_000) / 1000)} s`)); });
    s.once('connect', () => s.write(line + '\n'));
    s.on('data', (d: string) => { buf += d; });
    s.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `no instance is listening on ${path} (is it started?)`
        : e.code === 'EACCES' ? `permission denied on ${path}: only the instance's owner may use it`
          : e.code === 'ECONNREFUSED' ? `nothing answers on ${path} (stale socket of a stopped instance?)`
            : `cannot reach ${path}: ${describeError(e)}`;
      resolve(err(why));
    });
    s.once('end', () => {
      try {
        resolve(ok(JSON.parse(buf) as ControlResponse));
      } catch {
        // Not JSON: the instance closed early (shutdown) or something else owns the socket.
        resolve(err(`unexpected answer from ${path}: ${buf.slice(0, 200) || '(nothing)'}`));
      }
    });
  });
}
