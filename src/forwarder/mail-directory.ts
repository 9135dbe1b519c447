// The extended-retry mail directory (SPEC.md §2.2 ExtendedRetry MailDirectory): messages whose
// long retry ran out wait here, durably, to be retried every Interval minutes until Age days.
//
// Layout (docs/notifications.md): per message `<id>.msg` (the message bytes, CRLF, exactly as
// sent) and `<id>.json` (the control record, `ControlRecordJson`). Temp files start with ".tmp-".
// Corrupt control records are moved to `quarantine/` with their data file.
// Write order for put(): data file (temp, fsync, rename, fsync dir), then the control record
// (temp, fsync, rename, fsync dir). remove() deletes the control record first. So a crash can
// leave a data file without a control record (an orphan, deleted by open()) but never a control
// record without its complete data file.
// Control record version 2 keeps the last reply structured (code, enhanced, text); version 1
// records (spoolgate 0.1: the reply as one line of text) are still read, so messages waiting in
// extended retry survive the upgrade.
// One owner: the forwarder instance holding the writer lock; open() cleans up after a crash and
// must not run while another process writes into the same directory.
import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SpoolgateError, describeError, isQueueId, type Envelope, type Recipient, type Result, ok, err,
  envelopeFromJson, envelopeToJson, recipientFromJson, recipientToJson, type EnvelopeJson, type RecipientJson,
} from '../core/index.js';
import { ensureDir, fsyncDir, isTempName, writeFileAtomic } from '../store/atomic.js';
import type { ExtendedRecordStore, ExtendedRow } from '../store/extended-store.js';
import { replyFromLegacyLine } from './legacy-reply.js';
import type { ReplyInfo } from './types.js';

export interface MailDirectoryEntry {
  readonly id: string;
  readonly envelope: Envelope;
  /** Recipients still to be delivered (the others were accepted or failed already). */
  readonly pendingRecipients: readonly Recipient[];
  readonly firstAttempt: Date;
  readonly nextAttempt: Date;
  readonly attempts: number;
  readonly jobName: string;
  readonly jobId: string;
  readonly originUser: string;
  /** The last reply (or the gateway's own reply for a failure), for displays and the final notification. */
  readonly lastReply?: ReplyInfo;
  /** Times the message was sent to a target so far (accounting `attempts`); absent in older records. */
  readonly deliveryAttempts?: number;
  /** The stable queue id (docs/queue.md); absent in records written before it existed. */
  readonly queueId?: string;
}

export interface MailDirectoryRecord extends MailDirectoryEntry {
  /** Size of the data file in bytes. */
  readonly size: number;
}

export type MailDirectoryPatch = Partial<Pick<MailDirectoryEntry, 'attempts' | 'nextAttempt' | 'pendingRecipients' | 'lastReply' | 'deliveryAttempts'>>;

interface ReplyJson {
  code: number;
  enhanced?: string;
  text: string;
}

interface ControlRecordJson {
  version: 2;
  id: string;
  envelope: EnvelopeJson;
  pendingRecipients: RecipientJson[];
  firstAttempt: string;
  nextAttempt: string;
  attempts: number;
  jobName: string;
  jobId: string;
  originUser: string;
  lastReply: ReplyJson | null;
  size: number;
  deliveryAttempts?: number;
  queueId?: string;
}

export interface Quarantined {
  readonly name: string;
  readonly problem: string;
}

export class MailDirectoryError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MAIL_DIRECTORY', message, options);
  }
}

const CONTROL = '.json';
const DATA = '.msg';
const QUARANTINE = 'quarantine';
/** Ids become file names: no path separators, no leading dot. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function toJson(e: MailDirectoryEntry, size: number): ControlRecordJson {
  return {
    version: 2, id: e.id, envelope: envelopeToJson(e.envelope), pendingRecipients: e.pendingRecipients.map(recipientToJson),
    firstAttempt: e.firstAttempt.toISOString(), nextAttempt: e.nextAttempt.toISOString(), attempts: e.attempts,
    jobName: e.jobName, jobId: e.jobId, originUser: e.originUser, lastReply: e.lastReply === undefined ? null : replyToJson(e.lastReply), size,
    ...(e.deliveryAttempts === undefined ? {} : { deliveryAttempts: e.deliveryAttempts }),
    ...(e.queueId === undefined ? {} : { queueId: e.queueId }),
  };
}

function replyToJson(r: ReplyInfo): ReplyJson {
  return r.enhanced === undefined ? { code: r.code, text: r.text } : { code: r.code, enhanced: r.enhanced, text: r.text };
}

/** Version 2: an object or null. Version 1: one line of text ("no reply" when there was none). */
function replyFromJson(v: unknown, version: 1 | 2): Result<ReplyInfo | undefined, string> {
  if (version === 1) {
    if (typeof v !== 'string') return err('lastReply is not a string');
    // 0.1 wrote "no reply" for none, and read a line without a code back as 451 (transient).
    return ok(v === 'no reply' ? undefined : replyFromLegacyLine(v, 451));
  }
  if (v === null) return ok(undefined);
  if (typeof v !== 'object' || Array.isArray(v)) return err('lastReply is not an object');
  const r = v as Partial<Record<keyof ReplyJson, unknown>>;
  if (typeof r.code !== 'number' || !Number.isInteger(r.code) || r.code < 200 || r.code > 599) return err('lastReply.code is not a reply code');
  if (typeof r.text !== 'string') return err('lastReply.text is not a string');
  // RFC 3463 §2: class.subject.detail, the class equal to the first digit of the reply code.
  if (r.enhanced !== undefined && (typeof r.enhanced !== 'string' || !/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced) || r.enhanced[0] !== String(r.code)[0])) {
    return err('lastReply.enhanced is not an enhanced status code of the reply\'s class');
  }
  return ok(r.enhanced === undefined ? { code: r.code, text: r.text } : { code: r.code, enhanced: r.enhanced, text: r.text });
}

function fromJson(text: string, id: string): Result<MailDirectoryRecord, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return err(`control record is not JSON: ${describeError(e)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('control record is not an object');
  const j = v as Partial<Record<keyof ControlRecordJson, unknown>>;
  if (j.version !== 1 && j.version !== 2) return err(`unknown control record version ${JSON.stringify(j.version)}`);
  if (j.id !== id) return err(`control record id ${JSON.stringify(j.id)} does not match its file name`);
  const env = envelopeFromJson(j.envelope);
  if (!env.ok) return err(`envelope: ${env.error}`);
  if (!Array.isArray(j.pendingRecipients)) return err('pendingRecipients is not an array');
  const pending: Recipient[] = [];
  for (const r of j.pendingRecipients) {
    const p = recipientFromJson(r, env.value.smtputf8 === true);
    if (!p.ok) return err(`pendingRecipients: ${p.error}`);
    pending.push(p.value);
  }
  const first = new Date(typeof j.firstAttempt === 'string' ? j.firstAttempt : NaN);
  const next = new Date(typeof j.nextAttempt === 'string' ? j.nextAttempt : NaN);
  if (Number.isNaN(first.getTime()) || Number.isNaN(next.getTime())) return err('firstAttempt/nextAttempt is not a date');
  if (typeof j.attempts !== 'number' || !Number.isInteger(j.attempts) || j.attempts < 0) return err('attempts is not a count');
  if (typeof j.size !== 'number' || !Number.isInteger(j.size) || j.size < 0) return err('size is not a byte count');
  if (j.deliveryAttempts !== undefined && (typeof j.deliveryAttempts !== 'number' || !Number.isInteger(j.deliveryAttempts) || j.deliveryAttempts < 0)) return err('deliveryAttempts is not a count');
  for (const k of ['jobName', 'jobId', 'originUser'] as const) if (typeof j[k] !== 'string') return err(`${k} is not a string`);
  if (j.queueId !== undefined && (typeof j.queueId !== 'string' || !isQueueId(j.queueId))) return err('queueId is not a queue id');
  const lastReply = replyFromJson(j.lastReply, j.version);
  if (!lastReply.ok) return lastReply;
  return ok({
    id, envelope: env.value, pendingRecipients: pending, firstAttempt: first, nextAttempt: next, attempts: j.attempts,
    jobName: j.jobName as string, jobId: j.jobId as string, originUser: j.originUser as string,
    ...(lastReply.value === undefined ? {} : { lastReply: lastReply.value }), size: j.size,
    ...(j.deliveryAttempts === undefined ? {} : { deliveryAttempts: j.deliveryAttempts as number }),
    ...(j.queueId === undefined ? {} : { queueId: j.queueId as string }),
  });
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export class MailDirectory {
  private constructor(readonly dir: string, readonly recovered: { readonly removedTemp: readonly string[]; readonly removedOrphans: readonly string[] }) {}

  /**
   * Opens (creating, mode 0700) the directory and cleans up after a crash: removes temp files
   * and data files that have no control record. `recovered` says what was removed (log it).
   */
  static async open(dir: string): Promise<MailDirectory> {
    await ensureDir(join(dir, QUARANTINE));
    const names = await readdir(dir);
    const controls = new Set(names.filter((n) => n.endsWith(CONTROL) && !isTempName(n)).map((n) => n.slice(0, -CONTROL.length)));
    const removedTemp: string[] = [];
    const removedOrphans: string[] = [];
    for (const n of names) {
      if (isTempName(n)) {
        await unlink(join(dir, n));
        removedTemp.push(n);
      } else if (n.endsWith(DATA) && !controls.has(n.slice(0, -DATA.length))) {
        await unlink(join(dir, n));
        removedOrphans.push(n);
      }
    }
    if (removedTemp.length + removedOrphans.length > 0) await fsyncDir(dir);
    return new MailDirectory(dir, { removedTemp, removedOrphans });
  }

  private check(id: string): void {
    if (!ID.test(id)) throw new MailDirectoryError(`not a valid mail directory id: ${JSON.stringify(id)}`);
  }

  /**
   * Stores one message durably (data first, then the control record). An id that is already
   * stored is refused: replacing the data under a live control record could pair a new data file
   * with the old record after a crash. Change a stored message with update().
   */
  async put(entry: MailDirectoryEntry & { readonly data: Buffer }): Promise<Result<void, MailDirectoryError>> {
    this.check(entry.id);
    try {
      await stat(join(this.dir, entry.id + CONTROL));
      return err(new MailDirectoryError(`message ${entry.id} is already in the mail directory`));
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    await writeFileAtomic(this.dir, entry.id + DATA, [entry.data]);
    await writeFileAtomic(this.dir, entry.id + CONTROL, [JSON.stringify(toJson(entry, entry.data.length)) + '\n']);
    return ok(undefined);
  }

  /** Moves a bad control record (and its data, if any) to quarantine/. */
  private async quarantine(id: string): Promise<void> {
    const q = join(this.dir, QUARANTINE);
    for (const suffix of [CONTROL, DATA]) {
      try {
        await rename(join(this.dir, id + suffix), join(q, id + suffix));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    }
    await fsyncDir(q);
    await fsyncDir(this.dir);
  }

  private async load(id: string): Promise<Result<MailDirectoryRecord, string>> {
    let text: string;
    try {
      text = await readFile(join(this.dir, id + CONTROL), 'utf8');
    } catch (e) {
      return err(isMissing(e) ? 'no such message' : `control record unreadable: ${describeError(e)}`);
    }
    const rec = fromJson(text, id);
    if (!rec.ok) return rec;
    try {
      const st = await stat(join(this.dir, id + DATA));
      if (st.size !== rec.value.size) return err(`data file is ${st.size} bytes, control record says ${rec.value.size}`);
    } catch (e) {
      return err(isMissing(e) ? 'data file missing' : `data file unreadable: ${describeError(e)}`);
    }
    return rec;
  }

  /**
   * Every message, ordered by next attempt. A corrupt control record (bad JSON, bad fields,
   * missing or wrong-sized data file) is moved to quarantine/ and reported, never thrown.
   */
  async list(): Promise<{ records: MailDirectoryRecord[]; quarantined: Quarantined[] }> {
    const records: MailDirectoryRecord[] = [];
    const quarantined: Quarantined[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (isTempName(name) || !name.endsWith(CONTROL)) continue;
      const id = name.slice(0, -CONTROL.length);
      const rec = ID.test(id) ? await this.load(id) : err('file name is not a valid id');
      if (rec.ok) { records.push(rec.value); continue; }
      if (rec.error === 'no such message') continue; // removed meanwhile
      await this.quarantine(id);
      quarantined.push({ name, problem: `${name} moved to ${QUARANTINE}/: ${rec.error}` });
    }
    records.sort((a, b) => a.nextAttempt.getTime() - b.nextAttempt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { records, quarantined };
  }

  /** Messages whose next attempt is due at `now`, earliest first. */
  async due(now: Date): Promise<{ records: MailDirectoryRecord[]; quarantined: Quarantined[] }> {
    const { records, quarantined } = await this.list();
    return { records: records.filter((r) => r.nextAttempt.getTime() <= now.getTime()), quarantined };
  }

  /** The message bytes. */
  async readData(id: string): Promise<Result<Buffer, MailDirectoryError>> {
    this.check(id);
    const rec = await this.load(id);
    if (!rec.ok) return err(new MailDirectoryError(`message ${id}: ${rec.error}`));
    return ok(await readFile(join(this.dir, id + DATA)));
  }

  /** Rewrites the control record with the patch applied (atomic replace). */
  async update(id: string, patch: MailDirectoryPatch): Promise<Result<MailDirectoryRecord, MailDirectoryError>> {
    this.check(id);
    const rec = await this.load(id);
    if (!rec.ok) return err(new MailDirectoryError(`message ${id}: ${rec.error}`));
    const next: MailDirectoryRecord = { ...rec.value, ...patch };
    await writeFileAtomic(this.dir, id + CONTROL, [JSON.stringify(toJson(next, rec.value.size)) + '\n']);
    return ok(next);
  }

  /** Removes a message: control record first, so a crash leaves only an orphan data file. */
  async remove(id: string): Promise<boolean> {
    this.check(id);
    try {
      await unlink(join(this.dir, id + CONTROL));
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
    await fsyncDir(this.dir);
    try {
      await unlink(join(this.dir, id + DATA));
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    return true;
  }
}

/**
 * What ExtendedRetry (extended.ts) needs of where its records are: the local MailDirectory above,
 * or StoreMailDirectory below (Backend PostgreSQL: the shared store, any node serves the records).
 */
export type RecordDirectory = Pick<MailDirectory, 'dir' | 'list' | 'readData' | 'put' | 'update' | 'remove'> & {
  /**
   * A shared store: claims the due records for this node, so no two nodes try one at once; a
   * claim ends with update() or remove(), or runs out when the node died (then another takes it).
   * Absent: the directory has one writer, and every due record is this node's.
   */
  claimDue?(now: Date): Promise<{ records: MailDirectoryRecord[]; quarantined: Quarantined[] }>;
  /** Other nodes write too: nothing may be cached from it. */
  readonly shared?: boolean;
};

/** At most this many records are claimed per scheduler round (the rest in the next). */
const CLAIM_MAX = 100;

/**
 * The mail directory's records on the shared store of a cluster ([P2], store/extended-store.ts):
 * the same control record (JSON) and bytes, in the database, so any node serves them and a dead
 * node's records are retried by the others. `dir` names it in logs and health.
 */
export class StoreMailDirectory implements RecordDirectory {
  readonly shared = true;
  constructor(private readonly store: ExtendedRecordStore, private readonly writer: string, readonly dir: string) {}

  private parse(rows: readonly ExtendedRow[]): { records: MailDirectoryRecord[]; quarantined: Quarantined[] } {
    const records: MailDirectoryRecord[] = [];
    const quarantined: Quarantined[] = [];
    for (const r of rows) {
      const rec = fromJson(r.control, r.id);
      if (rec.ok && rec.value.size === r.size) records.push(rec.value);
      else quarantined.push({ name: r.id, problem: `record ${r.id} on the store is not usable (left there): ${rec.ok ? `size ${r.size}, control record says ${rec.value.size}` : rec.error}` });
    }
    return { records, quarantined };
  }

  async put(entry: MailDirectoryEntry & { readonly data: Buffer }): Promise<Result<void, MailDirectoryError>> {
    const stored = await this.store.put(this.writer, entry.id, JSON.stringify(toJson(entry, entry.data.length)), entry.data, entry.nextAttempt);
    return stored ? ok(undefined) : err(new MailDirectoryError(`message ${entry.id} is already on the store`));
  }

  async list(): Promise<{ records: MailDirectoryRecord[]; quarantined: Quarantined[] }> {
    return this.parse(await this.store.list(this.writer));
  }

  async claimDue(now: Date): Promise<{ records: MailDirectoryRecord[]; quarantined: Quarantined[] }> {
    return this.parse(await this.store.claimDue(this.writer, now, CLAIM_MAX));
  }

  async readData(id: string): Promise<Result<Buffer, MailDirectoryError>> {
    const d = await this.store.readData(this.writer, id);
    return d === undefined ? err(new MailDirectoryError(`message ${id}: no such message`)) : ok(d);
  }

  async update(id: string, patch: MailDirectoryPatch): Promise<Result<MailDirectoryRecord, MailDirectoryError>> {
    const row = await this.store.get(this.writer, id);
    if (row === undefined) return err(new MailDirectoryError(`message ${id}: no such message`));
    const rec = fromJson(row.control, id);
    if (!rec.ok) return err(new MailDirectoryError(`message ${id}: ${rec.error}`));
    const next: MailDirectoryRecord = { ...rec.value, ...patch };
    if (!(await this.store.update(this.writer, id, JSON.stringify(toJson(next, rec.value.size)), next.nextAttempt))) return err(new MailDirectoryError(`message ${id}: no such message`));
    return ok(next);
  }

  async remove(id: string): Promise<boolean> {
    return this.store.remove(this.writer, id);
  }
}
