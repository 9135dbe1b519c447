// One delivery attempt of one message to the targets (SPEC.md §2.1): spread over usable
// targets (least loaded first), TLS-required mail only over TLS, over-size mail only to targets
// that accept its size. A connection lost mid-message (no reply in time, or dropped) ends the
// attempt as transient for every undecided recipient — the target may have stored the message,
// so it is not sent again at once — and counts against the target (pool.ts attemptLost).
// Returns per-recipient outcomes with the connection still leased: the caller (lifecycle.ts)
// records them in the checkpoint and only then releases it, so a connection carries at most
// one message whose outcome is not yet on disk.
import type { Clock, Recipient } from '../core/index.js';
import { monotonic } from '../core/index.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import type { Target } from './pool.js';
import type { TargetLimiter } from './rate.js';
import type { MessageOutcome, OutboundMessage, RecipientOutcome, ReplyInfo } from './types.js';

/** Every result says how many times the message was sent to a target (`tries`, accounting `attempts`). */
export type AttemptResult = (
  /** Every usable target was tried or none was usable; wait for one to come back (task WAIT). */
  | { readonly kind: 'no-target'; readonly detail: string }
  /** No configured target can ever take this message (TLS or size): undeliverable. */
  | { readonly kind: 'impossible'; readonly detail: string; readonly reply: ReplyInfo }
  /** `target` is '' when no target was tried: only unavailable targets could take the message. */
  | {
    readonly kind: 'tried'; readonly outcomes: readonly RecipientOutcome[]; readonly target: string; readonly detail: string;
    /** The target's port and whether the connection used TLS (for the delivery log line); absent when no target was tried. */
    readonly port?: number; readonly tls?: boolean;
    /** The target offered DSN (RFC 3461), so NOTIFY/ORCPT/RET/ENVID were passed on. */
    readonly dsn?: boolean;
    /** Hands the connection back; call after the outcome is checkpointed. Idempotent. */
    readonly release: () => void;
    /**
     * Recipients left out of this transaction (the target's MaxRcptPerMsg): still to be sent,
     * at once, in further transactions. Absent or empty = every recipient was in this one.
     */
    readonly rest?: readonly Recipient[];
  }
  /** The forwarder is stopping: nothing was sent. */
  | { readonly kind: 'stopped' }
) & { readonly tries: number };

export function needsTls(m: OutboundMessage, t: Target): boolean {
  // Seed table 2: TLS is required when the job issued STARTTLS or the target is Secure YES.
  return m.envelope.requireTls || t.addr.server.secure;
}

export class Router {
  private rr = 0;
  private stopped = false;
  constructor(private targets: readonly Target[], private readonly clock: Clock) {}

  /** Shutdown: an attempt that gets a connection from now on gives it back unused. */
  stop(): void {
    this.stopped = true;
    for (const t of this.targets) t.limiter?.stop();
  }

  setTargets(targets: readonly Target[]): void {
    this.targets = targets;
  }

  list(): readonly Target[] {
    return this.targets;
  }

  /** The earliest monotonic time a NOT USABLE target may be tried again (for task WAIT), or undefined. */
  nextRetryAt(): number | undefined {
    const times = this.targets.filter((t) => t.state === 'NOT USABLE').map((t) => t.retryAt);
    return times.length ? Math.min(...times) : undefined;
  }

  anyUsable(): boolean {
    const now = monotonic(this.clock);
    return this.targets.some((t) => t.usable(now));
  }

  async attempt(msg: OutboundMessage): Promise<AttemptResult> {
    if (this.stopped) return { kind: 'stopped', tries: 0 };
    const now = monotonic(this.clock);
    if (this.targets.length === 0) return { kind: 'no-target', detail: 'no target addresses', tries: 0 };
    const capableAnywhere = this.targets.filter((t) => t.canTake(msg.size, needsTls(msg, t)));
    if (capableAnywhere.length === 0) return impossible(msg, this.targets, 0);
    let tries = 0;
    const start = this.rr++ % this.targets.length;
    // A target whose rate limit lets a transaction begin now comes before one that would wait.
    const order = capableAnywhere
      .filter((t) => t.usable(now))
      .map((t) => ({ t, k: (this.targets.indexOf(t) - start + this.targets.length) % this.targets.length, w: t.limiter !== undefined && t.limiter.messageWait(now) > 0 ? 1 : 0 }))
      .sort((a, b) => a.w - b.w || a.t.load() - b.t.load() || a.k - b.k)
      .map((x) => x.t);
    let lastDetail = 'no usable target';
    for (const t of order) {
      const tls = needsTls(msg, t);
      if (!t.canTake(msg.size, tls)) continue; // learned while trying an earlier target
      const limiter = t.limiter;
      // Rate limits (rate.ts): wait for a free slot before taking a connection, so a waiting
      // message holds none; the slot itself is taken once the connection is ready.
      // Without a limit or back-off in force this is one synchronous check: no promise, no record.
      if (limiter !== undefined && limiter.messageWait(monotonic(this.clock)) > 0 && !(await limiter.untilMessageFree())) return { kind: 'stopped', tries };
      const lease = await t.acquire(tls);
      if (!lease.ok) {
        lastDetail = `${t.addr.address}: ${lease.error.detail}`;
        continue;
      }
      if (this.stopped || (limiter !== undefined && !limiter.tryBeginMessage(monotonic(this.clock)) && !(await limiter.beginMessage()))) {
        lease.value.release(true);
        return { kind: 'stopped', tries };
      }
      const startedAt = monotonic(this.clock);
      t.counters.mailAttempts++;
      tries++;
      // MaxRcptPerMsg: the first N recipients now; the caller records them and sends the rest
      // in further transactions (each outcome is checkpointed before the next one begins).
      const all = msg.envelope.recipients;
      const max = limiter?.rcptPerMsg ?? null;
      const split = max !== null && all.length > max;
      const sent: OutboundMessage = split ? { ...msg, envelope: { ...msg.envelope, recipients: all.slice(0, max) } } : msg;
      const rest = split ? all.slice(max) : undefined;
      let outcome: MessageOutcome;
      try {
        outcome = await lease.value.conn.send(sent);
      } catch (e) {
        // send() reports failures as values; a throw is a bug in the connection: drop it, try the next.
        lease.value.release(false);
        lastDetail = `${t.addr.address}: ${e instanceof Error ? e.message : String(e)}`;
        continue;
      }
      const lease_ = lease.value;
      const release = (): void => lease_.release(outcome.connectionUsable);
      // Seed 001: a target "sent" a message when it accepted at least one recipient (a partial
      // send counts; the refused recipients are reported on their own).
      if (outcome.recipients.some((r) => r.status === 'accepted')) t.counters.mailSent++;
      const definitive = outcome.recipients.some((r) => r.status !== 'transient');
      if (!outcome.connectionUsable && !definitive) {
        // Lost mid-message: nothing was decided, but the target may have stored it (a reply lost
        // after the final dot). A counted transient attempt, like a 4xx: long retry, not a resend now.
        t.attemptLost(outcome.lost ?? 'closed', `${t.addr.address}: ${outcome.detail}`);
        return { kind: 'tried', outcomes: outcome.recipients, target: t.addr.address, port: t.addr.port, tls: lease_.conn.tls, dsn: lease_.conn.capabilities.dsn === true, detail: `attempt lost: ${outcome.detail}`, release, tries, rest };
      }
      t.attemptAnswered();
      // Adaptive back-off: a reply that says "rate" slows the statement's targets (rate.ts).
      if (limiter !== undefined) observeRate(limiter, outcome, startedAt);
      // The target's own replies (a lost attempt above has only local ones): one per recipient.
      for (const r of outcome.recipients) {
        const cls = Math.floor(r.reply.code / 100);
        if (cls === 2 || cls === 4 || cls === 5) t.replies[`${cls}xx`]++;
      }
      return { kind: 'tried', outcomes: outcome.recipients, target: t.addr.address, port: t.addr.port, tls: lease_.conn.tls, dsn: lease_.conn.capabilities.dsn === true, detail: outcome.detail, release, tries, rest };
    }
    if (!this.targets.some((t) => t.canTake(msg.size, needsTls(msg, t)))) return impossible(msg, this.targets, tries);
    // Seed: TLS-required mail fails when no *available* target offers STARTTLS. A target that is
    // down (or has not answered yet) may offer it when it comes back, so here that is a
    // transient failure: the message goes to long retry, bounded by RetryLimit and counted in
    // LRT, instead of waiting for that target without bound (one dead secondary target used to
    // stall all TLS mail). The same holds for a size only an unavailable target accepts. With
    // no target available at all the task waits (WAIT), as for every other mail.
    const nowAgain = monotonic(this.clock);
    const available = this.targets.filter((t) => t.usable(nowAgain));
    if (available.length > 0 && !available.some((t) => t.canTake(msg.size, needsTls(msg, t)))) {
      const tls = available.some((t) => needsTls(msg, t) && t.capabilities !== undefined && !t.capabilities.startTls);
      const down = this.targets.filter((t) => !available.includes(t)).map((t) => t.addr.address).join(', ');
      const detail = tls
        ? `TLS is required for this mail and no available target offers STARTTLS (not usable now: ${down})`
        : `message of ${msg.size} bytes is larger than every available target accepts (not usable now: ${down})`;
      const reply = localReply(tls ? Codes.C454TlsNotAvailable : Codes.C451LocalError, detail);
      return { kind: 'tried', outcomes: allWith(msg.envelope.recipients, 'transient', reply), target: '', detail, release: () => undefined, tries };
    }
    return { kind: 'no-target', detail: lastDetail, tries };
  }
}

/** The transaction's 4xx (MAIL/DATA) or else the first transient recipient's, told to the limiter once per transaction. */
function observeRate(limiter: TargetLimiter, outcome: MessageOutcome, startedAt: number): void {
  const transient = (r: ReplyInfo | undefined): r is ReplyInfo => r !== undefined && r.code >= 400 && r.code < 500;
  const reply = [outcome.reply, outcome.recipients.find((r) => r.status === 'transient')?.reply].find(transient);
  if (reply !== undefined) limiter.observe(reply, startedAt);
}

function impossible(msg: OutboundMessage, targets: readonly Target[], tries: number): AttemptResult {
  const tlsProblem = targets.every((t) => needsTls(msg, t) && t.capabilities !== undefined && !t.capabilities.startTls);
  const detail = tlsProblem
    ? 'TLS is required for this mail and no target server supports STARTTLS'
    : `message of ${msg.size} bytes is larger than every target server accepts`;
  const reply: ReplyInfo = localReply(tlsProblem ? Codes.C554EncryptionNeeded : Codes.C552MessageTooBig, detail);
  return { kind: 'impossible', detail, reply, tries };
}

/** Outcomes for recipients when no target took the message (used for transient bookkeeping). */
export function allWith(recipients: readonly Recipient[], status: RecipientOutcome['status'], reply: ReplyInfo): RecipientOutcome[] {
  return recipients.map((recipient) => ({ recipient, status, reply }));
}
