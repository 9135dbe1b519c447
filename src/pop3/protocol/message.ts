// TOP for POP3, and the byte-stuffed form of a message for RETR and TOP. The stuffing itself is
// smtp/protocol's DotStuffer, the one stuffer (RFC 1939 §3 uses the rule of RFC 5321 §4.5.2),
// the same views the SMTP client writes for DATA; it also copes with bare CR/LF and a missing
// final CRLF.
import { DATA_TERMINATOR, DotStuffer } from '../../smtp/protocol/dot-stuff.js';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/**
 * RFC 1939 §3: the multi-line response body for `data`: byte-stuffed ("." in front of every line
 * that starts with "."), then the terminating ".\r\n". The mailbox store keeps messages with CRLF
 * line ends and a final CRLF (MailboxStore.deliver), so a message with no line starting with "."
 * is its own stuffed form: it is passed on as it is (no copy, no byte loop: RETR of a 50 KB
 * message is one write). Anything else goes through the DotStuffer's views: the text between
 * the inserted periods is not copied either (the server writes the views in one corked writev).
 */
export function stuffedResponse(data: Buffer): readonly Buffer[] {
  const n = data.length;
  const crlfEnd = n === 0 || (n >= 2 && data[n - 2] === CR && data[n - 1] === LF);
  if (crlfEnd && data[0] !== DOT && data.indexOf('\n.') < 0) return [data, DATA_TERMINATOR];
  const s = new DotStuffer();
  return s.endViews(s.pushViews(data));
}

/** RFC 1939 §7 TOP: the header, the blank line after it, and the first `lines` lines of the body. */
export function topOf(data: Buffer, lines: number): Buffer {
  const sep = data.indexOf('\r\n\r\n');
  if (sep < 0) {
    const lfSep = data.indexOf('\n\n');
    if (lfSep < 0) return data; // no body: the whole message is header
    return cut(data, lfSep + 2, lines);
  }
  return cut(data, sep + 4, lines);
}

function cut(data: Buffer, bodyStart: number, lines: number): Buffer {
  let end = bodyStart;
  for (let i = 0; i < lines && end < data.length; i++) {
    const lf = data.indexOf(LF, end);
    end = lf < 0 ? data.length : lf + 1;
  }
  return data.subarray(0, end);
}
