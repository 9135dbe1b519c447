// The queue model's values (docs/queue.md): one QueueItem per waiting message whatever its place,
// the filters of `queue list` (and their checks: untrusted input from HTTP query strings and
// MODIFY operands), and the age histogram of `queue shape` (Postfix qshape's buckets). Pure.
import { err, ok, type Result } from '../core/index.js';

export const QUEUE_STATES = ['processing', 'retry', 'extended', 'held', 'dead', 'quarantined'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** A recipient's state: pending (not tried yet), deferred (a 4xx so far), failed, delivered, done (finished earlier, outcome not kept). */
export type RecipientState = 'pending' | 'deferred' | 'failed' | 'delivered' | 'done';

export interface QueueRecipient {
  readonly address: string;
  readonly state: RecipientState;
  readonly lastReply: string | null;
}

/** The REST contract's QueueItem (docs/http.md), plus where it is (`place`) and the hold. */
export interface QueueItem {
  readonly id: string;
  readonly state: QueueState;
  /** ISO 8601. */
  readonly arrival: string;
  readonly nextAttempt: string | null;
  readonly attempts: number;
  readonly size: number;
  readonly jobName: string;
  readonly jobId: string;
  readonly user: string;
  readonly sender: string;
  readonly recipients: readonly QueueRecipient[];
  readonly target: string | null;
  /** (ext) Where it waits: spool entry#message, extended-retry record, dead-letter or held-file name. */
  readonly place: string;
  /** (ext) Why it waits: the last reply, the hold reason, the dead letter's reason. */
  readonly why: string | null;
  /** (ext) Set while held by the operator. */
  readonly hold?: { readonly operator: string; readonly reason: string; readonly at: string };
}

export interface QueueFilter {
  readonly states?: readonly QueueState[];
  readonly job?: string;
  readonly sender?: string;
  readonly recipient?: string;
  readonly target?: string;
  readonly domain?: string;
  /** Seconds since arrival, at least. */
  readonly minAge?: number;
  readonly limit: number;
  readonly offset: number;
}

export const DEFAULT_LIMIT = 100;
/** The most items one answer carries (the CLI's --json asks for all in pages of this). */
export const MAX_LIMIT = 10_000;
/** A filter value longer than this is refused (an address is at most 256 octets). */
export const MAX_FILTER_CHARS = 320;
const MAX_AGE_SECONDS = 10 * 366 * 86_400;
const MAX_OFFSET = 10_000_000;

const KEYS = ['state', 'job', 'sender', 'recipient', 'target', 'domain', 'minAge', 'limit', 'offset'] as const;

/**
 * Checks and builds a filter from query-string-like pairs (HTTP query, CLI options, MODIFY
 * operands mapped to these names). Every problem is one sentence for a 400 / EZD1835E.
 */
export function parseFilter(params: Iterable<readonly [string, string]>): Result<QueueFilter, string> {
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    if (!(KEYS as readonly string[]).includes(k)) return err(`unknown filter '${k.slice(0, 40)}'; filters: ${KEYS.join(', ')}`);
    if (seen.has(k)) return err(`filter '${k}' given twice`);
    if (v.length > MAX_FILTER_CHARS) return err(`filter '${k}' is longer than ${MAX_FILTER_CHARS} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(v)) return err(`filter '${k}' contains control characters`);
    seen.set(k, v);
  }
  const whole = (k: string, max: number, dflt: number): Result<number, string> => {
    const v = seen.get(k);
    if (v === undefined || v === '') return ok(dflt);
    if (!/^[0-9]{1,9}$/.test(v) || Number(v) > max) return err(`${k} must be a whole number 0-${max}`);
    return ok(Number(v));
  };
  const limit = whole('limit', MAX_LIMIT, DEFAULT_LIMIT);
  if (!limit.ok) return limit;
  const offset = whole('offset', MAX_OFFSET, 0);
  if (!offset.ok) return offset;
  const minAge = whole('minAge', MAX_AGE_SECONDS, 0);
  if (!minAge.ok) return minAge;
  let states: QueueState[] | undefined;
  const st = seen.get('state');
  if (st !== undefined && st !== '') {
    states = [];
    for (const s of st.split(',')) {
      const n = s.trim().toLowerCase();
      if (!(QUEUE_STATES as readonly string[]).includes(n)) return err(`unknown state '${s.slice(0, 40)}'; states: ${QUEUE_STATES.join(', ')}`);
      states.push(n as QueueState);
    }
  }
  const text = (k: string): string | undefined => {
    const v = seen.get(k)?.trim();
    return v === undefined || v === '' ? undefined : v.toLowerCase();
  };
  return ok({
    ...(states === undefined ? {} : { states }),
    ...(text('job') === undefined ? {} : { job: text('job')! }),
    ...(text('sender') === undefined ? {} : { sender: text('sender')!.replace(/^<|>$/g, '') }),
    ...(text('recipient') === undefined ? {} : { recipient: text('recipient')!.replace(/^<|>$/g, '') }),
    ...(text('target') === undefined ? {} : { target: text('target')! }),
    ...(text('domain') === undefined ? {} : { domain: text('domain')!.replace(/^@/, '').replace(/\.$/, '') }),
    ...(minAge.value === 0 ? {} : { minAge: minAge.value }),
    limit: limit.value,
    offset: offset.value,
  });
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Does the item pass the filter (everything but limit/offset)? Text filters: case-insensitive; sender/recipient: substring. */
export function matches(item: QueueItem, f: QueueFilter, nowMs: number): boolean {
  if (f.states !== undefined && !f.states.includes(item.state)) return false;
  if (f.job !== undefined && item.jobName.toLowerCase() !== f.job && item.jobId.toLowerCase() !== f.job) return false;
  if (f.sender !== undefined && !item.sender.toLowerCase().includes(f.sender)) return false;
  if (f.recipient !== undefined && !item.recipients.some((r) => r.address.toLowerCase().includes(f.recipient!))) return false;
  if (f.target !== undefined && (item.target === null || !item.target.toLowerCase().startsWith(f.target))) return false;
  if (f.domain !== undefined && !item.recipients.some((r) => { const d = domainOf(r.address); return d === f.domain || d.endsWith(`.${f.domain}`); })) return false;
  if (f.minAge !== undefined && (nowMs - Date.parse(item.arrival)) / 1000 < f.minAge) return false;
  return true;
}

/** Postfix qshape's buckets: minutes, each twice the last. An item older than the last is in the final column. */
export const SHAPE_BUCKETS: readonly number[] = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560];

export interface ShapeRow {
  readonly key: string;
  readonly total: number;
  /** counts[i]: items at most SHAPE_BUCKETS[i] minutes old (and older than the bucket before); the last: older than every bucket. */
  readonly counts: readonly number[];
}

export interface Shape {
  readonly buckets: readonly number[];
  readonly rows: readonly ShapeRow[];
}

/**
 * The age histogram by target (the target last tried, "(none)" before any) or by recipient
 * domain (each message counted once per domain of its recipients still to be delivered, as
 * qshape counts recipients' domains). Rows by total, largest first; a TOTAL row first.
 */
export function shape(items: readonly QueueItem[], by: 'target' | 'domain', nowMs: number): Shape {
  const rows = new Map<string, number[]>();
  const total = new Array<number>(SHAPE_BUCKETS.length + 1).fill(0);
  for (const it of items) {
    const minutes = Math.max(0, (nowMs - Date.parse(it.arrival)) / 60_000);
    let b = SHAPE_BUCKETS.findIndex((m) => minutes <= m);
    if (b < 0) b = SHAPE_BUCKETS.length;
    const keys = by === 'target'
      ? [it.target ?? '(none)']
      : [...new Set(it.recipients.filter((r) => r.state === 'pending' || r.state === 'deferred').map((r) => domainOf(r.address) || '(none)'))];
    for (const k of keys.length === 0 ? ['(none)'] : keys) {
      let row = rows.get(k);
      if (row === undefined) rows.set(k, (row = new Array<number>(SHAPE_BUCKETS.length + 1).fill(0)));
      row[b]!++;
    }
    total[b]!++;
  }
  const out: ShapeRow[] = [...rows].map(([key, counts]) => ({ key, total: counts.reduce((a, c) => a + c, 0), counts }));
  out.sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
  return { buckets: SHAPE_BUCKETS, rows: [{ key: 'TOTAL', total: items.length, counts: total }, ...out] };
}
