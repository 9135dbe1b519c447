// The interfaces the SMTP server needs from the rest of spoolgate (main.ts plugs in
// implementations: connection restrictions/DNSBL, local users and relay rules, the mailbox store
// or spool, user passwords), its options and its events.
import type { Clock } from '../../core/clock.js';
import type { Mailbox, ReversePath } from '../../core/address.js';
import type { Envelope, Recipient } from '../../core/envelope.js';
import type { LoginOutcome } from '../../core/login.js';
import type { ReplyCode } from '../protocol/codes.js';

/** A reply the server sends: a catalogue code and a fixed public text (never naming internals). */
export interface ServerReply {
  readonly code: ReplyCode;
  readonly text: string | readonly string[];
}

/** What policies know about the client. */
export interface SessionInfo {
  readonly sessionId: string;
  readonly clientIp: string;
  readonly clientPort: number;
  /** Name given in EHLO/HELO; '' before it. */
  readonly heloName: string;
  readonly esmtp: boolean;
  readonly tls: boolean;
  /** Authenticated user (RFC 4954), if any. */
  readonly authUser?: string;
}

/** Connection restrictions and DNS block lists (SPEC.md §5), asked once per connection. */
export interface ConnectionPolicy {
  check(remoteIp: string): Promise<{ ok: true } | { ok: false; reply: ServerReply; logReason: string }>;
}

/** The envelope as far as it is known when a RCPT arrives. */
export interface EnvelopeSoFar {
  readonly from: ReversePath;
  readonly recipients: readonly Recipient[];
}

export type RecipientDecision =
  | { readonly kind: 'accept' }
  | { readonly kind: 'reject'; readonly reply: ServerReply; readonly logReason?: string };

/**
 * Local domains (enrolled users, aliases) and relay restrictions (SPEC.md §5). A mailbox with
 * domain '' is the bare "<Postmaster>" of RFC 5321 §4.1.1.3.
 */
export interface RecipientPolicy {
  checkRecipient(session: SessionInfo, envelope: EnvelopeSoFar, mailbox: Mailbox): Promise<RecipientDecision> | RecipientDecision;
}

/**
 * Who may name which sender (MAIL FROM), asked at each MAIL command: e.g. an authenticated user
 * sends only as themself or one of their aliases (the receiver's SenderLoginMatch).
 */
export interface SenderPolicy {
  checkSender(session: SessionInfo, from: ReversePath): Promise<SenderDecision> | SenderDecision;
}

export type SenderDecision = RecipientDecision;

/** One message accepted at the final dot. */
export interface InboundMessage {
  readonly envelope: Envelope;
  /** The message as received (dot-unstuffed, CRLF), with our Received: header on top. */
  readonly data: Buffer;
  readonly sessionId: string;
  readonly clientIp: string;
  readonly heloName: string;
  readonly tls: boolean;
  readonly authUser?: string;
}

/**
 * Where accepted mail goes (mailbox store and/or the forwarder's spool). accept() must resolve
 * only when the message is durable: the server answers 250 after it resolves.
 */
export interface InboundSink {
  accept(message: InboundMessage): Promise<{ ok: true; id: string } | { ok: false; reply: ServerReply }>;
}

/**
 * RFC 4954 user/password check (AUTH PLAIN and LOGIN): the name as the client sent it, the
 * password and the client's address. core's Authenticator (canonical name, the throttle shared
 * with POP3) answers it; the outcome carries the canonical name the session is authenticated as.
 */
export interface AuthChecker {
  login(user: string, password: string, clientIp: string): Promise<LoginOutcome>;
}

/** VRFY when enabled (RFC 5321 §3.5.3): the reply for the given argument. */
export interface VrfyPolicy {
  verify(session: SessionInfo, argument: string): Promise<ServerReply>;
}

export interface ServerTls {
  /** PEM certificate chain and key (node:tls createSecureContext options). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface SmtpServerLimits {
  /** Octets; SIZE advertised and enforced (RFC 1870). 0 = unlimited. Default 10 MiB. */
  readonly maxMessageSize: number;
  /** RFC 5321 §4.5.3.1.8 requires at least 100. Default 100. */
  readonly maxRecipients: number;
  /** Concurrent connections in total (default 100) and per client IP (default 10). */
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /**
   * RFC 5321 §4.5.3.2.7: 5 minutes. A deadline: a command line must be complete within it from
   * the moment we wait for it; bytes that do not end the line do not extend it.
   */
  readonly commandTimeoutMs: number;
  /**
   * RFC 5321 §4.5.3.2.6 (data block): 3 minutes. A deadline per block of dataBlockOctets: the
   * minimum data rate is dataBlockOctets per dataTimeoutMs (Postfix's smtpd_min_data_rate).
   */
  readonly dataTimeoutMs: number;
  /** Octets of DATA that must arrive within each dataTimeoutMs. Default 64 KiB. */
  readonly dataBlockOctets: number;
  /** Unknown, malformed or out-of-sequence commands before 421 and close. Default 10. */
  readonly maxBadCommands: number;
  /** Failed AUTH attempts before 421 and close. Default 3. */
  readonly maxAuthFailures: number;
  /** Command line length in octets including CRLF (RFC 5321 §4.5.3.1.4: 512). */
  readonly maxLineLength: number;
  /**
   * Pause before the 220 greeting (Postfix postscreen_greet_wait), so a client that talks first
   * (RFC 5321 §4.3.1: the client waits for the greeting) is seen and refused with 554. Default 0
   * here; the receiver's Receiver GreetPause sets it.
   */
  readonly greetPauseMs: number;
}

export interface SmtpServerOptions {
  /** Our host name: greeting, EHLO reply and Received: headers. */
  readonly hostName: string;
  readonly clock: Clock;
  readonly sink: InboundSink;
  readonly recipientPolicy: RecipientPolicy;
  /** Asked at each MAIL command; none = every syntactically valid sender is taken. */
  readonly senderPolicy?: SenderPolicy;
  readonly connectionPolicy?: ConnectionPolicy;
  /** STARTTLS is offered only when tls is set; AUTH only when authChecker is set, and only over TLS. */
  readonly tls?: ServerTls;
  readonly authChecker?: AuthChecker;
  /** VRFY off (default, SPEC.md §5 privacy) answers 252; on asks this policy. */
  readonly vrfy?: VrfyPolicy;
  readonly limits?: Partial<SmtpServerLimits>;
  readonly onEvent?: (event: ServerEvent) => void;
  /** Session ids; default core/ids newId. */
  readonly newSessionId?: () => string;
}

export type ViolationKind = 'early-talker' | 'http' | 'too-many-bad-commands' | 'too-many-auth-failures' | 'line-too-long' | 'pipelined-after-starttls';

/** Lifecycle events for the operator log, the journal and tests (STYLE.md §5). No passwords, no bodies. */
export type ServerEvent =
  | { readonly kind: 'connect'; readonly sessionId: string; readonly clientIp: string }
  | { readonly kind: 'connection-refused'; readonly clientIp: string; readonly reason: string; readonly sessionId?: string }
  | { readonly kind: 'disconnect'; readonly sessionId: string; readonly clientIp: string; readonly messages: number }
  | { readonly kind: 'tls'; readonly sessionId: string; readonly protocol: string; readonly cipher: string }
  | { readonly kind: 'tls-failed'; readonly sessionId: string; readonly reason: string }
  | { readonly kind: 'auth'; readonly sessionId: string; readonly clientIp: string; readonly user: string; readonly ok: boolean; readonly reason?: string }
  | { readonly kind: 'violation'; readonly sessionId: string; readonly clientIp: string; readonly violation: ViolationKind; readonly detail: string }
  | { readonly kind: 'timeout'; readonly sessionId: string; readonly clientIp: string; readonly step: 'command' | 'data' }
  | { readonly kind: 'sender-rejected'; readonly sessionId: string; readonly from: string; readonly code: number; readonly reason: string }
  | { readonly kind: 'recipient-rejected'; readonly sessionId: string; readonly from: string; readonly recipient: string; readonly code: number; readonly reason: string }
  | { readonly kind: 'message-accepted'; readonly sessionId: string; readonly id: string; readonly from: string; readonly recipients: readonly string[]; readonly size: number }
  | { readonly kind: 'message-rejected'; readonly sessionId: string; readonly from: string; readonly recipients: readonly string[]; readonly size: number; readonly code: number; readonly reason: string }
  /** An injected policy or the sink threw; the client got 451 (or 421 at connect). */
  | { readonly kind: 'policy-error'; readonly sessionId: string; readonly what: 'connection' | 'sender' | 'recipient' | 'vrfy' | 'auth' | 'sink'; readonly detail: string }
  /** Protocol trace (LogLevel 32): commands and replies; AUTH data and DATA content are never included. */
  | { readonly kind: 'trace'; readonly sessionId: string; readonly direction: 'in' | 'out'; readonly line: string };

export const DEFAULT_LIMITS: SmtpServerLimits = {
  maxMessageSize: 10 * 1024 * 1024,
  maxRecipients: 100,
  maxConnections: 100,
  maxConnectionsPerIp: 10,
  commandTimeoutMs: 5 * 60_000,
  dataTimeoutMs: 3 * 60_000,
  dataBlockOctets: 64 * 1024,
  maxBadCommands: 10,
  maxAuthFailures: 3,
  maxLineLength: 512,
  greetPauseMs: 0,
};
