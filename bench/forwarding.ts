// Benchmark 1 — forwarding throughput (issue B1; B2: 3 alternating runs each, median/min/max):
//  (a) spoolgate: N messages of 4 KB in N/10 spool files → smtp-sink on loopback, ConnectLimit 10,
//      durable checkpoint (SQLite WAL, synchronous=FULL), `spoolgate start --once` as a child;
//  (b) Postfix relaying the same messages, queued with its own `sendmail -C D` while the private
//      instance is stopped, then started with relayhost = the sink and 10 connections;
//  (c) the ceiling (bench/lib.ts measureCeiling: smtp-source -d, same sessions and size, into the sink).
// The three run in turn (c a b c a b c a b); spoolgate once more under --cpu-prof (not counted).
// Prints a table and writes bench/out/forwarding.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeConfig } from '../src/testing/gateway.js';
import { startPostfix, type PostfixSmtpd } from '../src/testing/postfix.js';
import { submitToSpool } from '../src/spool/submit.js';
import { COMPILED, CEILING, SCALE, RUNS, alternate, measureCeiling, meterProcess, monitorTree, printSeries, profileDir, ratio, runCommand, runSpoolgate, startCountingSink, writeResult, type CountingSink, type Series, type System, type Usage } from './lib.js';

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


export interface Row { readonly name: string; readonly seconds: number; readonly msgPerSec: number; readonly usage?: Usage; readonly note?: string; readonly usageBy?: Partial<Record<System, Usage>> }

/** (a) spoolgate --once over n messages in n/10 spool files (at least one file). */
export async function timeSpoolgate(sink: CountingSink, dir: string, shape: Shape = DEFAULT, tag = 'forwarding-spoolgate', profile?: string): Promise<Row> {
  mkdirSync(dir, { recursive: true });
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit ${shape.sessions} }\nRetryLimit { Count 2 Interval 1 }`);
  const perFile = Math.min(PER_FILE, shape.n);
  for (let f = 0; f < shape.n / perFile; f++) {
    await submitToSpool({ root: config.spool.directory, writer: config.extWrtName, data: Buffer.from(spoolFile(f, shape.bodyBytes, perFile), 'latin1'), attrs: { jobName: `BENCH${f}`, recordFormat: 'text', encoding: 'ISO8859-1' } });
  }
  const before = sink.count();
  const meter = meterProcess(sink.pid);
  const r = await runSpoolgate(['start', '--config', path, '--once'], tag, { profile });
  const sinkUsage = meter.stop();
  if (r.code !== 0) throw new Error(`spoolgate exited ${r.code}: ${r.stderr}`);
  const got = sink.count() - before;
  if (got < shape.n) throw new Error(`spoolgate delivered ${got} of ${shape.n}`);
  const seconds = (r.endedAt - r.startedAt) / 1000;
  return { name: 'a: spoolgate (spool → sink)', seconds, msgPerSec: shape.n / seconds, usage: r.usage, usageBy: { spoolgate: r.usage, 'smtp-sink': sinkUsage }, note: 'process start to exit, incl. ~0.3 s start-up' };
}

/** (c) the ceiling (lib.ts measureCeiling): the same number of messages of the same size over the same number of sessions. */
export async function timeSmtpSource(sink: CountingSink, shape: Shape = DEFAULT): Promise<Row> {
  const c = await measureCeiling(sink, shape);
  return { name: 'c: smtp-source → sink (ceiling)', seconds: c.seconds, msgPerSec: shape.n / c.seconds, usage: c.usage['smtp-source'], usageBy: c.usage };
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

/** A private Postfix instance, stopped, with n messages queued once in maildrop and a copy of them to restore before each run. */
export interface PostfixRelay { readonly pf: PostfixSmtpd; readonly D: string; readonly saved: string; readonly n: number; readonly queueSeconds: number }

/**
 * (b) Postfix as a relay of mail queued by a local program (PEERS.md step 6): the private
 * instance is started once (so `postfix start` creates its queue directories) and stopped; the
 * N messages are queued with Postfix's own `sendmail -C D` (postdrop → D/queue/maildrop) while
 * no master runs, and the maildrop files are copied aside (queueing 10,000 takes about a
 * minute; it is done once, each run restores the copy). Not timed.
 */
export async function preparePostfix(sink: CountingSink, dir: string, n = N): Promise<PostfixRelay> {
  mkdirSync(dir, { recursive: true });
  const pf = await startPostfix({
    dir, relayPort: sink.port, extraMain: [
      `default_destination_concurrency_limit = ${SESSIONS}`,
      `initial_destination_concurrency = ${SESSIONS}`,
      'smtp_tls_security_level = none',
    ],
  });
  const D = pf.configDir;
  try {
    await stopMaster(D);
    const t0q = Date.now();
    await pool(n, 4, (k) => runCommand('/usr/sbin/sendmail', ['-C', D, '-f', 'job@corp.test', 'rcpt@remote.test'], plainMessage(Math.floor(k / PER_FILE), (k % PER_FILE) + 1)));
    const queueSeconds = (Date.now() - t0q) / 1000;
    const queued = Number(execFileSync('sh', ['-c', `find ${D}/queue/maildrop -type f | wc -l`], { encoding: 'utf8' }).trim());
    if (queued < n) throw new Error(`sendmail queued ${queued} of ${n} in maildrop\n${pf.log().slice(-2000)}`);
    // A real copy (cp -a keeps owner and mode): pickup refuses maildrop files with more than one link.
    const saved = join(dir, 'maildrop-saved');
    execFileSync('cp', ['-a', join(D, 'queue', 'maildrop'), saved]);
    return { pf, D, saved, n, queueSeconds };
  } catch (e) {
    await finishPostfix({ pf, D, saved: '', n, queueSeconds: 0 });
    throw e;
  }
}

async function stopMaster(D: string): Promise<void> {
  if (masterPid(D) === undefined) return;
  execFileSync('postfix', ['-c', D, 'stop'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && masterPid(D) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
  if (masterPid(D) !== undefined) throw new Error('postfix master still running after stop');
}

/** One timed run: restore the queued copy into maildrop, `postfix -c D start`, until the sink has all N; then stop the master. */
export async function timePostfix(sink: CountingSink, relay: PostfixRelay): Promise<Row> {
  const { D, n } = relay;
  await stopMaster(D);
  execFileSync('cp', ['-a', `${relay.saved}/.`, join(D, 'queue', 'maildrop')]);
  // The copies have new inode numbers, so `postfix start` (postsuper) renames them and logs that,
  // after dropping to the postfix user: it must be able to write the maillog root's postlogd made.
  const maillog = join(D, 'maillog');
  writeFileSync(maillog, '', { flag: 'a' });
  execFileSync('chown', ['postfix', maillog]);
  const before = sink.count();
  const mon = monitorTree(() => masterPid(D));
  const meter = meterProcess(sink.pid);
  const t0 = Date.now();
  let usage: Usage;
  try {
    await runCommand('postfix', ['-c', D, 'start']);
    await sink.waitFor(before + n, 300_000);
  } finally {
    usage = mon.stop();
  }
  const seconds = (Date.now() - t0) / 1000;
  const sinkUsage = meter.stop();
  await stopMaster(D);
  return { name: 'b: Postfix relay (maildrop → sink)', seconds, msgPerSec: n / seconds, usage, usageBy: { postfix: usage, 'smtp-sink': sinkUsage }, note: `postfix start to the last message at the sink; queued beforehand with sendmail -C while stopped (${relay.queueSeconds.toFixed(0)} s, once, not timed)` };
}

/** Stops the instance through `postfix stop` (started first if a run left it stopped, so its stop never falls back to an old pid). */
export async function finishPostfix(relay: PostfixRelay): Promise<void> {
  if (masterPid(relay.D) === undefined) {
    try { await runCommand('postfix', ['-c', relay.D, 'start']); } catch (e) { process.stderr.write(`postfix start before stop failed: ${String(e)}\n`); }
  }
  await relay.pf.stop();
}

/** Rows of one contender as a Series for the report (bench/lib.ts). */
export function toSeries(key: string, name: string, system: System, runs: readonly { round: number; value: Row }[], n: number, note?: string): Series {
  return { key, name, system, unit: 'msg', note, runs: runs.map(({ round, value }) => ({ round, seconds: value.seconds, count: n, usage: value.usageBy ?? {} })) };
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-fwd-'));
  const sink = await startCountingSink();
  let relay: PostfixRelay | undefined;
  let runs: Map<string, { round: number; value: Row }[]>;
  try {
    try {
      relay = await preparePostfix(sink, join(dir, 'b'));
    } catch (e) {
      process.stderr.write(`postfix relay set-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    const r = relay;
    runs = await alternate<Row>([
      { key: 'ceiling', run: () => timeSmtpSource(sink) },
      { key: 'spoolgate', run: async (round, profile) => { try { return await timeSpoolgate(sink, join(dir, `a${round}`), DEFAULT, 'forwarding-spoolgate', profile); } finally { rmSync(join(dir, `a${round}`), { recursive: true, force: true }); } } },
      ...(r === undefined ? [] : [{ key: 'postfix', run: () => timePostfix(sink, r) }]),
    ], { profiled: 'spoolgate', profileName: 'forwarding' });
  } finally {
    if (relay !== undefined) await finishPostfix(relay);
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const series = [
    toSeries('spoolgate', 'a: spoolgate (spool → sink)', 'spoolgate', runs.get('spoolgate') ?? [], N, 'process start to exit, incl. start-up'),
    toSeries('postfix', 'b: Postfix relay (maildrop → sink)', 'postfix', runs.get('postfix') ?? [], N, `postfix start to the last message at the sink; queued once beforehand with sendmail -C while stopped (${relay?.queueSeconds.toFixed(0) ?? '?'} s, not timed), restored from a copy before each run`),
    toSeries('ceiling', 'c: ceiling (smtp-source -d → sink)', 'smtp-source', runs.get('ceiling') ?? [], N),
  ];
  const [a, b, c] = series;
  const ratios = { aOverB: ratio(a, b), aOverC: ratio(a, c) };
  console.log(`\nForwarding: ${N} messages × ${BODY_BYTES} B body, ${N / PER_FILE} spool files, ${SESSIONS} connections; ${RUNS} alternating runs, median (min–max)`);
  printSeries(series);
  const f = (x: typeof ratios.aOverB): string => (x === undefined ? 'n/a' : `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`);
  console.log(`a/b = ${f(ratios.aOverB)}   a/c = ${f(ratios.aOverC)}`);
  writeResult('forwarding', { scale: SCALE, compiled: COMPILED, runsPerFigure: RUNS, ceiling: CEILING, n: N, perFile: PER_FILE, sessions: SESSIONS, bodyBytes: BODY_BYTES, series, ratios, profile: profileDir('forwarding') });
}

if (process.argv[1] === import.meta.filename) await main();
