// Operator holds (docs/queue.md): the queue ids the operator has held, with who held them, why and
// when. One JSON file per writer name (`<StateDirectory>/<WRITER>.holds.json`), replaced
// atomically (store/atomic.ts: temp + fsync + rename + fsync dir) before a hold or release is
// answered, so a kill -9 at any point leaves either the old or the new list, never a torn one.
// The forwarder asks isHeld() before every attempt (lifecycle HoldCheck); the list is kept in
// memory and read once at start.
import { readFile, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isQueueId, describeError, err, ok, type Result } from '../core/index.js';
import { writeFileAtomic } from '../store/atomic.js';

/** More holds than this are refused (a hold by sender on a flood holds each message: bounded). */
export const MAX_HOLDS = 200_000;

export interface Hold {
  readonly operator: string;
  readonly reason: string;
  /** ISO 8601 time of the hold. */
  readonly at: string;
}

interface HoldsFile {
  version: 1;
  holds: Record<string, Hold>;
}

export class HoldList {
  private readonly holds = new Map<string, Hold>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string) {}

  /**
   * Reads the list (none yet: empty). A file that cannot be parsed is renamed aside
   * (`.corrupt-<time>`) and reported in `problem`: the messages it held are then tried again.
   */
  static async open(path: string, now: Date): Promise<{ list: HoldList; problem?: string }> {
    const list = new HoldList(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { list };
      throw e;
    }
    const parsed = parseHolds(text);
    if (parsed.ok) {
      for (const [id, h] of parsed.value) list.holds.set(id, h);
      return { list };
    }
    const aside = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '')}`;
    await rename(path, aside);
    return { list, problem: `${path}: ${parsed.error}; moved to ${aside}, the messages it held are no longer held` };
  }

  isHeld(queueId: string): boolean {
    return this.holds.has(queueId);
  }

  get(queueId: string): Hold | undefined {
    return this.holds.get(queueId);
  }

  get size(): number {
    return this.holds.size;
  }

  ids(): string[] {
    return [...this.holds.keys()];
  }

  /** Holds the ids (durable when it resolves); err when the list would grow over MAX_HOLDS. */
  add(ids: readonly string[], hold: Hold): Promise<Result<number, string>> {
    return this.change(() => {
      const fresh = ids.filter((id) => !this.holds.has(id));
      if (this.holds.size + fresh.length > MAX_HOLDS) return err(`more than ${MAX_HOLDS} holds: release some first`);
      for (const id of fresh) this.holds.set(id, hold);
      return ok(fresh.length);
    });
  }

  /** Releases the ids (durable when it resolves); how many were held. */
  async remove(ids: readonly string[]): Promise<number> {
    const r = await this.change(() => {
      let n = 0;
      for (const id of ids) if (this.holds.delete(id)) n++;
      return ok(n);
    });
    return r.ok ? r.value : 0;
  }

  /** One change at a time: applied in memory, then the whole list written; undone if the write fails. */
  private change(apply: () => Result<number, string>): Promise<Result<number, string>> {
    const run = this.chain.then(async () => {
      const before = new Map(this.holds);
      const r = apply();
      if (!r.ok || r.value === 0) return r;
      try {
        const file: HoldsFile = { version: 1, holds: Object.fromEntries(this.holds) };
        await writeFileAtomic(dirname(this.path), basename(this.path), [JSON.stringify(file) + '\n'], { mode: 0o600 });
      } catch (e) {
        this.holds.clear();
        for (const [k, v] of before) this.holds.set(k, v);
        throw new Error(`holds not saved to ${this.path}: ${describeError(e)}`, { cause: e });
      }
      return r;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function parseHolds(text: string): Result<Map<string, Hold>, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return err(`not JSON (${describeError(e)})`);
  }
  if (typeof v !== 'object' || v === null || (v as { version?: unknown }).version !== 1) return err('not a version 1 holds file');
  const holds = (v as { holds?: unknown }).holds;
  if (typeof holds !== 'object' || holds === null || Array.isArray(holds)) return err('"holds" is not an object');
  const out = new Map<string, Hold>();
  for (const [id, h] of Object.entries(holds as Record<string, unknown>)) {
    if (!isQueueId(id)) return err(`${JSON.stringify(id.slice(0, 40))} is not a queue id`);
    const o = h as Partial<Record<keyof Hold, unknown>> | null;
    if (o === null || typeof o !== 'object' || typeof o.operator !== 'string' || typeof o.reason !== 'string' || typeof o.at !== 'string') return err(`hold of ${id} is not {operator, reason, at}`);
    out.set(id, { operator: o.operator, reason: o.reason, at: o.at });
  }
  if (out.size > MAX_HOLDS) return err(`more than ${MAX_HOLDS} holds`);
  return ok(out);
}
