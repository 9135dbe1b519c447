// A shutdown stack: roles are pushed as they start, each with a stage name, and stopped in
// reverse order (the last started stops first). A stage that fails is reported and the rest
// still stop, so one broken role cannot keep the others running or a file unflushed.

export interface ShutdownFailure {
  readonly stage: string;
  readonly error: unknown;
}

export class ShutdownStack {
  private readonly stages: { readonly name: string; readonly stop: () => Promise<void> | void }[] = [];
  private running: Promise<readonly ShutdownFailure[]> | undefined;

  /** Registers a stage; stages stop in reverse order of push. */
  push(name: string, stop: () => Promise<void> | void): void {
    this.stages.push({ name, stop });
  }

  /** The stage names in the order they will stop. */
  order(): string[] {
    return this.stages.map((s) => s.name).reverse();
  }

  /** Stops every stage, last pushed first; resolves with the failures (never rejects). Runs once. */
  run(onFailure?: (f: ShutdownFailure) => void): Promise<readonly ShutdownFailure[]> {
    this.running ??= (async () => {
      const failures: ShutdownFailure[] = [];
      for (const s of [...this.stages].reverse()) {
        try {
          await s.stop();
        } catch (error) {
          const f = { stage: s.name, error };
          failures.push(f);
          onFailure?.(f);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
