// Benchmark 1 — forwarding throughput (issue B1):
//  (a) spoolgate: N messages of 4 KB in N/10 spool files → smtp-sink on loopback, ConnectLimit 10,
//      durable checkpoint (SQLite WAL, synchronous=FULL), `spoolgate start --once` as a child;
//  (b) Postfix relaying the same number of 4 KB messages, queued while on hold, then released
//      with relayhost = the sink and 10 connections;
//  (c) smtp-source straight into the sink, 10 sessions, same size: the ceiling.
// Prints a table and writes bench/out/forwarding.json.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { writeConfig } from '../src/testing/gateway.js';
import { startPostfix } from '../src/testing/postfix.js';
import { submitToSpool } from '../src/spool/submit.js';
import { SCALE, runSpoolgate, startCountingSink, writeResult, type CountingSink, type Usage } from './lib.js';

const N = Math.max(100, Math.round(10_000 * SCALE));
const PER_FILE = 10;
const SESSIONS = 10;
const BODY_BYTES = 4096;

/** A batch-SMTP spool file of PER_FILE messages, each with a 4,096-byte body of 78-byte lines. */
function spoolFile(f: number): string {
  const line = 'x'.repeat(76);
  const body = Array.from({ length: Math.floor(BODY_BYTES / 78) }, (_, i) => `${String(i).padStart(3, '0')} ${line.slice(4)}`);
  const out = ['HELO BENCHJOB'];
  for (let i = 1; i <= PER_FILE; i++) {
    out.push('MAIL FROM:<job@corp.test>', 'RCPT TO:<rcpt@remote.test>', 'DATA',
      'From: job@corp.test', 'To: rcpt@remote.test', `Subject: bench ${f}/${i}`, `Message-ID: <b.${f}.${i}@corp.test>`, '', ...body, '.');
  }
  out.push('QUIT');
  return out.join('\r\n') + '\r\n';
}

/** Runs a command without blocking the event loop (the sink's counter pipe must keep draining). */
function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

interface Row { readonly name: string; readonly seconds: number; readonly msgPerSec: number; readonly usage?: Usage; readonly note?: string }

async function timeSpoolgate(sink: CountingSink, dir: string): Promise<Row> {
  mkdirSync(dir, { recursive: true });
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit ${SESSIONS} }\nRetryLimit { Count 2 Interval 1 }`);
  for (let f = 0; f < N / PER_FILE; f++) {
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(spoolFile(f), 'latin1'), attrs: { jobName: `BENCH${f}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
  }
  const before = sink.count();
  const r = await runSpoolgate(['start', '--config', path, '--once'], 'forwarding-spoolgate');
  if (r.code !== 0) throw new Error(`spoolgate exited ${r.code}: ${r.stderr}`);
  const got = sink.count() - before;
  if (got < N) throw new Error(`spoolgate delivered ${got} of ${N}`);
  const seconds = (r.endedAt - r.startedAt) / 1000;
  return { name: 'a: spoolgate (spool → sink)', seconds, msgPerSec: N / seconds, usage: r.usage, note: 'process start to exit, incl. ~0.3 s start-up' };
}

async function timeSmtpSource(sink: CountingSink): Promise<Row> {
  const before = sink.count();
  const t0 = Date.now();
  await run('/usr/sbin/smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(N), '-l', String(BODY_BYTES), '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${sink.port}`]);
  await sink.waitFor(before + N, 60_000);
  const seconds = (Date.now() - t0) / 1000;
  return { name: 'c: smtp-source → sink (ceiling)', seconds, msgPerSec: N / seconds };
}

async function timePostfix(sink: CountingSink, dir: string): Promise<Row> {
  mkdirSync(dir, { recursive: true });
  const pf = await startPostfix({
    dir, relayPort: sink.port, extraMain: [
      // Queue everything on hold while injecting, so only relaying is timed.
      'smtpd_client_restrictions = check_client_access static:HOLD',
      `default_destination_concurrency_limit = ${SESSIONS}`,
      `initial_destination_concurrency = ${SESSIONS}`,
      'smtp_tls_security_level = none',
    ],
  });
  try {
    const D = pf.configDir;
    await run('/usr/sbin/smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(N), '-l', String(BODY_BYTES), '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${pf.port}`]);
    const queued = (): number => Number(execFileSync('sh', ['-c', `find ${D}/queue/hold -type f | wc -l`], { encoding: 'utf8' }).trim());
    const deadline = Date.now() + 120_000;
    while (queued() < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (queued() < N) throw new Error(`Postfix queued ${queued()} of ${N}\n${pf.log().slice(-2000)}`);
    const before = sink.count();
    const t0 = Date.now();
    await run('postsuper', ['-c', D, '-H', 'ALL']);
    await run('postqueue', ['-c', D, '-f']);
    await sink.waitFor(before + N, 300_000);
    const seconds = (Date.now() - t0) / 1000;
    return { name: 'b: Postfix relay (queued → sink)', seconds, msgPerSec: N / seconds, note: 'from release of the hold queue to the last message at the sink' };
  } finally {
    await pf.stop();
  }
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-fwd-'));
  const sink = await startCountingSink();
  const rows: Row[] = [];
  try {
    rows.push(await timeSmtpSource(sink));
    rows.push(await timeSpoolgate(sink, join(dir, 'a')));
    try {
      rows.push(await timePostfix(sink, join(dir, 'b')));
    } catch (e) {
      process.stderr.write(`postfix relay run failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const a = rows.find((r) => r.name.startsWith('a'));
  const b = rows.find((r) => r.name.startsWith('b'));
  const c = rows.find((r) => r.name.startsWith('c'));
  const ratios = { aOverB: a && b ? a.msgPerSec / b.msgPerSec : undefined, aOverC: a && c ? a.msgPerSec / c.msgPerSec : undefined };
  console.log(`\nForwarding: ${N} messages × ${BODY_BYTES} B body, ${N / PER_FILE} spool files, ${SESSIONS} connections`);
  console.table(rows.map((r) => ({ run: r.name, seconds: r.seconds.toFixed(2), 'msg/s': r.msgPerSec.toFixed(0), 'peak RSS MB': r.usage?.maxRssMB.toFixed(0) ?? '', 'CPU s (user+sys)': r.usage ? (r.usage.cpuUserS + r.usage.cpuSysS).toFixed(2) : '' })));
  console.log(`a/b = ${ratios.aOverB?.toFixed(2) ?? 'n/a'}   a/c = ${ratios.aOverC?.toFixed(3) ?? 'n/a'}`);
  writeResult('forwarding', { n: N, perFile: PER_FILE, sessions: SESSIONS, bodyBytes: BODY_BYTES, rows, ratios });
}

await main();
