// The HTTP send API's submission (X1 #21 item 5: QtmmSendMail over HTTP, `POST /api/v1/messages`,
// the route is web/send-routes.ts). Two forms, one path to the spool:
//   - raw: a ready RFC 5322 message and its envelope — exactly `spoolgate sendmail`'s checks
//     (validateAddresses, SenderPolicy, the message entry limit, checkMessage with its Bcc
//     removal), with the bytes as they came;
//   - compose: a JSON description (from, to/cc/bcc, subject, text/html, attachments) built into
//     MIME by composeNote (nodemailer's MailComposer, RFC 5322 / RFC 2045–2049 / RFC 2047 /
//     RFC 2231), then the same checks as a raw message of those bytes.
// Either becomes one `message` spool entry through putOnSpool (tool "http": our Received field,
// Date / Message-ID when missing), durable before this resolves. Every refusal is a
// SendMailError with sendmail's codes, so an HTTP client and a batch job see the same reasons.
// Who the sender is checked as: the caller given (the route passes the instance's own user, as
// if the instance's user ran `spoolgate sendmail`; docs/http.md "Send API").
import { describeError, formatMailbox, type Recipient, type Result, ok, err } from '../core/index.js';
import { messageEntryLimit, type Config } from '../config/index.js';
import { composeNote, parseNoteAddress } from './compose.js';
import { decideSender, localDomain, type Caller } from './policy.js';
import { SendMailError, checkMessage, currentCaller, validateAddresses, type SendMailRecipient } from './sendmail.js';
import { putOnQueue, putOnSpool } from './spool.js';
import type { MessageQueue } from '../spool/message-queue.js';

export interface HttpRawMessage {
  readonly kind: 'raw';
  /** Envelope sender, "local@domain" or "<local@domain>". */
  readonly from: string;
  readonly recipients: readonly SendMailRecipient[];
  /** The message as sent (any octets; header, blank line, body). */
  readonly data: Buffer;
}

export interface HttpComposedMessage {
  readonly kind: 'compose';
  /** "local@domain" or "Display Name <local@domain>": the From: field and the envelope sender. */
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  /** Envelope only. */
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly attachments: readonly { readonly filename: string; readonly contentType?: string; readonly content: Buffer }[];
}

export type HttpMessage = HttpRawMessage | HttpComposedMessage;

export interface HttpReceipt {
  /** The spool entry id (the directory name in `<WRITER>/incoming/`). */
  readonly id: string;
  readonly envelope: { readonly from: string; readonly recipients: readonly string[] };
  /** Octets queued (with our Received field). */
  readonly size: number;
  readonly bccHeaderStripped: boolean;
}

export interface HttpSubmitContext {
  readonly config: Config;
  /** Whose SenderPolicy applies; default the process's user. */
  readonly caller?: Caller;
  readonly jobName?: string;
  /**
   * The gateway's message queue (spool/message-queue.ts): with it the mail is queued through it
   * (with Store Backend PostgreSQL, committed in the shared queue); without, on the spool of `config`.
   */
  readonly queue?: MessageQueue;
}

/** The envelope parts of a composed message, checked with sendmail's rules (lengths, count, syntax). */
function composedEnvelope(m: HttpComposedMessage): Result<{ from: string; fromName: string; recipients: SendMailRecipient[] }, SendMailError> {
  const parse = (text: string, code: 'SG_SENDMAIL_BAD_ORIGINATOR' | 'SG_SENDMAIL_BAD_RECIPIENT', what: string): Result<{ name: string; address: string }, SendMailError> => {
    const p = parseNoteAddress(text);
    if (!p.ok) return err(new SendMailError(code, `${what} "${text}" is not a valid address: ${p.error.replace(/^.*?: /, '')}`));
    return ok({ name: p.value.name, address: formatMailbox(p.value.mailbox) });
  };
  const from = parse(m.from, 'SG_SENDMAIL_BAD_ORIGINATOR', 'from');
  if (!from.ok) return from;
  const recipients: SendMailRecipient[] = [];
  for (const [list, type] of [[m.to, 'normal'], [m.cc, 'cc'], [m.bcc, 'bcc']] as const) {
    for (const a of list) {
      const r = parse(a, 'SG_SENDMAIL_BAD_RECIPIENT', type === 'normal' ? 'to' : type);
      if (!r.ok) return r;
      recipients.push({ address: r.value.address, type });
    }
  }
  return ok({ from: from.value.address, fromName: from.value.name, recipients });
}

/** Checks `msg` as `spoolgate sendmail` would and puts it on the spool; resolves once it is durable. */
export async function submitHttpMessage(msg: HttpMessage, ctx: HttpSubmitContext): Promise<Result<HttpReceipt, SendMailError>> {
  const { config } = ctx;
  let originator: string;
  let fromName = '';
  let recipients: readonly SendMailRecipient[];
  if (msg.kind === 'raw') {
    originator = msg.from;
    recipients = msg.recipients;
  } else {
    const env = composedEnvelope(msg);
    if (!env.ok) return env;
    originator = env.value.from;
    fromName = env.value.fromName;
    recipients = env.value.recipients;
  }
  const addrs = validateAddresses(originator, recipients);
  if (!addrs.ok) return addrs;
  const caller = ctx.caller ?? currentCaller();
  const policy = decideSender({ policy: config.users.senderPolicy, caller, domain: localDomain(config), from: formatMailbox(addrs.value.from) });
  if (!policy.ok) return err(new SendMailError('SG_SENDMAIL_SENDER_NOT_ALLOWED', policy.error.message));

  let data: Buffer;
  if (msg.kind === 'raw') {
    data = msg.data;
  } else {
    const composed = await composeNote({
      from: addrs.value.from, fromName, to: [...msg.to], cc: [...msg.cc], bcc: [...msg.bcc], subject: msg.subject,
      ...(msg.text === undefined ? {} : { text: msg.text }), ...(msg.html === undefined ? {} : { html: msg.html }),
      attachments: msg.attachments, hostName: config.hostName,
    });
    // The addresses were checked above with the same parser: a refusal here is one of them after all.
    if (!composed.ok) return err(new SendMailError(composed.error.code === 'SG_NOTE_NO_RECIPIENT' ? 'SG_SENDMAIL_NO_RECIPIENT' : 'SG_SENDMAIL_BAD_RECIPIENT', composed.error.message));
    data = composed.value.data;
  }
  // The forwarder reads message entries up to this size; refuse bigger ones now, not after queueing.
  const max = messageEntryLimit(config);
  if (data.length > max) return err(new SendMailError('SG_SENDMAIL_FILE_TOO_LARGE', `the message is ${data.length} bytes (at most ${max})`));
  const checked = checkMessage(data);
  if (!checked.ok) return err(new SendMailError(checked.error.code, checked.error.message.replace('the file', 'the message')));

  const envelope = { from: { kind: 'mailbox' as const, mailbox: addrs.value.from }, recipients: addrs.value.recipients satisfies Recipient[], requireTls: false };
  try {
    const put = {
      target: { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header },
      tool: 'http' as const, user: caller.user, envelope, data: checked.value.data,
      ...(ctx.jobName === undefined ? {} : { jobName: ctx.jobName }),
    };
    const entry = ctx.queue === undefined ? await putOnSpool(put) : await putOnQueue(ctx.queue, put);
    return ok({
      id: entry.id,
      envelope: { from: formatMailbox(addrs.value.from), recipients: addrs.value.recipients.map((r) => formatMailbox(r.mailbox)) },
      size: entry.size,
      bccHeaderStripped: checked.value.bccHeaderStripped,
    });
  } catch (e) {
    return err(new SendMailError('SG_SENDMAIL_SPOOL_FAILED', `cannot put the mail on the spool: ${describeError(e)}`, { cause: e }));
  }
}
