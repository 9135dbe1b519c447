// Benchmark 4 — POP3 (issue B1): a mailbox of 1,000 messages of 50 KB; one client logs in
// (USER/PASS), RETRieves and DELEtes every message, then QUITs (the deletion is committed in the
// UPDATE state). The same client — a small Node POP3 client in this process, one command at a
// time, no pipelining — against:
//  - spoolgate: `spoolgate start` with `Pop3 { Listen … AllowPlaintext YES }`; the mailbox is
//    filled beforehand through the store's own deliver() (SQLite, WAL, synchronous=FULL);
//  - Dovecot (dovecot-pop3d), private config, the same messages as Maildir files (LF line ends,
//    as a local MDA stores them), started by src/testing/dovecot.ts and stopped by its pid.
// Times login → QUIT's +OK; checks that the bytes received match and the mailbox is empty after.
// Writes bench/out/pop3.json.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConfig } from '../src/testing/gateway.js';
import { freePort } from '../src/testing/postfix.js';
import { startDovecot } from '../src/testing/dovecot.js';
import { testCerts } from '../src/testing/certs.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { SCALE, monitorTree, pidByCmdline, startSpoolgate, writeResult, type Usage } from './lib.js';

const COUNT = Math.max(50, Math.round(1000 * SCALE));
const SIZE = 50 * 1024;
const USER = 'alice';
const PASSWORD = 'bench-secret';

/** Message i: headers and ~50 KB of 78-byte CRLF lines. */
function message(i: number): Buffer {
  const head = `From: job@corp.test\r\nTo: ${USER}@local.bench.test\r\nSubject: pop3 bench ${i}\r\nMessage-ID: <p.${i}@corp.test>\r\nDate: Sun, 22 Nov 2026 12:00:00 +0000\r\n\r\n`;
  const lines: string[] = [];
  for (let n = 0, len = head.length; len < SIZE; n++, len += 78) lines.push(`${String(n).padStart(6, '0')} ${'y'.repeat(69)}`);
  return Buffer.from(head + lines.join('\r\n') + '\r\n', 'latin1');
}

/** A minimal POP3 client: one command, then its reply (multi-line ones end with CRLF.CRLF). */
class Pop3Client {
  private chunks: Buffer[] = [];
  private tail = '';
  private waiting: { multi: boolean; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  bytes = 0;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.waiting?.reject(e));
  }

  static async open(port: number): Promise<Pop3Client> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    const c = new Pop3Client(sock);
    await c.reply(false);
    return c;
  }

  private onData(d: Buffer): void {
    this.bytes += d.length;
    this.chunks.push(d);
    const w = this.waiting;
    if (w === undefined) return;
    this.tail = (this.tail + d.subarray(Math.max(0, d.length - 5)).toString('latin1')).slice(-5);
    const first = this.chunks[0]!;
    const done = first[0] === 0x2d /* '-' */ || !w.multi ? this.tail.endsWith('\r\n') : this.tail === '\r\n.\r\n';
    if (!done) return;
    const all = this.chunks.length === 1 ? first : Buffer.concat(this.chunks);
    this.chunks = [];
    this.tail = '';
    this.waiting = undefined;
    if (all[0] !== 0x2b /* '+' */) w.reject(new Error(`POP3: ${all.subarray(0, 200).toString('latin1')}`));
    else w.resolve(all);
  }

  private reply(multi: boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => { this.waiting = { multi, resolve, reject }; });
  }

  cmd(line: string, multi = false): Promise<Buffer> {
    const p = this.reply(multi);
    this.sock.write(line + '\r\n');
    return p;
  }

  close(): void { this.sock.destroy(); }
}

interface Pop3Result { readonly server: string; readonly seconds: number; readonly messages: number; readonly bytes: number; readonly usage?: Usage }

/** The measured client session; returns seconds from USER to QUIT's +OK and the octets received. */
async function session(port: number, count: number): Promise<{ seconds: number; bytes: number }> {
  const c = await Pop3Client.open(port);
  const t0 = process.hrtime.bigint();
  await c.cmd(`USER ${USER}`);
  await c.cmd(`PASS ${PASSWORD}`);
  const stat = (await c.cmd('STAT')).toString('latin1');
  if (Number(/^\+OK (\d+)/.exec(stat)?.[1]) !== count) throw new Error(`STAT says ${stat.trim()}, expected ${count} messages`);
  const start = c.bytes;
  for (let i = 1; i <= count; i++) {
    await c.cmd(`RETR ${i}`, true);
    await c.cmd(`DELE ${i}`);
  }
  const bytes = c.bytes - start;
  await c.cmd('QUIT');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  // The deletions must have been committed: a new session sees an empty mailbox.
  const again = await Pop3Client.open(port);
  await again.cmd(`USER ${USER}`);
  await again.cmd(`PASS ${PASSWORD}`);
  const left = (await again.cmd('STAT')).toString('latin1');
  await again.cmd('QUIT');
  again.close();
  if (!left.startsWith('+OK 0 ')) throw new Error(`after QUIT the mailbox still has: ${left.trim()}`);
  return { seconds, bytes };
}

async function spoolgate(dir: string, mail: readonly Buffer[]): Promise<Pop3Result> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const { path, config } = writeConfig(dir, [
    'TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }',
    'Receiver { Listen 127.0.0.1:0 HostName mx.bench.test LocalDomain local.bench.test }',
    `Pop3 { Listen 127.0.0.1:${port} AllowPlaintext YES }`,
  ].join('\n'));
  mkdirSync(config.stateDirectory, { recursive: true, mode: 0o700 });
  const store = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'));
  const added = await store.users.addUser(USER, PASSWORD);
  if (!added.ok) throw new Error(`addUser: ${JSON.stringify(added.error)}`);
  for (const m of mail) await store.mailboxes.deliver(USER, m);
  await store.close();
  const gw = await startSpoolgate(['start', '--config', path], 'pop3-spoolgate', port);
  let r: { seconds: number; bytes: number };
  let usage: Usage | undefined;
  try {
    r = await session(port, mail.length);
  } finally {
    usage = (await gw.stop()).usage;
  }
  return { server: 'spoolgate POP3', ...r, messages: mail.length, usage };
}

async function dovecot(dir: string, mail: readonly Buffer[]): Promise<Pop3Result> {
  // Dovecot's pop3 process runs as nobody and must reach the Maildir: mkdtemp made the root 0700.
  mkdirSync(join(dir, 'd'), { recursive: true });
  for (const p of [join(dir, '..'), dir]) chmodSync(p, 0o755);
  const certs = testCerts();
  writeFileSync(join(dir, 'cert.pem'), certs.cert);
  writeFileSync(join(dir, 'key.pem'), certs.key, { mode: 0o600 });
  const dv = await startDovecot({ dir: join(dir, 'd'), users: [{ name: USER, password: PASSWORD }], mail: { [USER]: mail }, certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
  let r: { seconds: number; bytes: number };
  let usage: Usage;
  const mon = monitorTree(() => pidByCmdline(join(dv.dir, 'dovecot.conf')), 50);
  try {
    r = await session(dv.port, mail.length);
  } finally {
    usage = mon.stop();
    await dv.stop();
  }
  return { server: 'Dovecot pop3', ...r, messages: mail.length, usage };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-pop3-'));
  const mail = Array.from({ length: COUNT }, (_, i) => message(i + 1));
  const rows: Pop3Result[] = [];
  try {
    for (const [name, fn] of [['spoolgate', spoolgate], ['dovecot', dovecot]] as const) {
      try {
        rows.push(await fn(join(dir, name), mail));
      } catch (e) {
        process.stderr.write(`${name} POP3 run failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sg = rows.find((r) => r.server.startsWith('spoolgate'));
  const dv = rows.find((r) => r.server.startsWith('Dovecot'));
  const ratio = sg && dv ? dv.seconds / sg.seconds : undefined;
  const mb = (COUNT * SIZE) / 2 ** 20;
  console.log(`\nPOP3: ${COUNT} × ${SIZE / 1024} KB (${mb.toFixed(0)} MB), one client: USER/PASS, STAT, RETR+DELE each, QUIT`);
  console.table(rows.map((r) => ({ server: r.server, seconds: r.seconds.toFixed(2), 'msg/s': (r.messages / r.seconds).toFixed(0), 'MB/s': (r.bytes / 2 ** 20 / r.seconds).toFixed(1), 'peak RSS MB': r.usage?.maxRssMB.toFixed(0) ?? '', 'CPU s': r.usage ? (r.usage.cpuUserS + r.usage.cpuSysS).toFixed(2) : '' })));
  console.log(`spoolgate/Dovecot throughput = ${ratio?.toFixed(2) ?? 'n/a'}`);
  writeResult('pop3', { count: COUNT, sizeBytes: SIZE, rows, ratio });
}

await main();
