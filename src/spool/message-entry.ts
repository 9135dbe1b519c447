// The second kind of spool entry: `message` (docs/flow.md, docs/spool-format.md). The gateway's
// own mail — relayed by the receiver, delivery status notifications, admin error reports, `note`,
// `sendmail` — is queued as the raw RFC 5322 bytes exactly as accepted, with a structured envelope
// beside them. None of the JES spool rules (record decoding, blank stripping, `<` continuation,
// control characters, 998-octet lines, trace headers) apply to it: what was accepted with 250 is
// what leaves, byte for byte, with the envelope it was accepted with. Batch-SMTP text stays the
// format of customer jobs only.
//
// An entry is a directory `<WRITER>/incoming/<id>/` holding
//   data           the message (RFC 5322 octets, CRLF line ends as received)
//   attrs.json     job attributes (job name, task type), as for a batch entry
//   envelope.json  {"v":1,"kind":"message", envelope fields, "origin": {...}}
// The presence of envelope.json makes an entry a `message` entry. enqueueMessage() (enqueue.ts) writes all
// three under tmp/, fsyncs them and the directory, renames the directory into incoming/ and
// fsyncs incoming/ (the same protocol as submitToSpool), so a reader never sees a half entry.
//
// Untrusted input: envelope.json is written by any local producer in the spool group (sendmail,
// note) and read back after crashes: bounded (ENVELOPE_MAX_BYTES), every address re-parsed, the
// origin checked field by field. An origin that claims to be the gateway's own (receiver,
// notification, report) is believed only when the entry belongs to the gateway's own uid.
import type { Envelope } from '../core/envelope.js';
import { envelopeFromJson, envelopeToJson, type EnvelopeJson } from '../core/envelope-json.js';
import { err, ok, type Result } from '../core/result.js';
import { printable } from './attributes.js';

export const ENVELOPE_FILE = 'envelope.json';
export const MESSAGE_ENTRY_VERSION = 1;
/** 2,000 recipients with 256-octet addresses and 500-octet ORCPTs fit with room to spare. */
export const ENVELOPE_MAX_BYTES = 4 * 1024 * 1024;

/** Where a message entry came from: for logs, the journal, accounting and the user exit rule. */
export type MessageOrigin =
  | {
    readonly kind: 'receiver';
    /** The SMTP client's address, its HELO/EHLO name, the AUTH identity (null = none), TLS. */
    readonly client: string;
    readonly helo: string;
    readonly auth: string | null;
    readonly tls: boolean;
    readonly session: string;
  }
  | { readonly kind: 'notification' }
  | { readonly kind: 'report' }
  | { readonly kind: 'submission'; readonly tool: SubmissionTool }
  /** A dead letter the operator put back in the queue (src/queue): its dead-letter id. */
  | { readonly kind: 'requeue'; readonly deadLetter: string };

/** The submission tools that write message entries (pdfmail: a print report's PDFs, one mail per section). */
export type SubmissionTool = 'note' | 'sendmail' | 'http' | 'pdfmail';
const TOOLS: readonly string[] = ['note', 'sendmail', 'http', 'pdfmail'];

/** Origins only the gateway itself writes (the receiver, DSNs, admin reports). */
export function isGatewayOrigin(o: MessageOrigin): boolean {
  return o.kind === 'receiver' || o.kind === 'notification' || o.kind === 'report' || o.kind === 'requeue';
}

export interface MessageEnvelope {
  /** The envelope; of the first message when the entry holds several (`parts`). */
  readonly envelope: Envelope;
  readonly origin: MessageOrigin;
  /** When the gateway (or the producer) accepted the message. */
  readonly receivedAt: Date;
  /**
   * A batch of the gateway's own notifications (R3 item 7: DSNs written close together share one
   * entry): the data file is the messages one after another, each `octets` long, in this order.
   * Absent: the entry is one message. Only origin `notification` may have parts.
   */
  readonly parts?: readonly MessagePart[];
}

export interface MessagePart {
  readonly envelope: Envelope;
  readonly octets: number;
}

/** The most messages one notification batch entry holds. */
export const MAX_ENTRY_PARTS = 1000;

interface EnvelopeFile extends EnvelopeJson {
  v: number;
  kind: 'message';
  origin: MessageOrigin;
  receivedAt: string;
  parts?: (EnvelopeJson & { octets: number })[];
}

/** What a client said (HELO name, AUTH identity) as printable ASCII of bounded length, for the record only. */
function said(s: string, max: number): string {
  return s.replace(/[^\x21-\x7e]/g, '?').slice(0, max);
}

export function formatEnvelopeFile(m: MessageEnvelope): string {
  const o = m.origin;
  const origin: MessageOrigin = o.kind === 'receiver'
    ? { ...o, helo: said(o.helo, 255), auth: o.auth === null || o.auth === '' ? null : said(o.auth, 256), session: said(o.session, 64).replace(/[^A-Za-z0-9._-]/g, '_') || '-' }
    : o;
  const f: EnvelopeFile = {
    v: MESSAGE_ENTRY_VERSION, kind: 'message', ...envelopeToJson(m.envelope), origin, receivedAt: m.receivedAt.toISOString(),
    ...(m.parts === undefined ? {} : { parts: m.parts.map((p) => ({ ...envelopeToJson(p.envelope), octets: p.octets })) }),
  };
  return JSON.stringify(f) + '\n';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const HOSTISH = /^[\x21-\x7e]{1,255}$/;
const SESSION = /^[A-Za-z0-9._-]{1,64}$/;

function originFromJson(v: unknown): Result<MessageOrigin, string> {
  if (!isRecord(v)) return err('origin is not an object');
  switch (v.kind) {
    case 'receiver': {
      const { client, helo, auth, tls, session } = v;
      if (typeof client !== 'string' || !/^[0-9A-Fa-f.:]{2,45}$/.test(client)) return err('origin.client is not an IP address');
      if (typeof helo !== 'string' || (helo !== '' && !HOSTISH.test(helo))) return err('origin.helo is not printable ASCII of at most 255 octets');
      if (auth !== null && (typeof auth !== 'string' || auth.length === 0 || Buffer.byteLength(auth) > 256 || !/^[\x21-\x7e]+$/.test(auth))) return err('origin.auth is not null or a user name');
      if (typeof tls !== 'boolean') return err('origin.tls is not a boolean');
      if (typeof session !== 'string' || !SESSION.test(session)) return err('origin.session is not a session id');
      return ok({ kind: 'receiver', client, helo, auth, tls, session });
    }
    case 'notification': return ok({ kind: 'notification' });
    case 'report': return ok({ kind: 'report' });
    case 'requeue':
      if (typeof v.deadLetter !== 'string' || !/^[0-9a-z]{20}$/.test(v.deadLetter)) return err('origin.deadLetter is not a dead-letter id');
      return ok({ kind: 'requeue', deadLetter: v.deadLetter });
    case 'submission':
      if (typeof v.tool !== 'string' || !TOOLS.includes(v.tool)) return err(`origin.tool is not one of ${TOOLS.join(', ')}`);
      return ok({ kind: 'submission', tool: v.tool as SubmissionTool });
    default:
      return err(`origin.kind ${typeof v.kind === 'string' ? `"${printable(v.kind, 40)}" ` : ''}is not receiver, notification, report, requeue or submission`);
  }
}

/** Parses envelope.json bytes; every problem is a reason text for the bad-entry report. */
export function parseEnvelopeFile(bytes: Buffer): Result<MessageEnvelope, string> {
  if (bytes.length > ENVELOPE_MAX_BYTES) return err(`${ENVELOPE_FILE} is ${bytes.length} bytes (limit ${ENVELOPE_MAX_BYTES})`);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return err(`${ENVELOPE_FILE} is not valid JSON: ${printable((e as Error).message)}`);
  }
  if (!isRecord(raw)) return err(`${ENVELOPE_FILE} is not a JSON object`);
  if (raw.v !== MESSAGE_ENTRY_VERSION) return err(`${ENVELOPE_FILE}: version ${printable(String(raw.v), 20)} is not ${MESSAGE_ENTRY_VERSION}`);
  if (raw.kind !== 'message') return err(`${ENVELOPE_FILE}: kind is not "message"`);
  const env = envelopeFromJson(raw);
  if (!env.ok) return err(`${ENVELOPE_FILE}: ${env.error}`);
  if (env.value.recipients.length === 0) return err(`${ENVELOPE_FILE}: no recipients`);
  const origin = originFromJson(raw.origin);
  if (!origin.ok) return err(`${ENVELOPE_FILE}: ${origin.error}`);
  const at = typeof raw.receivedAt === 'string' && /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(raw.receivedAt) ? new Date(raw.receivedAt) : new Date(NaN);
  if (Number.isNaN(at.getTime())) return err(`${ENVELOPE_FILE}: receivedAt is not an ISO 8601 UTC time`);
  if (raw.parts === undefined) return ok({ envelope: env.value, origin: origin.value, receivedAt: at });
  const parts = partsFromJson(raw.parts);
  if (!parts.ok) return err(`${ENVELOPE_FILE}: ${parts.error}`);
  if (origin.value.kind !== 'notification') return err(`${ENVELOPE_FILE}: only notifications are batched (parts with origin ${origin.value.kind})`);
  return ok({ envelope: parts.value[0]!.envelope, origin: origin.value, receivedAt: at, parts: parts.value });
}

function partsFromJson(v: unknown): Result<MessagePart[], string> {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ENTRY_PARTS) return err(`parts is not a list of 1 to ${MAX_ENTRY_PARTS} messages`);
  const out: MessagePart[] = [];
  for (const [i, p] of v.entries()) {
    if (!isRecord(p)) return err(`parts[${i}] is not an object`);
    const env = envelopeFromJson(p);
    if (!env.ok) return err(`parts[${i}]: ${env.error}`);
    if (env.value.recipients.length === 0) return err(`parts[${i}]: no recipients`);
    if (typeof p.octets !== 'number' || !Number.isSafeInteger(p.octets) || p.octets < 1) return err(`parts[${i}].octets is not a positive integer`);
    out.push({ envelope: env.value, octets: p.octets });
  }
  return ok(out);
}

