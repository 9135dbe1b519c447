// Gateway nodes of a [P2] cluster as child processes (`spoolgate start` with the Store statement,
// each its own spool and state directory, one database), and SMTP sinks that say which node sent
// each message (by its EHLO name) — for the acceptance tests in test/cluster/ and the bench's
// cluster line. Real processes, real sockets, a real PostgreSQL; nothing here is a fake.
import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { submitToSpool } from '../spool/submit.js';
import { batchFile } from './gateway.js';

export const CLUSTER_WRITER = 'CLUSTERW';

/**
 * One message as a sink saw it: its subject (`<tag> message <n>`), the node that sent it, and its
 * bytes when the sink was asked to keep them (`keep`).
 */
export interface Got { readonly subject: string; readonly node: string; readonly data?: Buffer }

export interface Sink {
  readonly port: number;
  readonly got: Got[];
  /** Connections open now from the node (by EHLO name). */
  open(node: string): number;
  close(): Promise<void>;
}

/**
 * An SMTP sink (nodemailer smtp-server) that counts each message at its final dot (a message the
 * node may not have seen the 250 for counts too) and answers 250 after `delayMs`, so a node holds
 * its entries a while. `keep`: the bytes of messages whose subject matches are kept (only those:
 * the load of a test stays counted, not stored).
 */
export async function sink(t: TestContext | undefined, delayMs = 20, opts: { keep?: RegExp } = {}): Promise<Sink> {
  const got: Got[] = [];
  const srv = new SMTPServer({
    logger: false, disabledCommands: ['AUTH', 'STARTTLS'], size: 10_000_000, maxClients: 100,
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const data = Buffer.concat(parts);
        const subject = /Subject: (\S+ message \d+)/.exec(data.toString('latin1'))?.[1] ?? '?';
        const node = session.hostNameAppearsAs.replace(/\.test$/, '');
        got.push(opts.keep?.test(subject) === true ? { subject, node, data } : { subject, node });
        if (delayMs > 0) setTimeout(() => cb(null), delayMs);
        else cb(null);
      });
    },
  });
  // Open connections per node (by EHLO name), so a kill's in-flight count is taken once its
  // connections are gone and no further message of it can be accepted.
  const open = new Map<string, number>();
  const server = (srv as unknown as { server: Server }).server;
  server.on('connection', (sock) => {
    let node: string | undefined;
    sock.on('data', (d: Buffer) => {
      if (node !== undefined) return;
      const m = /^EHLO (\S+)/im.exec(d.toString('latin1'));
      if (m !== null) { node = m[1]!.replace(/\.test$/, ''); open.set(node, (open.get(node) ?? 0) + 1); }
    });
    sock.on('close', () => { if (node !== undefined) open.set(node, (open.get(node) ?? 1) - 1); });
  });
  // A node killed with -9 resets its connections: smtp-server reports that as an 'error' event,
  // which without a listener is an uncaught exception in the test process (seen in CI).
  srv.on('error', () => undefined);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= new Promise<void>((r) => srv.close(() => r())));
  t?.after(close);
  return { port: (server.address() as AddressInfo).port, got, open: (n) => open.get(n) ?? 0, close };
}

export interface ClusterNode {
  readonly name: string;
  readonly dir: string;
  readonly spool: string;
  readonly config: string;
  proc: ChildProcess;
  /** The last 40 lines it logged (standard error), over its lives. */
  log: string[];
  /** `spool.taken-over` lines it logged. */
  takeovers: number;
  /** How many lines it logged per event name (`spool.stored`, `spool.store-failed`, …), over its lives. */
  readonly events: Map<string, number>;
  /** Lines seen since start, matched by `watch`. */
  readonly watchers: { re: RegExp; resolve: (line: string) => void }[];
  /** The port its receiver listens on (NodeOptions.receiver), from its `listener.started` line; 0 until then. */
  smtpPort: number;
}

export interface NodeOptions {
  /** The database URL without the password (which goes in the environment). */
  readonly url: string;
  readonly password: string;
  readonly schema: string;
  readonly leaseTime?: number;
  readonly heartbeat?: number;
  readonly connectLimit?: number;
  /**
   * A Receiver on 127.0.0.1, a port the system picks (read back by `receiverPort`), relaying for
   * 127.0.0.1 (RelayMode AddressList): its relayed mail is an entry of the shared queue, sent to
   * the sinks like the spool's.
   */
  readonly receiver?: boolean;
  /** Extra configuration lines. */
  readonly extra?: readonly string[];
}

/** The URL without its password, and the password (the Url statement may not hold one). */
export function splitUrl(url: string): { url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

/** Writes the node's configuration (its own spool and state directory, the sinks as targets). */
export function nodeConfig(dir: string, name: string, sinks: readonly Sink[], o: NodeOptions): ClusterNode {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'spoolgate.conf');
  writeFileSync(config, [
    `Instance ${name.toUpperCase()}`, `ExtWrtName ${CLUSTER_WRITER}`, `StateDirectory ${join(dir, 'state')}`,
    `Spool { Directory ${join(dir, 'spool')} RecordFormat Text RescanInterval 1 }`, 'Translate ISO8859-1', `HostName ${name}.test`,
    ...sinks.map((s) => `TargetServer { TargetIP 127.0.0.1 ConnectPort ${s.port} ConnectLimit ${o.connectLimit ?? 2} }`),
    'RetryLimit { Count 5 Interval 1 }',
    `Store { Backend PostgreSQL Url ${o.url} Schema ${o.schema} Node ${name} LeaseTime ${o.leaseTime ?? 10} Heartbeat ${o.heartbeat ?? 2} PoolSize 4 }`,
    ...(o.receiver === true
      ? ['Receiver {', '  Listen 127.0.0.1:0', `  HostName mx.${name}.test`, '  LocalDomain local.test', '  RelayMode AddressList', '  RelayAddress 127.0.0.1/32', '}']
      : []),
    ...(o.extra ?? []), '',
  ].join('\n'));
  return { name, dir, spool: join(dir, 'spool'), config, proc: undefined as unknown as ChildProcess, log: [], takeovers: 0, events: new Map(), watchers: [], smtpPort: 0 };
}

/**
 * Starts (or restarts) the node: `spoolgate start` as a child process. `preload`: modules for
 * `node --import` before the program (fault hooks of src/testing/, e.g. fault-arrival.ts);
 * `env`: extra environment (the hook's settings).
 */
export function startNode(t: TestContext | undefined, node: ClusterNode, password: string, opts: { preload?: readonly string[]; env?: Record<string, string> } = {}): ChildProcess {
  const imports = ['tsx', ...(opts.preload ?? [])].flatMap((m) => ['--import', m]);
  const proc = spawn(process.execPath, [...imports, 'src/cli.ts', 'start', '--config', node.config], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SPOOLGATE_STORE_PASSWORD: password, ...opts.env },
  });
  // Read it all (a pipe nobody reads stops the node); the last lines explain a failure.
  let rest = '';
  node.smtpPort = 0;
  proc.stderr!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    node.takeovers += lines.filter((l) => l.includes('spool.taken-over')).length;
    node.log = [...node.log, ...lines].slice(-40);
    for (const l of lines) {
      const ev = / (?:event|info|warning|error)(?: tkid=\d+)? ([a-z][\w.-]*)/.exec(l)?.[1];
      if (ev !== undefined) node.events.set(ev, (node.events.get(ev) ?? 0) + 1);
      const port = / listener\.started role=smtp .*\bport=(\d+)/.exec(l)?.[1];
      if (port !== undefined && node.smtpPort === 0) node.smtpPort = Number(port);
    }
    for (const l of lines) {
      const i = node.watchers.findIndex((w) => w.re.test(l));
      if (i >= 0) node.watchers.splice(i, 1)[0]!.resolve(l);
    }
  });
  t?.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  node.proc = proc;
  return proc;
}

/** The next line the node logs that matches (rejects when the process exits first). */
export function watch(node: ClusterNode, re: RegExp): Promise<string> {
  const proc = node.proc;
  return new Promise((resolve, reject) => {
    node.watchers.push({ re, resolve });
    const gone = (): void => reject(new Error(`${node.name} exited before logging ${String(re)}\n${node.log.join('\n')}`));
    if (proc.exitCode !== null || proc.signalCode !== null) gone();
    else proc.once('exit', gone);
  });
}

/** The port of the node's receiver once it listens (rejects with its log when it exits first or after `maxMs`). */
export async function receiverPort(node: ClusterNode, maxMs = 60_000): Promise<number> {
  const start = Date.now();
  while (node.smtpPort === 0) {
    if (node.proc.exitCode !== null || node.proc.signalCode !== null) throw new Error(`${node.name} exited before its receiver listened\n${node.log.join('\n')}`);
    if (Date.now() - start > maxMs) throw new Error(`${node.name}: no listener.started role=smtp within ${maxMs} ms\n${node.log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return node.smtpPort;
}

/**
 * python3's smtplib as the client of a node's receiver: EHLO client.test, MAIL, RCPT, DATA of the
 * bytes (smtplib dot-stuffs). Resolves with the last reply (DATA's, or the refusal of MAIL or
 * RCPT); asynchronous, so the test process serves its sinks meanwhile; killed after 90 s.
 */
export async function smtpSend(port: number, from: string, to: string, data: Buffer): Promise<{ code: number; text: string }> {
  const script = [
    'import smtplib, sys',
    'data = sys.stdin.buffer.read()',
    `s = smtplib.SMTP('127.0.0.1', ${port}, local_hostname='client.test', timeout=60)`,
    's.ehlo()',
    'def out(code, resp):',
    '    print(code, resp.decode("latin1").replace("\\n", " "))',
    '    sys.exit(0)',
    `code, resp = s.mail(${JSON.stringify(from)})`,
    'if code != 250: out(code, resp)',
    `code, resp = s.rcpt(${JSON.stringify(to)})`,
    'if code not in (250, 251): out(code, resp)',
    'try:',
    '    code, resp = s.data(data)',
    'except smtplib.SMTPDataError as e:',
    '    code, resp = e.smtp_code, e.smtp_error',
    'try:',
    '    s.quit()',
    'except Exception:',
    '    pass',
    'out(code, resp)',
  ].join('\n');
  const p = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr.on('data', (d: Buffer) => errOut.push(d));
  p.stdin.end(data);
  const killer = setTimeout(() => p.kill('SIGKILL'), 90_000);
  await new Promise<void>((r) => p.once('close', () => r()));
  clearTimeout(killer);
  const text = Buffer.concat(out).toString().trim();
  const m = /^(\d{3}) (.*)$/s.exec(text);
  if (m === null) throw new Error(`python3 smtplib: ${text} ${Buffer.concat(errOut).toString()}`);
  return { code: Number(m[1]), text: m[2]! };
}

export function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

/** Writes `files` batch files of `perFile` messages, spread round-robin over the nodes' spools; returns tag → node. */
export async function spread(nodes: readonly ClusterNode[], files: number, perFile: number, first = 0): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  for (let f = first; f < first + files; f++) {
    const node = nodes[f % nodes.length]!;
    const tag = `${node.name.toUpperCase()}F${f}`;
    await submitToSpool({ root: node.spool, writer: CLUSTER_WRITER, data: Buffer.from(batchFile(tag, perFile).text, 'latin1'), attrs: { jobName: `JOB${f}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
    tags.set(tag, node.name);
  }
  return tags;
}

export function allGot(sinks: readonly Sink[]): Got[] {
  return sinks.flatMap((s) => s.got);
}

/** Copies per subject. */
export function counts(got: readonly Got[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of got) m.set(g.subject, (m.get(g.subject) ?? 0) + 1);
  return m;
}

export function logs(nodes: readonly ClusterNode[]): string {
  return nodes.map((n) => `--- ${n.name}\n${n.log.join('\n')}`).join('\n');
}

export async function stopAll(nodes: readonly ClusterNode[]): Promise<void> {
  for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
  await Promise.all(nodes.map((n) => exited(n.proc)));
}
