// enqueueMessage(): the one writer of `message` spool entries (message-entry.ts), used by every
// producer the gateway owns — the receiver's relay, delivery status notifications, admin error
// reports, `note`, `sendmail`. Same atomic and durable protocol as submitToSpool (submit.ts).
import { ENVELOPE_FILE, MAX_ENTRY_PARTS, formatEnvelopeFile, parseEnvelopeFile, type MessageEnvelope, type MessageOrigin, type MessagePart } from './message-entry.js';
import { ensureLayout, publishStaged, spoolLayout, stageEntry, submitEntry, type ExtraFile, type SpoolEntry, type StagedEntry, type SubmitOptions } from './submit.js';
import { userNameOf } from './attributes.js';
import type { Envelope } from '../core/envelope.js';

export interface EnqueueOptions extends Omit<SubmitOptions, 'data' | 'attrs' | 'extraFiles'> {
  readonly envelope: Envelope;
  readonly origin: MessageOrigin;
  /** The message exactly as accepted. */
  readonly data: Buffer;
  /** Job name of the entry (RECEIVER, SGNOTIFY, SGREPORT, or the calling user's by default). */
  readonly jobName?: string;
}

/**
 * Puts one message on the writer's spool as a `message` entry, atomically and durably: when it
 * resolves, the entry (data, attrs.json, envelope.json) and the directory entries naming it are
 * on disk. The one writer of message entries (docs/flow.md).
 */
export async function enqueueMessage(opts: EnqueueOptions): Promise<SpoolEntry> {
  return write(opts, undefined);
}

/**
 * Puts several of the gateway's notifications on the spool as ONE message entry (R3 item 7:
 * DSNs written close together share the entry, its fsyncs and its spool task), atomically and
 * durably like enqueueMessage: all of them are on disk when it resolves, or none. One mail is a
 * plain message entry.
 */
export async function enqueueNotifications(opts: Omit<EnqueueOptions, 'envelope' | 'data' | 'origin'> & { readonly mails: readonly { readonly envelope: Envelope; readonly data: Buffer }[] }): Promise<SpoolEntry> {
  const [first, ...rest] = opts.mails;
  if (first === undefined) throw new RangeError('enqueueNotifications: no mail');
  if (opts.mails.length > MAX_ENTRY_PARTS) throw new RangeError(`enqueueNotifications: more than ${MAX_ENTRY_PARTS} mails`);
  const base = { ...opts, origin: { kind: 'notification' } as const };
  if (rest.length === 0) return write({ ...base, envelope: first.envelope, data: first.data }, undefined);
  return write({ ...base, envelope: first.envelope, data: Buffer.concat(opts.mails.map((m) => m.data)) },
    opts.mails.map((m) => ({ envelope: m.envelope, octets: m.data.length })));
}

function prepare(opts: EnqueueOptions, parts: readonly MessagePart[] | undefined): { submit: SubmitOptions & { extraFiles: readonly ExtraFile[] }; message: MessageEnvelope } {
  if (opts.envelope.recipients.length === 0) throw new RangeError('enqueueMessage: an envelope needs at least one recipient');
  const now = opts.now ?? Date.now;
  const message: MessageEnvelope = { envelope: opts.envelope, origin: opts.origin, receivedAt: new Date(now()), ...(parts === undefined ? {} : { parts }) };
  const text = formatEnvelopeFile(message);
  // What we write must be what the reader accepts (the same rule as attrs.json in submitToSpool).
  const checked = parseEnvelopeFile(Buffer.from(text, 'utf8'));
  if (!checked.ok) throw new RangeError(`enqueueMessage: ${checked.error}`);
  return {
    submit: {
      ...opts,
      data: opts.data,
      attrs: { taskType: 'DEST', ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }) },
      extraFiles: [{ name: ENVELOPE_FILE, data: Buffer.from(text, 'utf8') }],
    },
    message: checked.value,
  };
}

async function write(opts: EnqueueOptions, parts: readonly MessagePart[] | undefined): Promise<SpoolEntry> {
  const p = prepare(opts, parts);
  const entry = await submitEntry(p.submit);
  return { ...entry, kind: 'message', message: p.message };
}

/** The most entries one group commit renames before its two directory fsyncs. */
export const MAX_GROUP = 256;
/** How long the owner's name of a uid is kept (a renamed passwd entry shows after this). */
const USER_NAME_TTL_MS = 60_000;

interface Waiting { readonly staged: StagedEntry; readonly done: (e: SpoolEntry) => void; readonly fail: (err: unknown) => void }

/**
 * Group commit of message entries for one writer (B2 item 3: the receiver's relayed mail). Each
 * enqueue() writes its entry under tmp/<id>/ at once (data, attrs.json, envelope.json fsynced,
 * the entry directory fsynced), concurrently with the others; the publication — rename into
 * incoming/, then ONE fsync of incoming/ and one of tmp/ — is shared: entries staged while a
 * publication runs go out together in the next one. enqueue() resolves only once its entry's
 * rename is durable, exactly as enqueueMessage does, so a 250 given after it still means "on
 * disk"; a crash at any point leaves an entry either complete in incoming/ or unseen in tmp/.
 * Per message: four fsyncs (three files and the entry directory) instead of six, and the
 * layout is checked once per group instead of four mkdir calls per entry.
 */
export class EnqueueGroup {
  private waiting: Waiting[] = [];
  private running = false;
  private layoutReady = false;
  private readonly names = new Map<number, { name: string; at: number }>();
  /** Publications run and entries they carried (tests and the benchmark read them). */
  readonly stats = { groups: 0, entries: 0, largest: 0 };

  constructor(private readonly base: { readonly root: string; readonly writer: string; readonly hostName?: string; readonly now?: () => number }) {}

  async enqueue(opts: Omit<EnqueueOptions, 'root' | 'writer' | 'hostName'>): Promise<SpoolEntry> {
    const p = prepare({ ...this.base, ...opts }, undefined);
    if (!this.layoutReady) {
      await ensureLayout(spoolLayout(this.base.root, this.base.writer), { gateway: false });
      this.layoutReady = true;
    }
    let staged: StagedEntry;
    try {
      staged = await stageEntry(p.submit, true);
    } catch (e) {
      // tmp/ removed under us (an operator, a test): make the layout again, once.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.layoutReady = false;
      await ensureLayout(spoolLayout(this.base.root, this.base.writer), { gateway: false });
      this.layoutReady = true;
      staged = await stageEntry(p.submit, true);
    }
    const entry = await new Promise<SpoolEntry>((done, fail) => {
      this.waiting.push({ staged, done, fail });
      // run() settles every waiting entry itself (publishStaged's failures included) and never rejects.
      // eslint-disable-next-line no-restricted-syntax -- see above
      if (!this.running) void this.run();
    });
    return { ...entry, kind: 'message', message: p.message };
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP);
        this.stats.groups++;
        this.stats.entries += group.length;
        this.stats.largest = Math.max(this.stats.largest, group.length);
        let results;
        try {
          results = await publishStaged(group.map((w) => w.staged), (uid) => this.userName(uid));
        } catch (e) {
          for (const w of group) w.fail(e);
          continue;
        }
        for (const [i, w] of group.entries()) {
          const r = results[i]!;
          if (r.ok) w.done(r.entry);
          else w.fail(r.error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async userName(uid: number): Promise<string> {
    const now = Date.now();
    const known = this.names.get(uid);
    if (known !== undefined && now - known.at < USER_NAME_TTL_MS) return known.name;
    const name = await userNameOf(uid);
    this.names.set(uid, { name, at: now });
    return name;
  }
}
