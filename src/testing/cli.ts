// A captured CliIo: runs a `spoolgate` subcommand in-process (`run(argv, io)`) with a given
// standard input and environment, and keeps what it wrote.
import { Readable } from 'node:stream';
import type { CliIo } from '../cli/io.js';

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

export function captureIo(opts: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): CapturedIo {
  let out = '';
  let err = '';
  const input = opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)];
  return {
    stdout: { write: (t: string) => { out += t; return true; } },
    stderr: { write: (t: string) => { err += t; return true; } },
    stdin: Readable.from(input),
    env: opts.env ?? process.env,
    out: () => out,
    err: () => err,
  };
}

/** Runs one subcommand with a captured io: its exit code and what it wrote. */
export async function runCli(run: (argv: string[], io: CliIo) => Promise<number>, argv: string[], opts: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(opts);
  const code = await run(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}
