// Benchmark 3 — inbound SMTP (issue B1): smtp-source → the receiver, which relays to a counting
// smtp-sink. M messages of 4 KB to a relay recipient, from 127.0.0.1 (allowed to relay):
//  (a) one message per session, 20 sessions at a time (smtp-source -s 20, no -d);
//  (b) 100 messages per session: smtp-source -d -s 20 -m M sends M/20 per session (M = 2,000).
// Contenders: `spoolgate start` with a Receiver (RelayMode AddressList 127.0.0.0/8): each message
// is a durable spool entry (write + fsync + rename) before 250, then the forwarder relays it;
// and a private Postfix smtpd (cleanup fsyncs the queue file before 250) relaying to the same sink.
// Times: "accepted" = smtp-source finished (every 250 received: all durable), "at sink" = the sink
// counted them all. Three alternating rounds (spoolgate a+b, Postfix a+b, …; BENCH_RUNS), each
// figure their median with min and max; CPU and peak RSS of the server, smtp-source and the sink
// per phase; spoolgate once more under --cpu-prof. Writes bench/out/inbound.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConfig } from '../src/testing/gateway.js';
import { freePort, startPostfix } from '../src/testing/postfix.js';
import { COMPILED, RUNS, SCALE, alternate, meterProcess, monitorTree, printSeries, profileDir, ratio, runTimed, startCountingSink, startSpoolgate, writeResult, type CountingSink, type Run, type Series, type System, type Usage } from './lib.js';

const M = Math.max(200, Math.round(2000 * SCALE));
const SESSIONS = 20;
const BODY_BYTES = 4096;

interface Phase { readonly mode: 'a' | 'b'; readonly acceptedS: number; readonly atSinkS: number; readonly usage: Partial<Record<System, Usage>> }
export interface InboundRow { readonly server: string; readonly phases: Phase[]; readonly usage?: Usage }

/** One phase; `server` is the server's process tree root (its CPU and RSS over the phase). */
async function phase(mode: 'a' | 'b', port: number, sink: CountingSink, system: System, server: () => number | undefined): Promise<Phase> {
  const before = sink.count();
  const mon = monitorTree(server);
  const sinkMeter = meterProcess(sink.pid);
  const t0 = Date.now();
  let src: Awaited<ReturnType<typeof runTimed>>;
  let acceptedS: number;
  let serverUsage: Usage;
  try {
    src = await runTimed('/usr/sbin/smtp-source', [...(mode === 'b' ? ['-d'] : []), '-s', String(SESSIONS), '-m', String(M), '-l', String(BODY_BYTES), '-M', 'bench.test', '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${port}`]);
    acceptedS = (Date.now() - t0) / 1000;
    await sink.waitFor(before + M, 300_000);
  } finally {
    serverUsage = mon.stop();
  }
  return { mode, acceptedS, atSinkS: (Date.now() - t0) / 1000, usage: { [system]: serverUsage, 'smtp-source': src.usage, 'smtp-sink': sinkMeter.stop() } };
}

async function spoolgate(sink: CountingSink, dir: string, profile?: string): Promise<InboundRow> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const { path } = writeConfig(dir, [
    `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 10 }`,
    'RetryLimit { Count 2 Interval 1 }',
    `Receiver { Listen 127.0.0.1:${port} HostName mx.bench.test LocalDomain local.bench.test RelayMode AddressList RelayAddress 127.0.0.0/8 MaxConnections 200 MaxConnectionsPerIP 200 }`,
  ].join('\n'));
  const gw = await startSpoolgate(['start', '--config', path], 'inbound-spoolgate', port, { profile });
  const phases: Phase[] = [];
  let stopped: Awaited<ReturnType<typeof gw.stop>> | undefined;
  try {
    phases.push(await phase('a', port, sink, 'spoolgate', () => gw.pid));
    phases.push(await phase('b', port, sink, 'spoolgate', () => gw.pid));
  } catch (e) {
    stopped = await gw.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${stopped.stderr}`, { cause: e });
  } finally {
    stopped ??= await gw.stop();
  }
  return { server: 'spoolgate receiver', phases, usage: stopped.usage };
}

async function postfix(sink: CountingSink, dir: string): Promise<InboundRow> {
  mkdirSync(dir, { recursive: true });
  const pf = await startPostfix({ dir, relayPort: sink.port, extraMain: ['default_destination_concurrency_limit = 10', 'smtpd_client_connection_count_limit = 200', 'smtpd_client_message_rate_limit = 0'] });
  const D = pf.configDir;
  const master = (): number | undefined => {
    try { return Number(readFileSync(join(D, 'queue', 'pid', 'master.pid'), 'latin1').trim()); } catch { return undefined; }
  };
  const phases: Phase[] = [];
  try {
    phases.push(await phase('a', pf.port, sink, 'postfix', master));
    phases.push(await phase('b', pf.port, sink, 'postfix', master));
  } finally {
    await pf.stop();
  }
  return { server: 'Postfix smtpd (relay)', phases };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-in-'));
  const sink = await startCountingSink();
  let runs: Map<string, { round: number; value: InboundRow }[]>;
  try {
    runs = await alternate<InboundRow>([
      { key: 'spoolgate', run: (round, profile) => spoolgate(sink, join(dir, `spoolgate${round}`), profile) },
      { key: 'postfix', run: (round) => postfix(sink, join(dir, `postfix${round}`)) },
    ], { profiled: 'spoolgate', profileName: 'inbound' });
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const toSeries = (key: 'spoolgate' | 'postfix', mode: 'a' | 'b', name: string): Series => ({
    key: `${key}-${mode}`, name: `${name} (${mode})`, system: key, unit: 'msg',
    note: mode === 'a' ? `1 message per session, ${SESSIONS} sessions` : `${M / SESSIONS} messages per session over ${SESSIONS} sessions`,
    runs: (runs.get(key) ?? []).flatMap(({ round, value }): Run[] => value.phases.filter((p) => p.mode === mode).map((p) => ({ round, seconds: p.acceptedS, count: M, usage: p.usage, extra: { atSinkS: p.atSinkS } }))),
  });
  const series = [toSeries('spoolgate', 'a', 'spoolgate receiver'), toSeries('postfix', 'a', 'Postfix smtpd (relay)'), toSeries('spoolgate', 'b', 'spoolgate receiver'), toSeries('postfix', 'b', 'Postfix smtpd (relay)')];
  const by = (k: string): Series | undefined => series.find((x) => x.key === k);
  const ratios = {
    aAccepted: ratio(by('spoolgate-a'), by('postfix-a')), bAccepted: ratio(by('spoolgate-b'), by('postfix-b')),
    aAtSink: ratio(by('spoolgate-a'), by('postfix-a'), 'atSinkS'), bAtSink: ratio(by('spoolgate-b'), by('postfix-b'), 'atSinkS'),
  };
  console.log(`\nInbound: ${M} messages × ${BODY_BYTES} B, ${SESSIONS} sessions; (a) 1 message per session, (b) ${M / SESSIONS} per session; ${RUNS} alternating runs, median (min–max)`);
  console.log('accepted:');
  printSeries(series);
  console.log('at the sink:');
  printSeries(series, 'atSinkS');
  const f = (x: typeof ratios.aAccepted): string => (x === undefined ? 'n/a' : `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`);
  console.log(`spoolgate/Postfix accepted: (a) ${f(ratios.aAccepted)}  (b) ${f(ratios.bAccepted)};  at sink: (a) ${f(ratios.aAtSink)}  (b) ${f(ratios.bAtSink)}`);
  writeResult('inbound', { scale: SCALE, compiled: COMPILED, runsPerFigure: RUNS, m: M, sessions: SESSIONS, bodyBytes: BODY_BYTES, series, ratios, profile: profileDir('inbound') });
}

await main();
