// Benchmark 4 — POP3 (issue B1): a mailbox of 1,000 messages of 50 KB; one client logs in
// (USER/PASS), RETRieves and DELEtes every message, then QUITs (the deletion is committed in the
// UPDATE state). The same client — a small Node POP3 client in this process, one command at a
// time, no pipelining — against:
//  - spoolgate: `spoolgate start` with `Pop3 { Listen … AllowPlaintext YES }`; the mailbox is
//    filled beforehand through the store's own deliver() (SQLite, WAL, synchronous=FULL);
//  - Dovecot (dovecot-pop3d), private config, the same messages as Maildir files (LF line ends,
//    as a local MDA stores them), started by src/testing/dovecot.ts and stopped by its pid.
// Times login → QUIT's +OK; checks that the bytes received match and the mailbox is empty after.
// Three alternating rounds (spoolgate, Dovecot, …; BENCH_RUNS), each figure their median with min
// and max; CPU and peak RSS of each server's process tree over the session; spoolgate once more
// under --cpu-prof. Writes bench/out/pop3.json.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConfig } from '../src/testing/gateway.js';
import { freePort } from '../src/testing/postfix.js';
import { startDovecot } from '../src/testing/dovecot.js';
import { testCerts } from '../src/testing/certs.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { COMPILED, RUNS, SCALE, alternate, monitorTree, pidByCmdline, printSeries, profileDir, ratio, startSpoolgate, writeResult, type Run, type Series, type Usage } from './lib.js';

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

async function spoolgate(dir: string, mail: readonly Buffer[], profile?: string): Promise<Pop3Result> {
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
  const gw = await startSpoolgate(['start', '--config', path], 'pop3-spoolgate', port, { profile });
  let r: { seconds: number; bytes: number };
  let usage: Usage;
  let life: Usage | undefined;
  // CPU over the session only (not start-up and the forwarder's idle time), as for Dovecot.
  const mon = monitorTree(() => gw.pid, 50);
  try {
    r = await session(port, mail.length);
  } finally {
    usage = mon.stop();
    life = (await gw.stop()).usage;
  }
  // Peak RSS: the process's own over its life (start-up included), the larger of the two.
  return { server: 'spoolgate POP3', ...r, messages: mail.length, usage: { ...usage, maxRssMB: Math.max(usage.maxRssMB, life?.maxRssMB ?? 0) } };
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
  let runs: Map<string, { round: number; value: Pop3Result }[]>;
  try {
    runs = await alternate<Pop3Result>([
      { key: 'spoolgate', run: (round, profile) => spoolgate(join(dir, `spoolgate${round}`), mail, profile) },
      { key: 'dovecot', run: (round) => dovecot(join(dir, `dovecot${round}`), mail) },
    ], { profiled: 'spoolgate', profileName: 'pop3' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const toSeries = (key: 'spoolgate' | 'dovecot', name: string): Series => ({
    key, name, system: key, unit: 'msg', note: 'USER → QUIT +OK',
    runs: (runs.get(key) ?? []).map(({ round, value }): Run => ({ round, seconds: value.seconds, count: value.messages, usage: value.usage ? { [key]: value.usage } : {}, extra: { bytes: value.bytes } })),
  });
  const series = [toSeries('spoolgate', 'spoolgate POP3'), toSeries('dovecot', 'Dovecot pop3')];
  const r = ratio(series[0], series[1]);
  const mb = (COUNT * SIZE) / 2 ** 20;
  console.log(`\nPOP3: ${COUNT} × ${SIZE / 1024} KB (${mb.toFixed(0)} MB), one client: USER/PASS, STAT, RETR+DELE each, QUIT; ${RUNS} alternating runs, median (min–max)`);
  printSeries(series);
  console.log(`spoolgate/Dovecot throughput = ${r === undefined ? 'n/a' : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`}`);
  writeResult('pop3', { scale: SCALE, compiled: COMPILED, runsPerFigure: RUNS, count: COUNT, sizeBytes: SIZE, series, ratio: r, profile: profileDir('pop3') });
}

await main();
