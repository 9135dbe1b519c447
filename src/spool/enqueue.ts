// enqueueMessage(): the one writer of `message` spool entries (message-entry.ts), used by every
// producer the gateway owns — the receiver's relay, delivery status notifications, admin error
// reports, `note`, `sendmail`. Same atomic and durable protocol as submitToSpool (submit.ts).
import { ENVELOPE_FILE, formatEnvelopeFile, parseEnvelopeFile, type MessageEnvelope, type MessageOrigin } from './message-entry.js';
import { submitEntry, type SpoolEntry, type SubmitOptions } from './submit.js';
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
  if (opts.envelope.recipients.length === 0) throw new RangeError('enqueueMessage: an envelope needs at least one recipient');
  const now = opts.now ?? Date.now;
  const message: MessageEnvelope = { envelope: opts.envelope, origin: opts.origin, receivedAt: new Date(now()) };
  const text = formatEnvelopeFile(message);
  // What we write must be what the reader accepts (the same rule as attrs.json in submitToSpool).
  const checked = parseEnvelopeFile(Buffer.from(text, 'utf8'));
  if (!checked.ok) throw new RangeError(`enqueueMessage: ${checked.error}`);
  const entry = await submitEntry({
    ...opts,
    data: opts.data,
    attrs: { taskType: 'DEST', ...(opts.jobName === undefined ? {} : { jobName: opts.jobName }) },
    extraFiles: [{ name: ENVELOPE_FILE, data: Buffer.from(text, 'utf8') }],
  });
  return { ...entry, kind: 'message', message: checked.value };
}
