// The forwarder's view of delivery: it depends on these interfaces, not on socket code, so it can
// be tested with fakes (STYLE.md §2). smtp-connector.ts adapts src/smtp/client to them.
import type { Envelope, Recipient, Result } from '../core/index.js';

export interface ReplyInfo {
  readonly code: number;
  readonly enhanced?: string;
  readonly text: string;
}

export type RecipientStatus = 'accepted' | 'transient' | 'permanent';

export interface RecipientOutcome {
  readonly recipient: Recipient;
  readonly status: RecipientStatus;
  readonly reply: ReplyInfo;
}

export interface MessageOutcome {
  readonly status: 'sent' | 'partial' | 'transient' | 'permanent';
  readonly recipients: readonly RecipientOutcome[];
  readonly reply?: ReplyInfo;
  readonly detail: string;
  /** false after a timeout, desync or socket error: the connection must be dropped. */
  readonly connectionUsable: boolean;
  /**
   * With connectionUsable false: the target stopped answering (a reply timed out) or the
   * connection closed. Undefined = closed.
   */
  readonly lost?: 'timeout' | 'closed';
}

export interface OutboundMessage {
  readonly envelope: Envelope;
  readonly data: Buffer;
  /** Header fields sent on top of `data` (the DKIM-Signature, dkim.ts); counted in size. */
  readonly prefix?: Buffer;
  readonly size: number;
}

export interface LearnedCapabilities {
  readonly esmtp: boolean;
  /** SIZE from EHLO; 0 = offered without limit; undefined = not offered. */
  readonly size: number | undefined;
  readonly startTls: boolean;
  readonly pipelining: boolean;
  readonly eightBitMime: boolean;
  readonly auth: readonly string[];
  /** RFC 3461 DSN offered (then NOTIFY, ORCPT, RET and ENVID are passed on). */
  readonly dsn?: boolean;
}

export interface DeliveryConnection {
  readonly tls: boolean;
  readonly capabilities: LearnedCapabilities;
  readonly broken: boolean;
  send(m: OutboundMessage): Promise<MessageOutcome>;
  quit(): Promise<void>;
  destroy(): void;
}

export interface ConnectFailure {
  readonly detail: string;
  /** Capabilities learned before the failure (e.g. STARTTLS not offered). */
  readonly capabilities?: LearnedCapabilities;
  /** The target cannot ever satisfy this request (e.g. TLS required but STARTTLS not offered). */
  readonly reason: 'connect' | 'greeting' | 'tls-unavailable' | 'tls-failed' | 'auth' | 'protocol';
}

export interface Connector {
  connect(target: TargetAddress, opts: { readonly tls: boolean }): Promise<Result<DeliveryConnection, ConnectFailure>>;
}

/**
 * A secret configuration value (AuthPassword). The forwarder compares it and hands it to the SMTP
 * client; nothing else sees it. JSON, util.inspect, template strings and String() all give the
 * placeholder, so a target object that lands in a log record, a display or an HTTP answer by
 * accident never carries the password.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The value itself: only for the wire (AUTH). */
  reveal(): string {
    return this.#value;
  }
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }
  toJSON(): string {
    return Secret.PLACEHOLDER;
  }
  toString(): string {
    return Secret.PLACEHOLDER;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return Secret.PLACEHOLDER;
  }
  static readonly PLACEHOLDER = '(hidden)';
}

/** TlsCaFile, TlsServerName, TlsMinVersion, TlsVerify of one TargetServer statement. */
export interface TargetTlsSettings {
  /** PEM file of the CAs that may sign the server's certificate; null = Node's system CAs. */
  readonly caFile: string | null;
  /** Name checked against the certificate and sent as SNI; null = the address. */
  readonly servername: string | null;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Verify the certificate chain and name. */
  readonly verify: boolean;
}

/** AuthUser/AuthPassword: only ever sent over TLS. */
export interface TargetAuth {
  readonly user: string;
  readonly password: Secret;
}

/** (ext) The rate parameters of one TargetServer statement (rate.ts); null = no limit. */
export interface TargetRateSettings {
  readonly msgPerSecond: number | null;
  readonly msgPerMinute: number | null;
  readonly rcptPerMsg: number | null;
  readonly connectPerMinute: number | null;
  readonly backoff: boolean;
}

/**
 * Everything a connection to one address of a TargetServer statement uses. Two addresses with
 * equal settings (targets.ts sameTargetSettings) can share a connection pool; a REFRESH that
 * changes any of these restarts that address's connections.
 */
export interface TargetSettings {
  readonly port: number;
  readonly secure: boolean;
  readonly connectLimit: number;
  /** Messages per connection before reconnecting; 0 = unlimited. */
  readonly maxMsgSent: number;
  /** Size limit for servers that do not announce SIZE. */
  readonly messageSize: number;
  readonly tls: TargetTlsSettings;
  readonly auth: TargetAuth | null;
  /** SourceIP: local address connections are made from; null = any. */
  readonly sourceIp: string | null;
}

/**
 * One TargetServer statement, as the forwarder needs it (mapped from Config by main.ts): where
 * the target is (addresses, names, MX) and every connection setting. Each resolved address
 * carries its statement, so nothing is looked up by position in the configuration.
 */
export interface TargetServerSpec extends TargetSettings {
  readonly targetIp: readonly string[];
  readonly targetName: readonly string[];
  readonly targetMx?: string;
  /**
   * (ext) Rate limits of the statement (rate.ts); absent = none, back-off on. Not a connection
   * setting: a REFRESH that changes them keeps the connections and applies them to the next
   * transaction (the statement's limiter is updated in place).
   */
  readonly rate?: TargetRateSettings;
}

export type AddressSource =
  | { readonly kind: 'TargetIP' }
  | { readonly kind: 'TargetName'; readonly name: string }
  | { readonly kind: 'TargetMx'; readonly name: string; readonly exchange: string; readonly preference: number };

/** One address to connect to, with the statement it came from (its settings travel with it). */
export interface TargetAddress {
  readonly address: string;
  readonly port: number;
  readonly source: AddressSource;
  readonly server: TargetServerSpec;
}
