// Submission (SPEC.md §7): ways for people and programs to put mail on the spool.
//   - composeNote: an SMTPNOTE-like note built with MIME (RFC 5322, RFC 2045–2049, RFC 2047,
//     RFC 2231) by nodemailer's MailComposer; `spoolgate note`.
//   - sendMail: the QtmmSendMail analog (seed 004) for a ready RFC 5322 / MIME file;
//     `spoolgate sendmail`.
//   - decideSender: SenderPolicy Own/Any for the envelope sender (seed 002, sender verification).
// Both write one `message` spool entry (raw RFC 5322 bytes + envelope, spool/enqueue.ts): the
// message leaves byte for byte as the tool accepted it, plus our Received field.
// Untrusted input: command-line values, the message file and attachment files of the caller.
// Persists: only the spool entry (atomic, fsynced by enqueueMessage). Safe to crash at any point:
// a partial entry stays in the spool's tmp/ and is never read; the message file is removed (with
// `remove`) only after the entry is durable.
export { composeNote, parseNoteAddress, type NoteInput, type NoteAttachment, type ComposedNote, type ComposeError } from './compose.js';
export { decideSender, localDomain, type Caller, type SenderRefusal } from './policy.js';
export {
  sendMail, checkMessage, validateAddresses, currentCaller, SendMailError, MAX_ADDRESS_BYTES, MAX_RECIPIENTS,
  type SendMailOptions, type SendMailRecipient, type SendMailReceipt, type SendMailErrorCode, type RecipientType,
} from './sendmail.js';
export { putOnSpool, type SpoolTarget } from './spool.js';
export { submitHttpMessage, type HttpMessage, type HttpRawMessage, type HttpComposedMessage, type HttpReceipt, type HttpSubmitContext } from './http-send.js';
