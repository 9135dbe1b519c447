// The SMTP reply-code catalogue. Names carry number and meaning; enhanced status codes are
// stored without their class digit (RFC 3463 §2: class.subject.detail, and the class must equal
// the first digit of the basic code), so the two can never disagree. One function builds every
// reply line.
//
// RFC 5321 §4.2 reply codes; §4.2.2/§4.2.3 the code list. RFC 3463 enhanced codes.
// RFC 2034 ENHANCEDSTATUSCODES: the enhanced code follows the basic code on every line.

export interface ReplyCode {
  readonly code: number;
  /** subject.detail of the RFC 3463 enhanced code; class digit comes from `code`. Empty for 220/221 banners. */
  readonly enhanced: string;
}

function c(code: number, enhanced: string): ReplyCode {
  return { code, enhanced };
}

export const Codes = {
  C211SystemStatus: c(211, '0.0'),
  C214Help: c(214, '0.0'),
  C220ServiceReady: c(220, ''),
  C221Closing: c(221, '0.0'),
  C235AuthSucceeded: c(235, '7.0'),
  C250Ok: c(250, '0.0'),
  C250SenderOk: c(250, '1.0'),
  C250RecipientOk: c(250, '1.5'),
  C250MessageAccepted: c(250, '0.0'),
  C252CannotVerify: c(252, '1.5'),
  C334AuthChallenge: c(334, ''),
  C354StartData: c(354, ''),
  C421ServiceClosing: c(421, '4.2'),
  C421Timeout: c(421, '4.2'),
  C450MailboxBusy: c(450, '2.0'),
  C451LocalError: c(451, '3.0'),
  C452TooManyRecipients: c(452, '5.3'),
  C452InsufficientStorage: c(452, '3.1'),
  C454TlsNotAvailable: c(454, '7.0'),
  C454AuthTemporaryFailure: c(454, '7.0'),
  C500SyntaxError: c(500, '5.2'),
  C500LineTooLong: c(500, '5.6'),
  C500TextLineTooLong: c(500, '2.5'),
  C501ArgumentSyntax: c(501, '5.4'),
  C501BadAddress: c(501, '1.3'),
  C501BadSenderAddress: c(501, '1.7'),
  C502NotImplemented: c(502, '5.1'),
  C503BadSequence: c(503, '5.1'),
  C504ParameterNotImplemented: c(504, '5.4'),
  C530AuthRequired: c(530, '7.0'),
  C530TlsRequired: c(530, '7.0'),
  C534AuthMechanismTooWeak: c(534, '7.9'),
  C535AuthFailed: c(535, '7.8'),
  C538EncryptionRequired: c(538, '7.11'),
  C550MailboxUnavailable: c(550, '1.1'),
  C550RelayDenied: c(550, '7.1'),
  C550PolicyRejected: c(550, '7.1'),
  C552MessageTooBig: c(552, '3.4'),
  C552TooManyRecipients: c(552, '5.3'),
  C553MailboxNameNotAllowed: c(553, '1.3'),
  C553BadSenderAddress: c(553, '1.7'),
  C554TransactionFailed: c(554, '0.0'),
  C554ConnectionRefused: c(554, '7.1'),
  C555ParameterNotRecognized: c(555, '5.4'),
  // SMTP server (receiver) additions.
  C252VrfyDisabled: c(252, '5.0'),
  C421TooManyConnections: c(421, '7.0'),
  C421TooManyErrors: c(421, '7.0'),
  C554ProtocolViolation: c(554, '5.0'),
  // RFC 5321 §6.3 loop detection; RFC 3463 §3.5 X.4.6 "routing loop detected".
  C554TooManyHops: c(554, '4.6'),
  C554BareLineEnding: c(554, '5.2'),
  // A sender the client may not use (RFC 3463 §3.8 X.7.1 "delivery not authorized"): an
  // authenticated user naming someone else's address, or a spool file owner doing the same
  // under SenderPolicy Own (Postfix answers reject_sender_login_mismatch with 553 5.7.1).
  C553SenderNotOwned: c(553, '7.1'),
  // Replies the client and the forwarder make up themselves (Reply.local).
  C451ConnectionFailed: c(451, '4.2'),
  C451ProtocolError: c(451, '5.0'),
  C451TlsRequired: c(451, '7.0'),
  C451RetryLimitReached: c(451, '4.0'),
  C553SmtpUtf8NotSupported: c(553, '6.7'),
  C554DeliveryTimeExpired: c(554, '4.7'),
  C554EncryptionNeeded: c(554, '7.10'),
} as const satisfies Record<string, ReplyCode>;

export type CodeName = keyof typeof Codes;

/** "5.1.1" for (550, "1.1"); "" when the code has no enhanced part. */
export function enhancedOf(rc: ReplyCode): string {
  return rc.enhanced === '' ? '' : `${Math.floor(rc.code / 100)}.${rc.enhanced}`;
}

/**
 * RFC 5321 §4.2.1: multi-line replies use "code-text" on every line but the last, which uses
 * "code text". With enhanced codes (RFC 2034 §4) each line repeats the enhanced code.
 * Returns the wire form including CRLFs.
 */
export function formatReply(rc: ReplyCode, lines: string | readonly string[], withEnhanced = true): string {
  const texts = typeof lines === 'string' ? [lines] : lines.length === 0 ? [''] : lines;
  const enh = withEnhanced ? enhancedOf(rc) : '';
  let out = '';
  texts.forEach((t, i) => {
    const sep = i === texts.length - 1 ? ' ' : '-';
    out += `${rc.code}${sep}${enh === '' ? '' : enh + ' '}${t}\r\n`;
  });
  return out;
}

/** RFC 5321 §4.2.1: 2yz positive completion, 3yz intermediate, 4yz transient, 5yz permanent. */
export type ReplyClass = 'success' | 'intermediate' | 'transient' | 'permanent';

export function classOf(code: number): ReplyClass {
  if (code >= 200 && code < 300) return 'success';
  if (code >= 300 && code < 400) return 'intermediate';
  if (code >= 500 && code < 600) return 'permanent';
  // SPEC.md §2.1 / STYLE.md §4: 4xx and anything unrecognised are transient.
  return 'transient';
}
