// Line-end normalisation for stored mail: every CR, LF or CRLF becomes CRLF and the message ends
// with CRLF, so the size in octets is exactly what a POP3 client receives (RFC 1939 §11: sizes
// count CRLF line ends).

const CR = 0x0d;
const LF = 0x0a;

export function toCrlf(data: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === LF && (i === 0 || data[i - 1] !== CR)) extra++;
    else if (b === CR && data[i + 1] !== LF) extra++;
  }
  const endsOk = data.length === 0 || (data.length >= 1 && (data[data.length - 1] === LF || data[data.length - 1] === CR));
  if (extra === 0 && endsOk && data.length > 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra + 2);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === LF && (i === 0 || data[i - 1] !== CR)) { out[o++] = CR; out[o++] = LF; }
    else if (b === CR && data[i + 1] !== LF) { out[o++] = CR; out[o++] = LF; }
    else out[o++] = b;
  }
  if (o > 0 && out[o - 1] !== LF) { out[o++] = CR; out[o++] = LF; }
  return out.subarray(0, o);
}
