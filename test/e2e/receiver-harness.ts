// Helpers for the receiver's end-to-end tests (not a test file): a receiver on 127.0.0.1 port 0
// with the configuration's store (a temp SQLite file, or the test schema in the PostgreSQL pass) and spool, a tiny raw-socket SMTP client, and a Python smtplib driver.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Config } from '../../src/config/index.js';
import type { EnvelopeJson } from '../../src/core/index.js';
import { Logger } from '../../src/log/index.js';
import { startReceiver, type Receiver, type SpoolSubmit } from '../../src/receiver/index.js';
import { EnqueueGroup } from '../../src/spool/enqueue.js';
import type { Store } from '../../src/store/types.js';
import { writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import { openConfiguredStore } from '../../src/testing/records.js';
import { FakeResolver } from '../../src/testing/resolver.js';

export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestReceiver {
  rx: Receiver;
  port: number;
  store: Store;
  config: Config;
  dir: string;
  resolver: FakeResolver;
  /** Data files of the spool entries the receiver queued for relay. */
  spoolFiles(): SpooledMail[];
}

/** The spoolSubmit main.ts wires: one message entry (raw bytes + envelope) on the writer's spool. */
export function spoolSubmitFor(config: Config): SpoolSubmit {
  // As main.ts wires it: concurrent sessions' entries published by one group commit.
  const group = new EnqueueGroup({ root: config.spool.directory, writer: config.extWrtName });
  return async (m) => {
    const e = await group.enqueue({ envelope: m.envelope, data: m.data, origin: { kind: 'receiver', ...m.origin }, jobName: 'RECEIVER' });
    return e.id;
  };
}

/** One relayed message as the receiver queued it: envelope.json as written, the raw message. */
export interface SpooledMail {
  readonly envelope: EnvelopeJson & { origin: Record<string, unknown> };
  /** The recipients' addresses, in order. */
  readonly rcpts: string[];
  readonly data: Buffer;
}

export function spoolFilesOf(config: Config): SpooledMail[] {
  const inc = join(config.spool.directory, config.extWrtName, 'incoming');
  if (!existsSync(inc)) return [];
  return readdirSync(inc).sort().map((id) => {
    const envelope = JSON.parse(readFileSync(join(inc, id, 'envelope.json'), 'utf8')) as SpooledMail['envelope'];
    return { envelope, rcpts: envelope.recipients.map((r) => r.to), data: readFileSync(join(inc, id, 'data')) };
  });
}

/** `receiverBody` goes inside `Receiver { ... }`; `extra` after it (Filter blocks). */
export function receiverConfig(dir: string, receiverBody: string, extra = ''): Config {
  return writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\nReceiver {\n Listen 127.0.0.1:0\n HostName mx.local.test\n LocalDomain local.test\n LocalDomain Second.Test\n ${receiverBody}\n}\n${extra}`).config;
}

export async function startTestReceiver(t: TestContext, receiverBody = '', extra = '', opts: { users?: string[]; tls?: { cert: Buffer; key: Buffer } } = {}): Promise<TestReceiver> {
  const dir = tempDir(t, 'spoolgate-rx-');
  const config = receiverConfig(dir, receiverBody, extra);
  mkdirSync(config.stateDirectory, { recursive: true });
  const store = await openConfiguredStore(config, { scrypt: FAST_SCRYPT });
  for (const u of opts.users ?? ['alice', 'bob']) await store.users.addUser(u, 'secret-' + u);
  const resolver = new FakeResolver();
  const rx = await startReceiver({
    config, store, resolver, spoolSubmit: spoolSubmitFor(config),
    log: process.env.RX_LOG ? Logger.create({ sink: { write: (r) => console.error(JSON.stringify(r)) }, instance: 'RX', level: 255 }) : Logger.silent(),
    listen: [{ host: '127.0.0.1', port: 0 }],
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  t.after(async () => { await rx.close(); await store.close(); });
  return { rx, port: rx.addresses()[0]!.port, store, config, dir, resolver, spoolFiles: () => spoolFilesOf(config) };
}

export interface Reply { code: number; text: string }

/** A minimal SMTP client over a raw socket: one command at a time, multi-line replies joined. */
export class RawSmtp {
  private buf = '';
  private waiters: ((r: Reply) => void)[] = [];
  private replies: Reply[] = [];
  private closed = false;
  private constructor(private sock: Socket) {
    this.attach(sock);
  }

  private attach(s: Socket): void {
    s.setEncoding('latin1');
    s.on('data', (d: string) => { this.buf += d; this.parse(); });
    s.on('error', () => { this.closed = true; });
    s.on('close', () => { this.closed = true; for (const w of this.waiters.splice(0)) w({ code: 0, text: 'closed' }); });
  }

  /** Sends exactly these bytes (a string command line is sent as latin1 octets plus CRLF) and reads one reply. */
  send(bytes: string | Buffer): Promise<Reply> {
    if (this.closed) return Promise.resolve({ code: 0, text: 'closed' });
    this.sock.write(typeof bytes === 'string' ? Buffer.from(bytes + '\r\n', 'latin1') : bytes);
    return this.next();
  }

  /** STARTTLS, then TLS verified against `ca` for the name localhost. */
  async startTls(ca: Buffer): Promise<Reply> {
    const r = await this.send('STARTTLS');
    if (r.code !== 220) return r;
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    const s = tlsConnect({ socket: this.sock, ca, servername: 'localhost' });
    await new Promise<void>((res, rej) => { s.once('secureConnect', res); s.once('error', rej); });
    this.sock = s;
    this.attach(s);
    return r;
  }

  get isClosed(): boolean { return this.closed; }

  static async open(port: number, host = '127.0.0.1'): Promise<{ c: RawSmtp; greeting: Reply }> {
    const sock = connect({ port, host });
    await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    const c = new RawSmtp(sock);
    return { c, greeting: await c.next() };
  }

  private parse(): void {
    let lines: string[] = [];
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 2);
      lines.push(line);
      if (line[3] !== '-') {
        const r = { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
        lines = [];
        const w = this.waiters.shift();
        if (w) w(r); else this.replies.push(r);
      }
    }
  }

  next(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, text: 'closed' });
    return new Promise((res) => this.waiters.push(res));
  }

  cmd(line: string): Promise<Reply> {
    if (this.closed) return Promise.resolve({ code: 0, text: 'closed' });
    this.sock.write(line + '\r\n');
    return this.next();
  }

  /** Sends DATA, the dot-stuffed message and the final dot; the reply to the final dot. */
  async data(msg: Buffer): Promise<Reply> {
    const go = await this.cmd('DATA');
    if (go.code !== 354) return go;
    const text = msg.toString('latin1').replace(/^\./gm, '..');
    this.sock.write(Buffer.from(text + (text.endsWith('\r\n') ? '' : '\r\n') + '.\r\n', 'latin1'));
    return this.next();
  }

  async quit(): Promise<void> {
    if (!this.closed) await this.cmd('QUIT');
    this.sock.destroy();
  }

  destroy(): void { this.sock.destroy(); }
}

/** One transaction: replies to MAIL, each RCPT, and the final dot (undefined when DATA was not reached). */
export async function sendOne(port: number, from: string, rcpts: readonly string[], msg: Buffer, ehlo = 'client.test'): Promise<{ mail: Reply; rcpts: Reply[]; data?: Reply }> {
  const { c } = await RawSmtp.open(port);
  try {
    await c.cmd(`EHLO ${ehlo}`);
    const mail = await c.cmd(`MAIL FROM:<${from}>`);
    const rr: Reply[] = [];
    for (const r of rcpts) rr.push(await c.cmd(`RCPT TO:${r.startsWith('<') ? r : `<${r}>`}`));
    if (!rr.some((r) => r.code === 250)) return { mail, rcpts: rr };
    return { mail, rcpts: rr, data: await c.data(msg) };
  } finally {
    await c.quit();
  }
}

/**
 * Python smtplib driver: for each transaction (own connection) MAIL FROM, the raw RCPT TO arguments, and DATA when
 * a recipient was accepted. Prints one JSON object per transaction.
 */
export const PY_SMTPLIB_DRIVER = String.raw`
import json, smtplib, sys
spec = json.load(sys.stdin)
out = []
for tx in spec["transactions"]:
    # One connection per transaction: syntax errors count toward the server's bad-command limit.
    s = smtplib.SMTP(spec["host"], spec["port"], local_hostname="client.test", timeout=30)
    s.ehlo()
    mail = s.docmd("MAIL FROM:<%s>" % tx["from"])
    rc = [s.docmd("RCPT TO:" + r) for r in tx["rcpts"]]
    data = None
    if any(code == 250 for code, _ in rc):
        try:
            data = list(s.data(tx["data"].encode("latin-1")))
        except smtplib.SMTPDataError as e:
            data = [e.smtp_code, e.smtp_error]
    s.quit()
    out.append({"mail": mail[0], "rcpts": [[c, m.decode("latin-1")] for c, m in rc], "data": None if data is None else [data[0], data[1].decode("latin-1")]})
print(json.dumps(out))
`;

export interface PyOutcome { mail: number; rcpts: [number, string][]; data: [number, string] | null }

/** Runs a program without blocking the event loop (the receiver under test runs in this process). */
export function runAsync(cmd: string, args: readonly string[], input: string | Buffer = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { errText += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${errText}`))));
    child.stdin.on('error', () => undefined); // a peer that exits before reading: its exit code tells
    child.stdin.end(input);
  });
}
