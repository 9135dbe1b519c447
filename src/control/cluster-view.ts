// (ext, [P2]) DISPLAY,TARGETS and DISPLAY,SPOOLSTATUS on a cluster (docs/cluster.md "The operator
// view"): after the node's own display, unchanged (the seed's layouts, EZD1831I–EZD1833I), one
// table of every node's rows with a NODE column, from the status each node publishes on the
// shared store every Heartbeat (this node's own rows are taken now). A node whose status is older
// than the lease time is marked STALE (its last state, not its state now); one older than ten
// lease times is left out (D,NODES still lists it). Not shown with DisplayCompat IBM, nor with
// Backend SQLite (one node: the display is unchanged). Pure: rows in, lines out.
// RETRY (and counters.currentRetry of each node in the data) is the node's OWN messages in long
// retry; the cluster's messages released for long retry on the store, which every node counts in
// its own CURRENT RETRY, are shown once under the table (RELEASED), so the column plus RELEASED is
// the cluster's long retry, never a multiple of it.
import { Msg } from './messages.js';
import type { CountersSnapshot, Snapshot, TargetSnapshot, TaskSnapshot } from './snapshot.js';
import type { JsonValue } from '../store/queue-store.js';
import type { NodeStatusRow, StoreEntryRow } from '../store/operator-store.js';

/** What a node publishes (and what another node's display reads back). */
export interface NodeStatus {
  readonly suspendMode: Snapshot['suspendMode'];
  readonly counters: CountersSnapshot;
  readonly tasks: readonly TaskSnapshot[];
  readonly targets: readonly TargetSnapshot[];
}

export interface ClusterNodeView extends NodeStatus {
  readonly node: string;
  readonly age: number;
  readonly stale: boolean;
}

/** The part of a snapshot a node publishes (JSON). */
export function nodeStatusOf(s: Snapshot): JsonValue {
  const status: NodeStatus = { suspendMode: s.suspendMode, counters: s.counters, tasks: s.tasks, targets: s.targets };
  return JSON.parse(JSON.stringify(status)) as JsonValue;
}

function asStatus(v: JsonValue): NodeStatus | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as unknown as Partial<NodeStatus>;
  if (!Array.isArray(o.tasks) || !Array.isArray(o.targets) || typeof o.counters !== 'object' || o.counters === null) return undefined;
  return { suspendMode: o.suspendMode ?? 'none', counters: o.counters, tasks: o.tasks, targets: o.targets };
}

/**
 * A node's counters as the NODE table shows them: currentRetry is its own messages in long retry,
 * without the released ones of the cluster (retryReleased, left out here: shown once). A status
 * without retryReleased (Backend SQLite, or a node of an older version) is taken as it is.
 */
export function ownCounters(c: CountersSnapshot): CountersSnapshot {
  const { retryReleased, ...rest } = c;
  return retryReleased === undefined ? rest : { ...rest, currentRetry: Math.max(0, c.currentRetry - retryReleased) };
}

/** Every node's view: this node's from its snapshot now, the others' from their rows (counters: ownCounters). */
export function clusterViews(self: string, s: Snapshot, rows: readonly NodeStatusRow[], staleSeconds: number): ClusterNodeView[] {
  const out: ClusterNodeView[] = [{ node: self, age: 0, stale: false, suspendMode: s.suspendMode, counters: ownCounters(s.counters), tasks: s.tasks, targets: s.targets }];
  for (const r of rows) {
    if (r.node === self || r.age > staleSeconds * 10) continue;
    const st = asStatus(r.status);
    if (st === undefined) continue;
    out.push({ node: r.node, age: r.age, stale: r.age > staleSeconds, ...st, counters: ownCounters(st.counters) });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

function ageCell(v: ClusterNodeView): string {
  return `${v.age.toFixed(1)}S${v.stale ? ' STALE' : ''}`;
}

const NODE_W = 16;

/**
 * The TARGETS table: one row per node and target address (ADDR= keeps that address's rows);
 * RETRY is each node's own; `released` (this node's count of the store's released long-retry
 * messages, when it has one) is one line under the table.
 */
export function clusterTargetLines(instance: string, self: string, views: readonly ClusterNodeView[], match?: (t: TargetSnapshot) => boolean, released?: number): string[] {
  const out = [Msg.clusterView(instance, views.length, self),
    `  ${'NODE'.padEnd(NODE_W)} ${'TARGET'.padEnd(30)} ${'STATE'.padEnd(10)} ${'ATTEMPTS'.padStart(8)} ${'SENT'.padStart(8)} ${'CONNFAIL'.padStart(8)} ${'RETRY'.padStart(6)} AGE`];
  for (const v of views) {
    const targets = match === undefined ? v.targets : v.targets.filter(match);
    if (targets.length === 0) out.push(`  ${v.node.padEnd(NODE_W)} ${'-'.padEnd(30)} ${'-'.padEnd(10)} ${''.padStart(8)} ${String(v.counters.mailSent).padStart(8)} ${''.padStart(8)} ${String(v.counters.currentRetry).padStart(6)} ${ageCell(v)}`);
    for (const t of targets) {
      const addr = t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`;
      out.push(`  ${v.node.padEnd(NODE_W)} ${addr.padEnd(30)} ${t.state.padEnd(10)} ${String(t.mailAttempts).padStart(8)} ${String(t.mailSent).padStart(8)} ${String(t.connectFail).padStart(8)} ${String(v.counters.currentRetry).padStart(6)} ${ageCell(v)}`);
    }
  }
  if (released !== undefined) out.push(`  RELEASED: ${released} MESSAGE${released === 1 ? '' : 'S'} IN LONG RETRY ON THE SHARED QUEUE, NO NODE HOLDS THEM (CLUSTER, NOT IN RETRY ABOVE)`);
  return out;
}

/** The SPOOLSTATUS table: one row per node and task (`pick` chooses the tasks: all, not idle, one TKID). */
export function clusterTaskLines(instance: string, self: string, views: readonly ClusterNodeView[], pick: (t: TaskSnapshot) => boolean): string[] {
  const out = [Msg.clusterView(instance, views.length, self),
    `  ${'NODE'.padEnd(NODE_W)} ${'TKID'.padEnd(5)} ${'JOBNAME'.padEnd(8)} ${'JOBID'.padEnd(8)} ${'STATE'.padEnd(6)} ${'PEND'.padStart(5)} ${'LRT'.padStart(5)} ${'READ'.padStart(6)} AGE`];
  for (const v of views) {
    const tasks = [...v.tasks].filter(pick).sort((a, b) => a.tkid - b.tkid);
    if (tasks.length === 0) out.push(`  ${v.node.padEnd(NODE_W)} ${'-'.padEnd(5)} ${'-'.padEnd(8)} ${'-'.padEnd(8)} ${(v.suspendMode === 'none' ? '-' : 'SUPND').padEnd(6)} ${''.padStart(5)} ${''.padStart(5)} ${''.padStart(6)} ${ageCell(v)}`);
    for (const t of tasks) {
      const id = `${t.type === 'DEST' ? 'D' : 'W'} ${String(t.tkid).padStart(3, '0')}`;
      out.push(`  ${v.node.padEnd(NODE_W)} ${id.padEnd(5)} ${(t.jobName ?? 'N/A').padEnd(8)} ${(t.jobId ?? 'N/A').padEnd(8)} ${t.state.padEnd(6)} ${String(t.pend).padStart(5)} ${String(t.lrt).padStart(5)} ${String(t.mailRead).padStart(6)} ${ageCell(v)}`);
    }
  }
  return out;
}

/** The most entries of the shared queue D,SPOOLSTATUS lists one by one (the rest are counted). */
export const SHARED_QUEUE_LINES = 20;

/**
 * The entries of the shared queue no node holds (not claimed yet — every node busy or
 * SUSPENDed —, released for long retry, held by the operator), after the task table: NODE '-',
 * TKID '-', STATE QUEUED (due, not read by any node yet), WAIT (due, read before), LRT (long
 * retry: due later) or HELD; AGE is the time since the entry arrived. Nothing when there are none.
 */
export function clusterQueueLines(rows: readonly StoreEntryRow[], nowMs: number): string[] {
  const free = rows.filter((r) => r.leaseNode === null);
  if (free.length === 0) return [];
  const state = (r: StoreEntryRow): string => r.state === 'held' ? 'HELD' : r.nextAttempt.getTime() > nowMs ? 'LRT'
    : r.attempts === 0 && r.lastNode === null && r.retryAttempts === 0 ? 'QUEUED' : 'WAIT';
  const text = (r: StoreEntryRow, k: string): string => { const v = r.attributes[k]; return typeof v === 'string' && v !== '' ? v : 'N/A'; };
  const out = [`  SHARED QUEUE: ${free.length} ENTR${free.length === 1 ? 'Y' : 'IES'} NO NODE HOLDS`];
  for (const r of free.slice(0, SHARED_QUEUE_LINES)) {
    const age = `${Math.max(0, (nowMs - r.arrivedAt.getTime()) / 1000).toFixed(1)}S`;
    out.push(`  ${'-'.padEnd(NODE_W)} ${'-'.padEnd(5)} ${text(r, 'jobName').padEnd(8)} ${text(r, 'jobId').padEnd(8)} ${state(r).padEnd(6)} ${''.padStart(5)} ${''.padStart(5)} ${''.padStart(6)} ${age}`);
  }
  if (free.length > SHARED_QUEUE_LINES) out.push(`  ... ${free.length - SHARED_QUEUE_LINES} MORE (D,QUEUE LISTS THEM)`);
  return out;
}
