// Quarantine for filter hits with Action Keep (SPEC.md §5): a copy that is kept and not
// delivered, as `<stateDirectory>/quarantine/<id>.eml` with `<id>.json` beside it (envelope,
// client, the rules that matched). Written to a temporary name, fsynced, renamed, directory
// fsynced: durable before the client gets its 250. Files are readable by the gateway's user only.
//
// The operator's release or bounce of a kept message (release.ts) leaves a third file while it
// runs, `<id>.release`: who asked, and which copies are already made (durable after each), so a
// crash in the middle is finished at the next start without making a copy twice. The files go
// in this order: `.json` (the message leaves the queue's view), `.eml`, `.release` last.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { envelopeFromJson, type EnvelopeJson } from '../core/envelope-json.js';
import { parseMailbox, parseReversePath } from '../core/address.js';
import type { Envelope } from '../core/envelope.js';
import { err, ok, type Result } from '../core/result.js';
import { ensureDir, fsyncDir, writeFileAtomic } from '../store/atomic.js';

/** A quarantine id: the receiver's message id (core/ids.ts newId). Anything else is never a file name here. */
const QUARANTINE_ID = /^[0-9a-z]{20}$/;
/** A .json description is small (2,000 recipients fit); a bigger one is not ours. */
const MAX_META_BYTES = 4 * 1024 * 1024;
const MARKER = '.release';

/** A kept message read back for a release: the envelope and origin it was accepted with. */
export interface QuarantinedMail {
  readonly id: string;
  readonly envelope: Envelope;
  readonly data: Buffer;
  readonly received: Date;
  readonly clientIp: string;
  readonly heloName: string;
  readonly sessionId: string;
  readonly tls: boolean;
  readonly authUser?: string;
}

/** What a release has done so far (the `.release` file). */
export interface ReleaseMarker {
  readonly v: 1;
  readonly action: 'release' | 'bounce';
  readonly operator: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly at: string;
  /** Mailbox users already given their copy. */
  users: string[];
  /** The NOTIFY=SUCCESS notice (release) or the failure notice (bounce) is queued. */
  noticed: boolean;
  /** The relay copy's spool entry, staged in tmp/ (durable) when this was written; null: none yet. */
  entry: string | null;
}

export class Quarantine {
  constructor(readonly dir: string) {}

  /** Stores the message and its description; resolves when both are on disk. Returns the .eml path. */
  async keep(id: string, data: Buffer, meta: Record<string, unknown>): Promise<string> {
    await ensureDir(this.dir);
    // The description first: an .eml without its .json is never left behind by a crash.
    await writeFileAtomic(this.dir, `${id}.json`, [JSON.stringify(meta, null, 2) + '\n'], { syncDir: false });
    return writeFileAtomic(this.dir, `${id}.eml`, [data]);
  }

  /** A kept message with its envelope; an error sentence when it is gone or its files are not usable. */
  async read(id: string): Promise<Result<QuarantinedMail, string>> {
    if (!QUARANTINE_ID.test(id)) return err(`"${id.slice(0, 40)}" is not a quarantine id`);
    let meta: Record<string, unknown>;
    let data: Buffer;
    try {
      const text = await readFile(join(this.dir, `${id}.json`));
      if (text.length > MAX_META_BYTES) return err(`${id}.json is larger than ${MAX_META_BYTES} bytes`);
      const parsed: unknown = JSON.parse(text.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return err(`${id}.json is not an object`);
      meta = parsed as Record<string, unknown>;
      data = await readFile(join(this.dir, `${id}.eml`));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return err(code === 'ENOENT' ? `quarantined message ${id} is gone` : `quarantined message ${id} cannot be read: ${(e as Error).message}`);
    }
    const envelope = envelopeOf(meta);
    if (!envelope.ok) return err(`${id}.json: ${envelope.error}`);
    const str = (k: string): string => (typeof meta[k] === 'string' ? meta[k] : '');
    const received = new Date(str('received'));
    return ok({
      id, envelope: envelope.value, data, received: Number.isNaN(received.getTime()) ? new Date(0) : received,
      clientIp: str('clientIp'), heloName: str('heloName'), sessionId: str('session') || `quarantine-${id}`, tls: meta.tls === true,
      ...(typeof meta.auth === 'string' ? { authUser: meta.auth } : {}),
    });
  }

  async marker(id: string): Promise<ReleaseMarker | undefined> {
    try {
      const m = JSON.parse(await readFile(join(this.dir, id + MARKER), 'utf8')) as ReleaseMarker;
      return { ...m, users: Array.isArray(m.users) ? m.users.filter((u) => typeof u === 'string') : [], noticed: m.noticed === true, entry: typeof m.entry === 'string' ? m.entry : null };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Writes the release's progress; durable when it resolves. */
  async mark(id: string, m: ReleaseMarker): Promise<void> {
    await writeFileAtomic(this.dir, id + MARKER, [JSON.stringify(m) + '\n']);
  }

  /** Drops the marker of a release that made nothing (refused before the first copy). */
  async unmark(id: string): Promise<void> {
    await rm(join(this.dir, id + MARKER), { force: true });
  }

  /** Ids with a release under way (or one a crash cut short). */
  async releasing(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => n.endsWith(MARKER)).map((n) => n.slice(0, -MARKER.length)).filter((id) => QUARANTINE_ID.test(id)).sort();
  }

  /** Removes a message's files: the description first (it leaves the queue at once), the marker last. */
  async remove(id: string): Promise<void> {
    if (!QUARANTINE_ID.test(id)) throw new RangeError(`not a quarantine id: ${id.slice(0, 40)}`);
    await rm(join(this.dir, `${id}.json`), { force: true });
    await fsyncDir(this.dir);
    await rm(join(this.dir, `${id}.eml`), { force: true });
    await rm(join(this.dir, id + MARKER), { force: true });
    await fsyncDir(this.dir);
  }
}

/** The envelope a description holds; files written before it kept one give the addresses only. */
function envelopeOf(meta: Record<string, unknown>): Result<Envelope, string> {
  const j = meta.envelope;
  if (typeof j === 'object' && j !== null) return envelopeFromJson(j as EnvelopeJson);
  const fromText = typeof meta.from === 'string' ? meta.from : '';
  const from = parseReversePath(fromText.startsWith('<') ? fromText : `<${fromText}>`, { utf8: true });
  if (!from.ok) return err(`bad sender ${JSON.stringify(fromText.slice(0, 80))}`);
  const recipients: Envelope['recipients'][number][] = [];
  for (const r of Array.isArray(meta.recipients) ? meta.recipients : []) {
    const mb = typeof r === 'string' ? parseMailbox(r, { utf8: true }) : undefined;
    if (mb === undefined || !mb.ok) return err(`bad recipient ${JSON.stringify(String(r).slice(0, 80))}`);
    recipients.push({ mailbox: mb.value });
  }
  if (recipients.length === 0) return err('no recipients');
  return ok({ from: from.value, recipients, requireTls: false });
}
