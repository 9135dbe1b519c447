// Per-target state and the connection pool (SPEC.md §2.1): state UNKNOWN / ACTIVE / NOT USABLE,
// learned capabilities, counters, ConnectLimit concurrent connections, MaxMsgSent messages per
// connection, ConnectRetry wait after a failed connect. Idle connections are kept for reuse
// (one RSET between messages is the client's job) and closed after idleMs.
//
// A target that takes the connection and then loses the message (no reply after the final dot
// within DataTerm, or the connection dropped mid-transaction) is failing as much as one that
// refuses connections: each such attempt is counted (lostAttempts), a hang takes the target out
// of rotation at once, and LOST_ATTEMPT_LIMIT losses in a row without a delivered message in
// between make it NOT USABLE for ConnectRetry, like a refused connect. All waits are monotonic.
import type { Clock, Result, Timer } from '../core/index.js';
import { ok, err, monotonic } from '../core/index.js';
import { changedTargetSettings, sameTargetSettings } from './targets.js';
import type { TargetLimiter } from './rate.js';
import type { ConnectFailure, Connector, DeliveryConnection, LearnedCapabilities, TargetAddress } from './types.js';

export type TargetState = 'UNKNOWN' | 'ACTIVE' | 'NOT USABLE';

export type ReplyClass = '2xx' | '4xx' | '5xx';
export type ReplyClassCounts = Record<ReplyClass, number>;

export interface TargetCounters {
  mailAttempts: number;
  mailSent: number;
  connectFail: number;
  /** Attempts that ended without a reply: a timeout or a dropped connection mid-transaction. */
  lostAttempts: number;
}

/** Lost attempts in a row (no delivery in between) after which a target is NOT USABLE. */
export const LOST_ATTEMPT_LIMIT = 2;

/** How an attempt was lost: no reply in time (the target hangs), or the connection closed. */
export type LostKind = 'timeout' | 'closed';

interface Pooled {
  readonly conn: DeliveryConnection;
  readonly tls: boolean;
  /** When the connect began (wall clock ms): the CONNECT record's start. */
  readonly start: number;
  /** The same moment in monotonic ms: the record's duration. */
  readonly startMono: number;
  sent: number;
  idleTimer?: Timer;
}

interface Waiter {
  readonly tls: boolean;
  readonly resolve: (r: Result<Lease, ConnectFailure>) => void;
}

export interface Lease {
  readonly conn: DeliveryConnection;
  readonly target: Target;
  /** Return the connection; usable=false drops it. */
  release(usable: boolean): void;
}

/** One connection's life, for CONNECT (49) accounting: it ended, or could not be opened. */
export interface ConnectionRecord {
  readonly address: string;
  readonly port: number;
  readonly result: 'ok' | 'failed';
  readonly tls: boolean;
  readonly esmtp: boolean | null;
  readonly start: number;
  readonly durationMs: number;
  /** Messages this connection carried (a failed connect carried none). */
  readonly messages: number;
  readonly detail?: string;
}

export class Target {
  state: TargetState = 'UNKNOWN';
  capabilities: LearnedCapabilities | undefined;
  readonly counters: TargetCounters = { mailAttempts: 0, mailSent: 0, connectFail: 0, lostAttempts: 0 };
  /** The target's final reply per recipient, by class (router.ts; /metrics spoolgate_target_replies_total). */
  readonly replies: ReplyClassCounts = { '2xx': 0, '4xx': 0, '5xx': 0 };
  /** While NOT USABLE: the monotonic time (Clock.mono) from which a connect may be tried again (ConnectRetry). */
  retryAt = 0;
  /** Lost attempts since the last delivered message. */
  private lostInARow = 0;
  /** A Secure YES target's TLS session was announced (EZD1821I) since it was (re)learned. */
  private tlsAnnounced = false;
  lastError = '';
  /** Connections open or being opened. */
  open = 0;
  private readonly idle: Pooled[] = [];
  /** Connections leased out (a message on them now). */
  private readonly busy = new Set<Pooled>();
  private readonly waiters: Waiter[] = [];
  private closed = false;

  #addr: TargetAddress;
  /**
   * The rate limiter of this address's TargetServer statement (rate.ts), shared with the
   * statement's other addresses; set by the forwarder after each resolve. Undefined = none.
   */
  limiter: TargetLimiter | undefined;

  constructor(
    addr: TargetAddress,
    private readonly connector: Connector,
    private readonly clock: Clock,
    private readonly opts: {
      connectRetryMs: number; idleMs: number; onChange?: (t: Target) => void; onConnection?: (r: ConnectionRecord) => void;
      /** A Secure YES target negotiated TLS: once after it was learned, NOT USABLE or reset (seed: EZD1821I). */
      onSecureTls?: (t: Target) => void;
    },
  ) {
    this.#addr = addr;
  }

  /** The address and its TargetServer statement: every connection setting comes from here. */
  get addr(): TargetAddress {
    return this.#addr;
  }

  /**
   * REFRESH found this address again with the same connection settings (targets.ts
   * sameTargetSettings) but possibly a different statement around it (another TargetName, MX
   * preference or position): keep the pool and its connections, show the new statement.
   */
  adopt(addr: TargetAddress): void {
    if (`${addr.address}|${addr.port}` !== this.key || !sameTargetSettings(addr.server, this.#addr.server)) {
      throw new Error(`Target.adopt: ${addr.address}|${addr.port} with other settings is a new target, not ${this.key}`);
    }
    this.#addr = addr;
  }

  get key(): string {
    return `${this.addr.address}|${this.addr.port}`;
  }

  /** Usable now (monotonic time), or its ConnectRetry wait has run out (then the next connect is the probe). */
  usable(now: number): boolean {
    return !this.closed && (this.state !== 'NOT USABLE' || now >= this.retryAt);
  }

  /** Can this target take a message of this size and TLS need, as far as we know? */
  canTake(size: number, needTls: boolean): boolean {
    const c = this.capabilities;
    if (c === undefined) return true; // UNKNOWN: find out by trying
    if (needTls && !c.startTls) return false;
    const limit = c.esmtp ? (c.size === undefined || c.size === 0 ? Infinity : c.size) : this.addr.server.messageSize;
    return size <= limit;
  }

  /** Connections in use plus waiters: a load measure for spreading work. */
  load(): number {
    return this.open - this.idle.length + this.waiters.length;
  }

  async acquire(tls: boolean): Promise<Result<Lease, ConnectFailure>> {
    if (this.closed) return err({ reason: 'connect', detail: 'target was removed by REFRESH' });
    const i = this.idle.findIndex((p) => p.tls === tls && !p.conn.broken);
    if (i >= 0) {
      const p = this.idle.splice(i, 1)[0]!;
      p.idleTimer?.cancel();
      return ok(this.lease(p));
    }
    if (this.open >= this.addr.server.connectLimit) {
      // Reclaim an idle connection of the other TLS kind to make room, else wait.
      const other = this.idle.shift();
      if (other !== undefined) this.drop(other);
      else return new Promise((resolve) => this.waiters.push({ tls, resolve }));
    }
    return this.connect(tls);
  }

  private async connect(tls: boolean): Promise<Result<Lease, ConnectFailure>> {
    this.open++;
    // MaxConnectPerMinute: the slot is held (open) while waiting, so ConnectLimit still holds.
    const lim = this.limiter;
    if (lim !== undefined && !lim.tryBeginConnect(monotonic(this.clock)) && !(await lim.beginConnect())) {
      this.open--;
      this.wakeWaiter();
      return err({ reason: 'connect', detail: 'forwarder stopping' });
    }
    const start = this.clock.now();
    const startMono = monotonic(this.clock);
    const r = await this.connector.connect(this.addr, { tls });
    if (!r.ok) {
      this.open--;
      this.opts.onConnection?.({
        address: this.addr.address, port: this.addr.port, result: 'failed', tls, esmtp: r.error.capabilities?.esmtp ?? null,
        start, durationMs: monotonic(this.clock) - startMono, messages: 0, detail: r.error.detail,
      });
      if (r.error.capabilities) this.capabilities = r.error.capabilities;
      if (r.error.reason === 'connect' || r.error.reason === 'greeting' || r.error.reason === 'protocol') {
        this.counters.connectFail++;
        this.markNotUsable(r.error.detail);
      } else {
        // TLS not offered / failed, or AUTH refused: the target is alive but cannot take this kind of mail.
        this.lastError = r.error.detail;
        if (this.state === 'UNKNOWN') this.state = 'ACTIVE';
        this.opts.onChange?.(this);
      }
      this.wakeWaiter();
      return r;
    }
    this.capabilities = r.value.capabilities;
    if (r.value.tls && this.addr.server.secure && !this.tlsAnnounced) {
      this.tlsAnnounced = true;
      this.opts.onSecureTls?.(this);
    }
    if (this.state !== 'ACTIVE') {
      this.state = 'ACTIVE';
      this.opts.onChange?.(this);
    }
    return ok(this.lease({ conn: r.value, tls, start, startMono, sent: 0 }));
  }

  /**
   * An attempt on a connection of this target ended without a reply (timeout) or with the
   * connection gone before the message was decided. A hang takes the target out of rotation at
   * once (every message would cost a DataTerm and maybe a copy there); drops do after
   * LOST_ATTEMPT_LIMIT in a row. Returns true when the target went NOT USABLE.
   */
  attemptLost(kind: LostKind, detail: string): boolean {
    this.counters.lostAttempts++;
    this.lostInARow++;
    this.lastError = detail;
    if (kind === 'timeout' || this.lostInARow >= LOST_ATTEMPT_LIMIT) {
      this.markNotUsable(`${detail} (${kind === 'timeout' ? 'target does not answer' : `${this.lostInARow} attempts lost in a row`})`);
      return true;
    }
    this.opts.onChange?.(this);
    return false;
  }

  /** The target gave a reply to a message (any reply): it is talking, the loss count restarts. */
  attemptAnswered(): void {
    this.lostInARow = 0;
  }

  markNotUsable(detail: string): void {
    this.state = 'NOT USABLE';
    this.tlsAnnounced = false;
    this.lastError = detail;
    this.retryAt = monotonic(this.clock) + this.opts.connectRetryMs;
    this.opts.onChange?.(this);
    // Waiters would only wait for connections that will not come: fail them now.
    for (const w of this.waiters.splice(0)) w.resolve(err({ reason: 'connect', detail }));
  }

  private lease(p: Pooled): Lease {
    let done = false;
    this.busy.add(p);
    return {
      conn: p.conn,
      target: this,
      release: (usable: boolean) => {
        if (done) return;
        done = true;
        this.busy.delete(p);
        p.sent++;
        const max = this.addr.server.maxMsgSent;
        if (!usable || p.conn.broken || this.closed || (max > 0 && p.sent >= max)) {
          this.drop(p);
          return;
        }
        const w = this.takeWaiter(p.tls);
        if (w !== undefined) {
          w.resolve(ok(this.lease(p)));
          return;
        }
        p.idleTimer = this.clock.setTimer(this.opts.idleMs, () => {
          const j = this.idle.indexOf(p);
          if (j >= 0) this.idle.splice(j, 1);
          this.drop(p);
        });
        this.idle.push(p);
      },
    };
  }

  private takeWaiter(tls: boolean): Waiter | undefined {
    const i = this.waiters.findIndex((w) => w.tls === tls);
    return i >= 0 ? this.waiters.splice(i, 1)[0] : undefined;
  }

  private drop(p: Pooled): void {
    p.idleTimer?.cancel();
    this.open--;
    this.opts.onConnection?.({
      address: this.addr.address, port: this.addr.port, result: 'ok', tls: p.tls, esmtp: p.conn.capabilities.esmtp,
      start: p.start, durationMs: monotonic(this.clock) - p.startMono, messages: p.sent, detail: p.conn.broken ? 'connection broken' : undefined,
    });
    p.conn.quit().catch(() => p.conn.destroy());
    this.wakeWaiter();
  }

  /** A connection slot became free: let the first waiter open a new connection. */
  private wakeWaiter(): void {
    const w = this.waiters.shift();
    if (w === undefined) return;
    if (this.closed) { w.resolve(err({ reason: 'connect', detail: 'target was removed by REFRESH' })); return; }
    this.connect(w.tls).then(w.resolve, (e: unknown) => w.resolve(err({ reason: 'connect', detail: String(e) })));
  }

  /** Close idle connections; in-use connections close when released. `final` refuses new work. */
  async close(final: boolean): Promise<void> {
    if (final) this.closed = true;
    const idle = this.idle.splice(0);
    for (const p of idle) this.drop(p);
    if (final) for (const w of this.waiters.splice(0)) w.resolve(err({ reason: 'connect', detail: 'target closed' }));
  }

  /**
   * Stop after the drain timeout: cut the connections that still carry a message. Their sends
   * end as lost (the message stays in the spool; a copy the target kept is a duplicate in flight).
   */
  abort(): void {
    for (const p of [...this.busy]) p.conn.destroy();
  }

  /** REFRESHTargets: forget capabilities and state; they are relearned on the next connect. */
  reset(): void {
    this.state = 'UNKNOWN';
    this.capabilities = undefined;
    this.retryAt = 0;
    this.tlsAnnounced = false;
    // eslint-disable-next-line no-restricted-syntax -- close() does not reject (it only drops idle connections)
    void this.close(false);
  }
}

/** What REFRESH does to the targets: the ones to use from now on, and the ones to close. */
export interface Reconciled {
  readonly targets: readonly Target[];
  /** Gone, or found again with other settings: close them (in-flight mail finishes first). */
  readonly retired: readonly Target[];
  /** Found again with other settings: the address and the names of the settings that changed. */
  readonly changed: readonly { readonly key: string; readonly settings: readonly string[] }[];
}

/**
 * Matches newly resolved addresses with the targets in use. An address (address|port) found
 * again with equal connection settings keeps its Target: its connections, state, learned
 * capabilities and counters, whatever position its statement now has. A changed address gets a
 * new Target from `create`, and only its old one is retired.
 */
export function reconcileTargets(current: readonly Target[], addrs: readonly TargetAddress[], create: (addr: TargetAddress) => Target): Reconciled {
  const byKey = new Map(current.map((t) => [t.key, t]));
  const targets: Target[] = [];
  const changed: { key: string; settings: string[] }[] = [];
  for (const addr of addrs) {
    const old = byKey.get(`${addr.address}|${addr.port}`);
    if (old !== undefined && sameTargetSettings(old.addr.server, addr.server)) {
      old.adopt(addr);
      targets.push(old);
      continue;
    }
    // Names only, never values: AuthPassword is among them.
    if (old !== undefined) changed.push({ key: old.key, settings: changedTargetSettings(old.addr.server, addr.server) });
    targets.push(create(addr));
  }
  return { targets, retired: current.filter((t) => !targets.includes(t)), changed };
}
