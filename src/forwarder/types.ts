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
}

export interface OutboundMessage {
  readonly envelope: Envelope;
  readonly data: Buffer;
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

/** One TargetServer statement, as the forwarder needs it (mapped from Config by main.ts). */
export interface TargetServerSpec {
  readonly targetIp: readonly string[];
  readonly targetName: readonly string[];
  readonly targetMx?: string;
  readonly port: number;
  readonly connectLimit: number;
  readonly maxMsgSent: number;
  readonly messageSize: number;
  readonly secure: boolean;
}

export type AddressSource =
  | { readonly kind: 'TargetIP' }
  | { readonly kind: 'TargetName'; readonly name: string }
  | { readonly kind: 'TargetMx'; readonly name: string; readonly exchange: string; readonly preference: number };

export interface TargetAddress {
  readonly address: string;
  readonly port: number;
  readonly source: AddressSource;
  readonly server: TargetServerSpec;
  /** Index of the TargetServer statement (0-based), so connection settings can be looked up. */
  readonly serverIndex: number;
}
