// Composing a note (SMTPNOTE analog, SPEC.md §7) with nodemailer's MailComposer:
// RFC 5322 header fields, RFC 2045–2049 MIME (multipart/mixed, base64 attachments with content
// types from the file name), RFC 2047 encoded words for non-ASCII header text, RFC 2231 file
// names, quoted-printable or base64 for non-ASCII bodies; lines stay ≤ 76 characters.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import {
  type Envelope, type Mailbox, type Recipient, type Result, ok, err, parseMailbox, describeAddressProblem, formatMailbox, newMessageIdHeader,
} from '../core/index.js';
import { normaliseLineEnds } from '../smtp/protocol/dot-stuff.js';

export interface NoteAttachment {
  /** File name shown to the recipient (any Unicode); the content type is derived from it. */
  readonly filename: string;
  readonly content: Buffer;
  /** type/subtype; absent = derived from the file name. */
  readonly contentType?: string;
}

export interface NoteInput {
  readonly from: Mailbox;
  /** The From: field's display name (none when absent or empty). */
  readonly fromName?: string;
  /** Addresses as "local@domain" or "Display Name <local@domain>". */
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  /** Envelope only: never written to a header. */
  readonly bcc?: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly attachments?: readonly NoteAttachment[];
  /** Host for the Message-ID. */
  readonly hostName: string;
}

export interface ComposedNote {
  readonly envelope: Envelope;
  /** The message: CRLF line ends, every line ≤ 998 bytes, safe to put on a text spool. */
  readonly data: Buffer;
}

export interface ComposeError {
  readonly code: 'SG_NOTE_BAD_RECIPIENT' | 'SG_NOTE_NO_RECIPIENT';
  readonly message: string;
}

interface ParsedAddress {
  readonly name: string;
  readonly mailbox: Mailbox;
}

/** "a@b" or "Name <a@b>" → display name and mailbox. */
export function parseNoteAddress(text: string): Result<ParsedAddress, string> {
  const m = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(text);
  const name = m ? m[1]!.replace(/^"(.*)"$/, '$1') : '';
  const addr = m ? m[2]! : text.trim();
  // RFC 6531: UTF-8 local parts are accepted only with SMTPUTF8, which a spool cannot promise.
  const mb = parseMailbox(addr);
  if (!mb.ok) return err(`${text}: ${describeAddressProblem(mb.error)}`);
  return ok({ name, mailbox: mb.value });
}

function crlf(text: string): string {
  return normaliseLineEnds(Buffer.from(text, 'utf8'), { terminate: false }).toString('utf8');
}

/** A text part: 7bit when it is plain ASCII with short lines and no trailing blanks, else what MailComposer picks (QP or base64). */
function textPart(text: string): string | { content: string; contentTransferEncoding: string } {
  const content = crlf(text);
  // The spool strips trailing blanks from every record: quoted-printable keeps them as =20 / =09.
  if (/[ \t]\r\n|[ \t]$/.test(content)) return { content, contentTransferEncoding: 'quoted-printable' };
  // (A plain string: MailComposer takes an object with empty content for a content descriptor.)
  return content;
}

export async function composeNote(input: NoteInput): Promise<Result<ComposedNote, ComposeError>> {
  const lists: Record<'to' | 'cc' | 'bcc', ParsedAddress[]> = { to: [], cc: [], bcc: [] };
  for (const kind of ['to', 'cc', 'bcc'] as const) {
    for (const a of input[kind] ?? []) {
      const p = parseNoteAddress(a);
      if (!p.ok) return err({ code: 'SG_NOTE_BAD_RECIPIENT', message: `--${kind} ${p.error}` });
      lists[kind].push(p.value);
    }
  }
  const all = [...lists.to, ...lists.cc, ...lists.bcc];
  if (all.length === 0) return err({ code: 'SG_NOTE_NO_RECIPIENT', message: 'no recipient: give at least one --to, --cc or --bcc' });
  const header = (l: ParsedAddress[]): { name: string; address: string }[] => l.map((a) => ({ name: a.name, address: formatMailbox(a.mailbox) }));

  const composer = new MailComposer({
    from: input.fromName === undefined || input.fromName === '' ? formatMailbox(input.from) : { name: input.fromName, address: formatMailbox(input.from) },
    ...(lists.to.length ? { to: header(lists.to) } : {}),
    ...(lists.cc.length ? { cc: header(lists.cc) } : {}),
    // Bcc is given only to the envelope below, so it cannot reach a header field.
    subject: input.subject,
    messageId: newMessageIdHeader(input.hostName),
    ...(input.text !== undefined || input.html === undefined ? { text: textPart(input.text ?? '') } : {}),
    ...(input.html !== undefined ? { html: textPart(input.html) } : {}),
    attachments: (input.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, ...(a.contentType === undefined ? {} : { contentType: a.contentType }) })),
  });
  const data = await composer.compile().build();

  const seen = new Set<string>();
  const recipients: Recipient[] = [];
  for (const a of all) {
    const key = formatMailbox(a.mailbox).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    recipients.push({ mailbox: a.mailbox });
  }
  return ok({ data, envelope: { from: { kind: 'mailbox', mailbox: input.from }, recipients, requireTls: false } });
}
