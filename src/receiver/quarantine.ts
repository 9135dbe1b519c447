// Quarantine for filter hits with Action Keep (SPEC.md §5): a copy that is kept and not
// delivered, as `<stateDirectory>/quarantine/<id>.eml` with `<id>.json` beside it (envelope,
// client, the rules that matched). Written to a temporary name, fsynced, renamed, directory
// fsynced: durable before the client gets its 250. Files are readable by the gateway's user only.
import { ensureDir, writeFileAtomic } from '../store/atomic.js';

export class Quarantine {
  constructor(readonly dir: string) {}

  /** Stores the message and its description; resolves when both are on disk. Returns the .eml path. */
  async keep(id: string, data: Buffer, meta: Record<string, unknown>): Promise<string> {
    await ensureDir(this.dir);
    // The description first: an .eml without its .json is never left behind by a crash.
    await writeFileAtomic(this.dir, `${id}.json`, [JSON.stringify(meta, null, 2) + '\n'], { syncDir: false });
    return writeFileAtomic(this.dir, `${id}.eml`, [data]);
  }
}
