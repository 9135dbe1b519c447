// Accounting records (SPEC.md §8), the SMF type 119 analog of CSSMTP: one JSON object per line in
// `<stateDirectory>/accounting.jsonl`, subtype numbers as SMF 119 has them — 48 CONFIG, 49 CONNECT,
// 50 MAIL, 51 SPOOL, 52 STATS — each written only when its SMF119 flag is YES (read at every
// record, so REFRESH applies at once). Every line: {"type":50,"name":"MAIL","time":ISO,
// "instance":..., ...fields}; the fields of each type are listed in docs/operations.md.
// Lines are appended with one write(2) each on an O_APPEND descriptor (mode 0600): a crash can
// lose only a record being written. The query side (readAccounting) answers "who sends e-mail".
// Retention (docs/operations.md "Retention"): once a day the pruning run renames the file to
// `accounting-<time of its first record>.jsonl` (rotate(); the next record opens a new file), and
// those rotated files are removed when their last record is older than Retention Accounting.
// readAccounting reads the rotated files, oldest first, then the current one.
// [P2] #19: that file is one AccountingSink (FileAccountingSink); with Store Backend PostgreSQL
// the records of every node go to one table (TableAccountingSink over store/pg's accounting
// table, with the node's name, queued and inserted in batches, pruned by age), and `spoolgate
// accounting` on any node reads all of them (docs/cluster.md).
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Clock, Timer } from '../core/clock.js';
import { pruneOldFiles, type Prunable } from './retention.js';

export const ACCOUNTING_TYPES = { CONFIG: 48, CONNECT: 49, MAIL: 50, SPOOL: 51, STATS: 52 } as const;
export type AccountingType = keyof typeof ACCOUNTING_TYPES;

export const ACCOUNTING_FILE = 'accounting.jsonl';

const ROTATED_PREFIX = 'accounting-';
const ROTATED_SUFFIX = '.jsonl';

/** A rotated accounting file's name (`accounting-20261120T083000Z.jsonl`), never the current one. */
export function isRotatedAccountingName(name: string): boolean {
  return /^accounting-\d{8}T\d{6}Z(-\d+)?\.jsonl$/.test(name);
}

/** Time of the first record in the file (read from its first 64 KiB), or undefined. */
function firstRecordTime(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // no file yet: nothing to rotate
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    for (const line of buf.subarray(0, n).toString('utf8').split('\n')) {
      const r = parseAccountingLine(line);
      if (r !== undefined) return Date.parse(r.time);
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The files readAccounting reads for `path`: rotated ones beside it (oldest first), then `path`. */
export function accountingFiles(path: string): string[] {
  if (basename(path) !== ACCOUNTING_FILE) return [path];
  let names: string[];
  try {
    names = readdirSync(dirname(path)).filter(isRotatedAccountingName).sort();
  } catch {
    names = []; // no directory yet: only the current file (which readAccounting finds missing)
  }
  return [...names.map((n) => join(dirname(path), n)), path];
}

/** `<stateDirectory>/accounting.jsonl`. */
export function accountingPath(stateDirectory: string): string {
  return join(stateDirectory, ACCOUNTING_FILE);
}

/** 48: the gateway started, or REFRESH / LOGLEVEL / USEREXIT changed what is in force. */
export interface ConfigFields {
  readonly reason: 'start' | 'refresh' | 'loglevel' | 'userexit';
  readonly configFile: string;
  readonly logLevel: number;
  readonly userExit: string | null;
  /** Statements whose value changed (REFRESH). */
  readonly changed?: readonly string[];
  /** Target server addresses in force, `address:port`. */
  readonly targets?: readonly string[];
}

/** 49: a connection to a target server ended (or could not be opened). */
export interface ConnectFields {
  readonly address: string;
  readonly port: number;
  readonly result: 'ok' | 'failed';
  readonly tls: boolean;
  readonly esmtp: boolean | null;
  /** When the connect started (ISO 8601). */
  readonly start: string;
  readonly durationMs: number;
  readonly messages: number;
  readonly detail?: string;
}

/** 50: a message reached its end (or left for long / extended retry). */
export interface MailFields {
  readonly jobName: string;
  readonly jobId: string;
  /** Origin user id of the spool file (the file owner). */
  readonly user: string;
  readonly tkid?: number;
  readonly spoolId?: string;
  readonly messageNo?: number;
  /** The stable queue id (docs/queue.md). */
  readonly queueId?: string;
  readonly messageId?: string;
  /** The Subject: field, RFC 2047 decoded, at most 256 characters (SMTP-Send's "who sends mail"). */
  readonly subject?: string;
  /** Parts that carry a file name; with attachmentsPartial, only the first bytes were read. */
  readonly attachments?: number;
  readonly attachmentsPartial?: boolean;
  readonly from: string;
  readonly recipients: readonly string[];
  readonly size: number;
  readonly result: 'delivered' | 'partial' | 'undeliverable' | 'retry' | 'extended' | 'deadletter';
  readonly accepted?: number;
  readonly failed?: number;
  /** `address:port` of the target that took it. */
  readonly target?: string;
  readonly attempts?: number;
  readonly detail?: string;
}

/** 51: a spool file was finished, held or deleted. */
export interface SpoolFields {
  readonly jobName: string;
  readonly jobId: string;
  readonly user: string;
  readonly tkid: number;
  readonly spoolId: string;
  readonly taskType: 'WRITER' | 'DEST';
  readonly mailRead: number;
  readonly undeliverable: number;
  readonly problems: number;
  readonly disposition: 'finished' | 'held' | 'deleted' | 'interrupted';
  readonly bytes?: number;
  readonly start?: string;
}

/** 52: the global counters, every SMF119 Interval minutes and at shutdown. */
export interface StatsFields {
  readonly reason: 'interval' | 'shutdown';
  readonly counters: {
    readonly mailSent: number; readonly totalRetry: number; readonly currentRetry: number; readonly deadLetter: number;
    readonly undeliver: number; readonly extendedCurrent: number; readonly extendedTotal: number;
  };
  readonly targets: readonly { readonly address: string; readonly port: number; readonly state: string; readonly mailAttempts: number; readonly mailSent: number; readonly connectFail: number }[];
}

export interface AccountingFields {
  CONFIG: ConfigFields;
  CONNECT: ConnectFields;
  MAIL: MailFields;
  SPOOL: SpoolFields;
  STATS: StatsFields;
}

/** The SMF119 statement's flags (Config.smf119). */
export interface Smf119Flags {
  readonly config: boolean;
  readonly connect: boolean;
  readonly mail: boolean;
  readonly spool: boolean;
  readonly stats: boolean;
}

const FLAG: Record<AccountingType, keyof Smf119Flags> = { CONFIG: 'config', CONNECT: 'connect', MAIL: 'mail', SPOOL: 'spool', STATS: 'stats' };

/**
 * Where records go and where `spoolgate accounting` reads them ([P2] #19): the file beside the
 * state directory (FileAccountingSink, the default, one machine) or a table every node of a
 * cluster shares (TableAccountingSink over store/pg's accounting table). The roles write through
 * Accounting and do not know which.
 */
export interface AccountingSink {
  /** Takes one record (its JSON line without "\n"); false when it could not be taken. Never throws. */
  write(record: { readonly time: Date; readonly type: number; readonly line: string }): boolean;
  /** The records that match, oldest first. */
  read(filter: AccountingFilter): AsyncGenerator<AccountingRecord>;
  /** Retention: removes records older than `cutoff` (ms), at most `max`; `now` for rotation. */
  prune(cutoff: number, max: number, batch: number, now: number): Promise<number>;
  /** Written records are durable (the table: the queue is empty or a write failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The file form: one JSON line per record appended to `path`, rotated and pruned by age. */
export class FileAccountingSink implements AccountingSink {
  private fd: number | undefined;

  constructor(readonly path: string, private readonly onError?: (e: unknown) => void) {}

  write(record: { readonly line: string }): boolean {
    try {
      if (this.fd === undefined) {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        this.fd = openSync(this.path, 'a', 0o600);
      }
      writeSync(this.fd, record.line + '\n');
      return true;
    } catch (e) {
      this.onError?.(e);
      return false;
    }
  }

  read(filter: AccountingFilter): AsyncGenerator<AccountingRecord> {
    return readAccounting(this.path, filter);
  }

  /**
   * Retention: when the file's first record is at least a day older than `now`, closes it and
   * renames it to `accounting-<first record time>.jsonl` beside it; the next record starts a new
   * file. Synchronous, so no record is written between the close and the rename. Returns the new
   * name, or undefined when there was nothing to rotate.
   */
  rotateIfOld(now: number): string | undefined {
    const first = firstRecordTime(this.path);
    if (first === undefined || now - first < 86_400_000) return undefined;
    const stamp = new Date(first).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const base = join(dirname(this.path), `${ROTATED_PREFIX}${stamp}`);
    let target = `${base}${ROTATED_SUFFIX}`;
    for (let i = 2; existsSync(target); i++) target = `${base}-${i}${ROTATED_SUFFIX}`;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.path, target);
    return target;
  }

  /** Rotates the current file once it holds a day (so it can age), then removes rotated files last written before the cutoff. */
  prune(cutoff: number, max: number, batch: number, now: number): Promise<number> {
    this.rotateIfOld(now);
    return pruneOldFiles(dirname(this.path), isRotatedAccountingName, cutoff, max, batch);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  closeNow(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  close(): Promise<void> {
    this.closeNow();
    return Promise.resolve();
  }
}

/**
 * The rows of a table every node writes its records to, with the node's name (store/pg's
 * PgAccountingTable has this shape; declared here because log/ does not import store/).
 */
export interface AccountingTable {
  insert(rows: readonly { readonly time: Date; readonly type: number; readonly record: string }[]): Promise<void>;
  /** One page in (time, id) order after `after`. */
  select(q: { readonly since?: Date; readonly types?: readonly number[]; readonly after?: { readonly time: Date; readonly id: string } }, limit: number): Promise<{ id: string; node: string; time: Date; record: string }[]>;
  prune(cutoff: number, max: number, batch: number): Promise<number>;
}

/** Records waiting for the table at most (then new ones are dropped, counted and reported). */
export const ACCOUNTING_QUEUE_LIMIT = 10_000;
/** Records per INSERT. */
const ACCOUNTING_BATCH = 500;
/** Records per page when reading the table. */
const ACCOUNTING_PAGE = 1_000;

/**
 * The table form: record() stays synchronous (accounting never waits or stops mail); records are
 * queued (at most ACCOUNTING_QUEUE_LIMIT) and inserted in batches. A failed insert (database
 * unreachable) keeps the batch and tries again after 1 s, doubling up to 30 s; while the queue is
 * full new records are dropped and counted, and onError says how many.
 */
export class TableAccountingSink implements AccountingSink {
  private readonly queue: { time: Date; type: number; record: string }[] = [];
  private writing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 1_000;
  private dropped = 0;
  private closed = false;

  constructor(private readonly table: AccountingTable, private readonly opts: { readonly onError?: (e: unknown) => void; readonly limit?: number } = {}) {}

  write(record: { readonly time: Date; readonly type: number; readonly line: string }): boolean {
    if (this.closed) return false;
    if (this.queue.length >= (this.opts.limit ?? ACCOUNTING_QUEUE_LIMIT)) {
      if (this.dropped++ === 0) this.opts.onError?.(new Error(`accounting: ${this.queue.length} records wait for the database; new records are dropped until it takes them`));
      return false;
    }
    this.queue.push({ time: record.time, type: record.type, record: record.line });
    if (this.retryTimer === undefined) this.kick().catch(() => undefined); // never rejects (kick)
    return true;
  }

  /** Starts draining unless it runs already (`writing` is cleared asynchronously, after the drain). */
  private kick(): Promise<void> {
    // drain() catches the table's errors; onError throwing is reported to onError's owner no further.
    this.writing ??= this.drain().catch(() => undefined).finally(() => { this.writing = undefined; });
    return this.writing;
  }

  /** Inserts the queue in batches until it is empty or an insert fails (then a retry is armed). */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, ACCOUNTING_BATCH);
      try {
        await this.table.insert(batch);
      } catch (e) {
        this.opts.onError?.(e);
        if (!this.closed) {
          this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.kick().catch(() => undefined); }, this.backoffMs);
          this.retryTimer.unref();
          this.backoffMs = Math.min(30_000, this.backoffMs * 2);
        }
        return;
      }
      this.queue.splice(0, batch.length);
      this.backoffMs = 1_000;
      if (this.dropped > 0) {
        this.opts.onError?.(new Error(`accounting: ${this.dropped} records were dropped while the database did not take them`));
        this.dropped = 0;
      }
    }
  }

  async flush(): Promise<void> {
    if (this.retryTimer !== undefined) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    while (this.queue.length > 0) {
      const before = this.queue.length;
      await this.kick();
      if (this.retryTimer !== undefined || this.queue.length >= before) return; // failed: kept for the retry
    }
  }

  /** Pending records (for tests and the stop log). */
  pending(): number {
    return this.queue.length;
  }

  async *read(filter: AccountingFilter): AsyncGenerator<AccountingRecord> {
    const match = accountingMatcher(filter);
    const types = filter.types?.map((t) => ACCOUNTING_TYPES[t]);
    let after: { time: Date; id: string } | undefined;
    for (;;) {
      const page = await this.table.select({ ...(filter.since === undefined ? {} : { since: filter.since }), ...(types === undefined ? {} : { types }), ...(after === undefined ? {} : { after }) }, ACCOUNTING_PAGE);
      for (const row of page) {
        const r = parseAccountingLine(row.record);
        if (r === undefined) continue;
        const withNode = { ...r, node: row.node } as AccountingRecord;
        if (match(withNode)) yield withNode;
      }
      if (page.length < ACCOUNTING_PAGE) return;
      const last = page[page.length - 1]!;
      after = { time: last.time, id: last.id };
    }
  }

  prune(cutoff: number, max: number, batch: number, _now?: number): Promise<number> {
    return this.table.prune(cutoff, max, batch);
  }

  /** Stops taking records and writes what is queued (one attempt: the statement timeout bounds it). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.retryTimer !== undefined) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    if (this.queue.length > 0) this.opts.onError?.(new Error(`accounting: ${this.queue.length} records not written at stop (the database did not take them)`));
  }
}

export class Accounting {
  private closed = false;
  /** Where the records go: the file at `path`, or the sink given (a table shared by the nodes). */
  readonly sink: AccountingSink;

  constructor(
    private readonly opts: {
      /** The file form (FileAccountingSink), unless `sink` is given. */
      readonly path?: string;
      readonly sink?: AccountingSink;
      readonly instance: string;
      /** Read at every record: REFRESH of SMF119 takes effect at once. */
      readonly enabled: () => Smf119Flags;
      readonly now?: () => Date;
      /** A write failed (disk full, permissions): the caller logs it; accounting never stops mail. */
      readonly onError?: (e: unknown) => void;
    },
  ) {
    if (opts.sink === undefined && opts.path === undefined) throw new Error('Accounting needs a path or a sink');
    this.sink = opts.sink ?? new FileAccountingSink(opts.path!, opts.onError);
  }

  /** Is this record type switched on? */
  enabled(type: AccountingType): boolean {
    return this.opts.enabled()[FLAG[type]];
  }

  /** Appends one record if its SMF119 flag is YES; returns whether it was written (the table form: queued). */
  record<T extends AccountingType>(type: T, fields: AccountingFields[T]): boolean {
    if (this.closed || !this.enabled(type)) return false;
    const time = this.opts.now?.() ?? new Date();
    const line = JSON.stringify({
      type: ACCOUNTING_TYPES[type], name: type, time: time.toISOString(), instance: this.opts.instance, ...fields,
    });
    return this.sink.write({ time, type: ACCOUNTING_TYPES[type], line });
  }

  /**
   * STATS (52) every `intervalMinutes()` (read each time, so REFRESH applies); `stop(true)`
   * writes the shutdown record.
   */
  scheduleStats(clock: Clock, intervalMinutes: () => number, collect: () => Omit<StatsFields, 'reason'>): { stop(final: boolean): void } {
    let timer: Timer | undefined;
    const arm = (): void => {
      const min = intervalMinutes();
      if (min <= 0) return;
      timer = clock.setTimer(min * 60_000, () => {
        this.record('STATS', { reason: 'interval', ...collect() });
        arm();
      });
    };
    arm();
    return {
      stop: (final) => {
        timer?.cancel();
        if (final) this.record('STATS', { reason: 'shutdown', ...collect() });
      },
    };
  }

  /** The file form's rotation (FileAccountingSink.rotateIfOld); undefined for a table. */
  rotateIfOld(now: number): string | undefined {
    return this.sink instanceof FileAccountingSink ? this.sink.rotateIfOld(now) : undefined;
  }

  /** Stops recording; the file is closed at once, a table's queue is written in the background (see end()). */
  close(): void {
    this.closed = true;
    if (this.sink instanceof FileAccountingSink) this.sink.closeNow();
    else void this.sink.close().catch((e: unknown) => this.opts.onError?.(e));
  }

  /** close(), then waits until what was queued is written (or given up). */
  async end(): Promise<void> {
    this.closed = true;
    await this.sink.close().catch((e: unknown) => this.opts.onError?.(e));
  }
}

/**
 * Retention of accounting records. The file: rotates the current file once it holds a day (so
 * it can age), then removes rotated files last written before the cutoff; the current file is
 * never removed. A table: deletes records older than the cutoff.
 */
export function accountingRetention(accounting: Accounting, now: () => number): Prunable {
  return { prune: (cutoff, max, batch) => accounting.sink.prune(cutoff, max, batch, now()) };
}

// ---- query ----

export interface AccountingRecord {
  readonly type: number;
  readonly name: AccountingType;
  readonly time: string;
  readonly instance: string;
  readonly [field: string]: unknown;
}

export interface AccountingFilter {
  /** Records at or after this time. */
  readonly since?: Date;
  /** Origin user id (exact, case-insensitive). */
  readonly user?: string;
  /** Job name; `*` matches any run of characters; case-insensitive. */
  readonly job?: string;
  /** Record types to keep. */
  readonly types?: readonly AccountingType[];
}

/** 'MAIL', 'mail' or '50' → 'MAIL'. */
export function parseAccountingType(s: string): AccountingType | undefined {
  const up = s.trim().toUpperCase();
  if (Object.hasOwn(ACCOUNTING_TYPES, up)) return up as AccountingType;
  return (Object.keys(ACCOUNTING_TYPES) as AccountingType[]).find((k) => String(ACCOUNTING_TYPES[k]) === up);
}

/** One line of the file, or undefined for a torn or foreign line (a crash mid-write). */
export function parseAccountingLine(line: string): AccountingRecord | undefined {
  if (line.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    // A torn last line after a crash: skipped, the rest of the file is still read.
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.name !== 'string' || !Object.hasOwn(ACCOUNTING_TYPES, r.name) || typeof r.time !== 'string' || typeof r.type !== 'number') return undefined;
  return r as AccountingRecord;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 'i');
}

export function accountingMatcher(f: AccountingFilter): (r: AccountingRecord) => boolean {
  const job = f.job === undefined ? undefined : globToRegExp(f.job);
  const since = f.since?.getTime();
  return (r) => {
    if (f.types !== undefined && !f.types.includes(r.name)) return false;
    if (since !== undefined && !(Date.parse(r.time) >= since)) return false;
    if (f.user !== undefined && (typeof r.user !== 'string' || r.user.toLowerCase() !== f.user.toLowerCase())) return false;
    if (job !== undefined && (typeof r.jobName !== 'string' || !job.test(r.jobName))) return false;
    return true;
  };
}

/**
 * Reads the accounting file and the rotated files beside it (accountingFiles), yielding the
 * records that match. A missing file yields nothing.
 */
export async function* readAccounting(path: string, filter: AccountingFilter = {}): AsyncGenerator<AccountingRecord> {
  const match = accountingMatcher(filter);
  for (const file of accountingFiles(path)) yield* readOneFile(file, match);
}

async function* readOneFile(path: string, match: (r: AccountingRecord) => boolean): AsyncGenerator<AccountingRecord> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const missing = new Promise<boolean>((resolve) => {
    input.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT'));
    input.once('open', () => resolve(false));
  });
  if (await missing) return;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const r = parseAccountingLine(line);
    if (r !== undefined && match(r)) yield r;
  }
}

export interface SenderSummary {
  readonly user: string;
  messages: number;
  recipients: number;
  bytes: number;
  undeliverable: number;
}

/** "Who sends e-mail": MAIL records grouped by origin user, most messages first. */
export function summarizeSenders(records: Iterable<AccountingRecord>): SenderSummary[] {
  const by = new Map<string, SenderSummary>();
  for (const r of records) {
    if (r.name !== 'MAIL') continue;
    const user = typeof r.user === 'string' ? r.user : '?';
    const s = by.get(user) ?? { user, messages: 0, recipients: 0, bytes: 0, undeliverable: 0 };
    if (r.result === 'retry' || r.result === 'extended') { by.set(user, s); continue; } // not final yet
    s.messages++;
    s.recipients += Array.isArray(r.recipients) ? r.recipients.length : 0;
    s.bytes += typeof r.size === 'number' ? r.size : 0;
    if (r.result === 'undeliverable' || r.result === 'deadletter') s.undeliverable++;
    by.set(user, s);
  }
  return [...by.values()].sort((a, b) => b.messages - a.messages || a.user.localeCompare(b.user));
}
