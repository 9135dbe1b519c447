// Benchmark 1 — forwarding throughput (issue B1):
//  (a) spoolgate: N messages of 4 KB in N/10 spool files → smtp-sink on loopback, ConnectLimit 10,
//      durable checkpoint (SQLite WAL, synchronous=FULL), `spoolgate start --once` as a child;
//  (b) Postfix relaying the same messages, queued with its own `sendmail -C D` while the private
//      instance is stopped, then started with relayhost = the sink and 10 connections;
//  (c) smtp-source straight into the sink, 10 sessions, same size: the ceiling.
// Prints a table and writes bench/out/forwarding.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeConfig } from '../src/testing/gateway.js';
import { startPostfix } from '../src/testing/postfix.js';
import { submitToSpool } from '../src/spool/submit.js';
import { SCALE, monitorTree, runCommand, runSpoolgate, startCountingSink, writeResult, type CountingSink, type Usage } from './lib.js';

export const N = Math.max(100, Math.round(10_000 * SCALE));
const PER_FILE = 10;
const SESSIONS = 10;
const BODY_BYTES = 4096;

export interface Shape { readonly n: number; readonly sessions: number; readonly bodyBytes: number }
const DEFAULT: Shape = { n: N, sessions: SESSIONS, bodyBytes: BODY_BYTES };

/** Body lines of 78 bytes (76 + CRLF) making up bodyBytes. */
function bodyLines(bodyBytes: number): string[] {
  const line = 'x'.repeat(76);
  return Array.from({ length: Math.max(1, Math.floor(bodyBytes / 78)) }, (_, i) => `${String(i).padStart(6, '0')} ${line.slice(7)}`);
}

/** A batch-SMTP spool file of `count` messages (file f), each with a body of bodyBytes in 78-byte lines. */
export function spoolFile(f: number, bodyBytes = BODY_BYTES, count = PER_FILE): string {
  const body = bodyLines(bodyBytes);
  const out = ['HELO BENCHJOB'];
  for (let i = 1; i <= count; i++) {
    out.push('MAIL FROM:<job@corp.test>', 'RCPT TO:<rcpt@remote.test>', 'DATA',
      'From: job@corp.test', 'To: rcpt@remote.test', `Subject: bench ${f}/${i}`, `Message-ID: <b.${f}.${i}@corp.test>`, '', ...body, '.');
  }
  out.push('QUIT');
  return out.join('\r\n') + '\r\n';
}


export interface Row { readonly name: string; readonly seconds: number; readonly msgPerSec: number; readonly usage?: Usage; readonly note?: string }

/** (a) spoolgate --once over n messages in n/10 spool files (at least one file). */
export async function timeSpoolgate(sink: CountingSink, dir: string, shape: Shape = DEFAULT, tag = 'forwarding-spoolgate'): Promise<Row> {
  mkdirSync(dir, { recursive: true });
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit ${shape.sessions} }\nRetryLimit { Count 2 Interval 1 }`);
  const perFile = Math.min(PER_FILE, shape.n);
  for (let f = 0; f < shape.n / perFile; f++) {
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(spoolFile(f, shape.bodyBytes, perFile), 'latin1'), attrs: { jobName: `BENCH${f}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
  }
  const before = sink.count();
  const r = await runSpoolgate(['start', '--config', path, '--once'], tag);
  if (r.code !== 0) throw new Error(`spoolgate exited ${r.code}: ${r.stderr}`);
  const got = sink.count() - before;
  if (got < shape.n) throw new Error(`spoolgate delivered ${got} of ${shape.n}`);
  const seconds = (r.endedAt - r.startedAt) / 1000;
  return { name: 'a: spoolgate (spool → sink)', seconds, msgPerSec: shape.n / seconds, usage: r.usage, note: 'process start to exit, incl. ~0.3 s start-up' };
}

/** (c) smtp-source -d: the same number of messages of the same size over the same number of sessions. */
export async function timeSmtpSource(sink: CountingSink, shape: Shape = DEFAULT): Promise<Row> {
  const before = sink.count();
  const t0 = Date.now();
  await runCommand('/usr/sbin/smtp-source', ['-d', '-s', String(shape.sessions), '-m', String(shape.n), '-l', String(shape.bodyBytes), '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${sink.port}`]);
  await sink.waitFor(before + shape.n, 120_000);
  const seconds = (Date.now() - t0) / 1000;
  return { name: 'c: smtp-source → sink (ceiling)', seconds, msgPerSec: shape.n / seconds };
}

/** The same message as one entry of spoolFile(), as a local program hands it to sendmail (LF line ends). */
function plainMessage(f: number, i: number): string {
  const body = bodyLines(BODY_BYTES);
  return ['From: job@corp.test', 'To: rcpt@remote.test', `Subject: bench ${f}/${i}`, `Message-ID: <b.${f}.${i}@corp.test>`, '', ...body, ''].join('\n');
}


/** Runs fn(0..n-1) with at most `width` calls in flight. */
export async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** The running master's pid from D/queue/pid/master.pid, else undefined. */
export function masterPid(D: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${D}/queue/pid/master.pid`, 'latin1').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * (b) Postfix as a relay of mail queued by a local program (PEERS.md step 6): the private
 * instance is started once (so `postfix start` creates its queue directories) and stopped; the
 * N messages are queued with Postfix's own `sendmail -C D` (postdrop → D/queue/maildrop) while
 * no master runs; then the timer starts with `postfix -c D start` and stops when the sink has
 * all N. The timed part is pickup → cleanup (fsync of each queue file) → qmgr → smtp ×10.
 */
export async function timePostfix(sink: CountingSink, dir: string, n = N): Promise<Row> {
  mkdirSync(dir, { recursive: true });
  const pf = await startPostfix({
    dir, relayPort: sink.port, extraMain: [
      `default_destination_concurrency_limit = ${SESSIONS}`,
      `initial_destination_concurrency = ${SESSIONS}`,
      'smtp_tls_security_level = none',
    ],
  });
  try {
    const D = pf.configDir;
    execFileSync('postfix', ['-c', D, 'stop'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && masterPid(D) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
    if (masterPid(D) !== undefined) throw new Error('postfix master still running after stop');
    const t0q = Date.now();
    await pool(n, 4, (k) => runCommand('/usr/sbin/sendmail', ['-C', D, '-f', 'job@corp.test', 'rcpt@remote.test'], plainMessage(Math.floor(k / PER_FILE), (k % PER_FILE) + 1)));
    const queueSeconds = (Date.now() - t0q) / 1000;
    const queued = Number(execFileSync('sh', ['-c', `find ${D}/queue/maildrop -type f | wc -l`], { encoding: 'utf8' }).trim());
    if (queued < n) throw new Error(`sendmail queued ${queued} of ${n} in maildrop\n${pf.log().slice(-2000)}`);
    const before = sink.count();
    const mon = monitorTree(() => masterPid(D));
    const t0 = Date.now();
    await runCommand('postfix', ['-c', D, 'start']);
    await sink.waitFor(before + n, 300_000);
    const seconds = (Date.now() - t0) / 1000;
    const usage = mon.stop();
    return { name: 'b: Postfix relay (maildrop → sink)', seconds, msgPerSec: n / seconds, usage, note: `postfix start to the last message at the sink; queued beforehand with sendmail -C while stopped (${queueSeconds.toFixed(0)} s, not timed)` };
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

if (process.argv[1] === import.meta.filename) await main();
