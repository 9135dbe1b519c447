// The queue service (docs/queue.md; over 700 lines since quarantine release and unread-file
// actions: the listing and the actions share the look-up of a queue id in every place, so they
// stay together; preview.ts and the receiver's release.ts carry the parts that stand alone): one view over every place a message waits — in memory
// (being sent, waiting for a target, long retry, held), the extended-retry mail directory, held
// spool files, dead letters and the quarantine — and the operator's actions on one message or on
// all that match a filter. Every action is logged (`queue.action`, with operator and reason) and
// written to the journal when there is one. Actions run one at a time.
//
// Crash safety of each action (a kill -9 at any point loses no message):
// - hold/release: the hold list is replaced atomically before the answer (holds.ts);
// - bounce: the notification is on the spool before the message is marked finished (lifecycle);
//   a crash in between sends the notification twice at worst;
// - delete: the checkpoint mark (or the removal of the mail-directory record) is the deletion;
// - requeue: the message entry is on the spool (fsynced) before the dead letter is removed; a
//   crash in between leaves both (the dead letter can be purged), never neither;
// - held spool files: release and purge are single renames / removals (spool/disposition.ts).
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, err, formatMailbox, isQueueId, ok, queueIdFor, type Clock, type Envelope, type Result } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { Config } from '../config/index.js';
import { attributesOf, extendedQueueId, queueIdOf, replyText, type ExtendedRetry, type Forwarder, type LiveEntry, type MailDirectoryRecord, type OperatorCommand } from '../forwarder/index.js';
import type { DeadLetterInfo, DeadLetters } from '../notify/index.js';
import { deleteEntry, type HeldEntry } from '../spool/disposition.js';
import type { HeldFiles } from '../spool/held-files.js';
import type { SpoolEntry, SpoolLayout } from '../spool/submit.js';
import type { Journal } from '../store/types.js';
import type { Hold, HoldList } from './holds.js';
import { headerSection, previewSpoolFile, type FilePreview } from './preview.js';
import { matches, parseFilter, shape, QUEUE_STATES, type QueueAction, type QueueFilter, type QueueItem, type QueueRecipient, type QueueState, type Shape } from './model.js';

export { QUEUE_ACTIONS, type QueueAction } from './model.js';
export { headerSection } from './preview.js';

/** Who asked and why (journaled with every action). */
export interface Actor {
  readonly operator: string;
  readonly reason: string;
}

/** A refusal: status is the HTTP status it maps to (400 bad id, 404 none, 409 not in that state, 503 store down). */
export interface QueueError {
  readonly status: 400 | 404 | 409 | 503;
  readonly error: string;
}

/** One outcome of a delivery attempt for one recipient (or, from the journal, one forwarder event). */
export interface HistoryItem { readonly at: string; readonly recipient: string; readonly status: string; readonly reply: string; readonly target: string | null }

/** One operator action on the message, from the journal. */
export interface ActionItem { readonly at: string; readonly action: string; readonly operator: string; readonly detail: string }

export interface QueueDetail extends QueueItem {
  /**
   * Delivery attempts: from the journal when there is one (so they survive a restart), else the
   * outcomes kept in memory while the message is in this process.
   */
  readonly history: readonly HistoryItem[];
  /** The operator's actions on this queue id (journal `queue.*` events), oldest first; [] without a journal. */
  readonly actions: readonly ActionItem[];
  readonly headers?: string;
  readonly body?: string;
  /** A spool file not read yet: its messages as a task would read them, read-only and bounded (preview.ts). */
  readonly file?: {
    readonly messages: readonly { readonly messageNo: number; readonly sender: string; readonly recipients: readonly string[]; readonly headers: string }[];
    readonly problems: readonly string[];
    readonly truncated: boolean;
  };
}

export interface HeldFileItem {
  readonly id: string;
  readonly queueId: string;
  readonly heldAt: string | null;
  readonly jobName: string | null;
  readonly jobId: string | null;
  readonly reason: string;
  /** The node that held it (a cluster's shared held files). */
  readonly node?: string;
}

/** The receiver's actions on quarantined mail (receiver/release.ts), plugged in by main.ts. */
export interface QuarantineActions {
  release(file: string, who: Actor): Promise<Result<string, { status: 404 | 409 | 503; error: string }>>;
  bounce(file: string, who: Actor): Promise<Result<string, { status: 404 | 409 | 503; error: string }>>;
}

/** What the web and control roles use (WebTarget.queue, OperatorTarget.queue). */
export interface QueueApi {
  list(filter: QueueFilter): Promise<{ total: number; items: QueueItem[] }>;
  summary(): Promise<{ counts: Record<QueueState, number>; oldestAgeSeconds: number | null }>;
  shape(by: 'target' | 'domain', filter?: QueueFilter): Promise<Shape>;
  show(id: string, opts: { body: boolean }): Promise<Result<QueueDetail, QueueError>>;
  act(id: string, action: QueueAction, who: Actor): Promise<Result<QueueItem | null, QueueError>>;
  /** One action on every message the filter matches (e.g. hold by sender): how many were done, and the refusals. */
  actMatching(filter: QueueFilter, action: QueueAction, who: Actor): Promise<Result<{ done: number; refused: number; ids: string[] }, QueueError>>;
  deadLetters(): Promise<QueueItem[]>;
  requeue(id: string, who: Actor): Promise<Result<{ deadLetter: string; entry: string }, QueueError>>;
  purgeDead(olderThanDays: number, who: Actor): Promise<Result<{ purged: number }, QueueError>>;
  heldFiles(): Promise<HeldFileItem[]>;
  heldFile(id: string): Promise<Result<{ item: HeldFileItem; report: string }, QueueError>>;
  heldFileAction(id: string, action: 'release' | 'purge', who: Actor): Promise<Result<HeldFileItem, QueueError>>;
}

export interface QueueDeps {
  readonly forwarder: Forwarder;
  readonly extended: ExtendedRetry | undefined;
  readonly deadLetters: DeadLetters;
  readonly spool: SpoolLayout;
  /** Held spool files and their reports (this node's directories, or every node's on a cluster). */
  readonly held: HeldFiles;
  readonly holds: HoldList;
  /** The receiver's quarantine (<StateDirectory>/quarantine); listed read-only, deletable. */
  readonly quarantine?: string;
  /** The entries in the writer's incoming/ (spool/queue.ts list()): files no task has started are listed as processing. */
  readonly spoolEntries?: () => Promise<readonly SpoolEntry[]>;
  /** Puts a dead letter's message back on the spool (a message entry); resolves when durable. */
  readonly requeue: (mail: { envelope: Envelope; data: Buffer }, deadLetterId: string, jobName: string | undefined) => Promise<{ id: string }>;
  readonly log: Logger;
  readonly clock: Clock;
  /** The configuration in force: `show` of a spool file not read yet parses it with the forwarder's settings (preview.ts). */
  readonly config?: () => Config;
  /** The journal (the mailbox store's), when there is one. */
  readonly journal?: () => Journal | undefined;
  /**
   * On a cluster, files in incoming/ are being stored in the shared queue (forwarder/store-source.ts):
   * an action on an unread file runs with its arrival excluded (one that is under way ends first;
   * the file is then gone: 404, and the cluster's queue acts on its row).
   */
  readonly arrival?: { exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> };
}

/** Where a found item is (what an action works on). */
type Ref =
  | { readonly kind: 'live'; readonly entry: LiveEntry }
  | { readonly kind: 'extended'; readonly rec: MailDirectoryRecord }
  | { readonly kind: 'dead'; readonly info: DeadLetterInfo }
  | { readonly kind: 'held-file'; readonly held: HeldEntry }
  | { readonly kind: 'quarantine'; readonly file: string }
  | { readonly kind: 'spool-file'; readonly entry: SpoolEntry };

interface Found {
  readonly item: QueueItem;
  readonly ref: Ref;
}

/** At most this many quarantine files are listed (the rest are counted in the log). */
const MAX_QUARANTINE = 10_000;
/** Forwarder journal event -> the history's status (forwarder/journal.ts, lifecycle.ts HistoryEntry). */
const OUTCOME_OF: Readonly<Record<string, string>> = { delivered: 'sent', deferred: 'deferred', undeliverable: 'bounced' };
/** `show` lists at most this many journal rows of each kind (actions, delivery events). */
const JOURNAL_ROWS = 500;
/** --body shows at most this much of the message. */
const MAX_BODY = 1024 * 1024;

const iso = (ms: number): string => new Date(ms).toISOString();
const pathOf = (e: Envelope): string => (e.from.kind === 'null' ? '' : formatMailbox(e.from.mailbox));

function deadQueueId(info: DeadLetterInfo): string {
  return info.queueId ?? queueIdFor(`d:${info.id}`, info.jobId ?? '', 1);
}

function heldFileQueueId(h: HeldEntry): string {
  return queueIdFor(h.id, h.jobId ?? '', 0);
}

export class QueueService implements QueueApi {
  private chain: Promise<unknown> = Promise.resolve();
  private journalSink: Journal | undefined;
  private quarantineActions: QuarantineActions | undefined;

  constructor(private readonly d: QueueDeps) {}

  /** The receiver's release and bounce of quarantined mail, once it runs (main.ts). */
  attachQuarantine(q: QuarantineActions): void {
    this.quarantineActions = q;
  }

  /** The journal, once the mailbox store is open (main.ts). */
  attachJournal(j: Journal): void {
    this.journalSink = j;
  }

  private now(): number {
    return this.d.forwarder.steady.now();
  }

  /** One action at a time (two operators acting on one message see each other's result). */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // ---- the model ----

  private liveItem(e: LiveEntry): QueueItem {
    const it = e.item;
    const qid = queueIdOf(it);
    const hold = this.d.holds.get(qid);
    const failed = new Map(it.failed.map((f) => [f.address.toLowerCase(), f]));
    const pending = new Set(it.pending.map((r) => formatMailbox(r.mailbox).toLowerCase()));
    const tried = (it.deliveryAttempts ?? 0) > 0;
    const recipients: QueueRecipient[] = it.envelope.recipients.map((r) => {
      const address = formatMailbox(r.mailbox);
      const key = address.toLowerCase();
      const f = failed.get(key);
      if (f !== undefined) return { address, state: 'failed', lastReply: replyText(f.reply) };
      if (pending.has(key)) return { address, state: tried ? 'deferred' : 'pending', lastReply: tried && it.lastReply !== undefined ? replyText(it.lastReply) : null };
      return { address, state: it.origin.kind === 'extended' ? 'done' : 'delivered', lastReply: null };
    });
    // Recipients the batch parser refused (no parsed address) are failed too.
    for (const f of it.failed) if (f.recipient === undefined) recipients.push({ address: f.address, state: 'failed', lastReply: replyText(f.reply) });
    const state: QueueState = hold !== undefined || e.phase === 'held' ? 'held' : e.phase === 'retry' ? 'retry' : 'processing';
    return {
      id: qid, state, arrival: it.arrival.toISOString(), nextAttempt: state === 'retry' && e.nextAttempt !== undefined ? iso(e.nextAttempt) : null,
      attempts: it.deliveryAttempts ?? 0, size: it.data.length, jobName: it.job.jobName, jobId: it.job.jobId, user: it.job.originUser,
      sender: pathOf(it.envelope), recipients, target: it.lastTarget ?? null,
      place: it.origin.kind === 'spool' ? `${it.origin.entryId}#${it.origin.messageNo}` : `x:${it.origin.id}`,
      why: hold !== undefined ? `held by ${hold.operator}: ${hold.reason}` : e.phase === 'target-wait' ? 'waiting for a usable target' : it.lastReply !== undefined ? replyText(it.lastReply) : null,
      ...(hold === undefined ? {} : { hold }),
    };
  }

  /** Items of extended-retry records, by record object (a changed record is a new object: extended.ts). */
  private readonly extendedItems = new WeakMap<MailDirectoryRecord, QueueItem>();

  private extendedItem(rec: MailDirectoryRecord): QueueItem {
    const qid = extendedQueueId(rec);
    const hold = this.d.holds.get(qid);
    if (hold === undefined) {
      const known = this.extendedItems.get(rec);
      if (known !== undefined) return known;
    }
    const item = this.buildExtendedItem(rec, qid, hold);
    if (hold === undefined) this.extendedItems.set(rec, item);
    return item;
  }

  private buildExtendedItem(rec: MailDirectoryRecord, qid: string, hold: Hold | undefined): QueueItem {
    const pending = new Set(rec.pendingRecipients.map((r) => formatMailbox(r.mailbox).toLowerCase()));
    const last = rec.lastReply === undefined ? null : replyText(rec.lastReply);
    return {
      id: qid, state: hold !== undefined ? 'held' : 'extended', arrival: rec.firstAttempt.toISOString(),
      nextAttempt: hold !== undefined ? null : rec.nextAttempt.toISOString(), attempts: rec.deliveryAttempts ?? rec.attempts, size: rec.size,
      jobName: rec.jobName, jobId: rec.jobId, user: rec.originUser, sender: pathOf(rec.envelope),
      recipients: rec.envelope.recipients.map((r) => {
        const address = formatMailbox(r.mailbox);
        return pending.has(address.toLowerCase()) ? { address, state: 'deferred', lastReply: last } : { address, state: 'done', lastReply: null };
      }),
      target: null, place: `x:${rec.id}`, why: hold !== undefined ? `held by ${hold.operator}: ${hold.reason}` : last,
      ...(hold === undefined ? {} : { hold }),
    };
  }

  private deadItem(info: DeadLetterInfo): QueueItem {
    return {
      id: deadQueueId(info), state: 'dead', arrival: info.stored.toISOString(), nextAttempt: null, attempts: 0, size: info.size,
      jobName: info.jobName ?? '', jobId: info.jobId ?? '', user: '', sender: pathOf(info.envelope),
      recipients: info.envelope.recipients.map((r) => ({ address: formatMailbox(r.mailbox), state: 'failed', lastReply: info.reason })),
      target: null, place: `dead:${info.id}`, why: `${info.kind}: ${info.reason}`,
    };
  }

  private heldFileItem(h: HeldEntry): QueueItem {
    return {
      id: heldFileQueueId(h), state: 'held', arrival: (h.heldAt ?? new Date(0)).toISOString(), nextAttempt: null, attempts: 0, size: 0,
      jobName: h.jobName ?? '', jobId: h.jobId ?? '', user: '', sender: '', recipients: [], target: null,
      place: `held:${h.id}`, why: h.reason,
    };
  }

  /**
   * Spool files waiting for a task (not read yet: SUSPEND, all tasks busy), one item each under
   * message number 0; a message entry shows its envelope. Files a task reads now show as messages.
   */
  private async waitingFiles(): Promise<Found[]> {
    if (this.d.spoolEntries === undefined) return [];
    // Read by a task now, or parked (read to its end, all its remaining mail in long retry): its
    // messages are listed as messages, not the file as unread.
    const reading = new Set([
      ...this.d.forwarder.tasks.map((t) => t.entry?.id).filter((x): x is string => x !== undefined),
      ...this.d.forwarder.parkedFiles().map((r) => r.entry.id),
    ]);
    const out: Found[] = [];
    for (const entry of await this.d.spoolEntries()) {
      if (reading.has(entry.id) || entry.problem !== undefined) continue;
      const env = entry.message?.envelope;
      out.push({
        ref: { kind: 'spool-file', entry },
        item: {
          id: queueIdFor(entry.id, entry.attrs.jobId, 0), state: 'processing', arrival: (entry.message?.receivedAt ?? entry.attrs.created).toISOString(),
          nextAttempt: null, attempts: 0, size: entry.size, jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, user: entry.attrs.originUser,
          sender: env === undefined ? '' : pathOf(env), recipients: env === undefined ? [] : env.recipients.map((r) => ({ address: formatMailbox(r.mailbox), state: 'pending', lastReply: null })),
          target: null, place: `spool:${entry.id}`,
          why: this.d.forwarder.suspendMode !== 'none' ? `spool file not read yet: SUSPEND ${this.d.forwarder.suspendMode.toUpperCase()} (RESUME)` : 'spool file not read yet: waiting for a spool task',
        },
      });
    }
    return out;
  }

  private async quarantineItems(): Promise<Found[]> {
    const dir = this.d.quarantine;
    if (dir === undefined) return [];
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    if (names.length > MAX_QUARANTINE) this.d.log.warn('queue.quarantine-many', { files: names.length, listed: MAX_QUARANTINE });
    const out: Found[] = [];
    for (const name of names.slice(0, MAX_QUARANTINE)) {
      const base = name.slice(0, -'.json'.length);
      try {
        const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as { id?: unknown; from?: unknown; recipients?: unknown; received?: unknown; rules?: unknown };
        const size = (await stat(join(dir, `${base}.eml`)).catch(() => undefined))?.size ?? 0;
        const rcpts = Array.isArray(meta.recipients) ? meta.recipients.filter((r): r is string => typeof r === 'string') : [];
        const rules = Array.isArray(meta.rules) ? meta.rules.map((r: { match?: unknown; pattern?: unknown }) => `${String(r.match)} "${String(r.pattern)}"`).join(', ') : '';
        out.push({
          ref: { kind: 'quarantine', file: base },
          item: {
            id: queueIdFor(`q:${base}`, '', 1), state: 'quarantined', arrival: typeof meta.received === 'string' ? meta.received : new Date(0).toISOString(),
            nextAttempt: null, attempts: 0, size, jobName: 'RECEIVER', jobId: base, user: '',
            sender: typeof meta.from === 'string' ? meta.from.replace(/^<|>$/g, '') : '',
            recipients: rcpts.map((address) => ({ address, state: 'pending', lastReply: null })), target: null,
            place: `quarantine:${base}`, why: `kept by filter ${rules}`,
          },
        });
      } catch (e) {
        this.d.log.warn('queue.quarantine-unreadable', { file: name, error: describeError(e) });
      }
    }
    return out;
  }

  /** Every waiting message of the states asked for (all when undefined). Live items win over their records. */
  private async collect(states?: readonly QueueState[]): Promise<Found[]> {
    const want = (s: QueueState): boolean => states === undefined || states.includes(s);
    const out: Found[] = [];
    const seen = new Set<string>();
    if (want('processing') || want('retry') || want('held')) {
      for (const entry of this.d.forwarder.lifecycle.liveEntries()) {
        const item = this.liveItem(entry);
        seen.add(item.id);
        out.push({ item, ref: { kind: 'live', entry } });
      }
    }
    if (want('processing')) out.push(...(await this.waitingFiles()));
    if ((want('extended') || want('held')) && this.d.extended !== undefined) {
      let recs: MailDirectoryRecord[] = [];
      try {
        recs = await this.d.extended.records();
      } catch (e) {
        this.d.log.warn('queue.extended-unreadable', { error: describeError(e) });
      }
      for (const rec of recs) {
        const item = this.extendedItem(rec);
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        out.push({ item, ref: { kind: 'extended', rec } });
      }
    }
    if (want('held')) for (const held of await this.d.held.list()) out.push({ item: this.heldFileItem(held), ref: { kind: 'held-file', held } });
    if (want('dead')) {
      try {
        for (const info of (await this.d.deadLetters.list()).letters) out.push({ item: this.deadItem(info), ref: { kind: 'dead', info } });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (want('quarantined')) out.push(...(await this.quarantineItems()));
    return states === undefined ? out : out.filter((f) => states.includes(f.item.state));
  }

  private async find(id: string): Promise<Result<Found, QueueError>> {
    if (!isQueueId(id)) return err({ status: 400, error: `"${id.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}" is not a queue id (12 hex digits, a dash and a number: 3f9a0c12b7d4-1)` });
    const live = this.d.forwarder.lifecycle.liveEntry(id);
    if (live !== undefined) return ok({ item: this.liveItem(live), ref: { kind: 'live', entry: live } });
    const f = (await this.collect()).find((x) => x.item.id === id);
    return f === undefined ? err({ status: 404, error: `no message ${id} in the queue` }) : ok(f);
  }

  async list(filter: QueueFilter): Promise<{ total: number; items: QueueItem[] }> {
    const now = this.now();
    const all = (await this.collect(filter.states)).map((f) => f.item).filter((i) => matches(i, filter, now));
    all.sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { total: all.length, items: all.slice(filter.offset, filter.offset + filter.limit) };
  }

  async summary(): Promise<{ counts: Record<QueueState, number>; oldestAgeSeconds: number | null }> {
    const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Record<QueueState, number>;
    let oldest: number | undefined;
    for (const f of await this.collect()) {
      counts[f.item.state]++;
      const at = Date.parse(f.item.arrival);
      if (f.item.state !== 'dead' && f.item.state !== 'quarantined' && (oldest === undefined || at < oldest)) oldest = at;
    }
    return { counts, oldestAgeSeconds: oldest === undefined ? null : Math.max(0, Math.round((this.now() - oldest) / 1000)) };
  }

  async shape(by: 'target' | 'domain', filter?: QueueFilter): Promise<Shape> {
    const now = this.now();
    // qshape looks at mail that waits to be delivered: not dead letters, held files or the quarantine.
    const states = filter?.states ?? ['processing', 'retry', 'extended', 'held'];
    const items = (await this.collect(states)).map((f) => f.item).filter((i) => (filter === undefined || matches(i, filter, now)) && !i.place.startsWith('held:'));
    return shape(items, by, now);
  }

  async show(id: string, opts: { body: boolean }): Promise<Result<QueueDetail, QueueError>> {
    const f = await this.find(id);
    if (!f.ok) return f;
    let data: Buffer | undefined;
    let history: QueueDetail['history'] = [];
    let preview: FilePreview | undefined;
    const ref = f.value.ref;
    try {
      if (ref.kind === 'live') {
        data = ref.entry.item.data;
        history = (ref.entry.item.history ?? []).map((h) => ({ ...h, at: iso(h.at) }));
      } else if (ref.kind === 'extended') {
        data = await this.d.extended!.data(ref.rec.id);
        if (ref.rec.lastReply !== undefined) history = ref.rec.pendingRecipients.map((r) => ({ at: ref.rec.nextAttempt.toISOString(), recipient: formatMailbox(r.mailbox), status: 'deferred', reply: replyText(ref.rec.lastReply), target: null }));
      } else if (ref.kind === 'dead') {
        const r = await this.d.deadLetters.read(ref.info.id);
        if (r.ok) data = r.value.data;
      } else if (ref.kind === 'quarantine' && this.d.quarantine !== undefined) {
        data = await readFile(join(this.d.quarantine, `${ref.file}.eml`));
      } else if (ref.kind === 'spool-file' && this.d.config !== undefined) {
        preview = await previewSpoolFile(ref.entry, this.d.config(), this.d.clock);
      }
    } catch (e) {
      return err({ status: 503, error: `message ${id} cannot be read: ${describeError(e)}` });
    }
    const headers = data === undefined ? preview?.messages[0]?.headers : headerSection(data);
    const past = await this.pastOf(id, f.value.item, ref);
    // The journal's rows are written a moment after the attempt: the memory's, when it has more.
    if (past !== undefined && past.history.length >= history.length) history = past.history;
    return ok({
      ...f.value.item, history, actions: past?.actions ?? [],
      ...(preview === undefined ? {} : {
        file: {
          messages: preview.messages.map((m) => ({ messageNo: m.messageNo, sender: pathOf(m.envelope), recipients: m.envelope.recipients.map((r) => formatMailbox(r.mailbox)), headers: m.headers })),
          problems: preview.problems, truncated: preview.truncated,
        },
      }),
      ...(headers === undefined ? {} : { headers }),
      ...(opts.body && data !== undefined ? { body: data.subarray(0, MAX_BODY).toString('utf8') } : {}),
    });
  }

  /**
   * What the journal has on a message: the operator's actions (under its queue id) and the
   * forwarder's per-recipient outcomes (under its key: `<entry>#<n>`, `x:<id>`; forwarder/journal.ts)
   * in the form of the in-memory history. Bounded (JOURNAL_ROWS each, the oldest); undefined
   * without a journal. A journal that fails is logged and show answers without it.
   */
  private async pastOf(id: string, item: QueueItem, ref: Ref): Promise<{ history: HistoryItem[]; actions: ActionItem[] } | undefined> {
    const j = this.journalSink ?? this.d.journal?.();
    if (j === undefined) return undefined;
    const key = ref.kind === 'live' ? item.place : ref.kind === 'extended' ? item.place
      : ref.kind === 'quarantine' ? ref.file : ref.kind === 'spool-file' ? ref.entry.id : ref.kind === 'held-file' ? ref.held.id : undefined;
    try {
      const own = await j.query({ id, limit: JOURNAL_ROWS });
      // A spool entry id finds its messages' events too (`<id>#<n>`): only this message's are kept.
      const events = key === undefined ? [] : (await j.query({ id: key.replace(/#\d+$/, ''), limit: JOURNAL_ROWS })).filter((e) => e.messageId === key || !key.includes('#'));
      return {
        actions: own.filter((e) => e.type.startsWith('queue.')).map((e) => ({ at: iso(e.at), action: e.type.slice('queue.'.length), operator: e.user ?? '', detail: e.detail ?? '' })),
        history: events.flatMap((e) => {
          // The in-memory history's form (lifecycle.ts logAttempt): per-recipient outcomes only.
          const status = OUTCOME_OF[e.type];
          const m = /^\S+ \w+(?: by (\S+))?: ([\s\S]*)$/.exec(e.detail ?? '');
          return status === undefined || e.to === undefined || m === null ? [] : [{ at: iso(e.at), recipient: e.to, status, reply: m[2]!, target: m[1] ?? null }];
        }),
      };
    } catch (e) {
      this.d.log.warn('queue.journal-unreadable', { qid: id, error: describeError(e) });
      return undefined;
    }
  }

  /**
   * The journal's history and operator actions of a message this node does not hold — one
   * released for long retry on the shared queue (cluster-queue.ts) — by its queue id and its key
   * (`<entry>#<n>`). undefined without a journal.
   */
  pastOfKey(id: string, key: string): Promise<{ history: HistoryItem[]; actions: ActionItem[] } | undefined> {
    return this.pastOf(id, { place: key } as QueueItem, { kind: 'extended' } as Ref);
  }

  /** Logs and journals an operator's action carried out elsewhere (on a row of the shared queue: cluster-queue.ts). */
  recordAction(action: string, id: string, who: Actor, detail: string): Promise<void> {
    return this.journal(action, id, who, detail);
  }

  /** Logs and journals an action; resolves once the journal has it (what `show` lists after a restart). */
  private async journal(action: string, id: string, who: Actor, detail: string): Promise<void> {
    this.d.log.event('queue.action', { action, qid: id, operator: who.operator, reason: who.reason, detail });
    const j = this.journalSink ?? this.d.journal?.();
    if (j === undefined) return;
    try {
      await j.record({ type: `queue.${action}`, messageId: id, user: who.operator, detail: `${detail}; by ${who.operator}: ${who.reason}` });
    } catch (e) {
      this.d.log.error('queue.journal', { qid: id, error: describeError(e) });
    }
  }

  act(id: string, action: QueueAction, who: Actor): Promise<Result<QueueItem | null, QueueError>> {
    return this.serial(() => this.actNow(id, action, who));
  }

  async actMatching(filter: QueueFilter, action: QueueAction, who: Actor): Promise<Result<{ done: number; refused: number; ids: string[] }, QueueError>> {
    return this.serial(async () => {
      const now = this.now();
      const found = (await this.collect(filter.states)).filter((f) => matches(f.item, filter, now) && !f.item.place.startsWith('held:') && f.item.state !== 'dead' && f.item.state !== 'quarantined');
      // A hold by filter (a flood) is one write of the hold list, not one per message.
      if (action === 'hold') {
        const ids = found.filter((f) => !this.d.holds.isHeld(f.item.id)).map((f) => f.item.id);
        const r = await this.d.holds.add(ids, { operator: who.operator, reason: who.reason, at: iso(this.d.clock.now()) });
        if (!r.ok) return err({ status: 409, error: r.error });
        await Promise.all(ids.map((id) => this.journal('hold', id, who, 'held (by filter)')));
        return ok({ done: ids.length, refused: found.length - ids.length, ids });
      }
      let done = 0;
      const ids: string[] = [];
      for (const f of found.slice(0, filter.limit)) {
        const r = await this.actNow(f.item.id, action, who);
        if (r.ok) { done++; ids.push(f.item.id); }
      }
      return ok({ done, refused: Math.min(found.length, filter.limit) - done, ids });
    });
  }

  private async actNow(id: string, action: QueueAction, who: Actor): Promise<Result<QueueItem | null, QueueError>> {
    const found = await this.find(id);
    if (!found.ok) return found;
    const { item, ref } = found.value;
    const conflict = (why: string): Result<never, QueueError> => err({ status: 409, error: `${id} is ${item.state}: ${why}` });
    const held = this.d.holds.isHeld(id);
    const after = async (): Promise<QueueItem | null> => { const x = await this.find(id); return x.ok ? x.value.item : null; };
    if (ref.kind === 'held-file') {
      if (action === 'release' || action === 'delete') {
        const r = await this.heldFileNow(ref.held, action === 'release' ? 'release' : 'purge', who);
        return r.ok ? ok(null) : r;
      }
      return conflict('a held spool file can be released (read again) or deleted (purged)');
    }
    if (ref.kind === 'dead') {
      if (action === 'delete') {
        await this.d.deadLetters.remove(ref.info.id);
        await this.journal('delete', id, who, `dead letter ${ref.info.id} deleted`);
        return ok(null);
      }
      if (action === 'retry' || action === 'release') {
        const r = await this.requeueNow(ref.info, who);
        return r.ok ? ok(null) : r;
      }
      return conflict('a dead letter can be requeued (retry) or deleted');
    }
    if (ref.kind === 'spool-file') return this.spoolFileNow(id, ref.entry, action, who, conflict);
    if (ref.kind === 'quarantine') return this.quarantineNow(id, ref.file, action, who, conflict);
    const stamp = { operator: who.operator, reason: who.reason, at: iso(this.d.clock.now()) };
    switch (action) {
      case 'hold': {
        if (held) return conflict('already held');
        const r = await this.d.holds.add([id], stamp);
        if (!r.ok) return err({ status: 409, error: r.error });
        await this.journal('hold', id, who, `held (was ${item.state})`);
        return ok(await after());
      }
      case 'release': {
        if (!held && !(ref.kind === 'live' && ref.entry.phase === 'held')) return conflict('not held');
        await this.d.holds.remove([id]);
        await this.journal('release', id, who, 'released: tried now');
        if (ref.kind === 'live') this.d.forwarder.lifecycle.operator(id, 'wake');
        else await this.retryExtended(ref.rec);
        return ok(await after());
      }
      case 'retry': {
        if (held) return conflict('held: release it (a release tries it at once)');
        if (ref.kind === 'live') {
          if (ref.entry.phase === 'sending') return conflict('being sent now');
          this.d.forwarder.lifecycle.operator(id, 'wake');
        } else {
          await this.retryExtended(ref.rec);
        }
        await this.journal('retry', id, who, `retried now (was ${item.state})`);
        return ok(await after());
      }
      case 'bounce': case 'delete': {
        const cmd: OperatorCommand = { action, operator: who.operator, reason: who.reason };
        if (ref.kind === 'live') {
          if (ref.entry.phase === 'sending') return conflict('being sent now: try again when the attempt has ended');
          const ended = this.d.forwarder.lifecycle.operator(id, cmd);
          if (ended === undefined) return err({ status: 404, error: `message ${id} left the queue meanwhile` });
          if ((await ended) === undefined) return err({ status: 503, error: `the instance is stopping: ${id} stays queued` });
        } else {
          const outcome = await this.d.forwarder.endExtended(await this.d.extended!.load(ref.rec), cmd);
          if (outcome === undefined) return err({ status: 503, error: `the instance is stopping: ${id} stays queued` });
        }
        if (held) await this.d.holds.remove([id]);
        await this.journal(action, id, who, action === 'bounce' ? 'made undeliverable: the sender is notified' : 'deleted: nobody is notified');
        return ok(null);
      }
    }
  }

  /**
   * A spool file no task has read yet (SUSPEND, every task busy), as Postfix's postsuper acts on
   * any queue file: hold moves it to held/ with the operator's reason (a held spool file, same
   * queue id; release reads it again), delete removes it. The forwarder gives it up first
   * (withholdFile), so no task starts it meanwhile. Retry and bounce work on messages, which an
   * unread file does not have yet: a 409 says what to do.
   */
  private async spoolFileNow(id: string, entry: SpoolEntry, action: QueueAction, who: Actor, conflict: (why: string) => Result<never, QueueError>): Promise<Result<QueueItem | null, QueueError>> {
    if (action === 'release') return conflict('not held (a spool file not read yet is read as soon as a spool task is free; RESUME if suspended)');
    if (action === 'retry') return conflict(`not read yet, so it has no messages to retry: it is read as soon as a spool task is free${this.d.forwarder.suspendMode !== 'none' ? ' (RESUME ends the SUSPEND)' : ''}; hold or delete work on the file now`);
    if (action === 'bounce') return conflict('not read yet, so it has no messages to bounce: hold it (then release it when its messages should go) or delete it; once read, its messages can be bounced');
    const arrival = this.d.arrival;
    if (arrival !== undefined) return arrival.exclusive(entry.id, () => this.spoolFileMove(id, entry, action, who, conflict));
    return this.spoolFileMove(id, entry, action, who, conflict);
  }

  private async spoolFileMove(id: string, entry: SpoolEntry, action: QueueAction, who: Actor, conflict: (why: string) => Result<never, QueueError>): Promise<Result<QueueItem | null, QueueError>> {
    const fwd = this.d.forwarder;
    if (!fwd.withholdFile(entry.id)) return conflict('a spool task started reading it just now: act on its messages (queue list --job)');
    let moved = false;
    try {
      if (action === 'hold') {
        const name = await this.d.held.hold({ entry, kind: entry.kind === 'message' ? 'message' : 'spool', attributes: attributesOf(entry) }, `held by ${who.operator} before it was read: ${who.reason}`, new Date(this.d.clock.now()));
        moved = true;
        await this.journal('hold', id, who, `spool file ${entry.id} held unread (held ${name})`);
        const after = await this.find(id);
        return ok(after.ok ? after.value.item : null);
      }
      // Still here? With a shared queue the file may have been stored (and removed from the
      // spool) by its arrival before the action began (exclusive waits for that arrival): then
      // it is not this node's to delete — a 404 sends the action on to the stored entry. No
      // arrival or task can take it between this look and the delete (exclusive, withholdFile);
      // deleteEntry itself takes a missing entry as already gone.
      await stat(join(this.d.spool.incoming, entry.id));
      await deleteEntry(this.d.spool, entry.id);
      moved = true;
      await this.journal('delete', id, who, `spool file ${entry.id} deleted unread: nobody is notified`);
      return ok(null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return err({ status: 404, error: `spool file ${entry.id} left the queue meanwhile` });
      return err({ status: 503, error: `${action} of spool file ${entry.id} failed: ${describeError(e)}` });
    } finally {
      fwd.returnFile(entry.id, moved);
    }
  }

  /**
   * Quarantined mail (the receiver's filter Keep): release sends it on to its recipients as the
   * receiver would have (receiver/release.ts: copies durable before the files go), bounce
   * refuses it with a notice to the sender, delete removes it. Hold and retry do not apply.
   */
  private async quarantineNow(id: string, file: string, action: QueueAction, who: Actor, conflict: (why: string) => Result<never, QueueError>): Promise<Result<QueueItem | null, QueueError>> {
    if (action === 'delete') {
      // The description first: the message leaves the queue's view at once (quarantine.ts).
      for (const s of ['.json', '.eml']) await rm(join(this.d.quarantine!, file + s), { force: true });
      await this.journal('delete', id, who, `quarantined message ${file} deleted: nobody is notified`);
      return ok(null);
    }
    if (action !== 'release' && action !== 'bounce') return conflict('quarantined mail can be released (sent on), bounced (the sender is notified) or deleted');
    const q = this.quarantineActions;
    if (q === undefined) return err({ status: 409, error: `${id} is quarantined: ${action} needs the receiver running (a Receiver block and the mailbox database); delete works without it` });
    const r = await q[action](file, who);
    if (!r.ok) return err({ status: r.error.status, error: `${id}: ${r.error.error}` });
    await this.journal(action, id, who, `quarantined message ${file} ${action === 'release' ? 'released' : 'bounced'}: ${r.value}`);
    return ok(null);
  }

  private async retryExtended(rec: MailDirectoryRecord): Promise<void> {
    await this.d.extended!.dueNow(rec.id, new Date(this.now()));
    // The attempt runs on its own; the answer does not wait for the target.
    void this.d.forwarder.retryExtendedNow().catch((e: unknown) => this.d.log.error('extended.failed', { error: describeError(e) }));
  }

  // ---- dead letters ----

  async deadLetters(): Promise<QueueItem[]> {
    return (await this.collect(['dead'])).map((f) => f.item);
  }

  private async deadLetter(id: string): Promise<Result<DeadLetterInfo, QueueError>> {
    const byFile = /^[0-9a-z]{20}$/.test(id);
    if (!byFile && !isQueueId(id)) return err({ status: 400, error: 'not a dead-letter id (20 letters and digits) or a queue id' });
    const letters = (await this.d.deadLetters.list()).letters;
    const info = letters.find((l) => (byFile ? l.id === id : deadQueueId(l) === id));
    return info === undefined ? err({ status: 404, error: `no dead letter ${id}` }) : ok(info);
  }

  requeue(id: string, who: Actor): Promise<Result<{ deadLetter: string; entry: string }, QueueError>> {
    return this.serial(async () => {
      const info = await this.deadLetter(id);
      return info.ok ? this.requeueNow(info.value, who) : info;
    });
  }

  private async requeueNow(info: DeadLetterInfo, who: Actor): Promise<Result<{ deadLetter: string; entry: string }, QueueError>> {
    const r = await this.d.deadLetters.read(info.id);
    if (!r.ok) return err({ status: 503, error: r.error.message });
    if (r.value.info.envelope.recipients.length === 0) return err({ status: 409, error: `dead letter ${info.id} has no recipients to send to` });
    // The entry is durable before the dead letter goes (a crash in between keeps both).
    const entry = await this.d.requeue({ envelope: r.value.info.envelope, data: r.value.data }, info.id, info.jobName);
    await this.d.deadLetters.remove(info.id);
    await this.journal('requeue', deadQueueId(info), who, `dead letter ${info.id} put back on the spool as entry ${entry.id}`);
    return ok({ deadLetter: info.id, entry: entry.id });
  }

  purgeDead(olderThanDays: number, who: Actor): Promise<Result<{ purged: number }, QueueError>> {
    return this.serial(async () => {
      if (!Number.isInteger(olderThanDays) || olderThanDays < 0 || olderThanDays > 3660) return err({ status: 400, error: 'olderThanDays must be a whole number 0-3660' });
      const cutoff = this.d.clock.now() - olderThanDays * 86_400_000;
      const purged = await this.d.deadLetters.prune(cutoff, Number.MAX_SAFE_INTEGER, 1000);
      await this.journal('purge', 'deadletters', who, `${purged} dead letters older than ${olderThanDays} days removed`);
      return ok({ purged });
    });
  }

  // ---- held spool files ----

  private heldView(h: HeldEntry): HeldFileItem {
    return { id: h.id, queueId: heldFileQueueId(h), heldAt: h.heldAt?.toISOString() ?? null, jobName: h.jobName ?? null, jobId: h.jobId ?? null, reason: h.reason, ...(h.node === undefined ? {} : { node: h.node }) };
  }

  async heldFiles(): Promise<HeldFileItem[]> {
    return (await this.d.held.list()).map((h) => this.heldView(h));
  }

  private async held(id: string): Promise<Result<HeldEntry, QueueError>> {
    if (id.length === 0 || id.length > 255 || id.startsWith('.') || /[/\\\0]/.test(id)) return err({ status: 400, error: 'not a spool entry name or queue id' });
    const all = await this.d.held.list();
    const h = all.find((x) => x.id === id || heldFileQueueId(x) === id);
    return h === undefined ? err({ status: 404, error: `no held spool file ${id.slice(0, 80)}` }) : ok(h);
  }

  async heldFile(id: string): Promise<Result<{ item: HeldFileItem; report: string }, QueueError>> {
    const h = await this.held(id);
    if (!h.ok) return h;
    return ok({ item: this.heldView(h.value), report: await this.problemReport(h.value) });
  }

  private problemReport(h: HeldEntry): Promise<string> {
    return this.d.held.report(h, MAX_BODY);
  }

  heldFileAction(id: string, action: 'release' | 'purge', who: Actor): Promise<Result<HeldFileItem, QueueError>> {
    return this.serial(async () => {
      const h = await this.held(id);
      return h.ok ? this.heldFileNow(h.value, action, who) : h;
    });
  }

  private async heldFileNow(h: HeldEntry, action: 'release' | 'purge', who: Actor): Promise<Result<HeldFileItem, QueueError>> {
    const r = action === 'release' ? await this.d.held.release(h.id) : await this.d.held.purge(h.id);
    if (!r.ok) return err({ status: 409, error: r.error });
    await this.journal(action === 'release' ? 'release' : 'purge', heldFileQueueId(h), who, `held spool file ${h.id}${h.node === undefined ? '' : ` (held by node ${h.node})`} ${action === 'release' ? 'released (read again)' : 'purged'}`);
    return ok(this.heldView(h));
  }
}

export { parseFilter };
