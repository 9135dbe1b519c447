// The state of the running instance in one picture, assembled once for its two readers: the web
// console's GET /api/v1/status (web/console-routes.ts) and the (ext) DISPLAY,STATUS command that
// `spoolgate status` sends over the control socket (O2 #18 item 6). instanceState() is the part
// both show (suspension, log level, counters, targets, tasks, faults); statusReport() adds what
// only the command shows (process, version, uptime, listeners, queue counts per state).
import type { Config } from '../config/index.js';
import type { Fault } from '../core/health.js';
import { LogBits } from '../log/index.js';
import type { QueueApi } from '../queue/index.js';
import { targetSnapshot, taskSnapshot, type ForwarderView } from './snapshot.js';

/** The names of the LogLevel bits set in `bits` (e.g. 7: ERROR, WARNING, EVENT). */
export function levelNames(bits: number): string[] {
  return Object.entries(LogBits).filter(([, b]) => (bits & b) !== 0).map(([n]) => n);
}

export interface StateSource {
  readonly forwarder: ForwarderView;
  config(): Config;
  /** The LogLevel in force. */
  readonly logLevel: number;
  faults?(): readonly Fault[];
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** What the console and `spoolgate status` both show. Plain JSON. */
export function instanceState(s: StateSource) {
  const f = s.forwarder;
  return {
    instance: s.config().instance,
    time: new Date(s.now).toISOString(),
    suspendMode: f.suspendMode,
    waitReason: f.waitReason ?? null,
    logLevel: s.logLevel,
    logLevelNames: levelNames(s.logLevel),
    counters: f.counters,
    targets: f.listTargets().map(targetSnapshot).map((t) => ({
      address: t.address, port: t.port, source: t.source, state: t.state, secure: t.secure, startTls: t.startTls,
      mailAttempts: t.mailAttempts, mailSent: t.mailSent, connectFail: t.connectFail, lostAttempts: t.lostAttempts, lastError: t.lastError,
    })),
    tasks: f.tasks.map(taskSnapshot),
    faults: (s.faults?.() ?? []).map((x) => ({ component: x.component, problem: x.problem, disabling: x.disabling, since: new Date(x.since).toISOString(), failures: x.failures })),
  };
}

export type InstanceState = ReturnType<typeof instanceState>;

export interface Listener { readonly role: string; readonly host: string; readonly port: number }

/** The process facts only the running instance knows (main.ts provides them). */
export interface ProcessFacts {
  readonly pid: number;
  /** spoolgate's version (package.json). */
  readonly version: string;
  /** Milliseconds since the epoch when the instance started. */
  readonly startedAt: number;
  /** This node's name: the Store's Node (PostgreSQL) or the host name. */
  readonly node: string;
  /** The listeners open now (control socket, SMTP, POP3, HTTP). */
  listening(): readonly Listener[];
}

export interface StatusReport extends InstanceState {
  readonly pid: number;
  readonly version: string;
  readonly nodeVersion: string;
  readonly node: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly listeners: readonly Listener[];
  /** Messages per queue state (queue/model.ts QUEUE_STATES); null without a queue view. */
  readonly queue: { readonly counts: Readonly<Record<string, number>>; readonly oldestAgeSeconds: number | null } | null;
}

export async function statusReport(s: StateSource & { readonly process: ProcessFacts; readonly queue?: QueueApi | undefined }): Promise<StatusReport> {
  const p = s.process;
  return {
    ...instanceState(s),
    pid: p.pid,
    version: p.version,
    nodeVersion: process.version,
    node: p.node,
    startedAt: new Date(p.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((s.now - p.startedAt) / 1000)),
    listeners: [...p.listening()],
    queue: s.queue === undefined ? null : await s.queue.summary(),
  };
}

/** 3725 -> "1h 2m 5s"; 2 days and more -> "2d 3h 4m". */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${sec}s`;
  return m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}

/** The lines of DISPLAY,STATUS after its EZD line (docs/messages.md, EZD1865I). */
export function formatStatus(r: StatusReport): string[] {
  const lines = [
    `  PID          : ${r.pid}   VERSION : ${r.version}   NODE.JS : ${r.nodeVersion}`,
    `  NODE         : ${r.node}   STARTED : ${r.startedAt}   UPTIME : ${formatUptime(r.uptimeSeconds)}`,
    `  SUSPENDED    : ${r.suspendMode === 'none' ? 'NO' : `YES (${r.suspendMode.toUpperCase()})`}${r.waitReason === null ? '' : `   WAITING : ${r.waitReason}`}`,
    `  LOGLEVEL     : ${r.logLevel} (${r.logLevelNames.join(', ') || 'none'})`,
    'LISTENERS:',
    ...r.listeners.map((l) => `  ${l.role.toUpperCase().padEnd(8)} ${l.role === 'control' ? l.host : `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`}`),
  ];
  if (r.queue !== null) {
    lines.push('QUEUE:', `  ${Object.entries(r.queue.counts).map(([k, v]) => `${k.toUpperCase()} ${v}`).join('   ')}${r.queue.oldestAgeSeconds === null ? '' : `   OLDEST ${formatUptime(r.queue.oldestAgeSeconds)}`}`);
  }
  lines.push('TARGETS:', ...(r.targets.length === 0 ? ['  NONE'] : r.targets.map((t) =>
    `  ${t.address}${t.port === 25 ? '' : ` PORT ${t.port}`}   ${t.state}   SENT ${t.mailSent}   CONNECT FAIL ${t.connectFail}${t.lastError === '' ? '' : `   LAST ERROR ${t.lastError}`}`)));
  const c = r.counters;
  lines.push(`MAIL SENT : ${c.mailSent}   CURRENT RETRY : ${c.currentRetry}   UNDELIVER : ${c.undeliver}   DEADLETTER : ${c.deadLetter}   EXTENDED : ${c.extendedCurrent}`);
  for (const x of r.faults) lines.push(`FAULT ${x.component.toUpperCase()} SINCE ${x.since} FAILURES ${x.failures}${x.disabling ? ' ROLE DISABLED' : ''}: ${x.problem}`);
  return lines;
}
