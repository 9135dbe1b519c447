// Quarantine for filter hits with Action Keep (SPEC.md §5): a copy that is kept and not
// delivered, as `<stateDirectory>/quarantine/<id>.eml` with `<id>.json` beside it (envelope,
// client, the rules that matched). Written to a temporary name, fsynced, renamed, directory
// fsynced: durable before the client gets its 250. Files are readable by the gateway's user only.
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';

async function writeDurable(dir: string, name: string, data: Buffer | string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export class Quarantine {
  constructor(readonly dir: string) {}

  /** Stores the message and its description; resolves when both are on disk. Returns the .eml path. */
  async keep(id: string, data: Buffer, meta: Record<string, unknown>): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // The description first: an .eml without its .json is never left behind by a crash.
    await writeDurable(this.dir, `${id}.json`, JSON.stringify(meta, null, 2) + '\n');
    await writeDurable(this.dir, `${id}.eml`, data);
    await syncDir(this.dir);
    return join(this.dir, `${id}.eml`);
  }
}
