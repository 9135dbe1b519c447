// The client's contract with the forwarder: options in, outcomes out.
import type { SecureVersion } from 'node:tls';
import type { Clock } from '../../core/clock.js';
import type { Envelope, Recipient } from '../../core/envelope.js';
import type { SpoolgateError } from '../../core/errors.js';
import type { Reply } from '../protocol/reply.js';

/** Every timeout in milliseconds (the Timeout statement is in seconds; the caller multiplies). */
export interface ClientTimeouts {
  /** (ext) TCP connect. */
  readonly connect: number;
  /** InitialMsg: the 220 greeting. */
  readonly initialMsg: number;
  /** MAILCmd: reply to MAIL FROM. */
  readonly mailCmd: number;
  /** RCPTCmd: reply to each RCPT TO. */
  readonly rcptCmd: number;
  /** DATACmd: the 354 reply to DATA. */
  readonly dataCmd: number;
  /** DataBlock: each block of message data written (a socket write that does not drain in time). */
  readonly dataBlock: number;
  /** DataTerm: reply to the final dot. */
  readonly dataTerm: number;
  /** AnyCmd: EHLO/HELO/RSET/QUIT/STARTTLS (and the TLS handshake)/AUTH. */
  readonly anyCmd: number;
}

/** SPEC.md §2.1 Timeout defaults (seconds × 1000); connect is our extension. */
export const DEFAULT_TIMEOUTS: ClientTimeouts = {
  connect: 60_000,
  initialMsg: 300_000,
  mailCmd: 300_000,
  rcptCmd: 300_000,
  dataCmd: 120_000,
  dataBlock: 180_000,
  dataTerm: 600_000,
  anyCmd: 300_000,
};

export interface ClientTlsOptions {
  /** PEM file of the CAs that may sign the server's certificate; absent = Node's system CAs. */
  readonly caFile?: string;
  /** PEM CA certificates given directly (tests). Used together with caFile when both are set. */
  readonly ca?: string | Buffer;
  /** Name checked against the certificate and sent as SNI; default: the host when it is a name. */
  readonly servername?: string;
  readonly minVersion?: SecureVersion;
  /** Verify the certificate chain and name (default true, SPEC.md §10). */
  readonly rejectUnauthorized?: boolean;
}

export type TraceFn = (dir: 'C' | 'S', line: string) => void;

export interface ClientOptions {
  /** IPv4/IPv6 literal or host name. */
  readonly host: string;
  readonly port: number;
  /** SourceIP: bind the local side to this address. */
  readonly localAddress?: string;
  /** Our name in EHLO/HELO. */
  readonly heloName: string;
  readonly timeouts?: Partial<ClientTimeouts>;
  /** STARTTLS when the server offers it (default true). */
  readonly startTls?: boolean;
  readonly tls?: ClientTlsOptions;
  /** Options TLSEhlo: send EHLO again after TLS (default false; then the pre-TLS capabilities stay). */
  readonly tlsEhlo?: boolean;
  /** TargetServer Secure YES: every message on this target needs TLS. */
  readonly secure?: boolean;
  /** MessageSize: limit for servers that do not announce SIZE via ESMTP (default 524288). */
  readonly messageSize?: number;
  /** (ext) AuthUser/AuthPassword: AUTH PLAIN or LOGIN, only ever over TLS. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Pipeline MAIL/RCPT/DATA when offered (default true). */
  readonly pipelining?: boolean;
  readonly clock?: Clock;
  /** Protocol trace; never receives AUTH secrets or message bodies. */
  readonly trace?: TraceFn;
}

export interface OutboundMessage {
  readonly envelope: Envelope;
  /** Unstuffed message, CRLF line ends (bare CR/LF are normalised on the way out). */
  readonly data: Buffer;
  /**
   * Header fields sent ahead of `data` as part of the message (a DKIM-Signature), so the
   * message is not copied to put them on top. Counted in `size`.
   */
  readonly prefix?: Buffer;
  readonly size: number;
}

export type RecipientStatus = 'accepted' | 'transient' | 'permanent';

export interface RecipientOutcome {
  readonly recipient: Recipient;
  readonly status: RecipientStatus;
  /** The server's reply about this recipient, or a local one (reply.local) when the client decided. */
  readonly reply: Reply;
}

export interface MessageOutcome {
  /** sent = every recipient accepted; partial = some; otherwise transient if any recipient may be retried. */
  readonly status: 'sent' | 'partial' | 'transient' | 'permanent';
  readonly recipients: RecipientOutcome[];
  /** The reply that decided the message (final dot, DATA, MAIL, or a refusal). */
  readonly reply?: Reply;
  /** One line for logs and reports. */
  readonly detail: string;
  /** false after a transport failure, timeout, desync or 421: open a new connection. */
  readonly connectionUsable: boolean;
}

export type ConnectStage = 'connect' | 'greeting' | 'ehlo' | 'tls' | 'auth';

export interface ConnectFailure {
  readonly stage: ConnectStage;
  /** True only when the server answered 5xx (e.g. greeting 554); network trouble is transient. */
  readonly permanent: boolean;
  readonly reply?: Reply;
  readonly detail: string;
  readonly error?: SpoolgateError;
}
