// enqueueMessage(): the one writer of `message` spool entries (message-entry.ts), used by every
// producer the gateway owns — the receiver's relay, delivery status notifications, admin error
// reports, `note`, `sendmail`. Same atomic and durable protocol as submitToSpool (submit.ts).
import { ENVELOPE_FILE, MAX_ENTRY_PARTS, formatEnvelopeFile, parseEnvelopeFile, type MessageEnvelope, type MessageOrigin, type MessagePart } from './message-entry.js';
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

async function write(opts: EnqueueOptions, parts: readonly MessagePart[] | undefined): Promise<SpoolEntry> {
  if (opts.envelope.recipients.length === 0) throw new RangeError('enqueueMessage: an envelope needs at least one recipient');
  const now = opts.now ?? Date.now;
  const message: MessageEnvelope = { envelope: opts.envelope, origin: opts.origin, receivedAt: new Date(now()), ...(parts === undefined ? {} : { parts }) };
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
