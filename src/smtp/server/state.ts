// Session state of the SMTP server as a discriminated union (STYLE.md §3), and the narrow view of
// a session that the verb handlers get.
import type { ReversePath } from '../../core/address.js';
import type { Recipient } from '../../core/envelope.js';
import type { ReplyCode } from '../protocol/codes.js';
import type { DataReader } from '../protocol/data-reader.js';
import type { Command, MailParams, Verb } from '../protocol/parse-command.js';
import type { ServerEvent, SessionInfo, SmtpServerLimits, SmtpServerOptions } from './types.js';

/** The command a handler of verb V gets (verbs.ts, auth.ts): already parsed and in sequence. */
export type CommandOf<V extends Verb> = Command & { readonly verb: V };

/** One mail transaction (RFC 5321 §3.3), from MAIL to the final dot. */
export interface Transaction {
  readonly from: ReversePath;
  readonly params: MailParams;
  readonly recipients: Recipient[];
}

/**
 * greeting: connected and greeted (or just after STARTTLS), waiting for EHLO/HELO.
 * ready: EHLO/HELO done, no transaction. mail: MAIL accepted, no recipient yet.
 * rcpt: at least one recipient. data: reading message content.
 * auth: inside an RFC 4954 SASL exchange (lines are responses, not commands).
 * closing: QUIT, error limit, timeout or refusal; no more input is read.
 */
export type SessionState =
  | { readonly kind: 'greeting' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'mail'; readonly tx: Transaction }
  | { readonly kind: 'rcpt'; readonly tx: Transaction }
  | { readonly kind: 'data'; readonly tx: Transaction; readonly reader: DataReader }
  | { readonly kind: 'auth'; readonly mechanism: 'PLAIN' | 'LOGIN'; readonly user?: string }
  | { readonly kind: 'closing' };

export type StateKind = SessionState['kind'];

/** Options with every limit filled in. */
export interface ResolvedOptions extends SmtpServerOptions {
  readonly limits: SmtpServerLimits;
}

/** What verb handlers may do to a session. */
export interface SessionApi {
  state: SessionState;
  readonly opts: ResolvedOptions;
  heloName: string;
  esmtp: boolean;
  readonly tls: boolean;
  /** STARTTLS can be offered (a certificate is configured and TLS is not active yet). */
  readonly canStartTls: boolean;
  authUser: string | undefined;
  readonly sessionId: string;
  info(): SessionInfo;
  /** Sends one reply. enhanced=false for EHLO keyword lines, 334 challenges and banners. */
  reply(code: ReplyCode, text: string | readonly string[], enhanced?: boolean): void;
  emit(event: ServerEvent): void;
  /** Ends the session after the replies written so far. */
  close(): void;
  /** Discards buffered plaintext and starts the TLS handshake (after the 220 reply). */
  startTls(): void;
  /** Counts a failed AUTH; true when the limit was reached and the session is closing. */
  authFailed(): boolean;
}
