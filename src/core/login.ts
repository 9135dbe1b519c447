// Logins by password, shared by every protocol that takes one (SMTP AUTH, POP3 USER/PASS and AUTH):
// the one canonical form of a login name, the one throttle of failed logins, and the Authenticator
// that puts the two around the user directory's password check. Pure: time comes from the Clock,
// the password check is injected (the store's UserDirectory.authenticate satisfies it).
//
// The throttle (the scheme, with why; docs/security.md "Authentication" says it for operators):
// - Two kinds of key, counted across connections and protocols: the client address (IPv6 by its
//   /64, which one host usually holds whole) and the canonical user name.
// - Every attempt is counted as a failure *before* the password is checked (the check is async,
//   scrypt); a success then takes its own count back. So N logins started in parallel see each
//   other, and no more than `maxFailures` of them from one address are ever checked.
// - Client address: the first `maxFailures` failures are free; from then on the address is refused
//   without a check for lockMs, doubling with every further failure up to maxLockMs (Dovecot's
//   auth penalty, mox's per-address limiter). Only the address that fails is refused.
// - User name: never refused, because anyone can fail against any name. After `maxFailures`
//   failures every attempt for that name waits userDelayMs before its check, doubling up to
//   maxUserDelayMs: a distributed guesser is slowed, and the owner, from an address that has not
//   been failing, still logs in within maxUserDelayMs (no lockout a stranger can trigger).
// - A key is forgotten windowMs after its last failed attempt, unless its refusal lasts longer.
//   At most maxEntries keys are kept (expired first, then the oldest names, then the oldest
//   addresses not refused, then any).
import { sleep, type Clock } from './clock.js';
import { describeError } from './errors.js';

/**
 * The canonical login name, or undefined when the name cannot be one: Unicode NFC, lower case,
 * and nothing invisible. A name with white space or a control, format or separator character
 * anywhere (` alice`, `alice\u00a0`, `\talice`, `al\u200bice`) is refused, not trimmed, so that
 * one account has one name and one key for its mailbox lock, its throttle and its journal lines.
 */
export function canonicalLoginName(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > 256) return undefined;
  const n = raw.normalize('NFC');
  if (/[\s\p{C}\p{Z}]/u.test(n)) return undefined;
  return n.toLowerCase();
}

/** A printable, bounded form of a name that is not canonical, for logs and journal lines only: `\u0020alice`. */
export function loggableLoginName(raw: string): string {
  return raw.slice(0, 64).replace(/[^\x21-\x5b\x5d-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The throttle key of a client address: IPv4 as is, IPv6 by its /64, IPv4-mapped IPv6 as IPv4. */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export interface LoginThrottleOptions {
  /** Failed logins allowed (per address, per user name) before refusals and delays begin: Pop3 MaxFailedLogins. */
  maxFailures: number;
  /** The first refusal of a failing address; doubles with each further failure. */
  lockMs: number;
  maxLockMs: number;
  /** The first delay for a user name that keeps failing; doubles with each further failure. */
  userDelayMs: number;
  /** The longest any login waits because of its user name: the bound for the account's owner. */
  maxUserDelayMs: number;
  /** A key is forgotten this long after its last failed attempt. */
  windowMs: number;
  /** A failed login is answered only after this delay (slows guessing on one connection). */
  failDelayMs: number;
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  maxFailures: 5, lockMs: 10_000, maxLockMs: 15 * 60_000, userDelayMs: 1000, maxUserDelayMs: 10_000,
  windowMs: 15 * 60_000, failDelayMs: 1000, maxEntries: 10_000,
};

interface Entry { failures: number; lastAt: number; blockedUntil: number }

/** One counted attempt: wait waitMs, check the password, then call finish() once with the result. */
export interface LoginTicket {
  readonly kind: 'go';
  readonly waitMs: number;
  finish(ok: boolean): void;
}

export type LoginAdmission = LoginTicket | { readonly kind: 'refused'; readonly retryInMs: number };

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock, private settings: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  get opts(): LoginThrottleOptions {
    return this.settings;
  }

  /** New limits (REFRESH): counted failures stay and are judged by the new limits at the next attempt. */
  apply(change: Partial<LoginThrottleOptions>): void {
    this.settings = { ...this.settings, ...change };
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.blockedUntil <= now && now - e.lastAt > this.settings.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private entry(key: string, now: number): Entry {
    let e = this.live(key, now);
    if (e === undefined) {
      e = { failures: 0, lastAt: now, blockedUntil: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Doubling from base for each failure past the free ones, capped; 0 while failures are free. */
  private backoff(failures: number, base: number, max: number): number {
    const over = failures - this.settings.maxFailures;
    if (over < 0) return 0;
    return Math.min(max, base * 2 ** Math.min(over, 40));
  }

  /**
   * Admits (and counts) one login attempt for a canonical user name from a client address, before
   * its password is checked. `user` undefined: a name that cannot be canonical, counted against
   * the address only.
   */
  begin(user: string | undefined, ip: string): LoginAdmission {
    const now = this.clock.now();
    const s = this.settings;
    const addressKey = `a:${clientKey(ip)}`;
    const a = this.live(addressKey, now);
    if (a !== undefined && a.blockedUntil > now) return { kind: 'refused', retryInMs: a.blockedUntil - now };
    const addr = a ?? this.entry(addressKey, now);
    addr.failures++;
    addr.lastAt = now;
    const prevBlock = addr.blockedUntil;
    const lock = this.backoff(addr.failures, s.lockMs, s.maxLockMs);
    const setBlock = lock > 0 ? now + lock : prevBlock;
    addr.blockedUntil = setBlock;
    let waitMs = 0;
    const u = user === undefined ? undefined : this.entry(`u:${user}`, now);
    if (u !== undefined) {
      waitMs = this.backoff(u.failures, s.userDelayMs, s.maxUserDelayMs);
      u.failures++;
      u.lastAt = now;
    }
    this.prune(now);
    let done = false;
    return {
      kind: 'go',
      waitMs,
      finish: (ok) => {
        if (done) return;
        done = true;
        const at = this.clock.now();
        if (!ok) {
          addr.lastAt = at;
          if (u !== undefined) u.lastAt = at;
          return;
        }
        // A success takes back only its own presumed failure: one good account does not clear
        // the failures of others guessed from the same address.
        addr.failures = Math.max(0, addr.failures - 1);
        if (addr.blockedUntil === setBlock) addr.blockedUntil = prevBlock;
        if (u !== undefined) u.failures = Math.max(0, u.failures - 1);
      },
    };
  }

  private prune(now: number): void {
    if (this.entries.size <= this.settings.maxEntries) return;
    for (const k of [...this.entries.keys()]) this.live(k, now);
    // Still too many: forget the oldest user names first, then the oldest addresses not refused,
    // then any (Map keeps insertion order), so that a flood of invented names or addresses does not
    // make a refused address forgotten.
    const passes: ((k: string, e: Entry) => boolean)[] = [(k) => k.startsWith('u:'), (_k, e) => e.blockedUntil <= now, () => true];
    for (const pass of passes) {
      for (const [k, e] of this.entries) {
        if (this.entries.size <= this.settings.maxEntries) return;
        if (pass(k, e)) this.entries.delete(k);
      }
    }
  }
}

/** What the password check of the user directory answers for a canonical name. */
export interface CredentialCheck {
  /** The account when the name exists and the password matches; active false once removed. */
  authenticate(name: string, password: string): Promise<{ readonly name: string; readonly active: boolean } | undefined>;
}

/**
 * Why a login may be made: `submit` (SMTP AUTH: mail from and relay through the gateway) needs an
 * active account; `retrieve` (POP3) also admits a removed one, whose remaining mail may still be
 * fetched until it is purged (SPEC.md §6).
 */
export type LoginPurpose = 'submit' | 'retrieve';

export type LoginOutcome =
  | { readonly ok: true; readonly user: string }
  /**
   * user: the canonical name, or a printable form of a name that cannot be canonical (for logs).
   * invalid: wrong name or password (or a removed account for `submit`); throttled: refused
   * without a check; unavailable: the check itself failed (detail says why, for the log only).
   */
  | { readonly ok: false; readonly reason: 'invalid' | 'throttled' | 'unavailable'; readonly user: string; readonly detail?: string };

/** The one door for password logins: canonical name, shared throttle, check, failure delay. */
export class Authenticator {
  constructor(private readonly users: CredentialCheck, readonly throttle: LoginThrottle, private readonly clock: Clock) {}

  async login(rawUser: string, password: string, clientIp: string, purpose: LoginPurpose): Promise<LoginOutcome> {
    const user = canonicalLoginName(rawUser);
    const shown = user ?? loggableLoginName(rawUser);
    const admitted = this.throttle.begin(user, clientIp);
    if (admitted.kind === 'refused') return { ok: false, reason: 'throttled', user: shown, detail: `address refused for ${Math.ceil(admitted.retryInMs / 1000)} s after repeated failures` };
    if (admitted.waitMs > 0) await sleep(this.clock, admitted.waitMs);
    let account: { name: string; active: boolean } | undefined;
    try {
      account = user === undefined ? undefined : await this.users.authenticate(user, password);
    } catch (e) {
      // Not the client's fault: its presumed failure is taken back.
      admitted.finish(true);
      return { ok: false, reason: 'unavailable', user: shown, detail: describeError(e) };
    }
    const good = account !== undefined && (account.active || purpose === 'retrieve');
    admitted.finish(good);
    if (good) return { ok: true, user: account!.name };
    if (this.throttle.opts.failDelayMs > 0) await sleep(this.clock, this.throttle.opts.failDelayMs);
    return { ok: false, reason: 'invalid', user: shown, ...(account !== undefined ? { detail: 'account removed' } : {}) };
  }
}

const HIDDEN = '(authentication data hidden)';

/**
 * What a protocol trace, log or journal may show of a client's command lines (SPEC.md §10: never
 * credentials). One mask per connection, fed every line in order:
 * - a line whose verb begins with AUTH, whatever follows it (space, tab, `=`, nothing), shows
 *   `AUTH` and a mechanism name only; a verb in `secretArgs` (POP3 PASS and USER) shows the verb;
 * - every line after an AUTH line is hidden until one begins with a known command verb: the SASL
 *   responses, also when the server refused the AUTH (no TLS yet, unknown mechanism, pipelined
 *   before STARTTLS) and reads them as commands.
 * Lines inside an accepted SASL exchange are hidden by the session itself (it knows its state).
 */
export class TraceMask {
  private afterAuth = false;

  constructor(private readonly knownVerbs: ReadonlySet<string>, private readonly secretArgs: ReadonlySet<string> = new Set()) {}

  show(line: string): string {
    const t = line.replace(/^[\s\0]+/, '');
    const word = (/^[A-Za-z]+/.exec(t)?.[0] ?? '').toUpperCase();
    if (word.startsWith('AUTH')) {
      this.afterAuth = true;
      const mech = /^AUTH[ \t]+([A-Za-z0-9_-]{1,20})(?=$|[ \t])/i.exec(t)?.[1];
      if (word !== 'AUTH' || mech === undefined) return 'AUTH ****';
      return t.length > 5 + mech.length ? `AUTH ${mech.toUpperCase()} ****` : `AUTH ${mech.toUpperCase()}`;
    }
    if (this.afterAuth && !this.knownVerbs.has(word)) return HIDDEN;
    this.afterAuth = false;
    for (const v of this.secretArgs) if (word.startsWith(v)) return `${v} ****`;
    return line;
  }
}
