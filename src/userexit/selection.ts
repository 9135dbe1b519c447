// Which user exit is in force for the next spool file (SPEC.md §2.3). The file's UserExit at
// start; MODIFY USEREXIT,LEVEL= and REFRESH change it from the next file. Each change starts a new
// generation, so a task reloads the module even when the path stayed the same (the seed: a
// refresh reloads the exit).
import { prepareUserExit } from './runner.js';

export interface ExitInForce {
  readonly module: string | null;
  readonly generation: number;
}

export class ExitSelection {
  private current: ExitInForce;

  constructor(module: string | null) {
    this.current = { module, generation: 0 };
  }

  get(): ExitInForce {
    return this.current;
  }

  /** REFRESH: the file's UserExit (already checked to load) from the next file. */
  refreshed(module: string | null): void {
    this.current = { module, generation: this.current.generation + 1 };
  }

  /**
   * USEREXIT,LEVEL=: null = NONE; a module path (relative to `directory`, UserExitDirectory) must
   * lie in that folder, be owner-only and load, or it is refused with the reason and nothing changes.
   */
  async set(value: string | null, directory: string, timeoutMs: number): Promise<{ ok: true; module: string | null } | { ok: false; error: string }> {
    let module: string | null = null;
    if (value !== null) {
      const r = await prepareUserExit(value, directory, timeoutMs);
      if (!r.ok) return r;
      module = r.value;
    }
    this.refreshed(module);
    return { ok: true, module };
  }
}
