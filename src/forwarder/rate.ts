// Smart-host rate limits (issue 21 item 3; docs/rate-limits.md). Cloud relays (Microsoft 365,
// Gmail, SES) count messages per second or minute, recipients per message and connections per
// minute, and answer a burst with 4xx storms. One TargetLimiter per TargetServer statement (all
// its addresses share it: the relay counts the account, not the IP) keeps:
//   - sliding windows: at most N transactions (or connections) begin in any window. A window is
//     a ring of the last N start times, so the check is O(1) and the memory is N numbers;
//   - an adaptive back-off on replies that say the target is rate limiting (isRateReply): each
//     one (from a transaction begun after the last raise, so one burst counts once) doubles the
//     spacing between transaction starts, up to BACKOFF_MAX_SPACING_MS; every BACKOFF_RECOVER_MS
//     without another one steps it back down. This is Postfix's negative concurrency feedback and
//     rate delay, and Momentum's "throttle down" rules, folded into one spacing.
// Waits use the injected Clock (monotonic); stop() ends them at once. With no limit set and no
// back-off in force every check is a few comparisons and nothing is recorded ([B2]: free).
import type { Clock, Timer } from '../core/index.js';
import { monotonic } from '../core/index.js';
import type { ReplyInfo, TargetRateSettings } from './types.js';

export type { TargetRateSettings };

export const NO_RATE_LIMITS: TargetRateSettings = { msgPerSecond: null, msgPerMinute: null, rcptPerMsg: null, connectPerMinute: null, backoff: true };

/**
 * Each window is this much longer than its nominal second or minute. The target counts arrivals
 * by its own clock; our start times reach it after network and scheduling delays that differ
 * from message to message, so exact windows would let N+1 arrive in one of its seconds.
 */
export const RATE_MARGIN = 0.1;
/** Back-off: the first step's spacing is at least this, and at least twice the configured spacing. */
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_SPACING_MS = 60_000;
/** Back-off: one step down after this long without another rate reply. */
export const BACKOFF_RECOVER_MS = 30_000;

/** At most `limit` events begin in any `windowMs`. */
export class SlidingWindow {
  private readonly stamps: Float64Array;
  /** Ring position of the oldest stamp once full; the next write. */
  private next = 0;
  private count = 0;
  constructor(readonly limit: number, readonly windowMs: number) {
    this.stamps = new Float64Array(limit);
  }

  /** Milliseconds until one more event fits (0 = now). */
  waitMs(now: number): number {
    if (this.count < this.limit) return 0;
    return Math.max(0, this.stamps[this.next]! + this.windowMs - now);
  }

  record(now: number): void {
    this.stamps[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    if (this.count < this.limit) this.count++;
  }

  /** Events in the window ending now (for the display; O(limit)). */
  inWindow(now: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.stamps[i]! > now - this.windowMs) n++;
    return n;
  }

  /** A window with another limit that keeps the most recent stamps (REFRESH). */
  resized(limit: number, windowMs: number): SlidingWindow {
    const w = new SlidingWindow(limit, windowMs);
    const keep = Math.min(this.count, limit);
    for (let k = keep; k > 0; k--) w.record(this.stamps[(this.next - k + this.limit) % this.limit]!);
    return w;
  }
}

// RFC 3463 §3.4/§3.5 and the IANA registry: X.7.28 "mail flood detected" (Gmail's 421 4.7.28),
// X.3.2 "system not accepting network messages" (Microsoft's 421 4.3.2 "concurrent connections
// ... exceeded"), X.7.0 with a rate text (Gmail's 421 4.7.0 "try again later", or "rate
// limited"), SES's "454 Throttling failure: Maximum sending rate exceeded". Replies about one
// mailbox (X.2.x: "receiving mail at a rate") or about the recipient count (X.5.3, "too many
// recipients": MaxRcptPerMsg is the answer to those) do not slow the whole target. Postfix's anvil
// limits say "too many connections/new TLS sessions/recipients from <client>" and "too much mail
// from <client>"; its "too many errors" and "too many recipients" (per message) are not rates.
const RATE_TEXT = /\brate\b|rate[- ]?limit|throttl|too many (?:connections|messages|mails?|e-?mails|requests|sessions|deliveries|new tls sessions|recipients from)|too much mail|slow down|sending quota|concurrent connections|thread limit|try again later, closing/i;
// 432 is not in RFC 5321's list, but Microsoft 365 uses it for "432 4.3.2 STOREDRV.ClientSubmit;
// sender thread limit exceeded" (too many submissions at once from one sender).
const RATE_CODES = new Set([421, 432, 450, 451, 452, 454]);

/** Does this reply say the target is limiting our rate (not one mailbox, not this message)? */
export function isRateReply(r: ReplyInfo): boolean {
  if (!RATE_CODES.has(r.code)) return false;
  const e = r.enhanced;
  if (e !== undefined && (e.startsWith('4.2.') || e === '4.5.3')) return false;
  if (e === '4.7.28') return true;
  return RATE_TEXT.test(r.text);
}

export interface RateSnapshot {
  readonly msgPerSecond: number | null;
  readonly msgPerMinute: number | null;
  readonly rcptPerMsg: number | null;
  readonly connectPerMinute: number | null;
  readonly backoff: boolean;
  /** Transactions begun in the last (margined) second / minute, when that limit is set. */
  readonly sentLastSecond: number | null;
  readonly sentLastMinute: number | null;
  readonly connectsLastMinute: number | null;
  /** Back-off step now (0 = none) and the spacing it imposes between transaction starts. */
  readonly backoffLevel: number;
  readonly backoffSpacingMs: number;
  /** Rate replies seen, and the last one's text. */
  readonly rateReplies: number;
  readonly lastRateReply: string;
}

export class TargetLimiter {
  private settings: TargetRateSettings;
  private perSecond: SlidingWindow | undefined;
  private perMinute: SlidingWindow | undefined;
  private connects: SlidingWindow | undefined;
  /** Back-off step as of raisedAt; it decays by one per BACKOFF_RECOVER_MS (level()). */
  private raisedLevel = 0;
  private raisedAt = 0;
  /** Monotonic start of the last transaction (for the back-off spacing). */
  private lastStart = -Infinity;
  rateReplies = 0;
  lastRateReply = '';
  private stopped = false;
  private readonly sleepers = new Set<() => void>();

  constructor(settings: TargetRateSettings, private readonly clock: Clock) {
    this.settings = NO_RATE_LIMITS;
    this.update(settings);
  }

  /** New limits (REFRESH): the recent history is kept, so a refresh is not a fresh burst. */
  update(s: TargetRateSettings): void {
    const resize = (w: SlidingWindow | undefined, limit: number | null, ms: number): SlidingWindow | undefined => {
      if (limit === null) return undefined;
      const windowMs = ms * (1 + RATE_MARGIN);
      if (w === undefined) return new SlidingWindow(limit, windowMs);
      return w.limit === limit ? w : w.resized(limit, windowMs);
    };
    this.perSecond = resize(this.perSecond, s.msgPerSecond, 1000);
    this.perMinute = resize(this.perMinute, s.msgPerMinute, 60_000);
    this.connects = resize(this.connects, s.connectPerMinute, 60_000);
    if (!s.backoff) this.raisedLevel = 0;
    this.settings = s;
  }

  get rcptPerMsg(): number | null {
    return this.settings.rcptPerMsg;
  }

  /** The back-off step at monotonic time now. */
  level(now: number): number {
    if (this.raisedLevel === 0) return 0;
    return Math.max(0, this.raisedLevel - Math.floor((now - this.raisedAt) / BACKOFF_RECOVER_MS));
  }

  private spacing(level: number): number {
    if (level === 0) return 0;
    const s = this.settings;
    const configured = Math.max(s.msgPerSecond !== null ? 1000 / s.msgPerSecond : 0, s.msgPerMinute !== null ? 60_000 / s.msgPerMinute : 0);
    const base = Math.max(BACKOFF_BASE_MS, 2 * configured);
    return Math.min(BACKOFF_MAX_SPACING_MS, base * 2 ** (level - 1));
  }

  /** Milliseconds until a transaction may begin (0 = now). */
  messageWait(now: number): number {
    let w = 0;
    if (this.perSecond !== undefined) w = this.perSecond.waitMs(now);
    if (this.perMinute !== undefined) w = Math.max(w, this.perMinute.waitMs(now));
    if (this.raisedLevel !== 0) w = Math.max(w, this.lastStart + this.spacing(this.level(now)) - now);
    return w;
  }

  connectWait(now: number): number {
    return this.connects === undefined ? 0 : this.connects.waitMs(now);
  }

  /** Records a transaction's start if one may begin now (true); false = it must wait (beginMessage). No promise: the fast path. */
  tryBeginMessage(now: number): boolean {
    if (this.stopped || this.messageWait(now) > 0) return false;
    this.perSecond?.record(now);
    this.perMinute?.record(now);
    this.lastStart = now;
    return true;
  }

  /** Records a connection if one may be opened now (true); false = it must wait (beginConnect). */
  tryBeginConnect(now: number): boolean {
    if (this.stopped) return false;
    if (this.connects === undefined) return true;
    if (this.connects.waitMs(now) > 0) return false;
    this.connects.record(now);
    return true;
  }

  /**
   * Waits until a transaction may begin and records its start (true), or returns false when the
   * forwarder stops meanwhile. Callers that wait at once record in the same turn: nobody else
   * can take the slot between the check and the record.
   */
  async beginMessage(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      const now = monotonic(this.clock);
      if (this.tryBeginMessage(now)) return true;
      await this.sleep(this.messageWait(now));
    }
  }

  /** Waits until a transaction could begin, without taking the slot (before opening a connection). */
  async untilMessageFree(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      const w = this.messageWait(monotonic(this.clock));
      if (w <= 0) return true;
      await this.sleep(w);
    }
  }

  /** Waits until a connection may be opened and records it; false when stopped. */
  async beginConnect(): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      const now = monotonic(this.clock);
      if (this.tryBeginConnect(now)) return true;
      await this.sleep(this.connectWait(now));
    }
  }

  /**
   * A reply to a transaction begun at `startedAt` (monotonic). A rate reply raises the back-off
   * one step unless the step was already raised after that transaction began (its burst was
   * answered already). Returns true when it raised.
   */
  observe(reply: ReplyInfo, startedAt: number): boolean {
    if (!this.settings.backoff || !isRateReply(reply)) return false;
    this.rateReplies++;
    this.lastRateReply = `${reply.code}${reply.enhanced !== undefined ? ` ${reply.enhanced}` : ''} ${reply.text}`;
    const now = monotonic(this.clock);
    if (this.raisedLevel !== 0 && startedAt <= this.raisedAt) return false;
    const current = this.level(now);
    // Stop at the step whose spacing reaches the maximum: higher steps would only take longer to recover.
    if (current > 0 && this.spacing(current) >= BACKOFF_MAX_SPACING_MS) { this.raisedAt = now; this.raisedLevel = current; return false; }
    this.raisedLevel = current + 1;
    this.raisedAt = now;
    return true;
  }

  /** Forwarder stop: every wait ends now and no new one begins. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: Timer | undefined = undefined;
      const wake = (): void => { timer?.cancel(); this.sleepers.delete(wake); resolve(); };
      this.sleepers.add(wake);
      timer = this.clock.setTimer(Math.ceil(ms), wake);
    });
  }

  snapshot(): RateSnapshot {
    const now = monotonic(this.clock);
    const s = this.settings;
    const level = this.level(now);
    return {
      msgPerSecond: s.msgPerSecond, msgPerMinute: s.msgPerMinute, rcptPerMsg: s.rcptPerMsg, connectPerMinute: s.connectPerMinute, backoff: s.backoff,
      sentLastSecond: this.perSecond?.inWindow(now) ?? null,
      sentLastMinute: this.perMinute?.inWindow(now) ?? null,
      connectsLastMinute: this.connects?.inWindow(now) ?? null,
      backoffLevel: level,
      backoffSpacingMs: Math.round(this.spacing(level)),
      rateReplies: this.rateReplies,
      lastRateReply: this.lastRateReply,
    };
  }
}
