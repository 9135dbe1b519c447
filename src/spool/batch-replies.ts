// The one catalogue of problems the batch-SMTP parser reports (docs/spool-format.md lists each
// row). Texts are fixed; a '%s' is replaced by one sanitised argument (a verb, a parameter name or
// an address-problem description), so reports are deterministic. `counts` says whether the
// problem counts towards JESSyntaxErrLimit (SPEC.md §1.1; a bad RCPT never counts).
import { Codes, type ReplyCode } from '../smtp/protocol/codes.js';

export interface ProblemDef {
  readonly rc: ReplyCode;
  readonly text: string;
  readonly counts: boolean;
}

function def(rc: ReplyCode, counts: boolean, text: string): ProblemDef {
  return { rc, counts, text };
}

export const BatchReplies = {
  // Command syntax (counted).
  Unrecognized: def(Codes.C500SyntaxError, true, "JES Syntax error. Command unrecognized: '%s'"),
  NotImplemented: def(Codes.C502NotImplemented, true, "JES Command not implemented: '%s'"),
  LineTooLong: def(Codes.C500LineTooLong, true, 'JES Line too long'),
  TooManyArgs: def(Codes.C501ArgumentSyntax, true, "JES Syntax error. Too many args after '%s' command"),
  MissingArg: def(Codes.C501ArgumentSyntax, true, "JES Syntax error. Missing argument after '%s' command"),
  NoArgsAllowed: def(Codes.C501ArgumentSyntax, true, "JES Syntax error. No arguments allowed after '%s' command"),
  MailSyntax: def(Codes.C501ArgumentSyntax, true, 'JES Syntax error. Expected MAIL FROM:<reverse-path>'),
  BadSender: def(Codes.C553BadSenderAddress, true, 'JES Bad sender address: %s'),
  ParamUnknown: def(Codes.C555ParameterNotRecognized, true, "JES MAIL parameter not recognized: '%s'"),
  ParamBad: def(Codes.C501ArgumentSyntax, true, "JES Syntax error in MAIL parameter '%s'"),
  DeclaredTooBig: def(Codes.C552MessageTooBig, false, 'JES Declared SIZE exceeds JESMsgSize'),
  // Sequence (counted).
  HeloFirst: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. HELO or EHLO required before '%s'"),
  MailFirst: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. MAIL required before '%s'; data skipped"),
  RcptFirst: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. RCPT required before 'DATA'; data skipped"),
  MailFirstRcpt: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. MAIL required before 'RCPT'"),
  StartTlsInTxn: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. 'STARTTLS' inside a transaction applies to the next mail"),
  Discarded: def(Codes.C503BadSequence, true, "JES Bad sequence of commands. '%s' inside a transaction; message discarded"),
  EofInTxn: def(Codes.C503BadSequence, true, "JES End of file inside a transaction; message discarded"),
  EofWithoutQuit: def(Codes.C451LocalError, false, 'JES End of file without QUIT; the file may have been cut short after the last message'),
  // Recipients (not counted).
  BadRecipient: def(Codes.C553MailboxNameNotAllowed, false, 'JES Bad recipient address: %s'),
  RcptParamUnknown: def(Codes.C555ParameterNotRecognized, false, "JES RCPT parameter not recognized: '%s'"),
  RcptParamBad: def(Codes.C501ArgumentSyntax, false, "JES Syntax error in RCPT parameter '%s'"),
  RcptSyntax: def(Codes.C501ArgumentSyntax, false, 'JES Syntax error. Expected RCPT TO:<forward-path>'),
  TooManyRecipients: def(Codes.C552TooManyRecipients, false, 'JES Too many recipients; recipients after %s ignored'),
  NoValidRecipients: def(Codes.C554TransactionFailed, false, 'JES No valid recipients; message not sent'),
  // DATA (line length counted; size and end of file not).
  TextLineTooLong: def(Codes.C500TextLineTooLong, true, 'JES Text line too long'),
  MessageTooBig: def(Codes.C552MessageTooBig, false, 'JES Message size exceeds JESMsgSize'),
  EofInData: def(Codes.C554TransactionFailed, false, "JES End of file before the final '.' of DATA; message discarded"),
  // Records from the decoder (counted).
  ControlCharacter: def(Codes.C500SyntaxError, true, 'JES Control character in record'),
  RecordTooLong: def(Codes.C500LineTooLong, true, 'JES Record too long'),
  BadRdw: def(Codes.C500SyntaxError, true, 'JES Bad record descriptor word'),
  TruncatedRecord: def(Codes.C500SyntaxError, true, 'JES Truncated record'),
  InvalidDbcs: def(Codes.C500SyntaxError, true, 'JES Invalid double-byte data in record'),
  // File level.
  AfterQuit: def(Codes.C503BadSequence, false, 'JES Records after QUIT ignored'),
  SyntaxLimit: def(Codes.C554TransactionFailed, false, 'JES Syntax error limit reached; rest of file not processed'),
  JobTooBig: def(Codes.C552MessageTooBig, false, 'JES Spool file exceeds JESJobSize; rest of file not processed'),
} as const satisfies Record<string, ProblemDef>;

export type BatchReplyName = keyof typeof BatchReplies;

/** Keeps an argument from untrusted input printable and short enough for a report line. */
export function sanitizeArg(s: string, max = 40): string {
  let out = '';
  for (let i = 0; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? s[i] : '?';
  }
  return s.length > max ? out + '...' : out;
}

export function problemText(d: ProblemDef, arg?: string): string {
  return arg === undefined ? d.text : d.text.replace('%s', sanitizeArg(arg));
}
