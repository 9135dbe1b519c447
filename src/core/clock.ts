// Time is injected (STYLE.md §2): production code takes a Clock, tests pass testing/FakeClock.
//
// Two kinds of time. now() is the wall clock (epoch ms): for times shown to people, times written
// to disk, and ages. It can step (NTP, an operator, a VM resume). mono() never steps: every
// deadline and retry wait is measured with it, so a clock step neither stalls nor hurries them.
import { performance } from 'node:perf_hooks';

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock; can step). */
  now(): number;
  /**
   * Monotonic milliseconds from an arbitrary origin (performance.now()): never steps. Optional so
   * a clock that only serves timeouts need not give it; monotonic() falls back to now().
   */
  mono?(): number;
  /** Calls fn once after ms milliseconds unless cancelled. Does not keep the process alive by itself. */
  setTimer(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
  setTimer(ms, fn) {
    // Node's timers run on a monotonic clock: a wall-clock step does not move them.
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** The clock's monotonic time (its wall time when it has none). Use for deadlines and waits. */
export function monotonic(clock: Clock): number {
  return clock.mono !== undefined ? clock.mono() : clock.now();
}

/** Resolves after ms on the given clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(ms, resolve);
  });
}
