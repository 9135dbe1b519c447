// The POP3 listener: sockets, STLS and implicit TLS, the inactivity timer and the login deadline,
// connection limits (overall and per client address), the one-session-per-mailbox lock table
// (keyed by the canonical user name) and login journaling, around the pure session in ./protocol.
// Logins go through core's Authenticator: one canonical name, one throttle shared with SMTP AUTH.
// Users, mailboxes and the journal are injected through the small interfaces below (the store's
// UserDirectory, MailboxStore and Journal satisfy them structurally).
import net from 'node:net';
import { hostname } from 'node:os';
import tls from 'node:tls';
import { monotonic, systemClock, type Clock, type Timer } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Pop3Counters } from '../core/service-counters.js';
import { Authenticator, DEFAULT_LOGIN_THROTTLE, LoginThrottle, TraceMask, type CredentialCheck, type LoginThrottleOptions } from '../core/login.js';
import { Logger } from '../log/index.js';
import { LineReader, type LineItem } from './protocol/line-reader.js';
import { Pop3Session, type LoginResult, type Output } from './protocol/session.js';

export type Pop3UserDirectory = CredentialCheck;
export interface Pop3MailboxStore {
  list(user: string): Promise<readonly { id: string; uidl: string; size: number }[]>;
  read(user: string, id: string): Promise<Buffer | undefined>;
  delete(user: string, ids: readonly string[]): Promise<number>;
}
export interface Pop3Journal { record(event: { type: string; user?: string; ip?: string; detail?: string }): Promise<void> }
/**
 * The maildrop lock across nodes (ext, [P2]: store/pg's PgMaildropLocks): with a shared store a
 * session on another node may hold the mailbox. acquire() resolves undefined when it does; `lost`
 * is called when the hold ends without release() (taken over after the node could not renew it),
 * and the session is then ended. held() is asked before a session's deletions are committed.
 */
export interface Pop3MaildropLocks {
  acquire(mailbox: string, lost: () => void): Promise<{ release(): Promise<void>; held(): Promise<boolean> } | undefined>;
}

export interface Pop3ServerOptions {
  users: Pop3UserDirectory;
  mailboxes: Pop3MailboxStore;
  journal: Pop3Journal;
  /** The lock across nodes, taken after this server's own lock table (default: this server's table only). */
  maildropLocks?: Pop3MaildropLocks;
  /** Logins, failures and throttled logins, for /metrics (main.ts shares them with web). */
  counters?: Pop3Counters;
  hostName?: string;
  /** PEM key and certificate: enables STLS and implicit-TLS listeners. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Allow USER/PASS and AUTH PLAIN on unencrypted connections (default false, RFC 2595 §2.1). */
  allowPlaintext?: boolean;
  /** Autologout after this many ms without a command (default 10 minutes, RFC 1939 §3). */
  idleTimeoutMs?: number;
  /** A connection that has not logged in this many ms after connecting is closed (default 60 s). */
  loginTimeoutMs?: number;
  /** Simultaneous connections from one client address (default 10); more are refused. */
  maxConnectionsPerIp?: number;
  clock?: Clock;
  logger?: Logger;
  /** The gateway's one Authenticator (shared with SMTP AUTH); default: one of this server's own over `users`. */
  auth?: Authenticator;
  /** Limits of the server's own throttle (without `auth`). */
  throttle?: Partial<LoginThrottleOptions>;
  maxConnections?: number;
}

/**
 * The options REFRESH may change on a running server (Pop3Server.apply). AllowPlaintext and the
 * host name apply from the next connection (a session keeps what it announced in its greeting and
 * CAPA); the inactivity timeout from the next command; MaxFailedLogins from the next failed login;
 * the login timeout and the per-address connection limit from the next connection.
 */
export interface Pop3Settings {
  readonly hostName: string;
  readonly allowPlaintext: boolean;
  readonly idleTimeoutMs: number;
  readonly maxFailedLogins: number;
  readonly loginTimeoutMs: number;
  readonly maxConnectionsPerIp: number;
}

export const DEFAULT_LOGIN_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 10;

export const IMPLEMENTATION = 'spoolgate';
/** RFC 1939, RFC 2449, RFC 2595, RFC 5034 command verbs (what ends the masking after AUTH). */
const POP3_VERBS: ReadonlySet<string> = new Set(['USER', 'PASS', 'APOP', 'AUTH', 'STLS', 'CAPA', 'QUIT', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL']);
/** Lines queued from a pipelining client before reading pauses. */
const MAX_QUEUED_LINES = 64;
/** How long close() waits for logins under way (a password check, a mailbox list) to end. */
const CLOSE_LOGIN_WAIT_MS = 10_000;

export class Pop3Server {
  private readonly listeners: net.Server[] = [];
  private readonly conns = new Set<Connection>();
  /** client address → its open connections. */
  private readonly perIp = new Map<string, number>();
  /** mailbox (canonical user name) → connection id holding it. */
  private readonly locks = new Map<string, number>();
  /** Refused connections whose refusal is still going out. */
  private readonly refused = new Set<net.Socket>();
  /** Logins still checking a password or listing a mailbox: close() waits for them before the store goes. */
  private readonly logins = new Set<Promise<LoginResult>>();
  private seq = 0;
  readonly auth: Authenticator;
  readonly clock: Clock;
  readonly log: Logger;
  readonly secureContext: tls.SecureContext | undefined;
  private settings: Omit<Pop3Settings, 'maxFailedLogins'>;

  constructor(readonly opts: Pop3ServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? Logger.silent();
    this.auth = opts.auth ?? new Authenticator(opts.users, new LoginThrottle(this.clock, { ...DEFAULT_LOGIN_THROTTLE, ...opts.throttle }), this.clock);
    this.secureContext = opts.tls === undefined ? undefined : tls.createSecureContext({ key: opts.tls.key, cert: opts.tls.cert, minVersion: 'TLSv1.2' });
    this.settings = {
      hostName: opts.hostName ?? hostname(),
      allowPlaintext: opts.allowPlaintext ?? false,
      // SPEC.md §6: the inactivity timeout is at least 10 minutes unless configured (RFC 1939 §3).
      idleTimeoutMs: opts.idleTimeoutMs ?? 10 * 60_000,
      loginTimeoutMs: opts.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
      maxConnectionsPerIp: opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
    };
  }

  get hostName(): string { return this.settings.hostName; }
  get allowPlaintext(): boolean { return this.settings.allowPlaintext; }
  get idleTimeoutMs(): number { return this.settings.idleTimeoutMs; }
  get loginTimeoutMs(): number { return this.settings.loginTimeoutMs; }
  /** The login throttle in use (shared with SMTP AUTH when main.ts passes one Authenticator). */
  get throttle(): LoginThrottle { return this.auth.throttle; }

  /** REFRESH: the settings in force from now on (when each applies: see Pop3Settings). */
  apply(next: Pop3Settings): void {
    const s = this.settings;
    const same = s.hostName === next.hostName && s.allowPlaintext === next.allowPlaintext && s.idleTimeoutMs === next.idleTimeoutMs
      && s.loginTimeoutMs === next.loginTimeoutMs && s.maxConnectionsPerIp === next.maxConnectionsPerIp && this.throttle.opts.maxFailures === next.maxFailedLogins;
    this.settings = {
      hostName: next.hostName, allowPlaintext: next.allowPlaintext, idleTimeoutMs: next.idleTimeoutMs,
      loginTimeoutMs: next.loginTimeoutMs, maxConnectionsPerIp: next.maxConnectionsPerIp,
    };
    this.throttle.apply({ maxFailures: next.maxFailedLogins });
    if (!same) {
      this.log.event('pop3.settings-applied', {
        hostName: next.hostName, allowPlaintext: next.allowPlaintext, idleTimeoutMs: next.idleTimeoutMs, maxFailedLogins: next.maxFailedLogins,
        loginTimeoutMs: next.loginTimeoutMs, maxConnectionsPerIp: next.maxConnectionsPerIp,
      });
    }
  }

  /** Starts a listener; implicitTls (ext) makes it a POP3S port where TLS starts at connect. */
  listen(o: { host?: string; port?: number; implicitTls?: boolean } = {}): Promise<{ host: string; port: number }> {
    const host = o.host ?? '127.0.0.1';
    let srv: net.Server;
    if (o.implicitTls === true) {
      if (this.secureContext === undefined) return Promise.reject(new Error('implicit TLS needs tls key and certificate'));
      const m = this.opts.tls!;
      srv = tls.createServer({ key: m.key, cert: m.cert, minVersion: 'TLSv1.2' }, (s) => this.accept(s, true));
      srv.on('tlsClientError', (e) => this.log.debug('pop3.tls-failed', { error: describeError(e) }));
    } else {
      srv = net.createServer((s) => this.accept(s, false));
    }
    this.listeners.push(srv);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(o.port ?? 0, host, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.log.error('pop3.listener-error', { error: describeError(e) }));
        const a = srv.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Mailboxes currently held by a session (empty once every connection is gone). */
  lockedMailboxes(): string[] {
    return [...this.locks.keys()];
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    const closing = this.listeners.map((l) => new Promise<void>((r) => l.close(() => r())));
    for (const c of [...this.conns]) c.finish('server shutdown');
    for (const s of [...this.refused]) s.destroy();
    await Promise.all(closing);
    // A login that was under way when its connection went still ends (its session releases what
    // it took): the caller closes the store after this, so wait for it, up to a bound.
    if (this.logins.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => { timer = setTimeout(r, CLOSE_LOGIN_WAIT_MS); });
      await Promise.race([Promise.allSettled([...this.logins]), bound]);
      clearTimeout(timer);
      if (this.logins.size > 0) this.log.warn('pop3.close-logins-pending', { pending: this.logins.size });
    }
  }

  private accept(socket: net.Socket, tlsActive: boolean): void {
    const max = this.opts.maxConnections ?? 200;
    const ip = socket.remoteAddress ?? '';
    const fromIp = this.perIp.get(ip) ?? 0;
    // RFC 2449 §8.1.2: SYS/TEMP, a temporary condition; the client may try again later.
    const refusal = this.conns.size >= max ? 'too many connections, try again later'
      : fromIp >= this.settings.maxConnectionsPerIp ? 'too many connections from your address' : undefined;
    if (refusal !== undefined) {
      socket.on('error', (e) => this.log.debug('pop3.socket-error', { error: describeError(e) }));
      this.log.info('pop3.refused', { ip, reason: refusal, open: fromIp });
      socket.end(`-ERR [SYS/TEMP] ${refusal}\r\n`);
      // What the client still sends is read and dropped, so its end is seen and the socket closes
      // (an unread socket stays half-open, and close() would wait on it). A client that never
      // reads its refusal does not keep the socket either.
      socket.resume();
      this.refused.add(socket);
      socket.once('close', () => this.refused.delete(socket));
      this.clock.setTimer(5000, () => socket.destroy());
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    // Replies go out at once (a RETR is one corked writev already): no Nagle wait for a short reply.
    socket.setNoDelay(true);
    const c = new Connection(this, socket, tlsActive, ++this.seq, () => {
      this.conns.delete(c);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip); else this.perIp.set(ip, n);
    });
    this.conns.add(c);
    c.start();
  }

  private async journal(e: { type: string; user?: string; ip?: string; detail?: string }): Promise<void> {
    try {
      await this.opts.journal.record(e);
    } catch (x) {
      this.log.error('pop3.journal-failed', { type: e.type, error: describeError(x) });
    }
  }

  /** The cross-node hold of a session's maildrop ended without its release: the session ends (it deletes nothing). */
  private holdLost(connId: number, user: string): void {
    this.log.warn('pop3.lock-lost', { user, conn: connId });
    for (const c of this.conns) if (c.id === connId) c.finish('maildrop lock lost');
  }

  /** The Pop3Backend of one connection: log in (canonical name, shared throttle), lock, snapshot the mailbox. */
  login(connId: number, ip: string, user: string, password: string, mech: 'USER' | 'PLAIN', tlsActive: boolean): Promise<LoginResult> {
    const p = this.loginNow(connId, ip, user, password, mech, tlsActive);
    this.logins.add(p);
    const done = (): void => { this.logins.delete(p); };
    p.then(done, done);
    return p;
  }

  private async loginNow(connId: number, ip: string, user: string, password: string, mech: 'USER' | 'PLAIN', tlsActive: boolean): Promise<LoginResult> {
    // SPEC.md §6: a removed user may still fetch the remaining mail until it is purged ('retrieve').
    const r = await this.auth.login(user, password, ip, 'retrieve');
    if (!r.ok) {
      switch (r.reason) {
        case 'throttled':
          this.log.warn('auth.failed', { service: 'pop3', ip, conn: connId, user: r.user, reason: 'throttled' });
          if (this.opts.counters !== undefined) this.opts.counters.throttled++;
          await this.journal({ type: 'pop3.login-refused', user: r.user, ip, detail: r.detail ?? 'throttled after repeated failures' });
          return { ok: false, code: 'SYS/TEMP', text: 'too many failed logins: try again later' };
        case 'unavailable':
          this.log.error('pop3.verify-failed', { user: r.user, error: r.detail ?? '' });
          return { ok: false, code: 'SYS/TEMP', text: 'temporary failure, try again later' };
        case 'invalid':
          this.log.warn('auth.failed', { service: 'pop3', ip, conn: connId, user: r.user, reason: 'invalid' });
          if (this.opts.counters !== undefined) this.opts.counters.failures++;
          await this.journal({ type: 'pop3.login-failed', user: r.user, ip, detail: mech });
          // RFC 3206 §4: AUTH = the credentials were wrong (not a system problem).
          return { ok: false, code: 'AUTH', text: 'invalid user name or password' };
      }
    }
    // The canonical name is the one key: lock, mailbox and journal.
    const key = r.user;
    // RFC 1939 §4 / RFC 2449 §8.1.1: one session holds the maildrop at a time.
    if (this.locks.has(key)) {
      await this.journal({ type: 'pop3.login-failed', user: key, ip, detail: 'mailbox in use' });
      return { ok: false, code: 'IN-USE', text: 'mailbox is in use by another session' };
    }
    this.locks.set(key, connId);
    let released = false;
    let hold: { release(): Promise<void>; held(): Promise<boolean> } | undefined;
    const release = (): void => {
      if (released) return;
      released = true;
      if (this.locks.get(key) === connId) this.locks.delete(key);
      hold?.release().catch((e: unknown) => this.log.error('pop3.unlock-failed', { user: key, error: describeError(e) }));
    };
    if (this.opts.maildropLocks !== undefined) {
      // RFC 2449 §8.1.1 across nodes: a session on another node of the shared store holds it.
      try {
        hold = await this.opts.maildropLocks.acquire(key, () => this.holdLost(connId, key));
      } catch (e) {
        release();
        this.log.error('pop3.lock-failed', { user: key, error: describeError(e) });
        return { ok: false, code: 'SYS/TEMP', text: 'mailbox temporarily unavailable' };
      }
      if (hold === undefined) {
        release();
        await this.journal({ type: 'pop3.login-failed', user: key, ip, detail: 'mailbox in use (another node)' });
        return { ok: false, code: 'IN-USE', text: 'mailbox is in use by another session' };
      }
    }
    let list: readonly { id: string; uidl: string; size: number }[];
    try {
      list = await this.opts.mailboxes.list(key);
    } catch (e) {
      release();
      this.log.error('pop3.list-failed', { user: key, error: describeError(e) });
      return { ok: false, code: 'SYS/TEMP', text: 'mailbox temporarily unavailable' };
    }
    if (this.opts.counters !== undefined) this.opts.counters.logins++;
    await this.journal({ type: 'pop3.login', user: key, ip, detail: `${mech}${tlsActive ? ' tls' : ''} messages=${list.length}` });
    const ids = list.map((m) => m.id);
    return {
      ok: true,
      maildrop: {
        messages: list.map((m) => ({ uidl: m.uidl, size: m.size })),
        read: (i) => this.opts.mailboxes.read(key, ids[i]!),
        commit: async (idx) => {
          try {
            // A hold this node lost (it could not renew it) deletes nothing: another session may have the maildrop.
            if (hold !== undefined && !(await hold.held())) {
              this.log.error('pop3.lock-lost', { user: key, conn: connId, at: 'commit' });
              return false;
            }
            const n = await this.opts.mailboxes.delete(key, idx.map((i) => ids[i]!));
            await this.journal({ type: 'pop3.logout', user: key, ip, detail: `deleted=${n}` });
            return true;
          } catch (e) {
            this.log.error('pop3.delete-failed', { user: key, error: describeError(e) });
            return false;
          }
        },
        release,
      },
    };
  }
}

class Connection {
  private readonly reader = new LineReader();
  private readonly queue: LineItem[] = [];
  private readonly session: Pop3Session;
  private readonly ip: string;
  private readonly traceMask = new TraceMask(POP3_VERBS, new Set(['USER', 'PASS', 'APOP']));
  private busy = false;
  private closed = false;
  private upgrading = false;
  private timer: Timer | undefined;
  /** When the pending inactivity timer fires, and the last activity (monotonic ms). */
  private timerDue = 0;
  private active = 0;
  /** The login deadline: from connect, not restarted by commands (a client may not idle in AUTHORIZATION). */
  private loginTimer: Timer | undefined;

  constructor(private readonly server: Pop3Server, private socket: net.Socket, tlsActive: boolean, readonly id: number, private readonly onGone: () => void) {
    this.ip = socket.remoteAddress ?? '';
    this.session = new Pop3Session(
      {
        hostName: server.hostName,
        implementation: IMPLEMENTATION,
        allowPlaintext: server.allowPlaintext,
        tlsAvailable: server.secureContext !== undefined,
        tlsActive,
      },
      { login: (u, p, m) => server.login(this.id, this.ip, u, p, m, this.session.tlsActive) },
    );
  }

  start(): void {
    this.server.log.info('pop3.connect', { conn: this.id, ip: this.ip });
    this.attach(this.socket);
    this.arm();
    this.loginTimer = this.server.clock.setTimer(this.server.loginTimeoutMs, () => {
      if (this.closed || this.session.state.kind !== 'authorization') return;
      this.socket.write('-ERR [SYS/TEMP] login timeout: not logged in in time\r\n');
      this.finish('login timeout');
    });
    // eslint-disable-next-line no-restricted-syntax -- send() never rejects (it resolves on drain or close)
    void this.send(this.session.greeting());
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed || this.upgrading) return;
    for (const item of this.reader.push(chunk)) this.queue.push(item);
    if (this.queue.length > MAX_QUEUED_LINES) this.socket.pause();
    // eslint-disable-next-line no-restricted-syntax -- pump() catches, logs and ends the session itself
    void this.pump();
  };

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.on('error', (e) => { this.server.log.debug('pop3.socket-error', { conn: this.id, error: describeError(e) }); this.finish('socket error'); });
    s.on('close', () => this.finish('closed by client'));
  }

  /**
   * Restarts the inactivity timer. Called twice per command, so it only notes the time: the one
   * pending timer, when it fires early, waits the rest (a timer per call cost a Timeout object and
   * two heap operations each, benchmark 4). A shorter timeout (REFRESH) sets a new timer.
   */
  private arm(): void {
    const now = monotonic(this.server.clock);
    this.active = now;
    const due = now + this.server.idleTimeoutMs;
    if (this.timer !== undefined && due >= this.timerDue) return;
    this.timer?.cancel();
    this.setIdleTimer(due - now);
  }

  private setIdleTimer(ms: number): void {
    this.timerDue = monotonic(this.server.clock) + ms;
    this.timer = this.server.clock.setTimer(ms, () => {
      this.timer = undefined;
      if (this.closed) return;
      const left = this.active + this.server.idleTimeoutMs - monotonic(this.server.clock);
      if (left > 0) { this.setIdleTimer(left); return; }
      // RFC 1939 §3: the autologout timer ends the session without entering UPDATE.
      this.socket.write('-ERR [SYS/TEMP] autologout: idle for too long\r\n');
      this.finish('idle timeout');
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed && !this.upgrading && this.queue.length > 0) {
        const item = this.queue.shift()!;
        this.arm();
        if (item.kind === 'line') this.trace(item.line);
        const out = item.kind === 'line' ? await this.session.handle(item.line) : this.session.tooLong();
        if (this.closed) break;
        if (out.after === 'starttls') this.holdForTls();
        if (this.session.state.kind !== 'authorization') this.loginTimer?.cancel();
        await this.send(out);
        this.arm();
        if (out.after === 'close') { this.socket.end(); this.finish('quit'); break; }
        if (out.after === 'starttls') { this.upgrade(); break; }
      }
    } catch (e) {
      this.server.log.error('pop3.session-failed', { conn: this.id, error: describeError(e) });
      if (!this.closed) this.socket.end('-ERR [SYS/TEMP] internal error\r\n');
      this.finish('internal error');
    } finally {
      this.busy = false;
    }
    if (!this.closed && this.queue.length <= MAX_QUEUED_LINES && this.socket.isPaused()) this.socket.resume();
  }

  private trace(line: Buffer): void {
    if (!this.server.log.enabled('network')) return;
    // SPEC.md §10: never log credentials: USER and PASS arguments, AUTH and the SASL lines after it.
    const text = line.toString('latin1');
    const shown = this.session.expectsSecret ? '(authentication data hidden)' : this.traceMask.show(text);
    this.server.log.network('pop3.command', { conn: this.id, line: shown });
  }

  private send(out: Output): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let flushed: boolean;
      if (out.body === undefined) {
        flushed = this.socket.write(out.data);
      } else {
        // The status line and the message as one writev (the message buffers are not copied).
        // (The last write's answer counts: the buffered length only grows while corked.)
        this.socket.cork();
        flushed = this.socket.write(out.data);
        for (const b of out.body) flushed = this.socket.write(b);
        this.socket.uncork();
      }
      if (flushed) resolve();
      else {
        const done = (): void => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      }
    });
  }

  /**
   * Before the +OK to STLS is written: stop reading plaintext so the client's first TLS bytes stay
   * in the kernel for the TLS layer. RFC 2595 §4 (and CVE-2011-0411): anything pipelined after
   * STLS is discarded, never executed after the handshake.
   */
  private holdForTls(): void {
    this.upgrading = true;
    this.queue.length = 0;
    this.reader.reset();
    this.socket.removeListener('data', this.onData);
    this.socket.pause();
  }

  private upgrade(): void {
    const ctx = this.server.secureContext;
    if (ctx === undefined) { this.finish('no TLS'); return; }
    const raw = this.socket;
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    this.socket = secure;
    secure.once('secure', () => {
      this.upgrading = false;
      this.session.tlsStarted();
      this.server.log.info('pop3.tls', { conn: this.id, protocol: secure.getProtocol() ?? '' });
      this.arm();
    });
    this.attach(secure);
  }

  finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.loginTimer?.cancel();
    this.session.close();
    this.queue.length = 0;
    // A socket paused by a full queue is read again (and what arrives dropped: onData returns
    // once closed), so the client's end is seen and the socket closes rather than stays half-open.
    this.socket.resume();
    this.socket.destroySoon();
    if (!this.socket.destroyed) this.server.clock.setTimer(5000, () => this.socket.destroy());
    this.server.log.info('pop3.disconnect', { conn: this.id, ip: this.ip, reason: why });
    this.onGone();
  }
}
