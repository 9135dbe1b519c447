// The receiver's InboundSink: filters, then local delivery into the mailbox store and relay onto
// the forwarder's spool. accept() resolves only after every copy is durable (SPEC.md §5), so the
// server's 250 means "stored". A failure before that answers 451 and the client retries; a
// retry after a partial failure (one mailbox written, the next failed) can duplicate a copy,
// never lose one.
import { formatMailbox, formatPath } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import type { Envelope, Recipient } from '../core/envelope.js';
import { newId } from '../core/ids.js';
import type { FilterRule } from '../config/types.js';
import type { Logger } from '../log/index.js';
import type { MailboxStore } from '../store/types.js';
import type { InboundMessage, InboundSink, ServerReply } from '../smtp/server/types.js';
import { Codes } from '../smtp/protocol/codes.js';
import { overHopLimit } from '../spool/headers.js';
import { buildDsn } from '../notify/index.js';
import { describeError } from '../core/errors.js';
import { envelopeToJson } from '../core/envelope-json.js';
import { err, ok, type Result } from '../core/result.js';
import { evaluateFilters, filterOutcome } from './filters.js';
import type { ReceiverJournal } from './journal.js';

type JournalEvent = Parameters<ReceiverJournal['record']>;
import type { Quarantine, QuarantinedMail } from './quarantine.js';
import type { RecipientClass } from './recipients.js';

/** Who handed a relayed message to the receiver (kept in the message spool entry's origin). */
export interface RelayOrigin {
  readonly client: string;
  readonly helo: string;
  readonly auth: string | null;
  readonly tls: boolean;
  readonly session: string;
}

/**
 * Queues relayed mail (raw bytes as accepted, envelope as accepted); resolves with the entry id
 * once durable. beforeRename (a release, release.ts): called with the entry id once the entry is
 * complete and durable in tmp/, before it is renamed into incoming/ (spool/submit.ts); with the
 * shared queue ([P2]) once it is committed, `key` making a second write after a crash find it
 * (spool/message-queue.ts). A rejection with code ERR_QUEUE_UNAVAILABLE (the shared queue's
 * database unreachable) is answered 451 4.3.0 with a text saying so.
 */
export type SpoolSubmit = (mail: { envelope: Envelope; data: Buffer; origin: RelayOrigin; beforeRename?: (entryId: string) => Promise<void>; key?: string }) => Promise<string>;

/** Recipients sorted: mailbox user -> the addresses that led to them; relay and local recipients. */
interface Sorted {
  readonly users: Map<string, string[]>;
  readonly relay: Recipient[];
  readonly local: Recipient[];
}

/** The copies of a release already made (quarantine.ts ReleaseMarker); save() records them durably. */
export interface CopyProgress {
  readonly users: string[];
  noticed: boolean;
  entry: string | null;
  save(): Promise<void>;
}

export interface SinkDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly journal: ReceiverJournal;
  readonly mailboxes: MailboxStore;
  readonly resolveUser: (address: string) => Promise<string | undefined>;
  readonly classify: (r: Recipient['mailbox']) => RecipientClass;
  readonly spoolSubmit: SpoolSubmit;
  /** Renames an entry staged by a release cut short by a crash into incoming/ (spool/submit.ts commitStaged). */
  readonly spoolCommit?: (entryId: string) => Promise<boolean>;
  /** The Filter rules in force, read once per message (REFRESH applies to the next message). */
  readonly filters: () => readonly FilterRule[];
  readonly quarantine: Quarantine;
  /** A message a Filter rule stopped (not a dry run): counted in /metrics. */
  readonly onFiltered?: () => void;
  /** MaxReceivedHeaders in force, read once per message. */
  readonly maxReceivedHeaders: () => number;
  /**
   * Queues a notice the gateway owes a sender (RFC 3461 NOTIFY=SUCCESS: "delivered" for a local
   * mailbox); resolves once durable. Absent: no notices. `reportingMta` names us in it.
   */
  readonly noticeSubmit?: (mail: { envelope: Envelope; data: Buffer }) => Promise<void>;
  readonly reportingMta?: () => string;
}

const LOCAL_ERROR: ServerReply = { code: Codes.C451LocalError, text: 'local error in processing' };
/** The shared queue ([P2]) cannot store the relay copy now: the client tries again later. */
const QUEUE_UNAVAILABLE: ServerReply = { code: Codes.C451LocalError, text: 'mail queue unavailable (database unreachable), try again later' };
const TOO_MANY_HOPS: ServerReply = { code: Codes.C554TooManyHops, text: 'too many hops, mail loop?' };

export class ReceiverSink implements InboundSink {
  constructor(private readonly d: SinkDeps) {}

  async accept(m: InboundMessage): Promise<{ ok: true; id: string } | { ok: false; reply: ServerReply }> {
    const id = newId(this.d.clock.now());
    const from = m.envelope.from.kind === 'null' ? '' : formatMailbox(m.envelope.from.mailbox);
    const size = m.data.length;

    // RFC 5321 §6.3: a message that has passed through too many hops is in a loop; refuse it
    // before anything is stored (so the 250 is never given). m.data has the server's own
    // Received field on top (InboundMessage.data), which does not count: a message that came
    // with MaxReceivedHeaders fields passes, one more is refused. Counting stops above the limit.
    const limit = this.d.maxReceivedHeaders();
    if (overHopLimit(m.data, limit)) {
      this.d.log.warn('receiver.too-many-hops', { id, session: m.sessionId, ip: m.clientIp, from, limit });
      return { ok: false, reply: TOO_MANY_HOPS };
    }

    // Recipients were checked at RCPT; sort them again into mailbox users and relay recipients.
    const sorted = await this.sort(id, m.envelope);
    if (!sorted.ok) return { ok: false, reply: LOCAL_ERROR };
    const relay = sorted.value.relay;
    // The journal events of this message are recorded together at the end (one commit, shared
    // with the other sessions of that turn), in the order they happened; accept() still resolves
    // only after they are committed, also when storing failed.
    const events: JournalEvent[] = [];
    for (const r of m.envelope.recipients) {
      const relayed = relay.includes(r);
      events.push([relayed ? 'received-relay' : 'received', {
        messageId: id, from, to: formatMailbox(r.mailbox), ip: m.clientIp,
        detail: `${relayed ? 'relayed' : 'local'} mail from ${formatPath(m.envelope.from)} size ${size} session ${m.sessionId}`,
      }]);
    }
    try {
      return await this.store(id, m, from, sorted.value, events);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ERR_QUEUE_UNAVAILABLE') throw e;
      // Nothing was given a 250: the client keeps the message and tries again (RFC 5321 §4.5.4.1).
      this.d.log.warn('receiver.queue-unavailable', { id, session: m.sessionId, ip: m.clientIp, from, error: describeError(e) });
      return { ok: false, reply: QUEUE_UNAVAILABLE };
    } finally {
      await Promise.all(events.map((e) => this.d.journal.record(...e)));
    }
  }

  private async store(id: string, m: InboundMessage, from: string, sorted: Sorted, events: JournalEvent[]): Promise<{ ok: true; id: string }> {

    // Filters look at the message as the client sent it, before anything is stored.
    const hits = evaluateFilters(this.d.filters(), m.envelope.from, m.data);
    const outcome = filterOutcome(hits);
    if (outcome === 'keep') {
      const path = await this.d.quarantine.keep(id, m.data, {
        id, from: formatPath(m.envelope.from), recipients: m.envelope.recipients.map((r) => formatMailbox(r.mailbox)),
        clientIp: m.clientIp, heloName: m.heloName, received: new Date(this.d.clock.now()).toISOString(),
        // What a release needs to send it on as accepted (release.ts): the whole envelope and the relay origin.
        envelope: envelopeToJson(m.envelope), session: m.sessionId, tls: m.tls, ...(m.authUser === undefined ? {} : { auth: m.authUser }),
        rules: hits.map((h) => ({ match: h.rule.match, pattern: h.rule.pattern, action: h.rule.action, dryRun: h.rule.dryRun, value: h.value, unchecked: h.unchecked === true })),
      });
      this.d.log.event('receiver.quarantined', { id, from, path });
    }
    for (const h of hits) {
      const what = h.rule.dryRun ? 'dry run, delivered' : outcome === 'keep' ? 'kept in quarantine, not delivered' : 'discarded';
      events.push(['filtered', { messageId: id, from, ip: m.clientIp, detail: `rejected by filtering: ${h.rule.match} "${h.rule.pattern}" ${h.unchecked === true ? 'not checked' : 'matched'} "${h.value}": ${what}` }]);
      this.d.log.event('receiver.filtered', { id, from, match: h.rule.match, pattern: h.rule.pattern, action: h.rule.action, dryRun: h.rule.dryRun, unchecked: h.unchecked === true });
    }
    if (outcome !== 'deliver') {
      this.d.onFiltered?.();
      return { ok: true, id };
    }

    await this.copies(id, m, sorted, undefined, events);
    return { ok: true, id };
  }

  /** The recipients sorted into mailbox users and relay recipients; a local one whose user is gone is an error. */
  private async sort(id: string, envelope: Envelope): Promise<Result<Sorted, string>> {
    const users = new Map<string, string[]>();
    const relay: Recipient[] = [];
    const local: Recipient[] = [];
    for (const r of envelope.recipients) {
      const c = this.d.classify(r.mailbox);
      if (c.kind === 'relay') { relay.push(r); continue; }
      const user = c.kind === 'local' ? await this.d.resolveUser(c.lookup) : undefined;
      if (user === undefined) {
        // The user was removed between RCPT and the final dot (or the policy changed).
        this.d.log.warn('receiver.recipient-vanished', { id, to: formatMailbox(r.mailbox) });
        return err(`${formatMailbox(r.mailbox)} is neither a local user nor a relay recipient any more`);
      }
      users.set(user, [...(users.get(user) ?? []), formatMailbox(r.mailbox)]);
      local.push(r);
    }
    return ok({ users, relay, local });
  }

  /**
   * The copies of an accepted message: one per mailbox user, the NOTIFY=SUCCESS notice, one spool
   * entry for the relay recipients. With `progress` (a release, release.ts) the copies already
   * made are skipped, and each new one is recorded durably as soon as it is made.
   */
  private async copies(id: string, m: InboundMessage, sorted: Sorted, progress?: CopyProgress, events?: JournalEvent[]): Promise<string> {
    // accept() records its events in one commit at the end; a release records each as it happens.
    const record = async (...e: JournalEvent): Promise<void> => { if (events !== undefined) events.push(e); else await this.d.journal.record(...e); };
    const from = m.envelope.from.kind === 'null' ? '' : formatMailbox(m.envelope.from.mailbox);
    const done: string[] = [];
    // Local copies: one per mailbox user, however many addresses led to that user.
    for (const [user, addrs] of sorted.users) {
      if (progress?.users.includes(user) === true) continue;
      const stored = await this.d.mailboxes.deliver(user, m.data);
      if (progress !== undefined) { progress.users.push(user); await progress.save(); }
      done.push(`mailbox of ${user}`);
      for (const to of addrs) {
        await record('delivered', { messageId: id, from, to, user, detail: `delivered to mailbox of ${user} as ${stored.id} size ${stored.size}` });
      }
    }
    if (progress?.noticed !== true) {
      await this.successNotice(id, m, sorted.local);
      if (progress !== undefined) { progress.noticed = true; await progress.save(); }
    }
    // Relay copies: one spool entry with only the relay recipients, DSN fields kept.
    if (sorted.relay.length > 0) {
      let entry: string;
      if (progress !== undefined && progress.entry !== null) {
        // Staged before a crash: renamed into incoming/ now, or it was already (never written twice).
        if (this.d.spoolCommit === undefined) throw new Error(`relay copy ${progress.entry} is staged, but the sink has no spoolCommit`);
        await this.d.spoolCommit(progress.entry);
        entry = progress.entry;
      } else {
        const envelope: Envelope = { ...m.envelope, recipients: sorted.relay };
        entry = await this.d.spoolSubmit({
          envelope, data: m.data,
          origin: { client: m.clientIp, helo: m.heloName, auth: m.authUser ?? null, tls: m.tls, session: m.sessionId },
          ...(progress === undefined ? {} : { key: `release:${id}`, beforeRename: async (entryId: string) => { progress.entry = entryId; await progress.save(); } }),
        });
      }
      done.push(`spool entry ${entry}`);
      for (const r of sorted.relay) {
        await record('queued', { messageId: id, from, to: formatMailbox(r.mailbox), detail: `queued for relay as spool entry ${entry}` });
      }
    }
    return done.join(', ');
  }

  /**
   * A kept message sent on (release.ts): its recipients sorted by the rules in force now, then
   * the same copies accept() makes. Resolves with what was made once every copy is durable.
   */
  async deliverKept(mail: QuarantinedMail, progress: CopyProgress): Promise<Result<string, string>> {
    const sorted = await this.sort(mail.id, mail.envelope);
    if (!sorted.ok) return sorted;
    const m: InboundMessage = {
      envelope: mail.envelope, data: mail.data, sessionId: mail.sessionId, clientIp: mail.clientIp, heloName: mail.heloName, tls: mail.tls,
      ...(mail.authUser === undefined ? {} : { authUser: mail.authUser }),
    };
    return ok(await this.copies(mail.id, m, sorted.value, progress));
  }

  /**
   * RFC 3461 §5.2.3 (local delivery) / RFC 3464 §2.3.3: a recipient that asked NOTIFY=SUCCESS and was put into a
   * local mailbox gets the sender a "delivered" notice (buildDsn keeps only those that asked, and
   * none for a notification). A notice that cannot be queued is logged; the mail is stored.
   */
  private async successNotice(id: string, m: InboundMessage, local: readonly Recipient[]): Promise<void> {
    if (this.d.noticeSubmit === undefined || !local.some((r) => r.notify?.kind === 'on' && r.notify.success)) return;
    const now = new Date(this.d.clock.now());
    const dsn = buildDsn({
      original: { envelope: m.envelope, data: m.data, arrival: now },
      recipients: local.map((recipient) => ({ recipient, action: 'delivered' as const, status: '2.0.0' })),
      reportingMta: this.d.reportingMta?.() ?? 'localhost', now,
    });
    if (dsn === null) return;
    try {
      await this.d.noticeSubmit(dsn);
      this.d.log.event('receiver.delivered-notice', { id, recipients: local.filter((r) => r.notify?.kind === 'on' && r.notify.success).length });
    } catch (e) {
      this.d.log.error('receiver.delivered-notice-failed', { id, error: describeError(e) });
    }
  }
}
