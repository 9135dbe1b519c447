// Carries out one operator command against the running instance and answers with the console
// lines (seed message IDs) and the same facts as data for --json and the HTTP API.
// What the instance must offer is declared here as OperatorTarget; main.ts builds it.
import type { Config, DisplayRuntime } from '../config/index.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Result } from '../core/result.js';
import type { Fault } from '../core/health.js';
import type { Logger } from '../log/logger.js';
import type { Accounting } from '../log/accounting.js';
import { formatRetentionRun, type RetentionRun } from '../log/retention.js';
import { Msg, isErrorLine } from './messages.js';
import { formatCommand, parseCommand, type Command } from './parse.js';
import { canonicalIp, isDisplay, render } from './render.js';
import { takeSnapshot, targetSnapshot, type ForwarderView, type TargetView } from './snapshot.js';
import { executeQueue, queueShows } from './queue-commands.js';
import { formatStatus, statusReport, type ProcessFacts } from './status.js';
import type { QueueApi } from '../queue/index.js';
import type { NodeInfo } from '../store/queue-store.js';
import type { NodeAnswer, NodeStatusRow, StoreEntryRow } from '../store/operator-store.js';
import { clusterQueueLines, clusterTargetLines, clusterTaskLines, clusterViews, type ClusterNodeView } from './cluster-view.js';

/** (ext, [P2]) With Store Backend PostgreSQL: what the displays and REFRESH,ALL need of the cluster (src/cluster.ts). */
export interface ClusterOps {
  readonly node: string;
  nodes(): Promise<readonly NodeInfo[]>;
  /** A node's status older than this many seconds is STALE (Store LeaseTime). */
  readonly staleSeconds?: number;
  /** Every node's published status (D,TARGETS and D,SPOOLSTATUS: cluster-view.ts). */
  statuses?(): Promise<readonly NodeStatusRow[]>;
  /** REFRESH,ALL: asks every other live node to REFRESH; one answer per node, within a bound. */
  refreshOthers?(): Promise<readonly NodeAnswer[]>;
  /** The shared queue's entries (D,SPOOLSTATUS lists those no node holds: cluster-view.ts clusterQueueLines). */
  sharedQueue?(): Promise<readonly StoreEntryRow[]>;
}

export interface RefreshOutcome {
  /** Non-refreshable changes that were ignored (diffForRefresh().ignored). */
  readonly ignored: readonly { readonly statement: string; readonly message: string }[];
  /** Statements whose applied value changed (diffForRefresh().changed), e.g. 'TargetServer'. */
  readonly changed: readonly string[];
}

/** What the control role needs from the running instance (main.ts provides it). */
export interface OperatorTarget {
  readonly forwarder: ForwarderView;
  /** The configuration in force. */
  config(): Config;
  /**
   * REFRESH: re-read the configuration file, apply what may change (the log level becomes the
   * file's), re-resolve targets when TargetServer changed. err = the file's errors, one text
   * each; then nothing changed.
   */
  refresh(): Promise<Result<RefreshOutcome, readonly string[]>>;
  /** The user exit in force (USEREXIT may differ from the file); null = NONE. */
  userExit(): string | null;
  /** USEREXIT,LEVEL=: takes effect at the next spool file. err = why it was refused. */
  setUserExit(value: string | null): Promise<Result<void, string>>;
  /** Process values for Display,CONFig (pid, checkpoint mode and file, IPv6). */
  runtime?(): Omit<DisplayRuntime, 'logLevel' | 'userExit'>;
  /** CONFIG (48) records for LOGLEVEL, USEREXIT and REFRESH. */
  readonly accounting?: Accounting;
  /** Contained faults now (R3 item 2), shown after DISPLAY,TARGETS' lines. */
  faults?(): readonly Fault[];
  /** (ext) The last retention run, shown at the end of DISPLAY,CONFIG (after its RETENTION: ages). */
  retention?(): RetentionRun | undefined;
  /** (ext, O1) The queue and its actions (DISPLAY,QUEUE, HOLD, ...: queue-commands.ts). */
  readonly queue?: QueueApi;
  /** (ext, [P2]) With Store Backend PostgreSQL: this node and the nodes on the store (DISPLAY,NODES). */
  cluster?(): ClusterOps | undefined;
  /** (ext, O2) Pid, version, start time, node and listeners for DISPLAY,STATUS (control/status.ts). */
  readonly process?: ProcessFacts;
}

export interface ControlResponse {
  /** false when the command was not valid or not carried out (an E message). */
  readonly ok: boolean;
  /** The canonical command, when it parsed. */
  readonly command?: string;
  readonly lines: readonly string[];
  readonly data: unknown;
}

export interface ExecuteContext {
  readonly target: OperatorTarget;
  readonly log: Logger;
  /** REFRESHTARGETS waits this long for each target's answer (default 10 s). */
  readonly probeMs?: number;
  readonly clock?: Clock;
}

function instanceOf(t: OperatorTarget): string {
  return t.config().instance.toUpperCase();
}

/**
 * Commands the HTTP API refuses (issue #15 item 8): USEREXIT makes the gateway load and run a
 * module with its own rights, which is more than the HTTP token stands for; the operator on the
 * control socket already has those rights. undefined = the command may be run over HTTP.
 */
export function httpRefusal(text: string): string | undefined {
  const parsed = parseCommand(text);
  if (parsed.ok && parsed.value.kind === 'userexit') return 'USEREXIT is offered on the control socket only (spoolgate modify, as the gateway\'s user), not over HTTP';
  return undefined;
}

/** Parses and carries out one command line. Never throws: failures are EZD1836E lines. */
export async function executeLine(text: string, ctx: ExecuteContext): Promise<ControlResponse> {
  const inst = instanceOf(ctx.target);
  const parsed = parseCommand(text);
  if (!parsed.ok) {
    ctx.log.warn('operator.rejected', { command: text.slice(0, 200), detail: parsed.error.detail });
    return { ok: false, lines: [Msg.notValid(inst, parsed.error.detail)], data: { error: parsed.error.detail } };
  }
  const command = formatCommand(parsed.value);
  let r: { lines: string[]; data: unknown };
  try {
    r = await execute(parsed.value, ctx);
  } catch (e) {
    r = { lines: [Msg.failed(inst, command, describeError(e))], data: { error: describeError(e) } };
  }
  const ok = !r.lines.some(isErrorLine);
  // O2 #18 item 5: actions are events (in the default LogLevel 7); displays only read, and are
  // logged at debug so a console polling DISPLAY,TARGETS does not flood the log.
  ctx.log.log(onlyShows(parsed.value) ? 'debug' : 'event', 'operator.command', { command, ok });
  return { ok, command, lines: r.lines, data: r.data };
}

/** A command that only shows state: DISPLAY,..., LOGLEVEL and USEREXIT without a value. */
function onlyShows(c: Command): boolean {
  return isDisplay(c) || c.kind === 'display-status' || (c.kind.startsWith('queue-') && queueShows(c as Parameters<typeof queueShows>[0])) || (c.kind === 'loglevel' && c.level === undefined) || (c.kind === 'userexit' && c.value === undefined);
}

function configRecord(ctx: ExecuteContext, reason: 'refresh' | 'loglevel' | 'userexit', changed?: readonly string[]): void {
  const t = ctx.target;
  t.accounting?.record('CONFIG', {
    reason, configFile: t.config().configFile, logLevel: ctx.log.level, userExit: t.userExit(),
    ...(changed === undefined ? {} : { changed }),
    targets: t.forwarder.listTargets().map((x) => `${x.addr.address}:${x.addr.port}`),
  });
}

async function execute(cmd: Command, ctx: ExecuteContext): Promise<{ lines: string[]; data: unknown }> {
  const t = ctx.target;
  const f = t.forwarder;
  const inst = instanceOf(t);
  if (cmd.kind === 'display-status') {
    // (ext, O2) `spoolgate status`: the console's picture of the instance plus the process facts.
    const now = (ctx.clock ?? systemClock).now();
    const facts = t.process ?? { pid: process.pid, version: 'unknown', startedAt: now, node: 'unknown', listening: () => [] };
    const r = await statusReport({ forwarder: f, config: () => t.config(), logLevel: ctx.log.level, ...(t.faults ? { faults: () => t.faults!() } : {}), now, process: facts, queue: t.queue });
    return { lines: [Msg.status(inst), ...formatStatus(r)], data: r };
  }
  if (isDisplay(cmd)) {
    const withConfig = cmd.kind === 'display-config' ? { config: t.config(), runtime: { pid: process.pid, ...t.runtime?.() } } : undefined;
    const s = takeSnapshot({ forwarder: f, instance: inst, logLevel: ctx.log.level, userExit: t.userExit(), compat: t.config().displayCompat, ...(withConfig ? { withConfig } : {}) });
    const lines = render(cmd, s);
    switch (cmd.kind) {
      case 'display-config': {
        const last = t.retention?.();
        const more = t.retention === undefined ? [] : formatRetentionRun(last);
        return { lines: [...lines, ...more], data: { config: s.config, runtime: s.runtime, logLevel: s.logLevel, userExit: s.userExit, ...(t.retention === undefined ? {} : { retention: last ?? null }) } };
      }
      case 'display-loglevel': return { lines, data: { logLevel: s.logLevel } };
      case 'display-iplist': return { lines, data: { targets: s.targets } };
      case 'display-spool-summary': {
        const cv = await clusterPart(t, s.compat === 'ibm', s);
        const more = cv === undefined ? [] : cv.error !== undefined ? [cv.error] : [...clusterTaskLines(inst, cv.self, cv.views, () => true), ...await sharedQueueLines(t, ctx.clock)];
        return { lines: [...lines, ...more], data: { suspendMode: s.suspendMode, tasks: s.tasks, ...clusterData(cv) } };
      }
      case 'display-spool-detail': {
        const pick = (x: { state: string; tkid: number }): boolean => (cmd.tkid === undefined ? x.state !== 'IDLE' : x.tkid === cmd.tkid);
        const tasks = s.tasks.filter(pick);
        const cv = await clusterPart(t, s.compat === 'ibm', s);
        const more = cv === undefined ? [] : cv.error !== undefined ? [cv.error] : [...clusterTaskLines(inst, cv.self, cv.views, pick), ...(cmd.tkid === undefined ? await sharedQueueLines(t, ctx.clock) : [])];
        return { lines: [...lines, ...more], data: { suspendMode: s.suspendMode, tasks, ...clusterData(cv) } };
      }
      case 'display-targets': {
        const targets = cmd.addr === undefined ? s.targets : s.targets.filter((x) => canonicalIp(x.address) === canonicalIp(cmd.addr ?? ''));
        // (ext) A part whose storage fails (docs/operations.md "When things break"): FAULTS lines.
        const faults = t.faults?.() ?? [];
        const faultLines = faults.length === 0 || s.compat === 'ibm' ? [] : ['FAULTS:', ...faults.flatMap((x) => [
          `  ${x.component.toUpperCase()} SINCE ${new Date(x.since).toISOString()} FAILURES ${x.failures}${x.disabling ? ' ROLE DISABLED' : ''}`, `    ${x.problem}`,
        ])];
        const cv = await clusterPart(t, s.compat === 'ibm', s);
        const match = cmd.addr === undefined ? undefined : (x: { address: string }) => canonicalIp(x.address) === canonicalIp(cmd.addr ?? '');
        const more = cv === undefined ? [] : cv.error !== undefined ? [cv.error] : clusterTargetLines(inst, cv.self, cv.views, match, cv.released);
        return { lines: [...lines, ...faultLines, ...more], data: { counters: s.counters, targets, faults, ...clusterData(cv) } };
      }
      case 'display-nodes': return displayNodes(t, inst);
    }
  }
  switch (cmd.kind) {
    case 'loglevel': {
      // Seed: without a value the level in force stays.
      if (cmd.level !== undefined) {
        ctx.log.setLevel(cmd.level);
        configRecord(ctx, 'loglevel');
      }
      return { lines: [Msg.completedStatus(inst, 'LOGLEVEL', cmd.level !== undefined)], data: { logLevel: ctx.log.level, updated: cmd.level !== undefined } };
    }
    case 'userexit': {
      // LEVEL=VERSIONn (an MVS exit): the exit in force stays; the warning names the module form.
      const mvs = cmd.mvsExit === undefined ? [] : [Msg.mvsExit(inst, cmd.mvsExit)];
      if (cmd.value === undefined) return { lines: [...mvs, Msg.completedStatus(inst, 'USEREXIT', false)], data: { userExit: t.userExit(), updated: false } };
      const r = await t.setUserExit(cmd.value);
      if (!r.ok) return { lines: [Msg.failed(inst, 'USEREXIT', r.error)], data: { error: r.error } };
      configRecord(ctx, 'userexit');
      return { lines: [Msg.completedStatus(inst, 'USEREXIT', true)], data: { userExit: t.userExit(), updated: true } };
    }
    case 'flushretry-tkid': {
      if (cmd.tkid !== 0 && !f.tasks.some((x) => x.tkid === cmd.tkid)) {
        return { lines: [Msg.failed(inst, `FLUSHRETRY, TKID=${cmd.tkid}`, `TKID ${cmd.tkid} IS NOT A TASK`)], data: { error: 'no such TKID' } };
      }
      // [P2] TKID=0 reaches the whole cluster: the entries released for long retry are due now.
      const flushed = f.flushLongRetry !== undefined ? await f.flushLongRetry(cmd.tkid) : f.flushRetry(cmd.tkid);
      return { lines: [Msg.accepted(inst), Msg.flushTkid(inst, cmd.tkid)], data: { flushed } };
    }
    case 'flushretry-age': {
      const flushed = await f.flushExtended(cmd.days);
      return { lines: [Msg.accepted(inst), Msg.flushAge(inst, cmd.days)], data: { flushed } };
    }
    case 'suspend':
      f.suspend(cmd.mode);
      return { lines: [Msg.accepted(inst), Msg.suspended(inst, cmd.mode)], data: { suspendMode: f.suspendMode } };
    case 'resume':
      f.resume();
      return { lines: [Msg.accepted(inst), Msg.resumed(inst)], data: { suspendMode: f.suspendMode } };
    case 'refresh': {
      const here = await refreshHere(ctx, inst);
      return cmd.all === true ? refreshAll(t, inst, here) : here;
    }
    case 'refresh-iplist': {
      const key = (x: TargetView): string => `${x.addr.address}:${x.addr.port}`;
      const before = f.listTargets().map(key).sort();
      await f.resolve();
      const after = f.listTargets().map(key).sort();
      const changed = before.join(',') !== after.join(',');
      const lines = [Msg.accepted(inst), ...(changed ? [Msg.updatedTargetsIpList(inst)] : []), Msg.refreshIpListDone(inst)];
      return { lines, data: { changed, before, targets: after } };
    }
    case 'refresh-targets': {
      f.refreshTargets();
      const results = await Promise.all(f.listTargets().map((x) => probe(x, ctx.probeMs ?? 10_000, ctx.clock ?? systemClock)));
      const lines = [Msg.accepted(inst)];
      for (const p of results) lines.push(p.usable ? Msg.ableToUse(inst, p.address) : Msg.unableToUse(inst, p.address, p.detail));
      lines.push(Msg.refreshTargetsDone(inst));
      return { lines, data: { targets: results, state: f.listTargets().map(targetSnapshot) } };
    }
    default:
      // (ext, O1) The queue commands; the control socket's owner is the operator ("modify", or BY=).
      return executeQueue(cmd, t.queue, inst, 'modify', (ctx.clock ?? systemClock).now());
  }
}

/** REFRESH on this node: the seed's lines (Example 9). */
async function refreshHere(ctx: ExecuteContext, inst: string): Promise<{ lines: string[]; data: unknown }> {
  const r = await ctx.target.refresh();
  if (!r.ok) {
    return {
      lines: [Msg.accepted(inst), ...r.error.map((e) => Msg.refreshRejected(inst, e)), Msg.failed(inst, 'REFRESH', 'CONFIGURATION NOT CHANGED')],
      data: { errors: r.error },
    };
  }
  configRecord(ctx, 'refresh', r.value.changed);
  const lines = [Msg.accepted(inst), ...r.value.ignored.map((x) => Msg.refreshIgnored(inst, x.statement, x.message)), Msg.updatedConfig(inst)];
  if (r.value.changed.includes('TargetServer')) lines.push(Msg.updatedTargetsRefresh(inst));
  lines.push(Msg.refreshDone(inst));
  return { lines, data: { ignored: r.value.ignored, changed: r.value.changed } };
}

/** What a node's REFRESH reply says: the statements it changed, or why it refused. */
function replyDetail(a: Extract<NodeAnswer, { answered: true }>): string {
  const d = a.reply.data as { changed?: unknown; errors?: unknown; error?: unknown } | null;
  if (!a.reply.ok) {
    const why = Array.isArray(d?.errors) ? d.errors.map(String).join('; ') : typeof d?.error === 'string' ? d.error : a.reply.lines.find((l) => /^EZD\d{4}E /.test(l)) ?? 'REFUSED';
    return why.slice(0, 500).toUpperCase();
  }
  const changed = Array.isArray(d?.changed) ? d.changed.map(String) : [];
  return changed.length === 0 ? 'NOTHING CHANGED' : `CHANGED ${changed.join(', ').toUpperCase()}`;
}

/**
 * (ext, [P2]) REFRESH,ALL: this node refreshes (its lines as for REFRESH), then every other live
 * node is asked through the store and answers with its own REFRESH; one line per node (EZD1861I
 * refreshed, EZD1862E refused or no answer within the bound). Backend SQLite: REFRESH with a note.
 */
async function refreshAll(t: OperatorTarget, inst: string, here: { lines: string[]; data: unknown }): Promise<{ lines: string[]; data: unknown }> {
  const c = t.cluster?.();
  if (c?.refreshOthers === undefined) {
    return { lines: [...here.lines, Msg.refreshAll(inst, 'STORE BACKEND IS SQLITE: THIS NODE IS THE ONLY NODE')], data: { ...(here.data as object), nodes: [] } };
  }
  let answers: readonly NodeAnswer[];
  try {
    answers = await c.refreshOthers();
  } catch (e) {
    return { lines: [...here.lines, Msg.failed(inst, 'REFRESH,ALL', `THE OTHER NODES CANNOT BE ASKED: ${describeError(e).toUpperCase()}`)], data: { ...(here.data as object), error: describeError(e) } };
  }
  const lines = [...here.lines, Msg.refreshAll(inst, `${answers.length} OTHER NODE${answers.length === 1 ? '' : 'S'} ASKED`)];
  const nodes = answers.map((a) => {
    if (!a.answered) { lines.push(Msg.nodeNotRefreshed(inst, a.node, a.detail)); return { node: a.node, answered: false, ok: false, detail: a.detail }; }
    const detail = replyDetail(a);
    lines.push(a.reply.ok ? Msg.nodeRefreshed(inst, a.node, detail) : Msg.nodeNotRefreshed(inst, a.node, detail));
    return { node: a.node, answered: true, ok: a.reply.ok, detail, lines: a.reply.lines };
  });
  return { lines, data: { ...(here.data as object), node: c.node, nodes } };
}

/** (ext, [P2]) Every node's rows for D,TARGETS / D,SPOOLSTATUS; undefined with SQLite or DisplayCompat IBM. */
async function clusterPart(t: OperatorTarget, ibm: boolean, s: Parameters<typeof clusterViews>[1]): Promise<ClusterPart | undefined> {
  const c = t.cluster?.();
  if (ibm || c?.statuses === undefined) return undefined;
  try {
    // The views' RETRY is each node's own; the store's released long retry once (cluster-view.ts).
    const released = s.counters.retryReleased;
    return { self: c.node, views: clusterViews(c.node, s, await c.statuses(), c.staleSeconds ?? 30), ...(released === undefined ? {} : { released }) };
  } catch (e) {
    return { self: c.node, views: [], error: `CLUSTER: THE OTHER NODES' STATE CANNOT BE READ FROM THE STORE: ${describeError(e).toUpperCase()}` };
  }
}

/** (ext, [P2]) D,SPOOLSTATUS: the shared queue's entries no node holds, after the task table (a store that fails: one line). */
async function sharedQueueLines(t: OperatorTarget, clock: Clock | undefined): Promise<string[]> {
  const c = t.cluster?.();
  if (c?.sharedQueue === undefined) return [];
  try {
    return clusterQueueLines(await c.sharedQueue(), (clock ?? systemClock).now());
  } catch (e) {
    return [`  SHARED QUEUE: CANNOT BE READ FROM THE STORE: ${describeError(e).toUpperCase()}`];
  }
}

interface ClusterPart { self: string; views: ClusterNodeView[]; error?: string; released?: number }

function clusterData(cv: ClusterPart | undefined): object {
  if (cv === undefined) return {};
  return { cluster: { node: cv.self, ...(cv.error === undefined ? {} : { error: cv.error }), nodes: cv.views, ...(cv.released === undefined ? {} : { released: cv.released }) } };
}

/** (ext, [P2]) DISPLAY,NODES: each node on the shared store (docs/cluster.md); any node answers. */
async function displayNodes(t: OperatorTarget, inst: string): Promise<{ lines: string[]; data: unknown }> {
  const c = t.cluster?.();
  if (c === undefined) return { lines: [Msg.failed(inst, 'DISPLAY,NODES', 'STORE BACKEND IS SQLITE: THIS INSTANCE IS ONE NODE')], data: { nodes: [] } };
  let nodes: readonly NodeInfo[];
  try {
    nodes = await c.nodes();
  } catch (e) {
    return { lines: [Msg.failed(inst, 'DISPLAY,NODES', `THE STORE CANNOT BE READ: ${describeError(e).toUpperCase()}`)], data: { error: describeError(e) } };
  }
  const lines = [Msg.nodes(inst, nodes.length, c.node), `  ${'NAME'.padEnd(16)} ${'ADDRESS'.padEnd(24)} ${'VERSION'.padEnd(10)} HEARTBEAT CLAIMED`];
  for (const n of nodes) {
    lines.push(`  ${n.name.padEnd(16)} ${(n.address ?? '-').padEnd(24)} ${(n.version ?? '-').padEnd(10)} ${`${n.heartbeatAge.toFixed(1)}S`.padStart(9)} ${String(n.claimed).padStart(7)}`);
  }
  return { lines, data: { node: c.node, nodes } };
}

/** REFRESHTARGETS: open a connection now, so capabilities are relearned and the operator sees the answer. */
async function probe(t: TargetView, ms: number, clock: Clock): Promise<{ address: string; port: number; usable: boolean; detail: string }> {
  const base = { address: t.addr.address, port: t.addr.port };
  let timer: Timer | undefined;
  const acquired = t.acquire(t.addr.server.secure);
  const timeout = new Promise<'timeout'>((resolve) => { timer = clock.setTimer(ms, () => resolve('timeout')); });
  const r = await Promise.race([acquired, timeout]);
  timer?.cancel();
  if (r === 'timeout') {
    // The connection may still come: hand it back to the pool when it does.
    void acquired.then((late) => { if (late.ok) late.value.release(true); }, () => undefined); // a late failure has nothing to hand back
    return { ...base, usable: false, detail: `NO ANSWER WITHIN ${Math.round(ms / 1000)} SECONDS` };
  }
  if (!r.ok) return { ...base, usable: false, detail: r.error.detail };
  r.value.release(true);
  return { ...base, usable: true, detail: '' };
}
