// receiver — the gateway's inbound SMTP role (SPEC.md §5): builds the policies and the sink that
// smtp/server needs and starts the listener on Receiver Listen.
// What it does: connection restrictions (DenyAddress ranges, DNSBL zones → 554 5.7.1), local
//   domains (enrolled users and aliases, else 550 5.1.1), sender identity for authenticated
//   sessions (SenderLoginMatch: MAIL FROM must be the user's own address or alias, else 553 5.7.1), the five relay restrictions (default
//   None: no open relay; authenticated sessions may relay; relay tricks always refused with
//   550 5.7.1), filters (originator, subject, attachment name, MIME type; Keep/Discard/dry run),
//   loop detection (more than MaxReceivedHeaders Received fields → 554 5.4.6 before the 250),
//   and the sink: local recipients → mailbox store, relay recipients → one spool entry.
// Standards: RFC 5321 §3.6 (relaying), §4.1.1.3 (Postmaster), §6.3 (loop detection), RFC 5782 (DNSBL query names),
//   RFC 2045/2046 (MIME parts), RFC 2047 (encoded words), RFC 2231 (parameter values).
// Untrusted input: client addresses, RCPT addresses, the message (headers and MIME structure,
//   parsed with bounds in mime.ts), DNS answers.
// Persists: mailbox messages (store), spool entries (spoolSubmit), quarantine copies
//   (<stateDirectory>/quarantine; the operator's release and bounce of them: release.ts, whose
//   cut-short releases are finished at start before listening), journal events. Every copy is durable before accept()
//   resolves and the server answers 250, so it is safe to crash at any time: mail not yet
//   acknowledged is the client's to retry. Journal codes: docs/receiver.md.
import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { Authenticator, DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../core/login.js';
import type { Resolver } from '../core/resolver.js';
import type { Envelope } from '../core/envelope.js';
import type { ReceiverCounters } from '../core/service-counters.js';
import type { Config, ReceiverConfig } from '../config/types.js';
import type { Logger } from '../log/index.js';
import { Codes } from '../smtp/protocol/codes.js';
import { SmtpServer, type ServerEvent, type SmtpServerLimits, type SmtpServerUpdate, type VrfyPolicy } from '../smtp/server/index.js';
import type { Journal, MailboxStore, UserDirectory } from '../store/types.js';
import { ReceiverConnectionPolicy } from './connection.js';
import { ReceiverJournal } from './journal.js';
import { Quarantine } from './quarantine.js';
import { ReceiverRecipientPolicy } from './recipients.js';
import { ReceiverSenderPolicy } from './senders.js';
import { ReceiverSink, type SpoolSubmit } from './sink.js';
import { QuarantineRelease, type QuarantineActions } from './release.js';

export { cidrContains, dnsblQueryName, ipBytes } from './cidr.js';
export { ReceiverConnectionPolicy, CONNECTION_REFUSED } from './connection.js';
export { evaluateFilters, filterOutcome, wildcardMatch, type FilterHit } from './filters.js';
export { JOURNAL_CODES, ReceiverJournal, type ReceiverJournalType } from './journal.js';
export { decodeWords, nameForms, parseStructured, readStructured, summarize, type MessageSummary, type MimePart } from './mime.js';
export { Quarantine } from './quarantine.js';
export { classifyRecipient, isNearDomain, relayAllowed, ReceiverRecipientPolicy, type RecipientClass } from './recipients.js';
export { ReceiverSenderPolicy, SENDER_NOT_OWNED } from './senders.js';
export { ReceiverSink, type SpoolSubmit } from './sink.js';
export { QuarantineRelease, type QuarantineActions, type QuarantineError } from './release.js';

export interface ReceiverOptions {
  /** The configuration at start; REFRESH hands later ones to Receiver.apply(). */
  config: Config;
  store: { users: UserDirectory; mailboxes: MailboxStore; journal: Journal };
  spoolSubmit: SpoolSubmit;
  /** Renames a relay entry a release staged before a crash into incoming/ (spool/submit.ts commitStaged). */
  spoolCommit?: (entryId: string) => Promise<boolean>;
  /** Fault injection (crash tests): after each durable step of a release (release.ts). */
  releaseStep?: (step: string) => Promise<void>;
  /** Queues a NOTIFY=SUCCESS "delivered" notice for local delivery (sink.ts); absent: none. */
  noticeSubmit?: (mail: { envelope: Envelope; data: Buffer }) => Promise<void>;
  resolver: Resolver;
  log: Logger;
  tls?: { cert: Buffer; key: Buffer };
  /** Default: the system clock. */
  clock?: Clock;
  /** The gateway's one Authenticator (shared with POP3); default: one of the receiver's own over store.users. */
  auth?: Authenticator;
  /** Overrides Receiver Listen (tests: 127.0.0.1 port 0). */
  listen?: readonly { host: string; port: number }[];
  /** Default `<stateDirectory>/quarantine`. */
  quarantineDir?: string;
  /** Counted here for /metrics (main.ts shares them with web); default: counted nowhere. */
  counters?: ReceiverCounters;
}

export interface Receiver {
  server: SmtpServer;
  close(): Promise<void>;
  addresses(): { host: string; port: number }[];
  /** The operator's release and bounce of quarantined mail (the queue service calls them). */
  quarantine: QuarantineActions;
  /**
   * REFRESH: the configuration to run with from now on (RefreshDiff.apply). When each part takes
   * the new values:
   * - DenyAddress, Dnsbl: the next connection;
   * - SenderLoginMatch: the next MAIL command;
   * - LocalDomain, RelayMode, NearDomain, RelayAddress: the next RCPT command (also in a session
   *   already open: a recipient is judged by the rules in force when it is named);
   * - Filter, MaxReceivedHeaders: the next message (read at its final dot);
   * - HostName, the limits (MaxMessageSize, MaxRecipients, timeouts, MaxBadCommands) and Vrfy:
   *   the next connection; a session already open finishes with the values it started with;
   * - MaxConnections, MaxConnectionsPerIP: the next connection attempt (none is cut).
   * Listen, TlsCert and TlsKey are not refreshable (config/refresh.ts keeps the old values).
   */
  apply(next: Config): void;
}

function limitsOf(r: ReceiverConfig): Partial<SmtpServerLimits> {
  return {
    maxMessageSize: r.maxMessageSize,
    maxRecipients: r.maxRecipients,
    maxConnections: r.maxConnections,
    maxConnectionsPerIp: r.maxConnectionsPerIp,
    commandTimeoutMs: r.commandTimeout * 1000,
    dataTimeoutMs: r.dataTimeout * 1000,
    maxBadCommands: r.maxBadCommands,
    greetPauseMs: r.greetPause,
  };
}

/** The operator log lines for the server's lifecycle events (never bodies or passwords). */
/** The receiver's counters for one server event (connections, accepted mail, 4xx/5xx replies). */
function countEvent(c: ReceiverCounters, e: ServerEvent): void {
  // A session starts with 'connect'; the listener refuses over its limits before any session.
  if (e.kind === 'connect' || (e.kind === 'connection-refused' && e.sessionId === undefined)) c.connections++;
  else if (e.kind === 'message-accepted') c.accepted++;
  else if (e.kind === 'trace' && e.direction === 'out') {
    // RFC 5321 §4.2.1: the last line of a reply has a space after the code ("550 ...", not "550-...").
    const m = /^([45])\d\d(?: |$)/.exec(e.line);
    if (m?.[1] === '4') c.replies4xx++;
    else if (m?.[1] === '5') c.replies5xx++;
  }
}

function logEvent(log: Logger, e: ServerEvent): void {
  switch (e.kind) {
    case 'trace': log.network('smtp.trace', { session: e.sessionId, dir: e.direction, line: e.line }); return;
    case 'connect': log.info('smtp.connect', { session: e.sessionId, ip: e.clientIp }); return;
    case 'disconnect': log.info('smtp.disconnect', { session: e.sessionId, ip: e.clientIp, messages: e.messages }); return;
    case 'connection-refused': log.warn('smtp.connection-refused', { ip: e.clientIp, reason: e.reason }); return;
    case 'message-accepted': log.event('smtp.message-accepted', { session: e.sessionId, id: e.id, from: e.from, recipients: e.recipients.join(','), size: e.size }); return;
    case 'message-rejected': log.warn('smtp.message-rejected', { session: e.sessionId, from: e.from, code: e.code, reason: e.reason }); return;
    case 'sender-rejected': log.warn('smtp.sender-rejected', { session: e.sessionId, from: e.from, code: e.code, reason: e.reason }); return;
    case 'recipient-rejected': log.info('smtp.recipient-rejected', { session: e.sessionId, from: e.from, to: e.recipient, code: e.code, reason: e.reason }); return;
    case 'policy-error': log.error('smtp.policy-error', { session: e.sessionId, what: e.what, detail: e.detail }); return;
    case 'violation': log.warn('smtp.violation', { session: e.sessionId, ip: e.clientIp, violation: e.violation, detail: e.detail }); return;
    case 'timeout': log.info('smtp.timeout', { session: e.sessionId, ip: e.clientIp, step: e.step }); return;
    case 'tls': log.info('smtp.tls', { session: e.sessionId, protocol: e.protocol, cipher: e.cipher }); return;
    case 'tls-failed': log.warn('smtp.tls-failed', { session: e.sessionId, reason: e.reason }); return;
    case 'auth':
      // A failed login is a warning in one form for SMTP, POP3 and HTTP (fail2ban reads it:
      // examples/fail2ban/spoolgate.conf): auth.failed service=... ip=... first, then the rest.
      if (!e.ok) log.warn('auth.failed', { service: 'smtp', ip: e.clientIp, session: e.sessionId, user: e.user, reason: e.reason ?? 'invalid' });
      else log.info('smtp.auth', { session: e.sessionId, ip: e.clientIp, user: e.user, ok: e.ok });
      return;
  }
}

/** Builds the receiver's policies and sink and starts the SMTP server on Receiver Listen. */
export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const initial = opts.config.receiver;
  if (initial === null) throw new Error('startReceiver: the configuration has no Receiver block');
  // The configuration in force; every policy reads it at the moment of use (STYLE.md §8).
  let current = { receiver: initial, filters: opts.config.filters, maxReceivedHeaders: opts.config.maxReceivedHeaders };
  const rc = (): ReceiverConfig => current.receiver;
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const counters = opts.counters;
  const journal = new ReceiverJournal(opts.store.journal, log);
  const users = opts.store.users;
  const auth = opts.auth ?? new Authenticator(users, new LoginThrottle(clock, DEFAULT_LOGIN_THROTTLE), clock);
  const resolveUser = (a: string): Promise<string | undefined> => users.resolve(a);

  const recipientPolicy = new ReceiverRecipientPolicy(rc, resolveUser, {
    relayRefused(session, from, to, why) {
      if (counters !== undefined) counters.relayRefused++;
      log.warn('receiver.relay-refused', { session: session.sessionId, ip: session.clientIp, from, to, reason: why });
      // eslint-disable-next-line no-restricted-syntax -- ReceiverJournal.record() catches and logs
      void journal.record('relay-refused', { from, to, ip: session.clientIp, detail: `RELAY REFUSED ${session.clientIp}: ${why}` });
    },
  });
  const connectionPolicy = new ReceiverConnectionPolicy(rc, opts.resolver, clock, {
    refused(ip, reason, cause) {
      if (counters !== undefined && cause === 'dnsbl') counters.dnsblHits++;
      log.warn('receiver.connection-refused', { ip, reason });
      // eslint-disable-next-line no-restricted-syntax -- ReceiverJournal.record() catches and logs
      void journal.record('connection-refused', { ip, detail: `CONNECTION REFUSED ${ip}: ${reason}` });
    },
    lookupFailed(ip, zone, detail) {
      log.warn('receiver.dnsbl-failed', { ip, zone, detail });
    },
  });
  const quarantine = new Quarantine(opts.quarantineDir ?? join(opts.config.stateDirectory, 'quarantine'));
  const sink = new ReceiverSink({
    clock, log, journal, mailboxes: opts.store.mailboxes, resolveUser,
    classify: (mb) => recipientPolicy.classify(mb),
    spoolSubmit: opts.spoolSubmit,
    ...(opts.spoolCommit === undefined ? {} : { spoolCommit: opts.spoolCommit }),
    ...(opts.noticeSubmit === undefined ? {} : { noticeSubmit: opts.noticeSubmit, reportingMta: () => current.receiver.hostName }),
    filters: () => current.filters,
    maxReceivedHeaders: () => current.maxReceivedHeaders,
    ...(counters !== undefined ? { onFiltered: () => { counters.filtered++; } } : {}),
    quarantine,
  });
  const releases = new QuarantineRelease({
    quarantine, sink, log, clock, reportingMta: () => current.receiver.hostName,
    ...(opts.noticeSubmit === undefined ? {} : { noticeSubmit: opts.noticeSubmit }),
    ...(opts.releaseStep === undefined ? {} : { afterStep: opts.releaseStep }),
  });
  // A release a crash cut short is finished before new mail comes in (release.ts).
  await releases.recover();
  // RFC 5321 §3.5.3: with Vrfy YES, VRFY answers for local users only; nothing about relay.
  const vrfy: VrfyPolicy = {
    async verify(_s, arg) {
      const a = arg.replace(/^<|>$/g, '').trim();
      const m = /^(.+)@([^@]+)$/.exec(a);
      const c = m === null ? undefined : recipientPolicy.classify({ local: m[1]!, domain: m[2]! });
      const user = c?.kind === 'local' ? await resolveUser(c.lookup) : undefined;
      return user === undefined ? { code: Codes.C550MailboxUnavailable, text: 'no such user here' } : { code: Codes.C250Ok, text: `<${a}>` };
    },
  };
  const serverSettings = (r: ReceiverConfig): SmtpServerUpdate => ({ hostName: r.hostName, limits: limitsOf(r), ...(r.vrfy ? { vrfy } : {}) });

  const server = new SmtpServer({
    ...serverSettings(initial),
    clock,
    sink,
    recipientPolicy,
    // SenderLoginMatch: an authenticated user sends only as themself or an alias (senders.ts).
    senderPolicy: new ReceiverSenderPolicy(rc, (mb) => recipientPolicy.classify(mb), resolveUser),
    connectionPolicy,
    ...(opts.tls ? { tls: opts.tls } : {}),
    // RFC 4954: AUTH is offered only over TLS (the server enforces it); a good login may relay.
    // 'submit': only an active account may authenticate (a removed user neither sends nor relays).
    ...(opts.tls ? { authChecker: { login: (u: string, p: string, ip: string) => auth.login(u, p, ip, 'submit') } } : {}),
    onEvent: (e) => { if (counters !== undefined) countEvent(counters, e); logEvent(log, e); },
  });
  const bound = await server.listen(opts.listen ?? initial.listen);
  log.event('receiver.started', { addresses: bound.map((a) => `${a.host}:${a.port}`).join(','), relayMode: initial.relayMode });
  return {
    server,
    close: () => server.close(),
    addresses: () => bound.map((a) => ({ host: a.host, port: a.port })),
    quarantine: releases,
    apply: (next) => {
      // Turning the receiver off needs a restart (refresh.ts keeps the block); never run without one.
      if (next.receiver === null) return;
      current = { receiver: next.receiver, filters: next.filters, maxReceivedHeaders: next.maxReceivedHeaders };
      server.apply(serverSettings(next.receiver));
    },
  };
}
