// POP3 maildrop locks across nodes (RFC 2449 §8.1.1 [IN-USE], RFC 1939 §4: one session holds a
// maildrop at a time), for pop3/server.ts's Pop3MaildropLocks seam. Choice: a lock ROW with a
// lease, not a session-level advisory lock:
// - exact keys (the canonical mailbox name; an advisory lock would hash it to 64 bits), visible
//   to an operator (which node holds which mailbox since when);
// - no connection held per session (an advisory lock lives on one backend connection) and it
//   works through a transaction-mode connection pooler;
// - bounded: the holding node renews its rows every Heartbeat; a node killed or cut off stops
//   renewing and its rows run out after LeaseTime (database clock), so a dead node locks a
//   mailbox for at most LeaseTime. A restarted node deletes the rows of its previous life at once.
// - fenced: each hold has a token from a sequence; a node that could not renew for
//   LeaseTime − Heartbeat gives its holds up (the sessions end) before another node can take
//   them, and checks its hold (renewing it) before a session's deletions are committed.
import { monotonic, type Clock, type Timer } from '../../core/clock.js';
import type { PgPool } from './pool.js';

export interface MaildropHold {
  /** Ends the hold (the session ended). */
  release(): Promise<void>;
  /** True while the hold is still this session's (renews it): checked before deleting mail. */
  held(): Promise<boolean>;
}

export interface PgMaildropLockOptions {
  readonly node: string;
  readonly leaseSeconds: number;
  readonly heartbeatMs: number;
  readonly clock: Clock;
  /** A renewal failed (the database is unreachable): logged by the caller. */
  readonly onError?: (e: unknown) => void;
}

interface Hold { readonly mailbox: string; readonly token: string; readonly lost: () => void }

const ACQUIRE = `
  INSERT INTO pop3_locks AS l (mailbox, node, token, expires_at)
  VALUES ($1, $2, nextval('pop3_lock_tokens'), now() + make_interval(secs => $3))
  ON CONFLICT (mailbox) DO UPDATE SET node = EXCLUDED.node, token = EXCLUDED.token, since = now(), expires_at = EXCLUDED.expires_at
  WHERE l.expires_at < now()
  RETURNING token`;

export class PgMaildropLocks {
  private readonly holds = new Map<string, Hold>();
  private beatTimer: Timer | undefined;
  private watchdog: Timer | undefined;
  private lastOk = 0;
  private running = false;
  private cleared: Promise<void> | undefined;

  constructor(private readonly db: PgPool, private readonly o: PgMaildropLockOptions) {}

  /** Forgets this node's rows of a previous life (its sessions died with it), then renews every Heartbeat. */
  start(): Promise<void> {
    if (this.running) return this.cleared ?? Promise.resolve();
    this.running = true;
    this.lastOk = monotonic(this.o.clock);
    this.armWatchdog();
    const tick = (): void => {
      if (!this.running) return;
      this.renew().catch((e: unknown) => this.o.onError?.(e)).finally(() => { if (this.running) this.beatTimer = this.o.clock.setTimer(this.o.heartbeatMs, tick); });
    };
    this.beatTimer = this.o.clock.setTimer(this.o.heartbeatMs, tick);
    this.cleared = this.db.query('DELETE FROM pop3_locks WHERE node = $1', [this.o.node]).then(() => undefined);
    return this.cleared;
  }

  /** The hold of `mailbox` for one session, or undefined when a live session (any node) holds it. */
  async acquire(mailbox: string, lost: () => void): Promise<MaildropHold | undefined> {
    await this.cleared;
    const r = await this.db.query<{ token: string }>(ACQUIRE, [mailbox, this.o.node, this.o.leaseSeconds]);
    const token = r.rows[0]?.token;
    if (token === undefined) return undefined;
    const hold: Hold = { mailbox, token, lost };
    this.holds.set(token, hold);
    return {
      release: async () => {
        if (!this.holds.delete(token)) return;
        await this.db.query('DELETE FROM pop3_locks WHERE mailbox = $1 AND token = $2', [mailbox, token]);
      },
      held: async () => {
        if (!this.holds.has(token)) return false;
        const x = await this.db.query('UPDATE pop3_locks SET expires_at = now() + make_interval(secs => $3) WHERE mailbox = $1 AND token = $2 AND node = $4', [mailbox, token, this.o.leaseSeconds, this.o.node]);
        return (x.rowCount ?? 0) > 0;
      },
    };
  }

  /** Mailboxes this node holds now. */
  heldMailboxes(): string[] {
    return [...this.holds.values()].map((h) => h.mailbox);
  }

  /** One heartbeat: renews every hold in one statement; a hold not renewed was taken over (its session ends). */
  async renew(): Promise<void> {
    const started = monotonic(this.o.clock);
    const asked = [...this.holds.values()];
    let kept: Set<string>;
    try {
      const r = await this.db.query<{ token: string }>(
        'UPDATE pop3_locks SET expires_at = now() + make_interval(secs => $3) WHERE node = $1 AND token = ANY($2::bigint[]) RETURNING token',
        [this.o.node, asked.map((h) => h.token), this.o.leaseSeconds]);
      kept = new Set(r.rows.map((x) => String(x.token)));
    } catch (e) {
      this.o.onError?.(e);
      return;
    }
    this.lastOk = started;
    this.armWatchdog();
    for (const h of asked) {
      if (kept.has(h.token) || !this.holds.delete(h.token)) continue;
      h.lost();
    }
  }

  private armWatchdog(): void {
    this.watchdog?.cancel();
    if (!this.running) return;
    const due = this.lastOk + this.o.leaseSeconds * 1000 - this.o.heartbeatMs - monotonic(this.o.clock);
    this.watchdog = this.o.clock.setTimer(Math.max(0, due), () => this.giveUp());
  }

  /** No renewal for LeaseTime − Heartbeat: every session ends before another node could take its maildrop. */
  private giveUp(): void {
    const all = [...this.holds.values()];
    this.holds.clear();
    for (const h of all) h.lost();
    this.lastOk = monotonic(this.o.clock);
    this.armWatchdog();
  }

  /** Stops renewing and deletes this node's rows (a clean stop: the sessions are ended first). */
  async stop(): Promise<void> {
    this.running = false;
    this.beatTimer?.cancel();
    this.watchdog?.cancel();
    this.holds.clear();
    await this.db.query('DELETE FROM pop3_locks WHERE node = $1', [this.o.node]).catch((e: unknown) => this.o.onError?.(e));
  }
}
