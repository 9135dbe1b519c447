// The one port through which the gateway's own producers queue `message` entries (docs/flow.md):
// the receiver's relayed mail, DSNs and NOTIFY=SUCCESS notices, requeued dead letters, a
// quarantine release, the HTTP send API. Two implementations, chosen by the composition root
// (gateway.ts / cluster.ts); the producers do not know which:
//
// - LocalMessageQueue (Store Backend SQLite): an entry in this node's spool, written by the
//   group commit of enqueue.ts (EnqueueGroup: fsynced, renamed into incoming/, incoming/ fsynced).
// - StoreMessageQueue (Store Backend PostgreSQL, [P2]): an entry of the shared queue
//   (QueueStore.enqueueMessage: envelope.json's text in the attributes, the bytes in chunks, one
//   transaction, committed before enqueue() resolves), claimed and sent by any node.
//
// Both resolve only once the entry is durable: a 250 (or a tool's success) given after it means
// "stored". A producer that must never write an entry twice across a crash (a quarantine
// release, receiver/release.ts) passes `beforeRename` and `key`:
// - local: beforeRename records the id when the entry is complete in tmp/ and not yet visible;
//   a failure after that keeps tmp/<id>, and commit(id) renames it after a restart;
// - shared queue: the entry is keyed by `key` (QueueStore's arrivals row), beforeRename records
//   the id after the commit; a restart writing it again gets the same entry, commit(id) is a no-op.
//
// Errors of the shared queue (the database unreachable, a statement timeout) reject with
// QueueUnavailableError: the receiver answers 451 4.3.0 to it, and the next message tries again.
import { getuid } from 'node:process';
import { hostname } from 'node:os';
import { SpoolgateError, describeError } from '../core/errors.js';
import type { Envelope } from '../core/envelope.js';
import type { EntryAttributes, QueueStore } from '../store/queue-store.js';
import { EnqueueGroup, enqueueNotifications } from './enqueue.js';
import { MAX_ENTRY_PARTS, formatEnvelopeFile, parseEnvelopeFile, type MessageEnvelope, type MessageOrigin } from './message-entry.js';
import { commitStaged } from './submit.js';
import { jobNameFromFileName, userNameOf } from './attributes.js';

/** One of the gateway's own mails, as the producer hands it over. */
export interface OwnMail {
  readonly envelope: Envelope;
  /** The message exactly as it is to be sent. */
  readonly data: Buffer;
  readonly origin: MessageOrigin;
  /** Job name of the entry (RECEIVER, SGNOTIFY…); default: the gateway user's name, as for an entry it writes to the spool. */
  readonly jobName?: string;
  /** Records the entry's id before a crash could leave it unrecorded (see the header). */
  readonly beforeRename?: (id: string) => Promise<void>;
  /** With the shared queue: the entry is written at most once per node and key (see the header). */
  readonly key?: string;
}

export interface QueuedMail {
  /** The entry id: a local spool entry's name, or the name of an entry of the shared queue (a new spool entry id, as a local one). */
  readonly id: string;
  readonly jobId: string;
  readonly size: number;
}

export interface MessageQueue {
  /** Queues one message; resolves once the entry is durable. */
  enqueue(mail: OwnMail): Promise<QueuedMail>;
  /** Queues several notifications as ONE entry (notify-batch.ts); all durable, or none. */
  enqueueNotifications(mails: readonly { readonly envelope: Envelope; readonly data: Buffer }[]): Promise<QueuedMail>;
  /** Publishes an entry beforeRename recorded and a crash left unpublished; false: it was published. */
  commit(id: string): Promise<boolean>;
}

/** The shared queue could not store the entry (the database is unreachable, a timeout…). */
export class QueueUnavailableError extends SpoolgateError {
  constructor(cause: unknown) {
    super('ERR_QUEUE_UNAVAILABLE', `the shared queue cannot store mail now: ${describeError(cause)}`, { cause });
  }
}

/** Where a node's local entries go (read at each call: the configuration in force). */
export interface LocalTarget {
  readonly root: string;
  readonly writer: string;
  readonly hostName: string;
}

/** Backend SQLite: entries in this node's spool, concurrent ones sharing the publication's fsyncs. */
export class LocalMessageQueue implements MessageQueue {
  private readonly groups = new Map<string, EnqueueGroup>();

  constructor(private readonly target: () => LocalTarget) {}

  /** The group commit of the spool in force (one per spool root and writer). */
  group(): EnqueueGroup {
    const t = this.target();
    const key = `${t.root}\0${t.writer}`;
    let g = this.groups.get(key);
    if (g === undefined) this.groups.set(key, g = new EnqueueGroup({ root: t.root, writer: t.writer, hostName: t.hostName }));
    return g;
  }

  async enqueue(mail: OwnMail): Promise<QueuedMail> {
    const e = await this.group().enqueue({
      envelope: mail.envelope, data: mail.data, origin: mail.origin, ...(mail.jobName === undefined ? {} : { jobName: mail.jobName }),
      ...(mail.beforeRename === undefined ? {} : { beforeRename: mail.beforeRename }),
    });
    return { id: e.id, jobId: e.attrs.jobId, size: e.size };
  }

  async enqueueNotifications(mails: readonly { readonly envelope: Envelope; readonly data: Buffer }[]): Promise<QueuedMail> {
    const t = this.target();
    const e = await enqueueNotifications({ root: t.root, writer: t.writer, hostName: t.hostName, mails, jobName: 'SGNOTIFY' });
    return { id: e.id, jobId: e.attrs.jobId, size: e.size };
  }

  commit(id: string): Promise<boolean> {
    const t = this.target();
    return commitStaged(t.root, t.writer, id);
  }
}

/** The name of a shared-queue row stored before entries had names (store/queue-store.ts entryName). */
export const STORE_ENTRY_PREFIX = 'db-';

/** The job id of a shared-queue entry without one: from its entry id (as a local entry's is from its inode). */
export function storeJobId(entryId: string): string {
  return 'J' + (BigInt(entryId) % 10_000_000n).toString().padStart(7, '0');
}

/** The attribute holding envelope.json's text in a `message` entry of the shared queue. */
export const ENVELOPE_ATTRIBUTE = 'envelope';

/** The envelope of a shared-queue message entry, checked by envelope.json's own parser. */
export function envelopeOfAttributes(a: EntryAttributes): { ok: true; value: MessageEnvelope } | { ok: false; error: string } {
  const text = a[ENVELOPE_ATTRIBUTE];
  if (typeof text !== 'string') return { ok: false, error: 'message entry without an envelope attribute' };
  return parseEnvelopeFile(Buffer.from(text, 'utf8'));
}

/** Store Backend PostgreSQL: entries of the shared queue, sent by whichever node claims them. */
export class StoreMessageQueue implements MessageQueue {
  private userName: Promise<string> | undefined;

  constructor(private readonly store: QueueStore, private readonly target: () => { readonly writer: string; readonly hostName: string }, private readonly now: () => number = Date.now) {}

  private async write(message: MessageEnvelope, data: Buffer, jobName: string | undefined, key: string | undefined): Promise<QueuedMail> {
    const text = formatEnvelopeFile(message);
    // What we write must be what the reader accepts (as enqueue.ts checks envelope.json).
    const checked = parseEnvelopeFile(Buffer.from(text, 'utf8'));
    if (!checked.ok) throw new RangeError(`enqueueMessage: ${checked.error}`);
    const uid = getuid?.() ?? -1;
    this.userName ??= userNameOf(uid);
    const t = this.target();
    const attributes: EntryAttributes = {
      jobName: jobName?.toUpperCase() ?? jobNameFromFileName(await this.userName), originUser: await this.userName, originUid: uid, originNode: t.hostName || hostname(),
      taskType: 'DEST', created: message.receivedAt.toISOString(), [ENVELOPE_ATTRIBUTE]: text,
    };
    let stored: { id: string; name: string };
    try {
      // Named as a local entry would be (a new spool entry id, core/ids.ts): the receiver's 250,
      // the journal's "queued" event and the queue tools on every node know it by that name.
      stored = await this.store.enqueueMessage(t.writer, attributes, data, key === undefined ? {} : { key });
    } catch (e) {
      throw new QueueUnavailableError(e);
    }
    return { id: stored.name, jobId: storeJobId(stored.id), size: data.length };
  }

  async enqueue(mail: OwnMail): Promise<QueuedMail> {
    if (mail.envelope.recipients.length === 0) throw new RangeError('enqueueMessage: an envelope needs at least one recipient');
    const q = await this.write({ envelope: mail.envelope, origin: mail.origin, receivedAt: new Date(this.now()) }, mail.data, mail.jobName, mail.key);
    // Committed: a crash from here on is covered by the key (the same entry is found again).
    await mail.beforeRename?.(q.id);
    return q;
  }

  async enqueueNotifications(mails: readonly { readonly envelope: Envelope; readonly data: Buffer }[]): Promise<QueuedMail> {
    const [first, ...rest] = mails;
    if (first === undefined) throw new RangeError('enqueueNotifications: no mail');
    if (mails.length > MAX_ENTRY_PARTS) throw new RangeError(`enqueueNotifications: more than ${MAX_ENTRY_PARTS} mails`);
    const receivedAt = new Date(this.now());
    const origin = { kind: 'notification' } as const;
    if (rest.length === 0) return this.write({ envelope: first.envelope, origin, receivedAt }, first.data, 'SGNOTIFY', undefined);
    const parts = mails.map((m) => ({ envelope: m.envelope, octets: m.data.length }));
    return this.write({ envelope: first.envelope, origin, receivedAt, parts }, Buffer.concat(mails.map((m) => m.data)), 'SGNOTIFY', undefined);
  }

  /** An entry of the shared queue is visible from its commit on, before beforeRename ran. */
  commit(_id: string): Promise<boolean> {
    return Promise.resolve(false);
  }
}
