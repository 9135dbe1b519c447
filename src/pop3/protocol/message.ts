// TOP for POP3. RETR and TOP responses are byte-stuffed by smtp/protocol's dotStuff (RFC 1939 §3
// uses the rule of RFC 5321 §4.5.2); it also copes with a missing final CRLF.
const LF = 0x0a;

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
