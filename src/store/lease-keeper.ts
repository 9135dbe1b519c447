// The heartbeat of a node's leases ([P2], docs/cluster.md): renews every lease of the node each
// `heartbeatMs`, and tells the owner of a lease when it must stop working on the entry:
//
// - taken over: a renewal no longer returns the lease (it ran out and another node claimed it,
//   or the entry is gone);
// - given up: no renewal succeeded for leaseMs - heartbeatMs (the database is down or cut off).
//   The lease may run out at the database soon after, and another node would then send the same
//   mail: stopping one heartbeat before that keeps the duplicates to what was in flight. A
//   watchdog timer does this, so a renewal that hangs (up to StatementTimeout) cannot delay it.
//
// Each renewal names the leases tracked when it starts (QueueStore.heartbeat renews only those) and
// judges only those; one tracked meanwhile waits for the next renewal. Time is the injected Clock's monotonic time (STYLE.md §2).
import { monotonic, systemClock, type Clock, type Timer } from '../core/clock.js';
import type { Lease, QueueStore } from './queue-store.js';

export type LeaseLoss = 'taken-over' | 'given-up';

export interface LeaseKeeperOptions {
  readonly heartbeatMs: number;
  readonly leaseMs: number;
  readonly clock?: Clock;
  /** The entry's lease is lost: stop working on it (no more sending, no checkpoint writes). */
  readonly onLost: (lease: Lease, why: LeaseLoss) => void;
  /** A renewal failed (the keeper goes on trying until it gives up). */
  readonly onError?: (e: unknown) => void;
}

export class LeaseKeeper {
  private readonly clock: Clock;
  private readonly held = new Map<string, Lease>();
  private lastOk: number;
  private beatTimer: Timer | undefined;
  private watchdog: Timer | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly queue: Pick<QueueStore, 'heartbeat'>, private readonly o: LeaseKeeperOptions) {
    if (o.heartbeatMs * 2 > o.leaseMs) throw new RangeError(`heartbeat ${o.heartbeatMs} ms is more than half the lease ${o.leaseMs} ms`);
    this.clock = o.clock ?? systemClock;
    this.lastOk = monotonic(this.clock);
  }

  /** Leases this keeper renews and watches (after a claim). */
  track(lease: Lease): void {
    this.held.set(lease.entryId, lease);
  }

  /** The entry was completed or released: no longer watched. */
  untrack(entryId: string): void {
    this.held.delete(entryId);
  }

  get size(): number {
    return this.held.size;
  }

  /** Renews now (tests call this; start() calls it every heartbeatMs). One renewal at a time. */
  beat(): Promise<void> {
    this.inFlight ??= this.renew().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async renew(): Promise<void> {
    const started = monotonic(this.clock);
    const named = [...this.held.values()];
    let held: readonly Lease[];
    try {
      held = (await this.queue.heartbeat(named)).held;
    } catch (e) {
      this.o.onError?.(e);
      return;
    }
    this.lastOk = started;
    this.armWatchdog();
    const asked = new Set(named.map((l) => `${l.entryId}:${l.token}`));
    const still = new Set(held.map((l) => `${l.entryId}:${l.token}`));
    for (const [id, lease] of [...this.held]) {
      const key = `${id}:${lease.token}`;
      if (!asked.has(key) || still.has(key)) continue;
      this.held.delete(id);
      this.o.onLost(lease, 'taken-over');
    }
  }

  private armWatchdog(): void {
    this.watchdog?.cancel();
    if (!this.running) return;
    const due = this.lastOk + this.o.leaseMs - this.o.heartbeatMs - monotonic(this.clock);
    this.watchdog = this.clock.setTimer(Math.max(0, due), () => this.giveUp());
  }

  /** No renewal for leaseMs - heartbeatMs: every lease is given up before it can run out. */
  private giveUp(): void {
    this.watchdog = undefined;
    const all = [...this.held.values()];
    this.held.clear();
    for (const lease of all) this.o.onLost(lease, 'given-up');
    // Leases claimed from now on are watched from the next successful renewal.
    this.lastOk = monotonic(this.clock);
    this.armWatchdog();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastOk = monotonic(this.clock);
    this.armWatchdog();
    const tick = (): void => {
      if (!this.running) return;
      const next = (): void => { if (this.running) this.beatTimer = this.clock.setTimer(this.o.heartbeatMs, tick); };
      // renew() reports its own failures (onError); the rejection branch is for a throwing onLost.
      this.beat().then(next, (e: unknown) => { this.o.onError?.(e); next(); });
    };
    this.beatTimer = this.clock.setTimer(this.o.heartbeatMs, tick);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.beatTimer?.cancel();
    this.watchdog?.cancel();
    await this.inFlight;
  }
}
