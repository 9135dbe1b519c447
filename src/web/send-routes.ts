// The HTTP send API (X1 #21 item 5, QtmmSendMail over HTTP): `POST /api/v1/messages` puts one
// message on the spool and answers 202 with its spool entry id once the entry is durable.
// Three bodies (docs/http.md "Send API"):
//   - `Content-Type: message/rfc822`: the raw RFC 5322 message as it is, the envelope in the
//     query (`?from=a@b&to=c@d&to=...&cc=...&bcc=...`) — `curl --data-binary @mail.eml`;
//   - JSON `{"envelope": {"from", "to": [], "cc"?: [], "bcc"?: []}, "raw": "<base64>"}`;
//   - JSON `{"from", "to", "cc"?, "bcc"?, "subject", "text"?, "html"?, "attachments"?:
//     [{"filename", "contentType"?, "content": "<base64>"}]}`, built into MIME by submit.
// Who may call it: the send-only token (`<StateDirectory>/http-send.token`, 0600, made on the first
// start as http.token is) or the operator token (the operator may do anything the send token may).
// The send token opens this route and nothing else: every other /api/ route checks the operator
// token only. The checks of the message itself (addresses, SenderPolicy, size, header/body) are
// `spoolgate sendmail`'s, done by the submit role through WebTarget.send (web may not import
// submit); this file checks the HTTP side: body type and size, JSON shape, base64, UTF-8, header
// text without CR/LF or other controls, attachment count, and the rate per client address.
//
// Untrusted input: the request (bounded by Http SendMaxBody, parsed strictly: unknown fields are
// a 400 so a typo like "too" cannot silently drop recipients).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Result } from '../core/result.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { json, readBody, type Route } from './respond.js';
import { httpTokens, type HttpTokens } from './token.js';
import type { HttpTokenTable } from '../store/records.js';

export interface SendAttachment { readonly filename: string; readonly contentType?: string; readonly content: Buffer }

/** What the route hands to the submit role (the same shape as submit's HttpMessage). */
export type SendMessage =
  | { readonly kind: 'raw'; readonly from: string; readonly recipients: readonly { readonly address: string; readonly type: 'normal' | 'cc' | 'bcc' }[]; readonly data: Buffer }
  | {
    readonly kind: 'compose'; readonly from: string; readonly to: readonly string[]; readonly cc: readonly string[]; readonly bcc: readonly string[];
    readonly subject: string; readonly text?: string; readonly html?: string; readonly attachments: readonly SendAttachment[];
  };

export interface SendReceipt {
  readonly id: string;
  readonly envelope: { readonly from: string; readonly recipients: readonly string[] };
  readonly size: number;
  readonly bccHeaderStripped: boolean;
}

/** What the send API needs from the instance (WebTarget.send; main.ts wires it to submit). */
export interface SendApi {
  /** Checks and queues; resolves once the spool entry is durable. err = a refusal with a `SG_SENDMAIL_*` code. */
  submit(m: SendMessage): Promise<Result<SendReceipt, { readonly code: string; readonly message: string }>>;
  /** The send-only token file; created (0600) on first start. */
  readonly tokenFile: string;
  /** Http SendMaxBody: the largest request body (default DEFAULT_SEND_MAX_BODY). */
  readonly maxBodyBytes?: number;
  /** Http SendRate: messages per minute from one client address (0 or absent = no limit). */
  readonly ratePerMinute?: number;
}

export const DEFAULT_SEND_MAX_BODY = 16 * 1024 * 1024;
/** Requests being read or queued at once; one more is answered 503 (each may hold SendMaxBody in memory). */
export const MAX_CONCURRENT_SENDS = 4;
export const MAX_ATTACHMENTS = 100;
/** The recipients of one message (sendmail's MAX_RECIPIENTS): longer lists are refused before they are parsed. */
const MAX_RECIPIENTS = 2000;
/** Header texts: subject and addresses (folded by MIME; a sanity bound, not a line length). */
const MAX_SUBJECT_CHARS = 2000;
const MAX_ADDRESS_CHARS = 1000;
const MAX_FILENAME_CHARS = 255;
/** Client addresses the rate limiter remembers; the oldest is forgotten beyond this. */
const RATE_TABLE_SIZE = 10_000;

type Status = 400 | 403 | 413 | 415 | 422 | 429 | 503;

export interface SendRefusal { readonly status: Status; readonly code: string; readonly error: string }

const refuse = (status: Status, code: string, error: string): { ok: false; error: SendRefusal } => ({ ok: false, error: { status, code, error } });

/** The HTTP status of a submit refusal (sendmail's codes). */
export function statusOfSendMailCode(code: string): Status {
  switch (code) {
    case 'SG_SENDMAIL_SENDER_NOT_ALLOWED': return 403;
    case 'SG_SENDMAIL_FILE_TOO_LARGE': return 413;
    case 'SG_SENDMAIL_SPOOL_FAILED': return 503;
    default: return 422;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// RFC 4648 §4 alphabet with padding; line breaks (MIME-style wrapping) are allowed and dropped.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (Buffer.from would silently skip bad characters). */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\r?\n/g, '');
  return BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

// C0 controls but TAB, DEL, and lone UTF-16 surrogates (JSON "\ud800"): not header text.
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const BAD_HEADER_TEXT = /[\x00-\x08\x0a-\x1f\x7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function headerText(v: unknown, field: string, max: number): Result<string, SendRefusal> {
  if (typeof v !== 'string') return refuse(400, 'SG_HTTP_BAD_REQUEST', `"${field}" must be a string`);
  if (v.length > max) return refuse(422, 'SG_HTTP_BAD_HEADER_TEXT', `"${field}" is ${v.length} characters long (at most ${max})`);
  if (BAD_HEADER_TEXT.test(v)) return refuse(422, 'SG_HTTP_BAD_HEADER_TEXT', `"${field}" contains a line break, a control character or a lone surrogate; header text is one line`);
  return { ok: true, value: v };
}

function addressList(v: unknown, field: string): Result<string[], SendRefusal> {
  if (v === undefined) return { ok: true, value: [] };
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) return refuse(400, 'SG_HTTP_BAD_REQUEST', `"${field}" must be an address or an array of addresses`);
  if (list.length > MAX_RECIPIENTS) return refuse(422, 'SG_SENDMAIL_TOO_MANY_RECIPIENTS', `"${field}" has ${list.length} addresses (at most ${MAX_RECIPIENTS} recipients)`);
  const out: string[] = [];
  for (const [i, a] of list.entries()) {
    const t = headerText(a, `${field}[${i}]`, MAX_ADDRESS_CHARS);
    if (!t.ok) return t;
    out.push(t.value);
  }
  return { ok: true, value: out };
}

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): SendRefusal | undefined {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  return extra.length === 0 ? undefined : { status: 400, code: 'SG_HTTP_BAD_REQUEST', error: `unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => `"${k.slice(0, 40)}"`).join(', ')} in ${where}; allowed: ${allowed.join(', ')}` };
}

const COMPOSE_KEYS = ['from', 'to', 'cc', 'bcc', 'subject', 'text', 'html', 'attachments'] as const;
const RAW_KEYS = ['envelope', 'raw'] as const;
const ENVELOPE_KEYS = ['from', 'to', 'cc', 'bcc'] as const;
const ATTACHMENT_KEYS = ['filename', 'contentType', 'content'] as const;
// RFC 2045 §5.1: type "/" subtype, tokens only (no parameters: the charset of text parts is ours).
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

function recipientsOf(lists: readonly (readonly [string[], 'normal' | 'cc' | 'bcc'])[]): { address: string; type: 'normal' | 'cc' | 'bcc' }[] {
  return lists.flatMap(([l, type]) => l.map((address) => ({ address, type })));
}

/** A JSON body (either form) → the message; every problem is a refusal with its status. */
export function messageFromJson(body: Buffer): Result<SendMessage, SendRefusal> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return refuse(400, 'SG_HTTP_NOT_UTF8', 'the JSON body is not UTF-8');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return refuse(400, 'SG_HTTP_BAD_JSON', `the body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!isRecord(v)) return refuse(400, 'SG_HTTP_BAD_REQUEST', 'the JSON body must be an object');
  if ('raw' in v || 'envelope' in v) {
    const extra = unknownKeys(v, RAW_KEYS, 'a raw message (envelope, raw)');
    if (extra !== undefined) return { ok: false, error: extra };
    const env = v.envelope;
    if (!isRecord(env)) return refuse(400, 'SG_HTTP_BAD_REQUEST', '"envelope" must be an object {"from", "to", "cc"?, "bcc"?}');
    const extraEnv = unknownKeys(env, ENVELOPE_KEYS, '"envelope"');
    if (extraEnv !== undefined) return { ok: false, error: extraEnv };
    const from = headerText(env.from, 'envelope.from', MAX_ADDRESS_CHARS);
    if (!from.ok) return from;
    const lists: [string[], 'normal' | 'cc' | 'bcc'][] = [];
    for (const [k, type] of [['to', 'normal'], ['cc', 'cc'], ['bcc', 'bcc']] as const) {
      const l = addressList(env[k], `envelope.${k}`);
      if (!l.ok) return l;
      lists.push([l.value, type]);
    }
    if (typeof v.raw !== 'string') return refuse(400, 'SG_HTTP_BAD_REQUEST', '"raw" must be the message as a base64 string');
    const data = decodeBase64(v.raw);
    if (data === undefined) return refuse(400, 'SG_HTTP_BAD_BASE64', '"raw" is not valid base64 (RFC 4648 alphabet with padding)');
    return { ok: true, value: { kind: 'raw', from: from.value, recipients: recipientsOf(lists), data } };
  }
  const extra = unknownKeys(v, COMPOSE_KEYS, 'a message description');
  if (extra !== undefined) return { ok: false, error: extra };
  const from = headerText(v.from, 'from', MAX_ADDRESS_CHARS);
  if (!from.ok) return from;
  const to = addressList(v.to, 'to');
  if (!to.ok) return to;
  const cc = addressList(v.cc, 'cc');
  if (!cc.ok) return cc;
  const bcc = addressList(v.bcc, 'bcc');
  if (!bcc.ok) return bcc;
  const subject = v.subject === undefined ? { ok: true as const, value: '' } : headerText(v.subject, 'subject', MAX_SUBJECT_CHARS);
  if (!subject.ok) return subject;
  for (const k of ['text', 'html'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') return refuse(400, 'SG_HTTP_BAD_REQUEST', `"${k}" must be a string`);
  }
  const attachments: SendAttachment[] = [];
  if (v.attachments !== undefined) {
    if (!Array.isArray(v.attachments)) return refuse(400, 'SG_HTTP_BAD_REQUEST', '"attachments" must be an array');
    if (v.attachments.length > MAX_ATTACHMENTS) return refuse(422, 'SG_HTTP_TOO_MANY_ATTACHMENTS', `${v.attachments.length} attachments (at most ${MAX_ATTACHMENTS})`);
    for (const [i, a] of (v.attachments as unknown[]).entries()) {
      if (!isRecord(a)) return refuse(400, 'SG_HTTP_BAD_REQUEST', `attachments[${i}] must be an object {"filename", "contentType"?, "content"}`);
      const extraA = unknownKeys(a, ATTACHMENT_KEYS, `attachments[${i}]`);
      if (extraA !== undefined) return { ok: false, error: extraA };
      const filename = headerText(a.filename, `attachments[${i}].filename`, MAX_FILENAME_CHARS);
      if (!filename.ok) return filename;
      if (filename.value.trim() === '') return refuse(422, 'SG_HTTP_BAD_HEADER_TEXT', `attachments[${i}].filename is empty`);
      if (a.contentType !== undefined && (typeof a.contentType !== 'string' || !MEDIA_TYPE.test(a.contentType))) {
        return refuse(422, 'SG_HTTP_BAD_CONTENT_TYPE', `attachments[${i}].contentType must be "type/subtype" (for example application/pdf), without parameters`);
      }
      if (typeof a.content !== 'string') return refuse(400, 'SG_HTTP_BAD_REQUEST', `attachments[${i}].content must be a base64 string`);
      const content = decodeBase64(a.content);
      if (content === undefined) return refuse(400, 'SG_HTTP_BAD_BASE64', `attachments[${i}].content is not valid base64 (RFC 4648 alphabet with padding)`);
      attachments.push({ filename: filename.value, content, ...(a.contentType === undefined ? {} : { contentType: a.contentType as string }) });
    }
  }
  return {
    ok: true,
    value: {
      kind: 'compose', from: from.value, to: to.value, cc: cc.value, bcc: bcc.value, subject: subject.value,
      ...(v.text === undefined ? {} : { text: v.text as string }), ...(v.html === undefined ? {} : { html: v.html as string }), attachments,
    },
  };
}

/** A message/rfc822 body with the envelope in the query → the message. */
export function messageFromRaw(body: Buffer, q: URLSearchParams): Result<SendMessage, SendRefusal> {
  for (const k of new Set(q.keys())) {
    if (!(ENVELOPE_KEYS as readonly string[]).includes(k)) return refuse(400, 'SG_HTTP_BAD_REQUEST', `query parameter "${k.slice(0, 40)}" not valid; the envelope is from=&to=&cc=&bcc= (to, cc, bcc repeatable)`);
  }
  const froms = q.getAll('from');
  if (froms.length !== 1) return refuse(400, 'SG_HTTP_BAD_REQUEST', 'give the envelope sender once: ?from=local@domain');
  const from = headerText(froms[0], 'from', MAX_ADDRESS_CHARS);
  if (!from.ok) return from;
  const lists: [string[], 'normal' | 'cc' | 'bcc'][] = [];
  for (const [k, type] of [['to', 'normal'], ['cc', 'cc'], ['bcc', 'bcc']] as const) {
    const l = addressList(q.getAll(k), k);
    if (!l.ok) return l;
    lists.push([l.value, type]);
  }
  return { ok: true, value: { kind: 'raw', from: from.value, recipients: recipientsOf(lists), data: body } };
}

/** Messages per minute per client address: a token bucket each, burst = one minute's worth. */
export class SendRateLimiter {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }
  /** undefined = allowed (one taken); else the seconds until one is free. */
  take(key: string): number | undefined {
    if (this.#perMinute <= 0) return undefined;
    const now = this.#now();
    const rate = this.#perMinute / 60_000;
    const b = this.#buckets.get(key) ?? { tokens: this.#perMinute, at: now };
    b.tokens = Math.min(this.#perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.#buckets.delete(key); // re-inserted last: the Map's order is least recently used first
    this.#buckets.set(key, b);
    if (this.#buckets.size > RATE_TABLE_SIZE) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (b.tokens >= 1) { b.tokens -= 1; return undefined; }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}

export interface SendRoutesOptions {
  readonly send: SendApi | undefined;
  /** The operator's tokens (they may send too). */
  readonly operator: HttpTokens;
  /** [P2] token hashes every node shares (web/token.ts sharedTokens). */
  readonly tokenTable?: HttpTokenTable;
  readonly log: Logger;
  readonly now?: () => number;
}

/** `POST /api/v1/messages`; none when the instance offers no send API (WebTarget.send absent). */
export async function sendRoutes(opts: SendRoutesOptions): Promise<(readonly [RegExp, Route])[]> {
  const { send, log } = opts;
  if (send === undefined) return [];
  const tokens = await httpTokens(send.tokenFile, 'send', opts.tokenTable, (e) => log.warn('http.token-table', { error: describeError(e) }));
  const tk = tokens.file;
  if (tk.created) log.event('http.token-created', { tokenFile: send.tokenFile });
  if ((tk.mode & 0o077) !== 0) log.warn('http.token-mode', { tokenFile: send.tokenFile, mode: tk.mode.toString(8), detail: 'others can read the HTTP send token; chmod 600 it' });
  const maxBody = send.maxBodyBytes ?? DEFAULT_SEND_MAX_BODY;
  const limiter = new SendRateLimiter(send.ratePerMinute ?? 0, opts.now);
  let busy = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> => {
    const ip = req.socket.remoteAddress ?? '';
    const answer = (r: SendRefusal, extra: Record<string, string> = {}): void => {
      log.info('http.send-refused', { ip, code: r.code, status: r.status, error: r.error.slice(0, 300) });
      json(res, r.status, { ok: false, code: r.code, error: r.error }, extra);
    };
    const wait = limiter.take(ip);
    if (wait !== undefined) { answer({ status: 429, code: 'SG_HTTP_RATE_LIMITED', error: `more than ${send.ratePerMinute} messages per minute from ${ip} (Http SendRate); try again in ${wait} s` }, { 'Retry-After': String(wait) }); return; }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'message/rfc822') {
      answer({ status: 415, code: 'SG_HTTP_UNSUPPORTED_TYPE', error: `Content-Type ${type === '' ? '(none)' : `'${type.slice(0, 60)}'`}: send a message as message/rfc822 (envelope in the query: ?from=&to=) or application/json` });
      return;
    }
    if (type === 'application/json' && [...q.keys()].length > 0) { answer({ status: 400, code: 'SG_HTTP_BAD_REQUEST', error: 'with a JSON body the envelope is in the body, not the query' }); return; }
    if (busy >= MAX_CONCURRENT_SENDS) { answer({ status: 503, code: 'SG_HTTP_BUSY', error: `${MAX_CONCURRENT_SENDS} messages are being received already; try again shortly` }, { 'Retry-After': '1' }); return; }
    busy++;
    try {
      const body = await readBody(req, maxBody);
      if (body === 'too-large') { answer({ status: 413, code: 'SG_HTTP_BODY_TOO_LARGE', error: `request body larger than ${maxBody} bytes (Http SendMaxBody)` }); return; }
      const msg = type === 'application/json' ? messageFromJson(body) : messageFromRaw(body, q);
      if (!msg.ok) { answer(msg.error); return; }
      const r = await send.submit(msg.value);
      if (!r.ok && r.error.code === 'SG_SENDMAIL_SPOOL_FAILED') {
        // The reason names spool paths: it goes to the log; the client gets a public text.
        log.error('http.send-failed', { ip, code: r.error.code, error: r.error.message });
        json(res, 503, { ok: false, code: r.error.code, error: 'the message could not be queued (the spool cannot be written); try again later' }, { 'Retry-After': '60' });
        return;
      }
      if (!r.ok) { answer({ status: statusOfSendMailCode(r.error.code), code: r.error.code, error: r.error.message }); return; }
      log.event('http.send', { ip, id: r.value.id, form: msg.value.kind, from: r.value.envelope.from, recipients: r.value.envelope.recipients.length, size: r.value.size });
      // 202: queued (durable), not yet delivered.
      json(res, 202, { ok: true, id: r.value.id, envelope: r.value.envelope, size: r.value.size, bccHeaderStripped: r.value.bccHeaderStripped });
    } finally {
      busy--;
    }
  };

  return [
    [/^\/api\/v1\/messages$/, {
      methods: ['POST'],
      // The send token or the operator token; every other /api/ route takes the operator token only.
      auth: async (authorization: string | undefined) => (await tokens.matches(authorization)) || opts.operator.matches(authorization),
      handle,
    }],
  ];
}
