// The persistence interfaces of spoolgate's mailboxes, users and journal (SPEC.md §6, §8, §9).
// Every method is async so a PostgreSQL implementation (store/pg, ext) can implement the
// same shapes; the embedded SQLite implementation lives in store/sqlite.
import type { Result } from '../core/result.js';
import { SpoolgateError } from '../core/errors.js';

export type StoreErrorCode = 'ERR_USER_EXISTS' | 'ERR_USER_UNKNOWN' | 'ERR_USER_REMOVED' | 'ERR_BAD_NAME' | 'ERR_ALIAS_EXISTS' | 'ERR_STORE';

/** A store failure with a literal code (callers branch on `reason`, never on the text). */
export class StoreError extends SpoolgateError {
  readonly reason: StoreErrorCode;
  constructor(reason: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super('ERR_STORE', message, options);
    this.reason = reason;
  }
}

export interface UserInfo {
  /** Canonical (lower-case) user name; also the POP3 login name. */
  readonly name: string;
  /** The user's mail domain, when the user is enrolled for one domain only. */
  readonly domain?: string;
  /** False once removed: no more delivery, but the remaining mail can still be fetched until purged. */
  readonly active: boolean;
  readonly created: number;
  readonly aliases: readonly string[];
}

export interface UserDirectory {
  addUser(name: string, password: string, opts?: { domain?: string }): Promise<Result<UserInfo, StoreError>>;
  /** Stops delivery to the user (resolve() no longer finds them); with purge, deletes the user, aliases and mail. */
  removeUser(name: string, opts?: { purge?: boolean }): Promise<Result<void, StoreError>>;
  setPassword(name: string, password: string): Promise<Result<void, StoreError>>;
  /** True when the user exists and the password matches; takes the same time for unknown users. */
  verify(name: string, password: string): Promise<boolean>;
  /**
   * The account when the user exists and the password matches (active false once removed);
   * takes the same time for unknown users. core's Authenticator decides what a removed account may do.
   */
  authenticate(name: string, password: string): Promise<{ readonly name: string; readonly active: boolean } | undefined>;
  listUsers(): Promise<UserInfo[]>;
  /** alias is a local part ("postmaster") or a full address ("sales@example.com"). */
  addAlias(alias: string, user: string): Promise<Result<void, StoreError>>;
  removeAlias(alias: string): Promise<Result<void, StoreError>>;
  /** The active user that receives mail for `localPart@domain` (or a bare local part), if any. */
  resolve(address: string): Promise<string | undefined>;
}

export interface MessageInfo {
  readonly id: string;
  /** RFC 1939 §7 unique-id: unique forever, stable across sessions. */
  readonly uidl: string;
  /** Exact size in octets with CRLF line ends (what RETR sends before dot-stuffing). */
  readonly size: number;
}

export interface MailboxStore {
  /**
   * Stores a message for a user. Line ends are normalised to CRLF and a final CRLF is added when
   * missing, so `size` is exact. Resolves only once the message is durable on disk.
   */
  deliver(user: string, data: Buffer): Promise<{ id: string; size: number }>;
  /** The user's messages, oldest first. */
  list(user: string): Promise<MessageInfo[]>;
  read(user: string, id: string): Promise<Buffer | undefined>;
  /** Deletes the messages in one transaction (all or none); returns how many existed. */
  delete(user: string, ids: readonly string[]): Promise<number>;
}

export interface JournalEvent {
  /** e.g. received, queued, attempt, deferred, delivered, undeliverable, dead-letter, filtered, relay-refused, connection-refused, pop3.login, pop3.login-failed, pop3.logout */
  readonly type: string;
  readonly messageId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly detail?: string;
  readonly ip?: string;
  readonly user?: string;
  /** When it happened (ms since the epoch) if recorded later (batched); default: now. */
  readonly at?: number;
}

export interface JournalEntry extends JournalEvent {
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** A journal row as both backends store it (columns named as in their tables, user as `user`). */
export interface JournalRowFields {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly message_id: string | null;
  readonly sender: string | null;
  readonly recipient: string | null;
  readonly detail: string | null;
  readonly ip: string | null;
  readonly user: string | null;
}

/** The entry of a journal row: absent columns are left out, not undefined. */
export function journalEntry(r: JournalRowFields): JournalEntry {
  return {
    seq: r.seq,
    at: r.at,
    type: r.type,
    ...(r.message_id === null ? {} : { messageId: r.message_id }),
    ...(r.sender === null ? {} : { from: r.sender }),
    ...(r.recipient === null ? {} : { to: r.recipient }),
    ...(r.detail === null ? {} : { detail: r.detail }),
    ...(r.ip === null ? {} : { ip: r.ip }),
    ...(r.user === null ? {} : { user: r.user }),
  };
}

export interface JournalQuery {
  readonly id?: string;
  readonly from?: string;
  readonly to?: string;
  readonly user?: string;
  /** Milliseconds since the epoch, inclusive. */
  readonly since?: number;
  readonly type?: string;
  readonly limit?: number;
}

export interface Journal {
  record(event: JournalEvent): Promise<void>;
  /** Matching entries, oldest first. from/to match case-insensitively. */
  query(q: JournalQuery): Promise<JournalEntry[]>;
}

export interface Store {
  readonly users: UserDirectory;
  readonly mailboxes: MailboxStore;
  readonly journal: Journal;
  close(): Promise<void>;
}
