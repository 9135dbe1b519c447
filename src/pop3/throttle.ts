// Failed-login throttling, per user name and per client IP: after `maxFailures` failures within
// `windowMs`, further logins for that user or from that IP are refused for `lockMs` without even
// checking the password. Memory is bounded: at most `maxEntries` keys, expired ones pruned first.
import type { Clock } from '../core/clock.js';

export interface ThrottleOptions {
  /** Failures allowed within windowMs before the key is locked (default 5). */
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  /** Each failed login is answered only after this delay (slows guessing on one connection). */
  failDelayMs: number;
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 5 * 60_000, failDelayMs: 1000, maxEntries: 10_000 };

interface Entry { failures: number; firstAt: number; lockedUntil: number }

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock, private settings: ThrottleOptions = DEFAULT_THROTTLE) {}

  get opts(): ThrottleOptions {
    return this.settings;
  }

  /** New limits (REFRESH): counted failures stay and are judged by the new limit at the next failure. */
  apply(change: Partial<ThrottleOptions>): void {
    this.settings = { ...this.settings, ...change };
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    const now = this.clock.now();
    if (e.lockedUntil <= now && now - e.firstAt > this.opts.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** True when a login for this user or from this IP is currently refused. */
  locked(user: string, ip: string): boolean {
    const now = this.clock.now();
    return [`u:${user}`, `i:${ip}`].some((k) => (this.live(k)?.lockedUntil ?? 0) > now);
  }

  fail(user: string, ip: string): void {
    const now = this.clock.now();
    for (const k of [`u:${user}`, `i:${ip}`]) {
      const e = this.live(k) ?? { failures: 0, firstAt: now, lockedUntil: 0 };
      e.failures++;
      if (e.failures >= this.opts.maxFailures) {
        e.lockedUntil = now + this.opts.lockMs;
        e.failures = 0;
        e.firstAt = now;
      }
      this.entries.set(k, e);
    }
    this.prune();
  }

  /** A successful login clears the user's failures (the IP's stay: one good account must not unlock guessing others). */
  succeed(user: string): void {
    this.entries.delete(`u:${user}`);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(): void {
    if (this.entries.size <= this.opts.maxEntries) return;
    for (const k of [...this.entries.keys()]) this.live(k);
    // Still too many: forget the oldest (Map keeps insertion order).
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
