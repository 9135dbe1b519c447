// JSON form of an Envelope for the files this role and the forwarder persist (dead letters,
// extended-retry control records). Parsing re-validates every address: a control file is
// untrusted input after a crash or a hand edit.
import { parseMailbox, formatMailbox, type Envelope, type Recipient, type ReversePath, type DsnNotify, type Result, ok, err } from '../core/index.js';

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

export function recipientFromJson(v: unknown, utf8: boolean): Result<Recipient, string> {
  if (!isRecord(v) || typeof v.to !== 'string') return err('recipient is not {to: string}');
  const mb = parseMailbox(v.to, { utf8 });
  if (!mb.ok) return err(`bad recipient address ${JSON.stringify(v.to)}`);
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
    if (!mb.ok) return err(`bad sender address ${JSON.stringify(v.from)}`);
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
  if (v.envid !== undefined && typeof v.envid !== 'string') return err('bad envid');
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
