// The I/O of one `spoolgate` subcommand. Each src/cli/<name>.ts exports
// `run(argv, io = processIo): Promise<number>`: it writes only through io, reads standard input
// and the environment only through io, and returns the exit code instead of calling
// process.exit(). bin/spoolgate.js passes the real process; tests pass a captured one
// (testing/cli.ts) and run the command in-process.
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Read only by commands given "-" or --password-stdin. */
  readonly stdin: AsyncIterable<Buffer>;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

/** All of standard input as bytes (bounded by the caller's use: passwords, small files). */
export async function readAll(stdin: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c);
  return Buffer.concat(chunks);
}
