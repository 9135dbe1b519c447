// JSON form of an Envelope for the files the gateway persists (message spool entries, dead
// letters, extended-retry control records). Parsing re-validates every address and bounds every
// string: such a file is untrusted input after a crash, a hand edit or a hostile local producer.
import { parseMailbox, formatMailbox, type ReversePath } from './address.js';
import type { DsnNotify, Envelope, Recipient } from './envelope.js';
import { ok, err, type Result } from './result.js';

export interface RecipientJson {
  to: string;
  notify?: 'NEVER' | string; // "NEVER" or a comma list of SUCCESS/FAILURE/DELAY (RFC 3461 §4.1 form)
  orcpt?: { type: string; address: string };
}

export interface EnvelopeJson {
  from: string; // "" = null reverse-path
  recipients: RecipientJson[];
  requireTls: boolean;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  body8bit?: boolean;
  smtputf8?: boolean;
}

function notifyToJson(n: DsnNotify): string {
  if (n.kind === 'never') return 'NEVER';
  const parts: string[] = [];
  if (n.success) parts.push('SUCCESS');
  if (n.failure) parts.push('FAILURE');
  if (n.delay) parts.push('DELAY');
  return parts.join(',');
}

export function recipientToJson(r: Recipient): RecipientJson {
  const j: RecipientJson = { to: formatMailbox(r.mailbox) };
  if (r.notify !== undefined) j.notify = notifyToJson(r.notify);
  if (r.orcpt !== undefined) j.orcpt = { type: r.orcpt.type, address: r.orcpt.address };
  return j;
}

export function envelopeToJson(e: Envelope): EnvelopeJson {
  const j: EnvelopeJson = {
    from: e.from.kind === 'null' ? '' : formatMailbox(e.from.mailbox),
    recipients: e.recipients.map(recipientToJson),
    requireTls: e.requireTls,
  };
  if (e.dsn?.ret !== undefined) j.ret = e.dsn.ret;
  if (e.dsn?.envid !== undefined) j.envid = e.dsn.envid;
  if (e.body8bit !== undefined) j.body8bit = e.body8bit;
  if (e.smtputf8 !== undefined) j.smtputf8 = e.smtputf8;
  return j;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// RFC 3461 §4.2: an ORCPT parameter is at most 500 characters; §4.4: ENVID at most 100.
export const MAX_ORCPT = 500;
export const MAX_ENVID = 100;
const ADDR_TYPE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** A short, printable quote of an untrusted value for an error text. */
function quote(v: string): string {
  const cut = v.length > 80 ? v.slice(0, 80) + '...' : v;
  return JSON.stringify(cut);
}

export function recipientFromJson(v: unknown, utf8: boolean): Result<Recipient, string> {
  if (!isRecord(v) || typeof v.to !== 'string') return err('recipient is not {to: string}');
  const mb = parseMailbox(v.to, { utf8 });
  if (!mb.ok) return err(`bad recipient address ${quote(v.to)}`);
  let notify: DsnNotify | undefined;
  if (v.notify !== undefined) {
    if (typeof v.notify !== 'string') return err('notify is not a string');
    if (v.notify === 'NEVER') notify = { kind: 'never' };
    else {
      const set = new Set(v.notify.split(',').filter((x) => x !== ''));
      for (const x of set) if (!['SUCCESS', 'FAILURE', 'DELAY'].includes(x)) return err(`bad notify value ${x}`);
      notify = { kind: 'on', success: set.has('SUCCESS'), failure: set.has('FAILURE'), delay: set.has('DELAY') };
    }
  }
  let orcpt: Recipient['orcpt'];
  if (v.orcpt !== undefined) {
    if (!isRecord(v.orcpt) || typeof v.orcpt.type !== 'string' || typeof v.orcpt.address !== 'string') return err('bad orcpt');
    if (!ADDR_TYPE.test(v.orcpt.type) || v.orcpt.address.length === 0 || Buffer.byteLength(v.orcpt.address) > MAX_ORCPT) return err('orcpt type or address out of bounds');
    orcpt = { type: v.orcpt.type, address: v.orcpt.address };
  }
  return ok({ mailbox: mb.value, ...(notify ? { notify } : {}), ...(orcpt ? { orcpt } : {}) });
}

export function envelopeFromJson(v: unknown): Result<Envelope, string> {
  if (!isRecord(v)) return err('envelope is not an object');
  if (typeof v.from !== 'string') return err('envelope.from is not a string');
  if (!Array.isArray(v.recipients)) return err('envelope.recipients is not an array');
  if (typeof v.requireTls !== 'boolean') return err('envelope.requireTls is not a boolean');
  const utf8 = v.smtputf8 === true;
  let from: ReversePath = { kind: 'null' };
  if (v.from !== '') {
    const mb = parseMailbox(v.from, { utf8 });
    if (!mb.ok) return err(`bad sender address ${quote(v.from)}`);
    from = { kind: 'mailbox', mailbox: mb.value };
  }
  const recipients: Recipient[] = [];
  for (const r of v.recipients) {
    const p = recipientFromJson(r, utf8);
    if (!p.ok) return p;
    recipients.push(p.value);
  }
  const ret = v.ret;
  if (ret !== undefined && ret !== 'FULL' && ret !== 'HDRS') return err('bad ret');
  if (v.envid !== undefined && (typeof v.envid !== 'string' || Buffer.byteLength(v.envid) > MAX_ENVID)) return err('bad envid');
  const dsn: Envelope['dsn'] = ret !== undefined || v.envid !== undefined
    ? { ...(ret !== undefined ? { ret } : {}), ...(typeof v.envid === 'string' ? { envid: v.envid } : {}) }
    : undefined;
  return ok({
    from,
    recipients,
    requireTls: v.requireTls,
    ...(dsn ? { dsn } : {}),
    ...(typeof v.body8bit === 'boolean' ? { body8bit: v.body8bit } : {}),
    ...(typeof v.smtputf8 === 'boolean' ? { smtputf8: v.smtputf8 } : {}),
  });
}
