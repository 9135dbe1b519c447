// No self-recovery was R3's finding: a spool file left unfinished by a transient error (the
// dead-letter or mail directory full or unwritable, the spool full for a DSN or report, a data
// file unreadable until an operator fixes its mode) stayed in incoming/ untouched until the next
// restart. FileRetry hands such a file back to the queue after a back-off (1 s doubling to
// 5 min per file), as long as it is still there; the checkpoint makes the new pass skip what the
// old one finished. A file interrupted by shutdown is not retried (the next start reads it).
import { access } from 'node:fs/promises';
import { backoffMs, type Clock, type Timer } from '../core/index.js';
import type { Logger } from '../log/index.js';
import type { TaskEntry } from './task.js';

export class FileRetry {
  private readonly waiting = new Map<string, { failures: number; timer?: Timer }>();
  private stopped = false;

  constructor(private readonly deps: { clock: Clock; log: Logger; again: (e: TaskEntry) => void; exists?: (path: string) => Promise<boolean> }) {}

  /** The file was left unfinished: hand it back after its back-off. */
  unfinished(e: TaskEntry): void {
    if (this.stopped) return;
    const w = this.waiting.get(e.id) ?? { failures: 0 };
    this.waiting.set(e.id, w);
    w.failures++;
    const ms = backoffMs(w.failures);
    this.deps.log.warn('spool.retry-later', { id: e.id, failures: w.failures, seconds: Math.round(ms / 1000) });
    w.timer?.cancel();
    w.timer = this.deps.clock.setTimer(ms, () => {
      w.timer = undefined;
      const exists = this.deps.exists ?? ((p: string) => access(p).then(() => true, () => false));
      exists(e.path).then(
        (there) => {
          if (this.stopped) return;
          if (there) this.deps.again(e);
          else this.waiting.delete(e.id); // finished or released elsewhere meanwhile
        },
        () => this.waiting.delete(e.id),
      );
    });
  }

  /** The file was finished or held: forget its failures. */
  done(id: string): void {
    this.waiting.get(id)?.timer?.cancel();
    this.waiting.delete(id);
  }

  /** Files waiting for their retry (for displays and tests). */
  pending(): number {
    return [...this.waiting.values()].filter((w) => w.timer !== undefined).length;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.waiting.values()) w.timer?.cancel();
    this.waiting.clear();
  }
}
