// Message transfer helpers for RETR and TOP. Stored messages already have CRLF line ends
// (store/crlf.ts); these functions still cope with a missing final CRLF.

const DOT = 0x2e;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * RFC 1939 §3: each line of a multi-line response that starts with the termination octet "." is
 * byte-stuffed with one more "."; the response ends with CRLF "." CRLF (appended here).
 */
export function dotStuffed(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = 0;
  while (lineStart < data.length) {
    if (data[lineStart] === DOT) {
      parts.push(data.subarray(start, lineStart), Buffer.from('.'));
      start = lineStart;
    }
    const lf = data.indexOf(LF, lineStart);
    if (lf < 0) break;
    lineStart = lf + 1;
  }
  parts.push(data.subarray(start));
  if (data.length > 0 && data[data.length - 1] !== LF) parts.push(CRLF);
  parts.push(Buffer.from('.\r\n'));
  return Buffer.concat(parts);
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
