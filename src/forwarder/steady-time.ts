// Wall-clock time for the forwarder's dates (extended-retry next attempts, Age limits) that
// follows the monotonic clock: the wall clock read once at start, plus the monotonic time since.
// A step of the system clock (NTP, an operator, a VM resume) therefore neither stalls extended
// retry (backward) nor expires mail at once (forward, larger than Age); each step is detected
// and logged (clock.step) so the operator knows the gateway's dates and the system's differ.
// Ages shown to people keep using the wall clock itself.
import type { Clock } from '../core/index.js';
import { monotonic } from '../core/index.js';
import type { Logger } from '../log/index.js';

/** A difference between the wall clock and the steady time that grows by more than this is a step. */
export const CLOCK_STEP_MS = 2_000;

export class SteadyTime {
  private readonly wall0: number;
  private readonly mono0: number;
  /** The wall clock's offset from steady time when last checked (0 at start). */
  private offset = 0;

  constructor(private readonly clock: Clock, private readonly log: Logger) {
    this.wall0 = clock.now();
    this.mono0 = monotonic(clock);
  }

  /** Epoch milliseconds that advance with the monotonic clock only. Logs a wall-clock step seen since the last call. */
  now(): number {
    const t = this.wall0 + (monotonic(this.clock) - this.mono0);
    const offset = this.clock.now() - t;
    if (Math.abs(offset - this.offset) > CLOCK_STEP_MS) {
      this.log.warn('clock.step', {
        stepMs: Math.round(offset - this.offset),
        detail: 'the system clock stepped; retry deadlines and Age limits keep the monotonic time',
      });
      this.offset = offset;
    }
    return t;
  }

  /** How far the wall clock is from steady time now (ms; positive = wall clock ahead). */
  drift(): number {
    return this.clock.now() - (this.wall0 + (monotonic(this.clock) - this.mono0));
  }
}
