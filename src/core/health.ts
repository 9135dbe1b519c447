// Faults that are contained (R3 item 2): a part of the gateway whose storage fails (the extended-
// retry mail directory, the dead-letter directory, the log file, the mailbox database, the
// checkpoint) is marked here instead of crashing the process. The roles that need the part retry
// it with back-off; the others go on. The operator sees the fault in the log (fault.raised /
// fault.cleared, once per change), after DISPLAY,TARGETS (FAULTS:), in /readyz and in the
// metric spoolgate_fault.
// Pure bookkeeping: no timers, no I/O (the owner of each part retries it).

/** The parts whose failure is contained. */
export const COMPONENTS = ['extended-retry', 'dead-letters', 'log-file', 'mailbox-store', 'checkpoint'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Fault {
  readonly component: Component;
  /** What failed and what to do, one line for the operator. */
  readonly problem: string;
  /** When the fault was first seen (ms since the epoch). */
  readonly since: number;
  /** Failed attempts since then (the first one included). */
  readonly failures: number;
  /** Does the fault stop a role (true) or only delay some mail (false)? */
  readonly disabling: boolean;
}

export interface HealthListener {
  raised(f: Fault): void;
  cleared(f: Fault, now: number): void;
}

export class Health {
  private readonly faults = new Map<Component, Fault>();

  constructor(private readonly listener?: HealthListener) {}

  /** Records a failure of the part; the listener hears only the first one of a run (no log flood). */
  fail(component: Component, problem: string, now: number, opts: { disabling?: boolean } = {}): Fault {
    const old = this.faults.get(component);
    const f: Fault = {
      component, problem, since: old?.since ?? now, failures: (old?.failures ?? 0) + 1, disabling: opts.disabling ?? old?.disabling ?? false,
    };
    this.faults.set(component, f);
    if (old === undefined) this.listener?.raised(f);
    return f;
  }

  /** The part works again. */
  ok(component: Component, now: number): void {
    const old = this.faults.get(component);
    if (old === undefined) return;
    this.faults.delete(component);
    this.listener?.cleared(old, now);
  }

  get(component: Component): Fault | undefined {
    return this.faults.get(component);
  }

  list(): Fault[] {
    return COMPONENTS.flatMap((c) => { const f = this.faults.get(c); return f === undefined ? [] : [f]; });
  }
}

/** Back-off for retrying a failed part: 1 s doubling to at most `maxMs` (default 5 minutes). */
export function backoffMs(failures: number, maxMs = 300_000): number {
  return Math.min(maxMs, 1000 * 2 ** Math.max(0, Math.min(failures - 1, 20)));
}
