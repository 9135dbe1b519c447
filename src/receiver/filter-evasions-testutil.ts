// Messages that carried a *.vbs attachment past `Filter { AttachmentName *.vbs Action Discard }`
// before the filter failed closed (issue #15 item 6), shared by the unit test (filters.test.ts)
// and the end-to-end test through the receiver (test/e2e/filter-evasion.test.ts). Not a test file.
import { MAX_DEPTH, MAX_PARTS } from './mime.js';

export interface Evasion {
  readonly name: string;
  /** The whole message, CRLF line ends. */
  readonly mail: Buffer;
  /** What `*.vbs Action Discard` must do with it: discard when the name is found, keep when the structure is in doubt. */
  readonly want: 'discard' | 'keep';
}

const crlf = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
const HEAD = ['From: a@ok.test', 'To: alice@local.test', 'Subject: open me', 'MIME-Version: 1.0'];
const VBS = ['Content-Type: text/vbscript', 'Content-Disposition: attachment; filename="love.vbs"', '', 'MsgBox "x"'];

/** A multipart/mixed with a text part and one attachment part given by its header lines. */
function withAttachment(attachmentHeader: readonly string[], ct = 'Content-Type: multipart/mixed; boundary="B"'): Buffer {
  return crlf([...HEAD, ct, '', '--B', 'Content-Type: text/plain', '', 'hi', '--B', ...attachmentHeader, '', 'MsgBox "x"', '--B--']);
}

function nested(depth: number): Buffer {
  const lines = [...HEAD];
  for (let i = 0; i < depth; i++) lines.push(`Content-Type: multipart/mixed; boundary="n${i}n"`, '', `--n${i}n`);
  lines.push(...VBS);
  for (let i = depth - 1; i >= 0; i--) lines.push(`--n${i}n--`);
  return crlf(lines);
}

function manyParts(n: number): Buffer {
  const lines = [...HEAD, 'Content-Type: multipart/mixed; boundary="B"', ''];
  for (let i = 0; i < n; i++) lines.push('--B', 'Content-Type: text/plain', '', `part ${i}`);
  lines.push('--B', ...VBS, '--B--');
  return crlf(lines);
}

const inner = Buffer.from(['Subject: inner', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="I"', '', '--I', ...VBS, '--I--', ''].join('\r\n'), 'latin1');

export const EVASIONS: readonly Evasion[] = [
  { name: 'comment in the Content-Type value (RFC 2045 §5.1)', want: 'discard', mail: withAttachment(VBS.slice(0, 2), 'Content-Type: multipart/mixed (see below); boundary="B"') },
  { name: 'comment before the boundary value', want: 'discard', mail: withAttachment(VBS.slice(0, 2), 'Content-Type: multipart/mixed; boundary=(x)"B"') },
  { name: `nesting deeper than ${MAX_DEPTH}`, want: 'keep', mail: nested(MAX_DEPTH + 5) },
  { name: `more than ${MAX_PARTS} parts`, want: 'keep', mail: manyParts(MAX_PARTS + 5) },
  {
    name: 'duplicate boundary parameter', want: 'discard',
    mail: crlf([...HEAD, 'Content-Type: multipart/mixed; boundary="A"; boundary="Z"', '', '--A', ...VBS, '--A--']),
  },
  { name: 'trailing dot in the file name', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="love.vbs."']) },
  { name: 'trailing spaces and dots in the file name', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="love.vbs . "']) },
  { name: 'name against filename disagreement', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream; name="love.vbs"', 'Content-Disposition: attachment; filename="readme.txt"']) },
  { name: 'plain filename against RFC 2231 filename*', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="love.vbs"; filename*=utf-8\'\'readme.txt']) },
  { name: 'RFC 2231 continuations', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename*0*=utf-8\'\'l%6Fve; filename*1=".VBS"']) },
  { name: 'RFC 2047 encoded-word name', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream; name="=?utf-8?B?bG92ZS52YnM=?="']) },
  { name: 'upper case, path in the name', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="C:\\\\temp\\\\LOVE.VBS"']) },
  { name: 'filename on Content-Type, name on Content-Disposition', want: 'discard', mail: withAttachment(['Content-Type: application/octet-stream; filename=love.vbs', 'Content-Disposition: attachment; name=x.txt']) },
  {
    name: 'two Content-Type fields', want: 'keep',
    mail: crlf([...HEAD, 'Content-Type: text/plain', 'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: text/vbscript', '', 'MsgBox "x"', '--B--']),
  },
  {
    name: 'a line that only starts with the boundary', want: 'keep',
    mail: crlf([...HEAD, 'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: text/plain', '', 'hi', '--B_', 'Content-Type: text/vbscript', '', 'MsgBox "x"', '--B--']),
  },
  { name: 'multipart without boundary', want: 'keep', mail: crlf([...HEAD, 'Content-Type: multipart/mixed', '', '--B', ...VBS, '--B--']) },
  {
    name: 'base64-encoded attached message', want: 'discard',
    mail: crlf([...HEAD, 'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', inner.toString('base64'), '--B--']),
  },
  { name: 'uuencoded attachment in a plain-text body', want: 'discard', mail: crlf([...HEAD, '', 'see attached', '', 'begin 644 love.vbs', 'M3W-G0F]X(")X(@``', '`', 'end']) },
  { name: 'yEnc attachment in a plain-text body', want: 'discard', mail: crlf([...HEAD, 'Content-Type: text/plain', '', '=ybegin line=128 size=10 name=love.vbs', 'xxxxxxxxxx', '=yend size=10']) },
  {
    name: 'multipart/digest part without Content-Type is a message', want: 'discard',
    mail: crlf([...HEAD, 'Content-Type: multipart/digest; boundary="D"', '', '--D', '', ...inner.toString('latin1').split('\r\n'), '--D--']),
  },
];
