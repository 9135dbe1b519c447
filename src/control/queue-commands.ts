// (ext, O1 #17) The queue as MODIFY commands, in the CSSMTP style of the rest (docs/messages.md,
// docs/queue.md): displays
//   DISPLAY,QUEUE[,STATE=s][,JOB=j][,SENDER=a][,RCPT=a][,TARGET=t][,DOMAIN=d][,AGE=min][,LIMIT=n][,OFFSET=n]
//   DISPLAY,QUEUE,ID=qid[,BODY]     DISPLAY,QSHAPE[,BY=TARGET|DOMAIN]
//   DISPLAY,DEADLETTERS             DISPLAY,HELD[,ID=entry|qid]
// and actions (REASON='text' may hold blanks and commas inside its quotes; BY=name is the operator)
//   HOLD|RELEASE|RETRY|BOUNCE|DELETE,ID=qid     HOLD,SENDER=a (and the other filters: every match)
//   REQUEUE,ID=deadletter|qid    PURGEDEAD,AGE=days    RELEASEHELD,ID=x    PURGEHELD,ID=x
// Parsing is pure; execution uses the queue role's QueueApi (the same one the REST routes use),
// so an answer's `data` is the REST answer's body.
import { type Result, ok, err } from '../core/result.js';
// The pure model only (not queue/index.js): the CLI loads this file, and should not load the forwarder.
import { parseFilter, QUEUE_ACTIONS, SHAPE_BUCKETS, type QueueAction, type QueueFilter, type QueueItem } from '../queue/model.js';
import type { Actor, QueueApi, QueueError } from '../queue/service.js';
import { Msg } from './messages.js';

export type QueueCommand =
  /** brief: only the EZD1849I line (the data has every item): what `queue list --json` asks for. */
  | { readonly kind: 'queue-list'; readonly filter: QueueFilter; readonly text: string; readonly brief?: true }
  | { readonly kind: 'queue-show'; readonly id: string; readonly body: boolean }
  | { readonly kind: 'queue-shape'; readonly by: 'target' | 'domain' }
  | { readonly kind: 'queue-deadletters' }
  | { readonly kind: 'queue-held'; readonly id?: string }
  | { readonly kind: 'queue-action'; readonly action: QueueAction; readonly id?: string; readonly filter?: QueueFilter; readonly filterText?: string; readonly reason: string; readonly by?: string }
  | { readonly kind: 'queue-requeue'; readonly id: string; readonly reason: string; readonly by?: string }
  | { readonly kind: 'queue-purgedead'; readonly days: number; readonly reason: string; readonly by?: string }
  | { readonly kind: 'queue-held-action'; readonly action: 'release' | 'purge'; readonly id: string; readonly reason: string; readonly by?: string };

/** An operand as the tokenizer gives it (parse.ts). */
export interface Operand {
  readonly word: string;
  readonly key?: string;
  readonly value?: string;
  readonly raw: string;
}

export interface ParseError {
  readonly detail: string;
}

/** The verbs of this file (matched whole: actions on mail are not abbreviated). */
export const QUEUE_VERBS = ['HOLD', 'RELEASE', 'RETRY', 'BOUNCE', 'DELETE', 'REQUEUE', 'PURGEDEAD', 'RELEASEHELD', 'PURGEHELD'] as const;
/** DISPLAY operands of this file (minimum in capitals, as parse.ts's catalogue). */
export const QUEUE_DISPLAYS = ['QUEue', 'QSHAPE', 'DEADletters', 'HELD'] as const;

/** MODIFY filter keywords -> the queue model's filter names (AGE in minutes, as qshape). */
const FILTER_KEYS: Record<string, string> = { STATE: 'state', JOB: 'job', SENDER: 'sender', RCPT: 'recipient', TARGET: 'target', DOMAIN: 'domain', AGE: 'minAge', LIMIT: 'limit', OFFSET: 'offset' };

function filterOf(ops: readonly Operand[], cmd: string): Result<{ filter: QueueFilter; text: string; rest: Operand[] }, ParseError> {
  const pairs: [string, string][] = [];
  const text: string[] = [];
  const rest: Operand[] = [];
  for (const o of ops) {
    const name = o.key === undefined ? undefined : FILTER_KEYS[o.key];
    if (name === undefined) { rest.push(o); continue; }
    const v = o.value ?? '';
    if (o.key === 'AGE') {
      if (!/^[0-9]{1,7}$/.test(v)) return err({ detail: `AGE VALUE '${v.slice(0, 40)}' IS NOT A WHOLE NUMBER OF MINUTES` });
      pairs.push([name, String(Number(v) * 60)]);
    } else {
      pairs.push([name, v]);
    }
    text.push(`${o.key}=${q(v)}`);
  }
  const f = parseFilter(pairs);
  if (!f.ok) return err({ detail: `${cmd}: ${f.error.toUpperCase()}` });
  return ok({ filter: f.value, text: text.join(','), rest });
}

interface Common { reason: string; by?: string; id?: string; rest: Operand[] }

/** REASON=, BY= and ID= of an action; the other operands are returned. */
function common(ops: readonly Operand[], cmd: string): Result<Common, ParseError> {
  let reason: string | undefined;
  let by: string | undefined;
  let id: string | undefined;
  const rest: Operand[] = [];
  for (const o of ops) {
    if (o.key === 'REASON') {
      if ((o.value ?? '').length > 500) return err({ detail: `${cmd}: REASON LONGER THAN 500 CHARACTERS` });
      reason = o.value ?? '';
    } else if (o.key === 'BY') {
      if (!/^[\x21-\x7e]{1,64}$/.test(o.value ?? '')) return err({ detail: `${cmd}: BY MUST BE A NAME WITHOUT BLANKS, AT MOST 64 CHARACTERS` });
      by = o.value;
    } else if (o.key === 'ID') {
      if ((o.value ?? '') === '' || (o.value ?? '').length > 255) return err({ detail: `${cmd}: ID NEEDS A VALUE` });
      id = o.value;
    } else {
      rest.push(o);
    }
  }
  return ok({ reason: reason ?? '', ...(by === undefined ? {} : { by }), ...(id === undefined ? {} : { id }), rest });
}

const extraOperand = (cmd: string, o: Operand | undefined): Result<never, ParseError> | undefined =>
  (o === undefined ? undefined : err({ detail: `OPERAND '${o.raw.slice(0, 80)}' NOT VALID FOR ${cmd}` }));

/** DISPLAY,QUEUE|QSHAPE|DEADLETTERS|HELD with its operands. */
export function parseQueueDisplay(what: (typeof QUEUE_DISPLAYS)[number], ops: readonly Operand[]): Result<QueueCommand, ParseError> {
  switch (what) {
    case 'QUEue': {
      const idOp = ops.find((o) => o.key === 'ID');
      if (idOp !== undefined) {
        const others = ops.filter((o) => o !== idOp);
        const body = others.length === 1 && others[0]!.key === undefined && others[0]!.word === 'BODY';
        const bad = extraOperand('DISPLAY,QUEUE,ID=', body ? undefined : others[0]);
        if (bad) return bad;
        return ok({ kind: 'queue-show', id: idOp.value ?? '', body });
      }
      const f = filterOf(ops, 'DISPLAY,QUEUE');
      if (!f.ok) return f;
      const isBrief = (o: Operand): boolean => o.key === undefined && o.word === 'BRIEF';
      const brief = f.value.rest.some(isBrief);
      const bad = extraOperand('DISPLAY,QUEUE', f.value.rest.find((o) => !isBrief(o)));
      return bad ?? ok({ kind: 'queue-list', filter: f.value.filter, text: f.value.text, ...(brief ? { brief: true as const } : {}) });
    }
    case 'QSHAPE': {
      const [p, more] = ops;
      const bad = extraOperand('DISPLAY,QSHAPE', more);
      if (bad) return bad;
      if (p === undefined) return ok({ kind: 'queue-shape', by: 'domain' });
      if (p.key !== 'BY' || !['TARGET', 'DOMAIN'].includes((p.value ?? '').toUpperCase())) return err({ detail: `OPERAND '${p.raw.slice(0, 80)}' NOT VALID FOR DISPLAY,QSHAPE: USE BY=TARGET OR BY=DOMAIN` });
      return ok({ kind: 'queue-shape', by: (p.value ?? '').toUpperCase() === 'TARGET' ? 'target' : 'domain' });
    }
    case 'DEADletters': {
      const bad = extraOperand('DISPLAY,DEADLETTERS', ops[0]);
      return bad ?? ok({ kind: 'queue-deadletters' });
    }
    case 'HELD': {
      const [p, more] = ops;
      const bad = extraOperand('DISPLAY,HELD', more);
      if (bad) return bad;
      if (p === undefined) return ok({ kind: 'queue-held' });
      if (p.key !== 'ID' || (p.value ?? '') === '') return err({ detail: `OPERAND '${p.raw.slice(0, 80)}' NOT VALID FOR DISPLAY,HELD: USE ID=name` });
      return ok({ kind: 'queue-held', id: p.value! });
    }
  }
}

/** One of QUEUE_VERBS with its operands. */
export function parseQueueVerb(verb: (typeof QUEUE_VERBS)[number], ops: readonly Operand[]): Result<QueueCommand, ParseError> {
  const c = common(ops, verb);
  if (!c.ok) return c;
  const { reason, by, id, rest } = c.value;
  const who = { reason, ...(by === undefined ? {} : { by }) };
  switch (verb) {
    case 'HOLD': case 'RELEASE': case 'RETRY': case 'BOUNCE': case 'DELETE': {
      const action = verb.toLowerCase() as QueueAction;
      if (id !== undefined) {
        const bad = extraOperand(verb, rest[0]);
        return bad ?? ok({ kind: 'queue-action', action, id, ...who });
      }
      const f = filterOf(rest, verb);
      if (!f.ok) return f;
      const bad = extraOperand(verb, f.value.rest[0]);
      if (bad) return bad;
      // A filter must name something: HOLD alone would hold the whole queue.
      if (!/(^|,)(STATE|JOB|SENDER|RCPT|TARGET|DOMAIN|AGE)=/.test(f.value.text)) return err({ detail: `${verb} NEEDS ID=qid OR A FILTER (SENDER=, RCPT=, DOMAIN=, TARGET=, JOB=, STATE=, AGE=)` });
      return ok({ kind: 'queue-action', action, filter: f.value.filter, filterText: f.value.text, ...who });
    }
    case 'REQUEUE': {
      if (id === undefined) return err({ detail: 'REQUEUE NEEDS ID=deadletter-id' });
      const bad = extraOperand(verb, rest[0]);
      return bad ?? ok({ kind: 'queue-requeue', id, ...who });
    }
    case 'PURGEDEAD': {
      const [p, more] = rest;
      const bad = extraOperand(verb, more) ?? (id === undefined ? undefined : err({ detail: 'PURGEDEAD TAKES AGE=days, NOT ID=' }));
      if (bad) return bad;
      if (p === undefined || p.key !== 'AGE' || !/^[0-9]{1,4}$/.test(p.value ?? '')) return err({ detail: 'PURGEDEAD NEEDS AGE=days (0-3660)' });
      return ok({ kind: 'queue-purgedead', days: Number(p.value), ...who });
    }
    case 'RELEASEHELD': case 'PURGEHELD': {
      if (id === undefined) return err({ detail: `${verb} NEEDS ID=name` });
      const bad = extraOperand(verb, rest[0]);
      return bad ?? ok({ kind: 'queue-held-action', action: verb === 'RELEASEHELD' ? 'release' : 'purge', id, ...who });
    }
  }
}

/** A value written into a command line: quoted ('...', '' for a quote) when it holds anything but safe characters. */
export function quoteOperand(v: string): string {
  return q(v);
}

function q(v: string): string {
  return /^[A-Za-z0-9@._+:-]*$/.test(v) && v !== '' ? v : `'${v.replace(/'/g, "''")}'`;
}

const reasonPart = (c: { reason: string; by?: string }): string => `${c.reason === '' ? '' : `,REASON=${q(c.reason)}`}${c.by === undefined ? '' : `,BY=${c.by}`}`;

export function formatQueueCommand(c: QueueCommand): string {
  switch (c.kind) {
    case 'queue-list': return `DISPLAY,QUEUE${c.text === '' ? '' : `,${c.text}`}${c.brief === true ? ',BRIEF' : ''}`;
    case 'queue-show': return `DISPLAY,QUEUE,ID=${q(c.id)}${c.body ? ',BODY' : ''}`;
    case 'queue-shape': return `DISPLAY,QSHAPE,BY=${c.by.toUpperCase()}`;
    case 'queue-deadletters': return 'DISPLAY,DEADLETTERS';
    case 'queue-held': return c.id === undefined ? 'DISPLAY,HELD' : `DISPLAY,HELD,ID=${q(c.id)}`;
    case 'queue-action': return `${c.action.toUpperCase()},${c.id === undefined ? c.filterText ?? '' : `ID=${q(c.id)}`}${reasonPart(c)}`;
    case 'queue-requeue': return `REQUEUE,ID=${q(c.id)}${reasonPart(c)}`;
    case 'queue-purgedead': return `PURGEDEAD,AGE=${c.days}${reasonPart(c)}`;
    case 'queue-held-action': return `${c.action === 'release' ? 'RELEASEHELD' : 'PURGEHELD'},ID=${q(c.id)}${reasonPart(c)}`;
  }
}

/** Queue commands that only show. */
export function queueShows(c: QueueCommand): boolean {
  return c.kind === 'queue-list' || c.kind === 'queue-show' || c.kind === 'queue-shape' || c.kind === 'queue-deadletters' || c.kind === 'queue-held';
}

const age = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const h = Math.floor(s / 3600);
  return `${String(h).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

/** The lines of one item in a list (as mailq: the message, then its recipients). */
function itemLines(it: QueueItem, now: number): string[] {
  const out = [`  ${it.id.padEnd(20)} ${it.state.toUpperCase().padEnd(11)} ${age(it.arrival, now)} ${String(it.size).padStart(9)} ${String(it.attempts).padStart(3)} ${(it.jobName || '-').padEnd(8)} ${it.sender || '<>'}`];
  for (const r of it.recipients) out.push(`    ${r.address} ${r.state.toUpperCase()}${r.lastReply === null ? '' : ` ${r.lastReply.replace(/\s+/g, ' ').slice(0, 200)}`}`);
  // (ext, [P2]) On a cluster every item names its node (queue/cluster-queue.ts); one node: no line.
  const node = (it as { node?: unknown }).node;
  if (typeof node === 'string') out.push(`    NODE: ${node}`);
  if (it.why !== null && it.state !== 'retry' && it.state !== 'extended') out.push(`    WHY: ${it.why.replace(/\s+/g, ' ').slice(0, 300)}`);
  return out;
}

function fail(inst: string, cmd: string, e: QueueError): { lines: string[]; data: unknown } {
  return { lines: [Msg.queueFailed(inst, cmd, e.error.toUpperCase())], data: { error: e.error, status: e.status } };
}

/** Carries out a queue command; `operator` names who is on the other end of the channel. */
export async function executeQueue(c: QueueCommand, queue: QueueApi | undefined, inst: string, channel: string, now: number): Promise<{ lines: string[]; data: unknown }> {
  const cmd = formatQueueCommand(c).split(',').slice(0, c.kind.startsWith('queue-') && !queueShows(c) ? 1 : 2).join(',');
  if (queue === undefined) return { lines: [Msg.failed(inst, cmd, 'THE QUEUE IS NOT AVAILABLE IN THIS INSTANCE')], data: { error: 'no queue' } };
  const who = (x: { reason: string; by?: string }): Actor => ({ operator: x.by === undefined ? channel : `${channel}:${x.by}`, reason: x.reason === '' ? '(no reason given)' : x.reason });
  switch (c.kind) {
    case 'queue-list': {
      const r = await queue.list(c.filter);
      const lines = [Msg.queueList(inst, r.items.length, r.total)];
      if (c.brief !== true) {
        lines.push(`  ${'ID'.padEnd(20)} ${'STATE'.padEnd(11)} AGE           SIZE TRY JOBNAME  SENDER`);
        for (const it of r.items) lines.push(...itemLines(it, now));
      }
      return { lines, data: { total: r.total, items: r.items } };
    }
    case 'queue-show': {
      const r = await queue.show(c.id, { body: c.body });
      if (!r.ok) return fail(inst, 'DISPLAY,QUEUE', r.error);
      const it = r.value;
      const two = (l1: string, v1: string, l2: string, v2: string): string => `  ${l1.padEnd(13)}: ${v1.padEnd(26)} ${l2.padEnd(13)}: ${v2}`;
      const lines = [
        Msg.queueMessage(inst, it.id),
        two('STATE', it.state.toUpperCase(), 'PLACE', it.place),
        two('ARRIVAL', it.arrival, 'NEXT ATTEMPT', it.nextAttempt ?? '-'),
        two('ATTEMPTS', String(it.attempts), 'SIZE', String(it.size)),
        two('JOBNAME', it.jobName || '-', 'JOBID', it.jobId || '-'),
        two('USER', it.user || '-', 'TARGET', it.target ?? '-'),
        `  ${'SENDER'.padEnd(13)}: ${it.sender || '<>'}`,
        ...(typeof (it as { node?: unknown }).node === 'string' ? [`  ${'NODE'.padEnd(13)}: ${(it as { node?: string }).node}`] : []),
        ...(it.why === null ? [] : [`  ${'WHY'.padEnd(13)}: ${it.why.replace(/\s+/g, ' ')}`]),
        ...it.recipients.map((x) => `  RECIPIENT ${x.address} : ${x.state.toUpperCase()}${x.lastReply === null ? '' : ` ${x.lastReply}`}`),
        ...(it.history.length === 0 ? [] : ['  HISTORY:', ...it.history.map((h) => `    ${h.at} ${h.recipient} ${h.status.toUpperCase()} ${h.reply}${h.target === null ? '' : ` (${h.target})`}`)]),
        ...(it.actions.length === 0 ? [] : ['  ACTIONS:', ...it.actions.map((a) => `    ${a.at} ${a.action.toUpperCase()} BY ${a.operator || '-'}: ${a.detail.replace(/\s+/g, ' ')}`)]),
        ...(it.file === undefined ? [] : [
          `  SPOOL FILE NOT READ YET${it.file.truncated ? ' (FIRST PART SHOWN)' : ''}: ${it.file.messages.length} MESSAGES`,
          ...it.file.messages.map((m) => `    MESSAGE ${m.messageNo} FROM ${m.sender || '<>'} TO ${m.recipients.join(', ')}`),
          ...it.file.problems.map((p) => `    PROBLEM ${p}`),
        ]),
        ...(it.headers === undefined ? [] : ['  HEADERS:', ...it.headers.split(/\r?\n/).filter((l) => l !== '').map((l) => `    ${l}`)]),
        ...(it.body === undefined ? [] : ['  MESSAGE:', ...it.body.split(/\r?\n/).map((l) => `    ${l}`)]),
      ];
      return { lines, data: { item: it } };
    }
    case 'queue-shape': {
      const s = await queue.shape(c.by);
      const head = `  ${(c.by === 'target' ? 'TARGET' : 'DOMAIN').padEnd(30)} ${'T'.padStart(6)}${SHAPE_BUCKETS.map((b) => String(b).padStart(6)).join('')}${`${SHAPE_BUCKETS[SHAPE_BUCKETS.length - 1]}+`.padStart(7)}`;
      const lines = [Msg.queueShape(inst, c.by), head];
      for (const r of s.rows) lines.push(`  ${r.key.slice(0, 30).padEnd(30)} ${String(r.total).padStart(6)}${r.counts.slice(0, -1).map((n) => String(n).padStart(6)).join('')}${String(r.counts[r.counts.length - 1]).padStart(7)}`);
      // (ext, [P2]) On a cluster: how many of them each node holds ('-': the shared queue's rows no node holds).
      const nodes = (s as { nodes?: readonly { node: string; total: number }[] }).nodes;
      if (nodes !== undefined) lines.push(`  NODES: ${nodes.length === 0 ? 'NONE' : nodes.map((n) => `${n.node} ${n.total}`).join(', ')}`);
      return { lines, data: { by: c.by, ...s } };
    }
    case 'queue-deadletters': {
      const items = await queue.deadLetters();
      const lines = [Msg.deadLetters(inst, items.length)];
      for (const it of items) lines.push(`  ${it.id.padEnd(20)} ${it.place.slice('dead:'.length).padEnd(21)} ${it.arrival} ${String(it.size).padStart(8)} ${it.sender || '<>'}`, `    ${(it.why ?? '').replace(/\s+/g, ' ').slice(0, 300)}`);
      return { lines, data: { items } };
    }
    case 'queue-held': {
      if (c.id === undefined) {
        const items = await queue.heldFiles();
        const lines = [Msg.heldFiles(inst, items.length)];
        for (const h of items) lines.push(`  ${h.id.slice(0, 40).padEnd(40)} ${h.queueId.padEnd(16)} ${h.heldAt ?? '-'} ${h.jobName ?? '-'}(${h.jobId ?? '?'})${h.node === undefined ? '' : ` node ${h.node}`}`, `    ${h.reason.replace(/\s+/g, ' ').slice(0, 300)}`);
        return { lines, data: { items } };
      }
      const r = await queue.heldFile(c.id);
      if (!r.ok) return fail(inst, 'DISPLAY,HELD', r.error);
      return { lines: [Msg.heldReport(inst, r.value.item.id), ...r.value.report.split(/\r?\n/).map((l) => `  ${l}`)], data: r.value };
    }
    case 'queue-action': {
      const name = c.action.toUpperCase();
      if (c.id !== undefined) {
        const r = await queue.act(c.id, c.action, who(c));
        if (!r.ok) return fail(inst, name, r.error);
        return { lines: [Msg.accepted(inst), Msg.queueDone(inst, name, `ID=${c.id}${r.value === null ? ' HAS LEFT THE QUEUE' : ` STATE=${r.value.state.toUpperCase()}`}`)], data: { item: r.value } };
      }
      const r = await queue.actMatching(c.filter!, c.action, who(c));
      if (!r.ok) return fail(inst, name, r.error);
      return { lines: [Msg.accepted(inst), Msg.queueDone(inst, name, `${r.value.done} MESSAGES${r.value.refused > 0 ? `, ${r.value.refused} NOT IN A STATE FOR IT` : ''}`)], data: r.value };
    }
    case 'queue-requeue': {
      const r = await queue.requeue(c.id, who(c));
      if (!r.ok) return fail(inst, 'REQUEUE', r.error);
      return { lines: [Msg.accepted(inst), Msg.queueDone(inst, 'REQUEUE', `DEAD LETTER ${r.value.deadLetter} IS SPOOL ENTRY ${r.value.entry}`)], data: r.value };
    }
    case 'queue-purgedead': {
      const r = await queue.purgeDead(c.days, who(c));
      if (!r.ok) return fail(inst, 'PURGEDEAD', r.error);
      return { lines: [Msg.accepted(inst), Msg.queueDone(inst, 'PURGEDEAD', `${r.value.purged} DEAD LETTERS OLDER THAN ${c.days} DAYS REMOVED`)], data: r.value };
    }
    case 'queue-held-action': {
      const name = c.action === 'release' ? 'RELEASEHELD' : 'PURGEHELD';
      const r = await queue.heldFileAction(c.id, c.action, who(c));
      if (!r.ok) return fail(inst, name, r.error);
      return { lines: [Msg.accepted(inst), Msg.queueDone(inst, name, `HELD SPOOL FILE ${r.value.id} ${c.action === 'release' ? 'RELEASED' : 'PURGED'}`)], data: { item: r.value } };
    }
  }
}

export { QUEUE_ACTIONS };
