// The displays (seed 000 chapter 4, MODIFY examples 1–7): pure functions from a Snapshot to the
// console lines, in the seed's layouts — `LABEL : value` pairs in two columns, the same labels
// and order as the seed. Where the seed's examples disagree with each other we use one form
// and say so in docs/messages.md (MESSAGESIZE in IPLIST as in Example 3). TARGETS,ADDR= has
// Example 7's fields (LONG RETRY / UNDELIVERABLE / SECURE), TARGETS without ADDR= Example 6's.
// DisplayCompat IBM (snapshot `compat`) writes the seed's labels as its examples do (MESSAGE SIZE
// for MX addresses, Example 4) and leaves out every (ext) line: screen scrapers written for CSSMTP
// read the same lines.
import { formatConfigDisplay } from '../config/display.js';
import type { Command } from './parse.js';
import { Msg } from './messages.js';
import type { Snapshot, TargetSnapshot, TaskSnapshot } from './snapshot.js';

// DISPLAY,STATUS is answered by control/status.ts (it reads the queue: async), not here.
export type DisplayCommand = Exclude<Extract<Command, { kind: `display-${string}` }>, { kind: 'display-status' }>;

export function isDisplay(c: Command): c is DisplayCommand {
  return c.kind.startsWith('display-') && c.kind !== 'display-status';
}

/** Lines of a display command; an unknown ADDR= or a missing configuration gives one E line. */
export function render(cmd: DisplayCommand, s: Snapshot): string[] {
  switch (cmd.kind) {
    case 'display-loglevel': return [Msg.logLevel(s.instance, s.logLevel)];
    case 'display-config':
      if (s.config === undefined) return [Msg.failed(s.instance, 'DISPLAY,CONFIG', 'CONFIGURATION NOT AVAILABLE')];
      return formatConfigDisplay(s.config, { ...s.runtime, logLevel: s.logLevel, userExit: s.userExit });
    case 'display-iplist': return renderIpList(s);
    case 'display-spool-summary': return renderSpoolSummary(s);
    case 'display-spool-detail': return renderSpoolDetail(s, cmd.tkid);
    case 'display-targets': return renderTargets(s, cmd.addr);
    // Read from the shared store, not the snapshot: execute.ts writes its lines.
    case 'display-nodes': return [];
  }
}

function ibm(s: Snapshot): boolean {
  return s.compat === 'ibm';
}

function yn(b: boolean | null): string {
  return b === null ? 'N/A' : b ? 'YES' : 'NO';
}

// ---- IPLIST (Examples 3, 4): the same column widths as Display,CONFig (EZD1829I) ----

function one(label: string, value: string): string {
  return `${label.padEnd(20)}: ${value}`;
}

function two(l1: string, v1: string, l2: string, v2: string): string {
  return `${l1.padEnd(20)}: ${v1.padEnd(14)} ${l2.padEnd(17)}: ${v2}`;
}

export function renderIpList(s: Snapshot): string[] {
  const out = [Msg.ipList(s.instance)];
  for (const t of s.targets) {
    out.push(one('TARGETIP', t.address));
    if (t.source.kind === 'TargetName') out.push(one('CONFIG TARGETNAME', t.source.name.toUpperCase()));
    if (t.source.kind === 'TargetMx') out.push(one('CONFIG TARGETMX', t.source.name), one('PREFERENCE', String(t.source.preference)));
    // Seed: Example 4 (MX addresses) writes MESSAGE SIZE, Example 3 MESSAGESIZE.
    const sizeLabel = ibm(s) && t.source.kind === 'TargetMx' ? 'MESSAGE SIZE' : 'MESSAGESIZE';
    out.push(
      two('CONNECTPORT', String(t.port), 'CONNECTLIMIT', String(t.connectLimit)),
      two('MAXMSGSENT', String(t.maxMsgSent), sizeLabel, String(t.messageSize)),
      one('SECURE', yn(t.secure)),
    );
  }
  if (s.targets.length === 0) out.push('No target server addresses to display');
  return out;
}

// ---- SPOOLSTATUS summary (Example 5): two tasks per line ----

function summaryCell(t: TaskSnapshot): string {
  const id = `${t.type === 'DEST' ? 'D' : 'W'} ${String(t.tkid).padStart(3, '0')}`;
  return `${id} ${(t.jobName ?? 'N/A').padEnd(8)} ${t.state.padEnd(6)} ${String(t.pend).padStart(5)} ${String(t.lrt).padStart(5)}`;
}

const SUMMARY_HEAD = `${'TKID'.padEnd(5)} ${'JOBNAME'.padEnd(8)} ${'STATE'.padEnd(6)} ${'PEND'.padStart(5)} ${'LRT'.padStart(5)}`;

export function renderSpoolSummary(s: Snapshot): string[] {
  const out = [Msg.spoolSummary(s.instance), `${SUMMARY_HEAD}    ${SUMMARY_HEAD}`];
  const tasks = [...s.tasks].sort((a, b) => a.tkid - b.tkid);
  for (let k = 0; k < tasks.length; k += 2) {
    const right = tasks[k + 1];
    out.push(right === undefined ? summaryCell(tasks[k]!) : `${summaryCell(tasks[k]!)}    ${summaryCell(right)}`);
  }
  // (ext) Why the WAIT tasks wait.
  if (!ibm(s) && tasks.some((t) => t.state === 'WAIT')) out.push(`WAIT REASON: ${waitReason(s)}`);
  out.push(...parkedLines(s), ...releasedLines(s));
  return out;
}

/**
 * (ext, [P2]) Files released for long retry on the shared queue: no node's task holds them; the
 * store makes them due at NEXT for any node (docs/cluster.md). NODE: the node that tried last.
 */
function releasedLines(s: Snapshot): string[] {
  if (ibm(s) || s.released === undefined || s.released.length === 0) return [];
  return [`RELEASED TO THE SHARED QUEUE (ALL REMAINING MAIL IN LONG RETRY): ${s.released.length}`,
    ...s.released.map((r) => `${r.entry.padEnd(9)} ${r.jobName.padEnd(8)} ${r.jobId.padEnd(8)} LRT ${r.lrt} ${r.held ? 'HELD' : `NEXT ${r.nextAttempt.slice(0, 19)}Z`} NODE ${r.lastNode ?? '-'}`)];
}

/**
 * (ext) Files parked with all their remaining mail in long retry: their task has moved on to
 * another file, so they are listed under the tasks (TKID: the task that read them).
 */
function parkedLines(s: Snapshot): string[] {
  if (ibm(s) || s.parked === undefined || s.parked.length === 0) return [];
  return [`PARKED (ALL REMAINING MAIL IN LONG RETRY): ${s.parked.length}`,
    ...s.parked.map((p) => `W ${String(p.tkid).padStart(3, '0')} ${p.jobName.padEnd(8)} ${p.jobId.padEnd(8)} LRT ${p.lrt} MAIL READ ${p.mailRead} UNDELIVERABLE ${p.undeliverable}`)];
}

/** Seed: WAIT = no target server is active; (ext) or the checkpoint cannot be written. */
function waitReason(s: Snapshot): string {
  return s.waitReason ?? 'no target server is usable now';
}

// ---- SPOOLSTATUS detail (Example 5, DETAIL) ----

function pair(l1: string, v1: string, l2: string, v2: string): string {
  return `${l1.padEnd(13)}: ${v1.padEnd(10)} ${l2.padEnd(13)}: ${v2}`;
}

function detailBlock(t: TaskSnapshot, s: Snapshot): string[] {
  return [
    pair(`TASK ${t.state}`, t.type, 'TKID', String(t.tkid)),
    pair('JOBNAME', t.jobName ?? 'N/A', 'JOBID', t.jobId ?? 'N/A'),
    pair('PEND', String(t.pend), 'LRT', String(t.lrt)),
    pair('MAIL READ', String(t.mailRead), 'UNDELIVERABLE', String(t.undeliverable)),
    // (ext)
    ...(t.state === 'WAIT' && !ibm(s) ? [`${'WAIT REASON'.padEnd(13)}: ${waitReason(s)}`] : []),
  ];
}

export function renderSpoolDetail(s: Snapshot, tkid: number | undefined): string[] {
  const out = [Msg.spoolDetail(s.instance)];
  if (tkid !== undefined) {
    // Seed: a specific TKID is shown in any state, IDLE too.
    const t = s.tasks.find((x) => x.tkid === tkid);
    if (t === undefined) out.push(`No TKID ${tkid} to display`);
    else out.push(...detailBlock(t, s));
    return out;
  }
  const busy = [...s.tasks].filter((t) => t.state !== 'IDLE').sort((a, b) => a.tkid - b.tkid);
  if (busy.length === 0) out.push('No non-idle TKIDs to display');
  for (const t of busy) out.push(...detailBlock(t, s));
  out.push(...parkedLines(s), ...releasedLines(s));
  return out;
}

// ---- TARGETS (Example 6) ----

function col(l1: string, v1: string, l2: string, v2: string): string {
  return `${l1.padEnd(10)}: ${v1.padEnd(16)} ${l2.padEnd(13)}: ${v2}`;
}

/** Canonical text of an IP literal, so ADDR=0:0::1 finds ::1. */
export function canonicalIp(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    // Not an IPv6 literal after all: compare the text as given.
    return a.toLowerCase();
  }
}

function serverLine(t: TargetSnapshot, s: Snapshot): string {
  // (ext) the port is shown when it is not 25: two targets may share an address.
  return `TARGET SERVER ${t.address}${t.port === 25 || ibm(s) ? '' : ` PORT ${t.port}`}`;
}

/** (ext) Attempts with no reply (no answer in time, or dropped): the target may hold a copy. */
function lostLine(t: TargetSnapshot): string {
  return `${'LOST ATTEMPTS'.padEnd(13)}: ${t.lostAttempts}`;
}

/**
 * (ext) The statement's rate limits (MaxMsgPerSecond/Minute, MaxRcptPerMsg, MaxConnectPerMinute),
 * how much of them is used now, and the back-off on "rate" replies (docs/rate-limits.md).
 */
function rateLines(t: TargetSnapshot): string[] {
  const r = t.rate;
  if (r === undefined) return [];
  const parts = (xs: (string | null)[]): string => xs.filter((x): x is string => x !== null).join(', ') || 'NONE';
  const per = (n: number | null, unit: string): string | null => (n === null ? null : `${n}${unit}`);
  const label = (l: string): string => l.padEnd(13);
  const out = [
    `${label('RATE LIMIT')}: ${parts([per(r.msgPerSecond, '/SEC'), per(r.msgPerMinute, '/MIN'), per(r.rcptPerMsg, ' RCPT/MSG'), per(r.connectPerMinute, ' CONN/MIN')])}`,
  ];
  const used = parts([per(r.sentLastSecond, '/SEC'), per(r.sentLastMinute, '/MIN'), per(r.connectsLastMinute, ' CONN/MIN')]);
  if (used !== 'NONE') out.push(`${label('RATE NOW')}: ${used}`);
  const backoff = !r.backoff ? 'OFF' : r.backoffLevel === 0 ? 'NONE' : `LEVEL ${r.backoffLevel}, ${r.backoffSpacingMs} MS APART`;
  out.push(`${label('BACKOFF')}: ${backoff}${r.rateReplies > 0 ? ` (${r.rateReplies} RATE REPLIES)` : ''}`);
  if (r.lastRateReply !== '') out.push(`${label('RATE REPLY')}: ${r.lastRateReply}`);
  return out;
}

function targetBlock(t: TargetSnapshot, s: Snapshot): string[] {
  return [
    serverLine(t, s),
    `${'STATE'.padEnd(10)}: ${t.state}`,
    col('ESMTP', yn(t.esmtp), 'MESSAGE SIZE', String(t.effectiveMessageSize)),
    col('STARTTLS', yn(t.startTls), 'MAIL ATTEMPTS', String(t.mailAttempts)),
    col('MAIL SENT', String(t.mailSent), 'CONNECT FAIL', String(t.connectFail)),
    ...(ibm(s) ? [] : [lostLine(t), ...rateLines(t)]),
  ];
}

/** Example 7 (ADDR=): SECURE is the target's Secure setting; (ext) STARTTLS and LOST ATTEMPTS follow. */
function addrBlock(t: TargetSnapshot, s: Snapshot): string[] {
  return [
    serverLine(t, s),
    `${'STATE'.padEnd(10)}: ${t.state}`,
    col('ESMTP', yn(t.esmtp), 'MESSAGE SIZE', String(t.effectiveMessageSize)),
    col('SECURE', yn(t.secure), 'MAIL ATTEMPTS', String(t.mailAttempts)),
    col('MAIL SENT', String(t.mailSent), 'CONNECT FAIL', String(t.connectFail)),
    ...(ibm(s) ? [] : [`${'STARTTLS'.padEnd(10)}: ${yn(t.startTls)}`, lostLine(t), ...rateLines(t)]),
  ];
}

export function renderTargets(s: Snapshot, addr: string | undefined): string[] {
  const c = s.counters;
  if (addr !== undefined) {
    const targets = s.targets.filter((t) => canonicalIp(t.address) === canonicalIp(addr));
    if (targets.length === 0) return [Msg.noSuchTarget(s.instance, addr)];
    // Example 7: LONG RETRY = mail in long retry now (CURRENT RETRY), UNDELIVERABLE = UNDELIVER.
    const out = [
      Msg.targets(s.instance),
      'GLOBAL INFORMATION:',
      col('MAIL SENT', String(c.mailSent), 'LONG RETRY', String(c.currentRetry)),
      col('DEADLETTER', String(c.deadLetter), 'UNDELIVERABLE', String(c.undeliver)),
    ];
    for (const t of targets) out.push(...addrBlock(t, s));
    return out;
  }
  const out = [
    Msg.targets(s.instance),
    'GLOBAL INFORMATION:',
    col('MAIL SENT', String(c.mailSent), 'TOTAL RETRY', String(c.totalRetry)),
    col('DEADLETTER', String(c.deadLetter), 'CURRENT RETRY', String(c.currentRetry)),
    `${'UNDELIVER'.padEnd(10)}: ${c.undeliver}`,
    'EXTENDED RETRY:',
    col('CURRENT', String(c.extendedCurrent), 'TOTAL', String(c.extendedTotal)),
  ];
  for (const t of s.targets) out.push(...targetBlock(t, s));
  return out;
}
