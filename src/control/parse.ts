// The operator command language (SPEC.md §4, seed 000 chapter 4 "MODIFY command"): comma-separated
// keywords and KEY=value parameters, case-insensitive. A keyword is written in the catalogue with
// its minimum in capitals (`DISplay` accepts DIS, DISP, ... DISPLAY); any longer prefix of the
// full word is accepted, a shorter one or a wrong letter is not. Pure: text in, Command or a
// ParseError (with the reason the operator sees in EZD1835E) out.
import { isIP } from 'node:net';
import { type Result, ok, err } from '../core/result.js';
import { parseQueueDisplay, parseQueueVerb, formatQueueCommand, QUEUE_DISPLAYS, QUEUE_VERBS, type QueueCommand } from './queue-commands.js';

export type Command =
  | { readonly kind: 'display-config' }
  | { readonly kind: 'display-iplist' }
  | { readonly kind: 'display-loglevel' }
  | { readonly kind: 'display-spool-summary' }
  | { readonly kind: 'display-spool-detail'; readonly tkid?: number }
  | { readonly kind: 'display-targets'; readonly addr?: string }
  /** (ext, [P2]) the nodes sharing the store. */
  | { readonly kind: 'display-nodes' }
  | { readonly kind: 'flushretry-tkid'; readonly tkid: number }
  | { readonly kind: 'flushretry-age'; readonly days: number }
  | { readonly kind: 'loglevel'; readonly level?: number }
  /** `mvsExit`: LEVEL=VERSION2|3|4 named a CSSMTP (MVS) exit interface; nothing changes. */
  | { readonly kind: 'userexit'; readonly value?: string | null; readonly mvsExit?: string }
  /** `all` (ext, [P2]): REFRESH,ALL — every node of the cluster re-reads its configuration. */
  | { readonly kind: 'refresh'; readonly all?: true }
  | { readonly kind: 'refresh-iplist' }
  | { readonly kind: 'refresh-targets' }
  | { readonly kind: 'suspend'; readonly mode: 'immediate' | 'delay' }
  | { readonly kind: 'resume' }
  /** (ext, O2) DISPLAY,STATUS: what runs, listeners, queue counts, targets (control/status.ts). */
  | { readonly kind: 'display-status' }
  /** (ext, O1) The queue: src/control/queue-commands.ts. */
  | QueueCommand;

export type CommandKind = Command['kind'];

export interface ParseError {
  readonly detail: string;
}

/** Largest TKID the displays can show (three digits, as the seed's summary layout). */
export const MAX_TKID = 999;
/** FLUSHRETRY,AGE= upper bound: ExtendedRetry Age is at most 365 days. */
export const MAX_AGE_DAYS = 365;

/** Does `token` (already upper case) abbreviate `spec` (minimum in capitals, rest lower case)? */
export function abbreviates(token: string, spec: string): boolean {
  const min = /^[A-Z]*/.exec(spec)?.[0].length ?? 0;
  const full = spec.toUpperCase();
  return token.length >= min && token.length <= full.length && full.startsWith(token);
}

function pick<T extends string>(token: string, specs: readonly T[]): T | undefined {
  return specs.find((s) => abbreviates(token, s));
}

type Token = { readonly word: string; readonly key?: string; readonly value?: string; readonly raw: string };

function tokenize(text: string): Result<Token[], ParseError> {
  const trimmed = text.trim();
  if (trimmed === '') return err({ detail: 'NO COMMAND GIVEN' });
  const out: Token[] = [];
  for (const part of splitOperands(trimmed)) {
    if (typeof part !== 'string') return part;
    const raw = part.trim();
    if (raw === '') return err({ detail: `EMPTY OPERAND IN '${trimmed}'` });
    const eq = raw.indexOf('=');
    // (ext) KEY='value': a quoted value may hold blanks and commas; '' is a quote.
    const quoted = eq > 0 && raw[eq + 1] === "'";
    if (!quoted && /\s/.test(raw)) return err({ detail: `BLANK INSIDE OPERAND '${raw}': SEPARATE OPERANDS WITH COMMAS` });
    if (eq < 0) out.push({ word: raw.toUpperCase(), raw });
    else out.push({ word: raw.toUpperCase(), key: raw.slice(0, eq).toUpperCase(), value: quoted ? raw.slice(eq + 2, -1).replace(/''/g, "'") : raw.slice(eq + 1), raw });
  }
  return ok(out);
}

/** Splits at commas outside single quotes; a quote must close at the end of its operand. */
function splitOperands(text: string): (string | Result<never, ParseError>)[] {
  const parts: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuote) {
      if (ch === "'" && text[i + 1] === "'") { cur += "''"; i++; continue; }
      if (ch === "'") {
        inQuote = false;
        cur += ch;
        if (i + 1 < text.length && text[i + 1] !== ',') return [err({ detail: `TEXT AFTER THE CLOSING QUOTE IN '${cur}'` })];
        continue;
      }
      cur += ch;
      continue;
    }
    if (ch === "'" && cur.endsWith('=')) { inQuote = true; cur += ch; continue; }
    if (ch === ',') { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (inQuote) return [err({ detail: 'A QUOTED VALUE IS NOT CLOSED' })];
  parts.push(cur);
  return parts;
}

function wholeNumber(tok: Token, max: number): Result<number, ParseError> {
  const v = tok.value ?? '';
  if (!/^\d{1,6}$/.test(v) || Number(v) > max) return err({ detail: `${tok.key ?? ''} VALUE '${v}' IS NOT A WHOLE NUMBER 0-${max}` });
  return ok(Number(v));
}

function extra(cmd: string, tok: Token | undefined): Result<never, ParseError> | undefined {
  return tok === undefined ? undefined : err({ detail: `OPERAND '${tok.raw}' NOT VALID FOR ${cmd}` });
}

const VERBS = ['Display', 'FLUSHRetry', 'LOGLevel', 'USERexit', 'REFRESH', 'REFRESHIPlist', 'REFRESHTargets', 'SUSpend', 'RESume'] as const;
const DISPLAYS = ['CONFig', 'IPlist', 'LOGlevel', 'NODes', 'SPOOLstatus', 'TARGETs', 'STATus'] as const;

/** Parses one operator command, e.g. `D,TARGETS,ADDR=::1` or `LOGL,LEVEL=15`. */
export function parseCommand(text: string): Result<Command, ParseError> {
  const t = tokenize(text);
  if (!t.ok) return t;
  const [first, ...rest] = t.value;
  if (first === undefined) return err({ detail: 'NO COMMAND GIVEN' });
  if (first.key !== undefined) return err({ detail: `'${first.raw}' IS NOT A COMMAND` });
  // (ext) Queue actions are whole words (HOLD, RELEASE, ..., queue-commands.ts).
  const qverb = QUEUE_VERBS.find((v) => v === first.word);
  if (qverb !== undefined) return parseQueueVerb(qverb, rest);
  // REFRESH has no lower-case part: only the full word; the longer verbs need their minimum.
  const verb = first.word === 'REFRESH' ? 'REFRESH' : pick(first.word, VERBS.filter((v) => v !== 'REFRESH'));
  if (verb === undefined) return err({ detail: `UNKNOWN COMMAND '${first.raw}'` });
  switch (verb) {
    case 'Display': return parseDisplay(rest);
    case 'FLUSHRetry': {
      const [p, more] = rest;
      if (p === undefined || p.key === undefined) return err({ detail: 'FLUSHRETRY NEEDS TKID=tkid OR AGE=days' });
      const bad = extra('FLUSHRETRY', more);
      if (bad) return bad;
      if (p.key === 'TKID') { const n = wholeNumber(p, MAX_TKID); return n.ok ? ok({ kind: 'flushretry-tkid', tkid: n.value }) : n; }
      if (p.key === 'AGE') { const n = wholeNumber(p, MAX_AGE_DAYS); return n.ok ? ok({ kind: 'flushretry-age', days: n.value }) : n; }
      return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR FLUSHRETRY` });
    }
    case 'LOGLevel': {
      const [p, more] = rest;
      const bad = extra('LOGLEVEL', more);
      if (bad) return bad;
      // Seed: without a value the current log level stays in effect.
      if (p === undefined) return ok({ kind: 'loglevel' });
      if (p.key !== 'LEVEL') return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR LOGLEVEL` });
      if (p.value === '') return ok({ kind: 'loglevel' });
      const n = wholeNumber(p, 255);
      return n.ok ? ok({ kind: 'loglevel', level: n.value }) : n;
    }
    case 'USERexit': {
      const [p, more] = rest;
      const bad = extra('USEREXIT', more);
      if (bad) return bad;
      if (p === undefined) return ok({ kind: 'userexit' });
      if (p.key !== 'LEVEL') return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR USEREXIT` });
      if (p.value === '' || p.value === undefined) return ok({ kind: 'userexit' });
      // Seed: LEVEL=VERSION2|VERSION3 (and VERSION4) select an MVS exit program, which cannot run
      // here; an unchanged shop's automation must not fail on it (answered with a warning).
      if (/^VERSION[234]$/i.test(p.value)) return ok({ kind: 'userexit', mvsExit: p.value.toUpperCase() });
      // NONE switches the exit off; anything else names the exit module (case kept: it is a path).
      return ok({ kind: 'userexit', value: p.value.toUpperCase() === 'NONE' ? null : p.value });
    }
    case 'REFRESH': case 'REFRESHIPlist': case 'REFRESHTargets': case 'RESume': {
      const name = verb.toUpperCase();
      // (ext, [P2]) REFRESH,ALL: every node of the cluster; nothing may follow ALL.
      if (verb === 'REFRESH' && rest[0] !== undefined && rest[0].key === undefined && rest[0].word === 'ALL') {
        const bad = extra('REFRESH,ALL', rest[1]);
        return bad ?? ok({ kind: 'refresh', all: true });
      }
      const bad = extra(name, rest[0]);
      if (bad) return bad;
      return ok({ kind: verb === 'REFRESH' ? 'refresh' : verb === 'REFRESHIPlist' ? 'refresh-iplist' : verb === 'REFRESHTargets' ? 'refresh-targets' : 'resume' });
    }
    case 'SUSpend': {
      const [p, more] = rest;
      const bad = extra('SUSPEND', more);
      if (bad) return bad;
      // Seed: IMMEDIATE is the default.
      if (p === undefined) return ok({ kind: 'suspend', mode: 'immediate' });
      const m = p.key === undefined ? pick(p.word, ['Immediate', 'Delay'] as const) : undefined;
      if (m === undefined) return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR SUSPEND: USE IMMEDIATE OR DELAY` });
      return ok({ kind: 'suspend', mode: m === 'Immediate' ? 'immediate' : 'delay' });
    }
  }
}

function parseDisplay(rest: readonly Token[]): Result<Command, ParseError> {
  const [what, ...opts] = rest;
  if (what === undefined || what.key !== undefined) return err({ detail: 'DISPLAY NEEDS CONFIG, IPLIST, LOGLEVEL, SPOOLSTATUS OR TARGETS' });
  const qd = pick(what.word, QUEUE_DISPLAYS);
  if (qd !== undefined) return parseQueueDisplay(qd, opts);
  const d = pick(what.word, DISPLAYS);
  if (d === undefined) return err({ detail: `UNKNOWN DISPLAY '${what.raw}': USE CONFIG, IPLIST, LOGLEVEL, SPOOLSTATUS OR TARGETS` });
  switch (d) {
    case 'STATus': {
      const bad = extra('DISPLAY,STATUS', opts[0]);
      return bad ?? ok({ kind: 'display-status' });
    }
    case 'CONFig': case 'IPlist': case 'LOGlevel': {
      const bad = extra(`DISPLAY,${d.toUpperCase()}`, opts[0]);
      if (bad) return bad;
      return ok({ kind: d === 'CONFig' ? 'display-config' : d === 'IPlist' ? 'display-iplist' : 'display-loglevel' });
    }
    case 'NODes': {
      const bad = extra('DISPLAY,NODES', opts[0]);
      return bad ?? ok({ kind: 'display-nodes' });
    }
    case 'TARGETs': {
      const [p, more] = opts;
      const bad = extra('DISPLAY,TARGETS', more);
      if (bad) return bad;
      if (p === undefined) return ok({ kind: 'display-targets' });
      if (p.key !== 'ADDR') return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR DISPLAY,TARGETS` });
      const addr = p.value ?? '';
      if (isIP(addr) === 0) return err({ detail: `ADDR VALUE '${addr}' IS NOT AN IP ADDRESS` });
      return ok({ kind: 'display-targets', addr });
    }
    case 'SPOOLstatus': {
      const [mode, p, more] = opts;
      if (mode === undefined) return ok({ kind: 'display-spool-summary' });
      const m = mode.key === undefined ? pick(mode.word, ['Summary', 'Detail'] as const) : undefined;
      if (m === undefined) return err({ detail: `OPERAND '${mode.raw}' NOT VALID FOR DISPLAY,SPOOLSTATUS: USE SUMMARY OR DETAIL` });
      if (m === 'Summary') {
        const bad = extra('DISPLAY,SPOOLSTATUS,SUMMARY', p);
        return bad ?? ok({ kind: 'display-spool-summary' });
      }
      const bad = extra('DISPLAY,SPOOLSTATUS,DETAIL', more);
      if (bad) return bad;
      // Seed: ALL is the default of DETAIL.
      if (p === undefined || (p.key === undefined && p.word === 'ALL')) return ok({ kind: 'display-spool-detail' });
      if (p.key !== 'TKID') return err({ detail: `OPERAND '${p.raw}' NOT VALID FOR DISPLAY,SPOOLSTATUS,DETAIL: USE ALL OR TKID=tkid` });
      const n = wholeNumber(p, MAX_TKID);
      return n.ok ? ok({ kind: 'display-spool-detail', tkid: n.value }) : n;
    }
  }
}

/** The canonical text of a command (as the logs and the HTTP API show it). */
export function formatCommand(c: Command): string {
  switch (c.kind) {
    case 'display-config': return 'DISPLAY,CONFIG';
    case 'display-status': return 'DISPLAY,STATUS';
    case 'display-iplist': return 'DISPLAY,IPLIST';
    case 'display-loglevel': return 'DISPLAY,LOGLEVEL';
    case 'display-spool-summary': return 'DISPLAY,SPOOLSTATUS,SUMMARY';
    case 'display-spool-detail': return c.tkid === undefined ? 'DISPLAY,SPOOLSTATUS,DETAIL,ALL' : `DISPLAY,SPOOLSTATUS,DETAIL,TKID=${c.tkid}`;
    case 'display-targets': return c.addr === undefined ? 'DISPLAY,TARGETS' : `DISPLAY,TARGETS,ADDR=${c.addr}`;
    case 'display-nodes': return 'DISPLAY,NODES';
    case 'flushretry-tkid': return `FLUSHRETRY,TKID=${c.tkid}`;
    case 'flushretry-age': return `FLUSHRETRY,AGE=${c.days}`;
    case 'loglevel': return c.level === undefined ? 'LOGLEVEL' : `LOGLEVEL,LEVEL=${c.level}`;
    case 'userexit': return c.mvsExit !== undefined ? `USEREXIT,LEVEL=${c.mvsExit}` : c.value === undefined ? 'USEREXIT' : `USEREXIT,LEVEL=${c.value ?? 'NONE'}`;
    case 'refresh': return c.all === true ? 'REFRESH,ALL' : 'REFRESH';
    case 'refresh-iplist': return 'REFRESHIPLIST';
    case 'refresh-targets': return 'REFRESHTARGETS';
    case 'suspend': return `SUSPEND,${c.mode.toUpperCase()}`;
    case 'resume': return 'RESUME';
    default: return formatQueueCommand(c);
  }
}
