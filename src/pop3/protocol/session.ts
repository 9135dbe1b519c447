// The POP3 session as a pure state machine (no sockets): RFC 1939 states AUTHORIZATION,
// TRANSACTION and UPDATE as a discriminated union, and a typed verb table saying in which states
// each command is allowed. The dispatcher, not the handlers, refuses out-of-state commands.
// I/O is the caller's: feed complete lines to handle(), write the returned bytes, and act on
// `after` ('starttls' = start the TLS handshake now, 'close' = close the connection).
// Mailbox access goes through the injected Pop3Backend / Maildrop interfaces.
import { canonicalLoginName } from '../../core/login.js';
import { type Command, type Verb, decodeLine, parseCommand, parseNumber } from './command.js';
import { stuffedResponse, topOf } from './message.js';

/** RFC 2449 §8 / RFC 3206 response codes. */
export type RespCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

export interface MaildropMessage { readonly uidl: string; readonly size: number }

/** A locked mailbox snapshot for one session (taken at login, RFC 1939 §4). */
export interface Maildrop {
  readonly messages: readonly MaildropMessage[];
  read(index: number): Promise<Buffer | undefined>;
  /** UPDATE state: removes the messages (0-based indexes) atomically. False when that failed. */
  commit(deleted: readonly number[]): Promise<boolean>;
  /** Unlocks the mailbox; called exactly once per maildrop. */
  release(): void;
}

export type LoginResult = { ok: true; maildrop: Maildrop } | { ok: false; code: RespCode; text: string };

export interface Pop3Backend {
  login(user: string, password: string, mechanism: 'USER' | 'PLAIN'): Promise<LoginResult>;
}

export interface SessionConfig {
  readonly hostName: string;
  readonly implementation: string;
  /** Permit USER/PASS and AUTH PLAIN without TLS (RFC 2595 §2.1 says refuse by default). */
  readonly allowPlaintext: boolean;
  /** A certificate is configured, so STLS can be offered. */
  readonly tlsAvailable: boolean;
  /** The connection is already encrypted (implicit TLS listener). */
  readonly tlsActive: boolean;
}

export type SessionState =
  | { readonly kind: 'authorization'; readonly user?: string; readonly awaitingSasl: boolean }
  | { readonly kind: 'transaction'; readonly user: string; readonly drop: Maildrop; readonly deleted: Set<number> }
  | { readonly kind: 'update' }
  | { readonly kind: 'closed' };

export type StateKind = SessionState['kind'];

/** What to write: `data`, then the `body` buffers if any (a RETR/TOP message, not copied). */
export interface Output { readonly data: Buffer; readonly body?: readonly Buffer[]; readonly after?: 'close' | 'starttls' }

type Handler = (s: Pop3Session, c: Command) => Promise<Output> | Output;

function line(text: string): Buffer {
  return Buffer.from(text + '\r\n', 'utf8');
}
function okLine(text: string, after?: Output['after']): Output {
  return after === undefined ? { data: line(`+OK ${text}`) } : { data: line(`+OK ${text}`), after };
}
function errLine(text: string, code?: RespCode, after?: Output['after']): Output {
  const data = line(`-ERR ${code === undefined ? '' : `[${code}] `}${text}`);
  return after === undefined ? { data } : { data, after };
}
function multi(first: string, lines: readonly string[]): Output {
  return { data: Buffer.from([`+OK ${first}`, ...lines, '.'].join('\r\n') + '\r\n', 'utf8') };
}

const AUTH: readonly StateKind[] = ['authorization'];
const TRANS: readonly StateKind[] = ['transaction'];
const BOTH: readonly StateKind[] = ['authorization', 'transaction'];

/** RFC 1939 §4–§7, RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH). */
const TABLE: Record<Verb, { allowedIn: readonly StateKind[]; handle: Handler }> = {
  CAPA: { allowedIn: BOTH, handle: (s) => multi('capability list follows', s.capabilities()) },
  QUIT: { allowedIn: BOTH, handle: (s) => s.quit() },
  USER: { allowedIn: AUTH, handle: (s, c) => s.user(c) },
  PASS: { allowedIn: AUTH, handle: (s, c) => s.pass(c) },
  STLS: { allowedIn: AUTH, handle: (s, c) => s.stls(c) },
  AUTH: { allowedIn: AUTH, handle: (s, c) => s.auth(c) },
  STAT: { allowedIn: TRANS, handle: (s, c) => s.stat(c) },
  LIST: { allowedIn: TRANS, handle: (s, c) => s.list(c, 'LIST') },
  UIDL: { allowedIn: TRANS, handle: (s, c) => s.list(c, 'UIDL') },
  RETR: { allowedIn: TRANS, handle: (s, c) => s.retr(c) },
  TOP: { allowedIn: TRANS, handle: (s, c) => s.top(c) },
  DELE: { allowedIn: TRANS, handle: (s, c) => s.dele(c) },
  RSET: { allowedIn: TRANS, handle: (s, c) => s.rset(c) },
  NOOP: { allowedIn: TRANS, handle: (s, c) => (c.args.length === 0 ? okLine('') : errLine('NOOP takes no arguments')) },
};

export class Pop3Session {
  private st: SessionState = { kind: 'authorization', awaitingSasl: false };
  private tls: boolean;
  /** Set by close(): a login that finishes afterwards must give its lock back. */
  private gone = false;

  constructor(private readonly cfg: SessionConfig, private readonly backend: Pop3Backend) {
    this.tls = cfg.tlsActive;
  }

  get state(): SessionState { return this.st; }
  get tlsActive(): boolean { return this.tls; }
  /** True while the next line is a SASL response, not a command (the server must not log it). */
  get expectsSecret(): boolean { return this.st.kind === 'authorization' && this.st.awaitingSasl; }

  greeting(): Output {
    return okLine(`${this.cfg.hostName} POP3 server ready`);
  }

  private plaintextAllowed(): boolean {
    return this.tls || this.cfg.allowPlaintext;
  }

  capabilities(): string[] {
    const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
    if (this.st.kind === 'authorization') {
      if (this.cfg.tlsAvailable && !this.tls) caps.push('STLS');
      // RFC 2595 §2.1 / RFC 2449 §6.8: USER (and SASL PLAIN) are listed only where they may be used.
      if (this.plaintextAllowed()) caps.push('USER', 'SASL PLAIN');
    }
    caps.push(`IMPLEMENTATION ${this.cfg.implementation}`);
    return caps;
  }

  /** One complete command line (line end removed). */
  async handle(raw: Buffer): Promise<Output> {
    if (this.st.kind === 'update' || this.st.kind === 'closed') return errLine('session is closing', undefined, 'close');
    if (this.st.kind === 'authorization' && this.st.awaitingSasl) return this.saslResponse(raw);
    const parsed = parseCommand(raw);
    if (!parsed.ok) {
      const text = { empty: 'empty command', unknown: 'unknown command', 'bad-bytes': 'command contains invalid characters' }[parsed.error];
      return errLine(text);
    }
    const entry = TABLE[parsed.value.verb];
    if (!entry.allowedIn.includes(this.st.kind)) {
      return errLine(`${parsed.value.verb} is not allowed in the ${this.st.kind.toUpperCase()} state`);
    }
    return entry.handle(this, parsed.value);
  }

  /** RFC 2449 §4: the line was longer than 255 octets; it was discarded. */
  tooLong(): Output {
    if (this.st.kind === 'authorization' && this.st.awaitingSasl) {
      this.st = { kind: 'authorization', awaitingSasl: false };
      return errLine('authentication response too long', 'AUTH');
    }
    return errLine('command line too long');
  }

  /** The TLS handshake after STLS completed: start afresh (RFC 2595 §4: forget what was said). */
  tlsStarted(): void {
    this.tls = true;
    this.st = { kind: 'authorization', awaitingSasl: false };
  }

  /** The connection ended without QUIT (drop, timeout): no UPDATE state, nothing is deleted (RFC 1939 §6). */
  close(): void {
    this.gone = true;
    if (this.st.kind === 'transaction') this.st.drop.release();
    this.st = { kind: 'closed' };
  }

  // --- AUTHORIZATION -------------------------------------------------------------------------

  user(c: Command): Output {
    if (!this.plaintextAllowed()) return errLine('plaintext authentication is disabled on an unencrypted connection: use STLS first', 'AUTH');
    if (c.args.length !== 1) return errLine('USER takes one argument: the mailbox name');
    this.st = { kind: 'authorization', user: c.args[0]!, awaitingSasl: false };
    return okLine('send your password');
  }

  async pass(c: Command): Promise<Output> {
    if (this.st.kind !== 'authorization') return errLine('PASS is not allowed now');
    const user = this.st.user;
    if (user === undefined) return errLine('give USER first');
    if (!this.plaintextAllowed()) return errLine('plaintext authentication is disabled on an unencrypted connection: use STLS first', 'AUTH');
    this.st = { kind: 'authorization', awaitingSasl: false };
    // RFC 1939 §7: the password is the rest of the line; it may contain spaces.
    if (c.rest === '') return errLine('PASS takes one argument: the password');
    return this.login(user, c.rest, 'USER');
  }

  stls(c: Command): Output {
    if (c.args.length !== 0) return errLine('STLS takes no arguments');
    if (this.tls) return errLine('TLS is already active');
    if (!this.cfg.tlsAvailable) return errLine('TLS is not available', 'SYS/PERM');
    this.st = { kind: 'authorization', awaitingSasl: false };
    return okLine('begin TLS negotiation', 'starttls');
  }

  async auth(c: Command): Promise<Output> {
    // Listing the mechanisms for a bare AUTH follows the pre-standard RFC 1734 practice clients still use.
    if (c.args.length === 0) return multi('SASL mechanisms follow', this.plaintextAllowed() ? ['PLAIN'] : []);
    if (c.args[0]!.toUpperCase() !== 'PLAIN' || c.args.length > 2) return errLine('unsupported SASL mechanism');
    if (!this.plaintextAllowed()) return errLine('plaintext authentication is disabled on an unencrypted connection: use STLS first', 'AUTH');
    const initial = c.args[1];
    if (initial === undefined) {
      // RFC 5034 §4: no initial response: send an empty challenge and wait for the response line.
      this.st = { kind: 'authorization', awaitingSasl: true };
      return { data: line('+ ') };
    }
    // RFC 5034 §4: "=" is an empty initial response.
    return this.plain(initial === '=' ? '' : initial);
  }

  private async saslResponse(raw: Buffer): Promise<Output> {
    this.st = { kind: 'authorization', awaitingSasl: false };
    const text = decodeLine(raw);
    // RFC 5034 §4: "*" cancels the exchange.
    if (text === '*') return errLine('authentication cancelled');
    if (text === undefined) return errLine('malformed authentication response', 'AUTH');
    return this.plain(text);
  }

  private async plain(b64: string): Promise<Output> {
    // RFC 4648 base64 only; anything else is a malformed response, not a wrong password.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return errLine('malformed base64 in AUTH PLAIN response', 'AUTH');
    const decoded = Buffer.from(b64, 'base64');
    const parts = decoded.toString('utf8').split('\0');
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
    if (parts.length !== 3 || parts[1] === '' || parts[2] === '') return errLine('malformed AUTH PLAIN response', 'AUTH');
    const [authzid, authcid, passwd] = parts as [string, string, string];
    // The two names are compared in their canonical form (core/login.ts): `ALICE` may act as `alice`.
    if (authzid !== '' && (canonicalLoginName(authzid) ?? authzid) !== (canonicalLoginName(authcid) ?? authcid)) return errLine('acting as another user is not permitted', 'AUTH');
    return this.login(authcid, passwd, 'PLAIN');
  }

  private async login(user: string, password: string, mech: 'USER' | 'PLAIN'): Promise<Output> {
    const r = await this.backend.login(user, password, mech);
    if (!r.ok) return errLine(r.text, r.code);
    if (this.gone || this.st.kind !== 'authorization') {
      r.maildrop.release();
      return errLine('session is closing', undefined, 'close');
    }
    this.st = { kind: 'transaction', user, drop: r.maildrop, deleted: new Set() };
    const { count, octets } = this.totals();
    return okLine(`${user} has ${count} message${count === 1 ? '' : 's'} (${octets} octets)`);
  }

  // --- TRANSACTION ---------------------------------------------------------------------------

  private trans(): Extract<SessionState, { kind: 'transaction' }> {
    if (this.st.kind !== 'transaction') throw new Error('dispatcher let a TRANSACTION command through in another state');
    return this.st;
  }

  private totals(): { count: number; octets: number } {
    const t = this.trans();
    let count = 0;
    let octets = 0;
    t.drop.messages.forEach((m, i) => {
      if (!t.deleted.has(i)) { count++; octets += m.size; }
    });
    return { count, octets };
  }

  /** Resolves a message-number argument to a live 0-based index, or the -ERR to send. */
  private pick(arg: string | undefined): number | Output {
    const t = this.trans();
    const n = parseNumber(arg);
    if (n === undefined) return errLine('invalid message number');
    if (n < 1 || n > t.drop.messages.length) return errLine(`no such message: ${n}`);
    if (t.deleted.has(n - 1)) return errLine(`message ${n} already deleted`);
    return n - 1;
  }

  stat(c: Command): Output {
    if (c.args.length !== 0) return errLine('STAT takes no arguments');
    const { count, octets } = this.totals();
    // RFC 1939 §5: "+OK nn mm", nothing else on the line.
    return { data: line(`+OK ${count} ${octets}`) };
  }

  list(c: Command, verb: 'LIST' | 'UIDL'): Output {
    const t = this.trans();
    const value = (i: number): string => (verb === 'LIST' ? String(t.drop.messages[i]!.size) : t.drop.messages[i]!.uidl);
    if (c.args.length > 1) return errLine(`${verb} takes at most one argument`);
    if (c.args.length === 1) {
      const i = this.pick(c.args[0]);
      if (typeof i !== 'number') return i;
      return { data: line(`+OK ${i + 1} ${value(i)}`) };
    }
    const lines: string[] = [];
    t.drop.messages.forEach((_, i) => { if (!t.deleted.has(i)) lines.push(`${i + 1} ${value(i)}`); });
    const { count, octets } = this.totals();
    return multi(verb === 'LIST' ? `${count} messages (${octets} octets)` : 'unique-id listing follows', lines);
  }

  async retr(c: Command): Promise<Output> {
    if (c.args.length !== 1) return errLine('RETR takes one argument: the message number');
    const i = this.pick(c.args[0]);
    if (typeof i !== 'number') return i;
    const t = this.trans();
    const data = await t.drop.read(i);
    if (data === undefined) return errLine('message is no longer available', 'SYS/TEMP');
    return { data: line(`+OK ${t.drop.messages[i]!.size} octets`), body: stuffedResponse(data) };
  }

  async top(c: Command): Promise<Output> {
    if (c.args.length !== 2) return errLine('TOP takes two arguments: message number and line count');
    const i = this.pick(c.args[0]);
    if (typeof i !== 'number') return i;
    const n = parseNumber(c.args[1]);
    if (n === undefined) return errLine('invalid line count');
    const data = await this.trans().drop.read(i);
    if (data === undefined) return errLine('message is no longer available', 'SYS/TEMP');
    return { data: line('+OK top of message follows'), body: stuffedResponse(topOf(data, n)) };
  }

  dele(c: Command): Output {
    if (c.args.length !== 1) return errLine('DELE takes one argument: the message number');
    const i = this.pick(c.args[0]);
    if (typeof i !== 'number') return i;
    this.trans().deleted.add(i);
    return okLine(`message ${i + 1} deleted`);
  }

  rset(c: Command): Output {
    if (c.args.length !== 0) return errLine('RSET takes no arguments');
    this.trans().deleted.clear();
    const { count, octets } = this.totals();
    return okLine(`maildrop has ${count} messages (${octets} octets)`);
  }

  // --- UPDATE --------------------------------------------------------------------------------

  async quit(): Promise<Output> {
    if (this.st.kind !== 'transaction') {
      this.st = { kind: 'closed' };
      return okLine(`${this.cfg.hostName} POP3 server signing off`, 'close');
    }
    // RFC 1939 §6: only QUIT from TRANSACTION enters UPDATE and removes the deleted messages.
    const { drop, deleted } = this.st;
    this.st = { kind: 'update' };
    let committed = true;
    try {
      if (deleted.size > 0) committed = await drop.commit([...deleted].sort((a, b) => a - b));
    } catch {
      // The store failed: the client is told, and the messages stay (they will be seen again).
      committed = false;
    } finally {
      drop.release();
      this.st = { kind: 'closed' };
    }
    if (!committed) return errLine('some deleted messages were not removed', 'SYS/TEMP', 'close');
    const left = drop.messages.length - deleted.size;
    return okLine(`${this.cfg.hostName} POP3 server signing off (${left} message${left === 1 ? '' : 's'} left)`, 'close');
  }
}
