// Dead letters (SPEC.md §2.2): a notification that could not be delivered, an undeliverable
// message with a null sender, a message whose notification is suppressed, and an error report
// that cannot reach the administrators. Stored one file each, or dropped (DeadLetterAction).
//
// File format (docs/notifications.md): `<id>.dead`, written atomically (temp + fsync + rename +
// fsync dir) — DeadLetterStore; or, with Store Backend PostgreSQL, rows of a table every node
// shares (TableDeadLetters, [P2] #19): the same header, the bytes in chunks. Line 1 is one JSON object (the control header, `DeadLetterHeader`, no raw newlines
// because JSON escapes them) ending in "\n"; every byte after that newline is the message exactly
// as it would have been sent (CRLF line ends). Temp files start with ".tmp-" and are never listed.
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { newId, QUEUE_ID, formatPath, type Clock, type Envelope, type Health, type Result, ok, err, SpoolgateError, describeError } from '../core/index.js';
import type { DeadLetterAction } from '../config/types.js';
import { ensureDir, fsyncDir, isTempName, writeFileAtomic } from '../store/atomic.js';
import { pruneOldFiles } from '../log/retention.js';
import { envelopeFromJson, envelopeToJson, type EnvelopeJson } from '../core/envelope-json.js';
import type { DeadLetterTable } from '../store/records.js';

export type DeadLetterKind = 'notification' | 'null-sender' | 'report' | 'undeliverable';
const KINDS: readonly DeadLetterKind[] = ['notification', 'null-sender', 'report', 'undeliverable'];

export interface DeadLetterInput {
  readonly reason: string;
  readonly envelope: Envelope;
  readonly data: Buffer;
  readonly jobName?: string;
  readonly jobId?: string;
  readonly kind: DeadLetterKind;
  /** The stable queue id of the message (docs/queue.md), when it came from the queue. */
  readonly queueId?: string;
}

/** The control header (line 1 of the file). */
export interface DeadLetterHeader {
  readonly version: 1;
  readonly id: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  /** ISO 8601 time of storing. */
  readonly stored: string;
  readonly envelope: EnvelopeJson;
  readonly jobName?: string;
  readonly jobId?: string;
  readonly size: number;
  readonly queueId?: string;
}

export interface DeadLetterInfo {
  readonly id: string;
  readonly path: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  readonly stored: Date;
  readonly envelope: Envelope;
  readonly jobName?: string;
  readonly jobId?: string;
  readonly size: number;
  readonly queueId?: string;
}

export class DeadLetterError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DEAD_LETTER', message, options);
  }
}

const SUFFIX = '.dead';
const ID = /^[0-9a-z]{20}$/;
/** A header line longer than this is not ours (bounds reading a corrupt file). */
const MAX_HEADER = 256 * 1024;

/** DeadLetterAction policy (SPEC.md §2.2): Store keeps a file; Delete keeps nothing (the caller still logs). */
export function deadLetterAction(config: { readonly undeliverable: { readonly deadLetterAction: DeadLetterAction } }): DeadLetterAction {
  return config.undeliverable.deadLetterAction;
}

function parseHeader(line: string, path: string): Result<DeadLetterInfo, string> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return err(`header is not JSON: ${describeError(e)}`);
  }
  if (typeof v !== 'object' || v === null) return err('header is not an object');
  const h = v as Partial<Record<keyof DeadLetterHeader, unknown>>;
  if (h.version !== 1) return err(`unknown version ${String(h.version)}`);
  if (typeof h.id !== 'string' || !ID.test(h.id)) return err('bad id');
  if (typeof h.kind !== 'string' || !KINDS.includes(h.kind as DeadLetterKind)) return err('bad kind');
  if (typeof h.reason !== 'string' || typeof h.stored !== 'string' || typeof h.size !== 'number') return err('missing fields');
  const stored = new Date(h.stored);
  if (Number.isNaN(stored.getTime())) return err('bad stored time');
  const env = envelopeFromJson(h.envelope);
  if (!env.ok) return err(env.error);
  return ok({
    id: h.id, path, kind: h.kind as DeadLetterKind, reason: h.reason, stored, envelope: env.value, size: h.size,
    ...(typeof h.jobName === 'string' ? { jobName: h.jobName } : {}),
    ...(typeof h.jobId === 'string' ? { jobId: h.jobId } : {}),
    ...(typeof h.queueId === 'string' && QUEUE_ID.test(h.queueId) ? { queueId: h.queueId } : {}),
  });
}

/** Reads line 1 of a file without reading the (possibly large) message. */
async function readHeaderLine(path: string): Promise<Result<{ line: string; bodyOffset: number }, string>> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(16 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, total);
      if (bytesRead === 0) return err('no header line');
      const chunk = buf.subarray(0, bytesRead);
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl));
        return ok({ line: Buffer.concat(chunks).toString('utf8'), bodyOffset: total + nl + 1 });
      }
      chunks.push(chunk);
      total += bytesRead;
      if (total > MAX_HEADER) return err('header line too long');
    }
  } finally {
    await fh.close();
  }
}

/**
 * Where dead letters are kept ([P2] #19): a directory of files on this node (DeadLetterStore, the
 * default) or a table every node of a cluster shares (TableDeadLetters over store/pg). The
 * forwarder, the queue tools and retention use this and do not know which.
 */
export interface DeadLetters {
  /** Makes the place ready now; the problem (also marked in health) or undefined. */
  check(): Promise<string | undefined>;
  /** Stores one dead letter durably: complete or not at all. */
  store(letter: DeadLetterInput): Promise<{ id: string; path: string }>;
  count(): Promise<number>;
  /** Every stored dead letter, oldest first; unreadable ones in `corrupt`. */
  list(): Promise<{ letters: DeadLetterInfo[]; corrupt: { name: string; problem: string }[] }>;
  read(id: string): Promise<Result<{ info: DeadLetterInfo; data: Buffer }, DeadLetterError>>;
  /** Retention: removes dead letters stored before `cutoff`, oldest first, at most `max`. */
  prune(cutoff: number, max: number, batch: number): Promise<number>;
  /** false when it did not exist; throws DeadLetterError for a malformed id. */
  remove(id: string): Promise<boolean>;
}

/** Is this a dead-letter id (20 lower-case letters and digits, newId)? Checked before any path or query. */
export function isDeadLetterId(id: string): boolean {
  return ID.test(id);
}

function headerOf(id: string, now: number, letter: DeadLetterInput): DeadLetterHeader {
  return {
    version: 1, id, kind: letter.kind, reason: letter.reason, stored: new Date(now).toISOString(),
    envelope: envelopeToJson(letter.envelope), size: letter.data.length,
    ...(letter.jobName !== undefined ? { jobName: letter.jobName } : {}),
    ...(letter.jobId !== undefined ? { jobId: letter.jobId } : {}),
    ...(letter.queueId !== undefined ? { queueId: letter.queueId } : {}),
  };
}

/** Most dead letters list() returns from a table (the directory form lists all; a table bounds one answer). */
export const DEAD_LETTER_LIST_LIMIT = 10_000;

/**
 * Dead letters in a table shared by the nodes (store/records.ts DeadLetterTable, implemented by
 * store/pg): the same header as the file form's line 1, the bytes beside it. `path` of a letter
 * is `db:<id>` (there is no file). A store that fails is marked in health, as the directory's.
 */
export class TableDeadLetters implements DeadLetters {
  constructor(private readonly table: DeadLetterTable, private readonly clock: Clock, private readonly health?: Health) {}

  check(): Promise<string | undefined> {
    return this.table.count().then(() => undefined, (e: unknown) => this.failed(e));
  }

  private failed(e: unknown): string {
    const problem = `the dead-letter table cannot be written (${describeError(e)}); dead letters wait in the spool until it can`;
    this.health?.fail('dead-letters', problem, this.clock.now());
    return problem;
  }

  async store(letter: DeadLetterInput): Promise<{ id: string; path: string }> {
    const now = this.clock.now();
    const id = newId(now);
    try {
      await this.table.insert({ id, stored: new Date(now), header: JSON.stringify(headerOf(id, now, letter)) }, letter.data);
    } catch (e) {
      this.failed(e);
      throw new DeadLetterError(`dead letter not stored: ${describeError(e)}`, { cause: e });
    }
    this.health?.ok('dead-letters', this.clock.now());
    return { id, path: `db:${id}` };
  }

  count(): Promise<number> {
    return this.table.count();
  }

  async list(): Promise<{ letters: DeadLetterInfo[]; corrupt: { name: string; problem: string }[] }> {
    const letters: DeadLetterInfo[] = [];
    const corrupt: { name: string; problem: string }[] = [];
    for (const row of await this.table.list(DEAD_LETTER_LIST_LIMIT)) {
      const info = parseHeader(row.header, `db:${row.id}`);
      if (info.ok && info.value.id === row.id) letters.push(info.value);
      else corrupt.push({ name: row.id, problem: info.ok ? 'header names another id' : info.error });
    }
    return { letters, corrupt };
  }

  async read(id: string): Promise<Result<{ info: DeadLetterInfo; data: Buffer }, DeadLetterError>> {
    if (!ID.test(id)) return err(new DeadLetterError(`not a dead letter id: ${JSON.stringify(id)}`));
    let got: Awaited<ReturnType<DeadLetterTable['read']>>;
    try {
      got = await this.table.read(id);
    } catch (e) {
      return err(new DeadLetterError(`dead letter ${id} cannot be read: ${describeError(e)}`, { cause: e }));
    }
    if (got === undefined) return err(new DeadLetterError(`dead letter ${id} cannot be read: no such dead letter`));
    const info = parseHeader(got.row.header, `db:${id}`);
    if (!info.ok) return err(new DeadLetterError(`dead letter ${id} is corrupt: ${info.error}`));
    if (got.data.length !== info.value.size) return err(new DeadLetterError(`dead letter ${id} is ${got.data.length} bytes, header says ${info.value.size}`));
    return ok({ info: info.value, data: got.data });
  }

  prune(cutoff: number, max: number, batch: number): Promise<number> {
    return this.table.prune(cutoff, max, batch);
  }

  async remove(id: string): Promise<boolean> {
    if (!ID.test(id)) throw new DeadLetterError(`not a dead letter id: ${JSON.stringify(id)}`);
    return this.table.remove(id);
  }
}

export class DeadLetterStore implements DeadLetters {
  private ready = false;

  private constructor(readonly dir: string, private readonly clock: Clock, private readonly health?: Health) {}

  /** Opens (creating if needed, mode 0700) the DeadLetterDirectory; throws when it cannot be made. */
  static async open(dir: string, clock: Clock): Promise<DeadLetterStore> {
    const s = new DeadLetterStore(dir, clock);
    await s.ensure();
    return s;
  }

  /**
   * The store for a directory that may not be usable yet (R3 item 2): nothing is thrown at start;
   * each store() makes the directory if needed, and a failure is marked in `health` (and
   * thrown to the caller, which keeps the message and tries again later) until a store works.
   */
  static lazy(dir: string, clock: Clock, health?: Health): DeadLetterStore {
    return new DeadLetterStore(dir, clock, health);
  }

  /** Makes the directory now; the problem (also marked in health) or undefined. */
  async check(): Promise<string | undefined> {
    try {
      await this.ensure();
      return undefined;
    } catch (e) {
      return this.failed(e);
    }
  }

  private async ensure(): Promise<void> {
    if (this.ready) return;
    await ensureDir(this.dir);
    this.ready = true;
  }

  private failed(e: unknown): string {
    // ENOENT: the directory went away; make it again on the next store.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.ready = false;
    const problem = `DeadLetterDirectory ${this.dir} cannot be written (${describeError(e)}); dead letters wait in the spool until it can`;
    this.health?.fail('dead-letters', problem, this.clock.now());
    return problem;
  }

  private pathOf(id: string): string {
    if (!ID.test(id)) throw new DeadLetterError(`not a dead letter id: ${JSON.stringify(id)}`);
    return join(this.dir, id + SUFFIX);
  }

  /** Stores one dead letter durably; the file appears complete or not at all. */
  async store(letter: DeadLetterInput): Promise<{ id: string; path: string }> {
    const now = this.clock.now();
    const id = newId(now);
    const header = headerOf(id, now, letter);
    let path: string;
    try {
      await this.ensure();
      path = await writeFileAtomic(this.dir, id + SUFFIX, [JSON.stringify(header) + '\n', letter.data]);
    } catch (e) {
      this.failed(e);
      throw new DeadLetterError(`dead letter not stored: ${describeError(e)}`, { cause: e });
    }
    this.health?.ok('dead-letters', this.clock.now());
    return { id, path };
  }

  /** How many dead letters are stored (file names only, nothing parsed: for /metrics); 0 without the directory. */
  async count(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    return names.filter((n) => !isTempName(n) && n.endsWith(SUFFIX) && ID.test(n.slice(0, -SUFFIX.length))).length;
  }

  /**
   * Every stored dead letter, oldest first. Temp files are ignored; unreadable files are
   * returned in `corrupt` (never thrown) so an operator can look at them.
   */
  async list(): Promise<{ letters: DeadLetterInfo[]; corrupt: { name: string; problem: string }[] }> {
    const letters: DeadLetterInfo[] = [];
    const corrupt: { name: string; problem: string }[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (isTempName(name) || !name.endsWith(SUFFIX) || !ID.test(name.slice(0, -SUFFIX.length))) continue;
      const path = join(this.dir, name);
      const line = await readHeaderLine(path);
      const info = line.ok ? parseHeader(line.value.line, path) : line;
      if (info.ok) letters.push(info.value);
      else corrupt.push({ name, problem: info.error });
    }
    return { letters, corrupt };
  }

  /** The dead letter's header and message bytes. */
  async read(id: string): Promise<Result<{ info: DeadLetterInfo; data: Buffer }, DeadLetterError>> {
    if (!ID.test(id)) return err(new DeadLetterError(`not a dead letter id: ${JSON.stringify(id)}`));
    const path = this.pathOf(id);
    let raw: Buffer;
    try {
      raw = await readFile(path);
    } catch (e) {
      return err(new DeadLetterError(`dead letter ${id} cannot be read: ${describeError(e)}`, { cause: e }));
    }
    const nl = raw.indexOf(0x0a);
    if (nl < 0) return err(new DeadLetterError(`dead letter ${id} has no header line`));
    const info = parseHeader(raw.subarray(0, nl).toString('utf8'), path);
    if (!info.ok) return err(new DeadLetterError(`dead letter ${id} is corrupt: ${info.error}`));
    const data = raw.subarray(nl + 1);
    if (data.length !== info.value.size) return err(new DeadLetterError(`dead letter ${id} is ${data.length} bytes, header says ${info.value.size}`));
    return ok({ info: info.value, data });
  }

  /**
   * Retention: removes dead letters stored before `cutoff` (file mtime: the file is written once,
   * atomically, when stored), oldest first, at most `max`. Temp files are left to the litter sweep.
   */
  async prune(cutoff: number, max: number, batch: number): Promise<number> {
    const n = await pruneOldFiles(this.dir, (name) => name.endsWith(SUFFIX) && ID.test(name.slice(0, -SUFFIX.length)), cutoff, max, batch);
    if (n > 0) await fsyncDir(this.dir);
    return n;
  }

  /** Removes a dead letter (e.g. after an operator re-sent it). false when it did not exist; throws DeadLetterError for a malformed id. */
  async remove(id: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    await fsyncDir(this.dir);
    return true;
  }
}

export type DeadLetterOutcome =
  | { readonly action: 'stored'; readonly id: string; readonly path: string }
  | { readonly action: 'deleted' };

/**
 * Applies the DeadLetterAction: Store writes the file, Delete keeps nothing. Either way the
 * caller logs the outcome (SPEC.md §2.2: dead letters are always logged).
 */
export async function disposeDeadLetter(action: DeadLetterAction, store: DeadLetters | undefined, letter: DeadLetterInput): Promise<DeadLetterOutcome> {
  if (action === 'delete') return { action: 'deleted' };
  if (store === undefined) throw new DeadLetterError('DeadLetterAction Store needs a dead-letter directory');
  return { action: 'stored', ...(await store.store(letter)) };
}

/** One line for the operator log: who, to whom, why. */
export function describeDeadLetter(letter: DeadLetterInput): string {
  const to = letter.envelope.recipients.map((r) => formatPath({ kind: 'mailbox', mailbox: r.mailbox })).join(',');
  const job = letter.jobName ? ` job ${letter.jobName}${letter.jobId ? ` ${letter.jobId}` : ''}` : '';
  return `dead letter (${letter.kind})${job} from ${formatPath(letter.envelope.from)} to ${to}: ${letter.reason}`;
}
