// Benchmark 3 — inbound SMTP (issue B1): smtp-source → the receiver, which relays to a counting
// smtp-sink. M messages of 4 KB to a relay recipient, from 127.0.0.1 (allowed to relay):
//  (a) one message per session, 20 sessions at a time (smtp-source -s 20, no -d);
//  (b) 100 messages per session: smtp-source -d -s 20 -m M sends M/20 per session (M = 2,000).
// Contenders: `spoolgate start` with a Receiver (RelayMode AddressList 127.0.0.0/8): each message
// is a durable spool entry (write + fsync + rename) before 250, then the forwarder relays it;
// and a private Postfix smtpd (cleanup fsyncs the queue file before 250) relaying to the same sink.
// Times: "accepted" = smtp-source finished (every 250 received: all durable), "at sink" = the sink
// counted them all. Writes bench/out/inbound.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeConfig } from '../src/testing/gateway.js';
import { freePort, startPostfix } from '../src/testing/postfix.js';
import { SCALE, monitorTree, runCommand, startCountingSink, startSpoolgate, writeResult, type CountingSink, type Usage } from './lib.js';

const M = Math.max(200, Math.round(2000 * SCALE));
const SESSIONS = 20;
const BODY_BYTES = 4096;

interface Phase {
  readonly mode: 'a' | 'b'; readonly acceptedS: number; readonly atSinkS: number;
  /** CPU seconds of the server's process tree from the first connection to the last message at the sink (relaying included). */
  readonly cpuS?: number;
}
export interface InboundRow { readonly server: string; readonly phases: Phase[]; readonly usage?: Usage }

async function phase(mode: 'a' | 'b', port: number, sink: CountingSink, pid?: () => number | undefined): Promise<Phase> {
  const before = sink.count();
  const mon = pid === undefined ? undefined : monitorTree(pid);
  const t0 = Date.now();
  await runCommand('/usr/sbin/smtp-source', [...(mode === 'b' ? ['-d'] : []), '-s', String(SESSIONS), '-m', String(M), '-l', String(BODY_BYTES), '-M', 'bench.test', '-f', 'job@corp.test', '-t', 'rcpt@remote.test', `127.0.0.1:${port}`]);
  const acceptedS = (Date.now() - t0) / 1000;
  await sink.waitFor(before + M, 300_000);
  const atSinkS = (Date.now() - t0) / 1000;
  const u = mon?.stop();
  return { mode, acceptedS, atSinkS, ...(u === undefined ? {} : { cpuS: u.cpuUserS + u.cpuSysS }) };
}

/** Benchmark 3's spoolgate run; `workers`: Receiver Workers (benchmark 6's receiver curve), absent: the default. */
export async function spoolgate(sink: CountingSink, dir: string, workers?: number): Promise<InboundRow> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const { path } = writeConfig(dir, [
    `TargetServer { TargetIP 127.0.0.1 ConnectPort ${sink.port} ConnectLimit 10 }`,
    'RetryLimit { Count 2 Interval 1 }',
    `Receiver { Listen 127.0.0.1:${port} HostName mx.bench.test LocalDomain local.bench.test RelayMode AddressList RelayAddress 127.0.0.0/8 MaxConnections 200 MaxConnectionsPerIP 200${workers === undefined ? '' : ` Workers ${workers}`} }`,
  ].join('\n'));
  const gw = await startSpoolgate(['start', '--config', path], 'inbound-spoolgate', port);
  const phases: Phase[] = [];
  let stopped: Awaited<ReturnType<typeof gw.stop>> | undefined;
  try {
    phases.push(await phase('a', port, sink, () => gw.pid));
    phases.push(await phase('b', port, sink, () => gw.pid));
  } catch (e) {
    stopped = await gw.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${stopped.stderr}`, { cause: e });
  } finally {
    stopped ??= await gw.stop();
  }
  return { server: workers === undefined ? 'spoolgate receiver' : `spoolgate receiver, ${workers} worker${workers === 1 ? '' : 's'}`, phases, usage: stopped.usage };
}

async function postfix(sink: CountingSink, dir: string): Promise<InboundRow> {
  mkdirSync(dir, { recursive: true });
  const pf = await startPostfix({ dir, relayPort: sink.port, extraMain: ['default_destination_concurrency_limit = 10', 'smtpd_client_connection_count_limit = 200', 'smtpd_client_message_rate_limit = 0'] });
  const D = pf.configDir;
  const mon = monitorTree(() => {
    try { return Number(readFileSync(join(D, 'queue', 'pid', 'master.pid'), 'latin1').trim()); } catch { return undefined; }
  });
  const phases: Phase[] = [];
  let usage: Usage | undefined;
  try {
    phases.push(await phase('a', pf.port, sink, () => { try { return Number(readFileSync(join(D, 'queue', 'pid', 'master.pid'), 'latin1').trim()); } catch { return undefined; } }));
    phases.push(await phase('b', pf.port, sink, () => { try { return Number(readFileSync(join(D, 'queue', 'pid', 'master.pid'), 'latin1').trim()); } catch { return undefined; } }));
  } finally {
    usage = mon.stop();
    await pf.stop();
  }
  return { server: 'Postfix smtpd (relay)', phases, usage };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-bench-in-'));
  const sink = await startCountingSink();
  const rows: InboundRow[] = [];
  try {
    // BENCH_INBOUND_ONLY=spoolgate: skip Postfix (quick before/after comparisons of CPU s/msg).
    const only = process.env.BENCH_INBOUND_ONLY;
    for (const [name, fn] of ([['spoolgate', spoolgate], ['postfix', postfix]] as const).filter(([n]) => only === undefined || only === n)) {
      try {
        rows.push(await fn(sink, join(dir, name)));
      } catch (e) {
        process.stderr.write(`${name} inbound run failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = (row: InboundRow | undefined, mode: 'a' | 'b', k: 'acceptedS' | 'atSinkS'): number | undefined => {
    const p = row?.phases.find((x) => x.mode === mode);
    return p ? M / p[k] : undefined;
  };
  const [sg, pf] = [rows[0]?.server.startsWith('spoolgate') ? rows[0] : undefined, rows.find((r) => r.server.startsWith('Postfix'))];
  const ratio = (mode: 'a' | 'b', k: 'acceptedS' | 'atSinkS'): number | undefined => {
    const x = rate(sg, mode, k);
    const y = rate(pf, mode, k);
    return x !== undefined && y !== undefined ? x / y : undefined;
  };
  const ratios = { aAccepted: ratio('a', 'acceptedS'), bAccepted: ratio('b', 'acceptedS'), aAtSink: ratio('a', 'atSinkS'), bAtSink: ratio('b', 'atSinkS') };
  console.log(`\nInbound: ${M} messages × ${BODY_BYTES} B, ${SESSIONS} sessions; (a) 1 message per session, (b) ${M / SESSIONS} per session`);
  console.table(rows.flatMap((r) => r.phases.map((p) => ({ server: r.server, mode: p.mode, 'accepted msg/s': (M / p.acceptedS).toFixed(0), 'at sink msg/s': (M / p.atSinkS).toFixed(0), 'CPU ms/msg': p.cpuS === undefined ? 'n/a' : ((1000 * p.cpuS) / M).toFixed(2) }))));
  const f = (x: number | undefined): string => x?.toFixed(2) ?? 'n/a';
  console.log(`spoolgate/Postfix accepted: (a) ${f(ratios.aAccepted)}  (b) ${f(ratios.bAccepted)};  at sink: (a) ${f(ratios.aAtSink)}  (b) ${f(ratios.bAtSink)}`);
  writeResult('inbound', { m: M, sessions: SESSIONS, bodyBytes: BODY_BYTES, rows, ratios });
}

if (process.argv[1]?.endsWith('inbound.ts') === true) await main();
