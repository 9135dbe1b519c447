// FakeClock: time moves only when the test calls advance(). Timers fire in due order.
// step() moves only the wall clock (an NTP or operator step): timers and mono() stay.
import type { Clock, Timer } from '../core/clock.js';

export class FakeClock implements Clock {
  private t: number;
  /** Monotonic time: starts at 0 and moves only with advance(). */
  private m = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  mono(): number {
    return this.m;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.m + Math.max(0, ms), fn });
    return { cancel: () => { this.timers.delete(id); } };
  }

  /** Moves time (wall and monotonic) forward by ms, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.m + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t += next[1].at - this.m;
      this.m = next[1].at;
      next[1].fn();
    }
    this.t += end - this.m;
    this.m = end;
  }

  /** A wall-clock step of ms (negative: backwards). No timer fires; monotonic time stays. */
  step(ms: number): void {
    this.t += ms;
  }

  pending(): number {
    return this.timers.size;
  }
}

/** A FakeClock that tells when a timer is set (code under test parks work by setting one). */
export class SignallingClock extends FakeClock {
  private waiters: (() => void)[] = [];
  override setTimer(ms: number, fn: () => void): Timer {
    const timer = super.setTimer(ms, fn);
    for (const w of this.waiters.splice(0)) w();
    return timer;
  }
  /** Resolves after the next setTimer call has returned (its caller's synchronous part included). */
  nextTimer(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
