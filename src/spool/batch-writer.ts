// Writes one message as a batch-SMTP spool file (text record format): what our own producers
// (notifications, error reports, the receiver's relay, submission) put on the spool, so every
// message leaves through the same path as a batch job's.
// RFC 5321 §4.5.2: a data line starting with "." gets one more "." (dot-stuffing).
import type { Envelope } from '../core/index.js';
import { formatMailbox, formatPath } from '../core/index.js';

function dotStuff(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = 0;
  while (lineStart < data.length) {
    if (data[lineStart] === 0x2e) {
      parts.push(data.subarray(start, lineStart), Buffer.from('.'));
      start = lineStart;
    }
    const nl = data.indexOf(0x0a, lineStart);
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  parts.push(data.subarray(start));
  return Buffer.concat(parts);
}

export function formatBatchSmtp(opts: { hostName: string; envelope: Envelope; data: Buffer }): Buffer {
  const e = opts.envelope;
  const head: string[] = [`${e.requireTls ? 'EHLO' : 'HELO'} ${opts.hostName}`];
  if (e.requireTls) head.push('STARTTLS');
  const mailParams: string[] = [];
  if (e.dsn?.ret) mailParams.push(`RET=${e.dsn.ret}`);
  if (e.dsn?.envid) mailParams.push(`ENVID=${xtext(e.dsn.envid)}`);
  head.push(`MAIL FROM:${formatPath(e.from)}${mailParams.length ? ' ' + mailParams.join(' ') : ''}`);
  for (const r of e.recipients) {
    const p: string[] = [];
    if (r.notify) p.push(`NOTIFY=${r.notify.kind === 'never' ? 'NEVER' : [r.notify.success && 'SUCCESS', r.notify.failure && 'FAILURE', r.notify.delay && 'DELAY'].filter(Boolean).join(',')}`);
    if (r.orcpt) p.push(`ORCPT=${r.orcpt.type};${xtext(r.orcpt.address)}`);
    head.push(`RCPT TO:<${formatMailbox(r.mailbox)}>${p.length ? ' ' + p.join(' ') : ''}`);
  }
  head.push('DATA');
  let body = dotStuff(opts.data);
  const endsWithNewline = body.length > 0 && body[body.length - 1] === 0x0a;
  if (!endsWithNewline) body = Buffer.concat([body, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n', 'latin1'), body, Buffer.from('.\r\nQUIT\r\n')]);
}

/** RFC 3461 §4: xtext encodes "+", "=" and characters outside 33..126 as "+XX". */
function xtext(s: string): string {
  let out = '';
  for (const ch of Buffer.from(s, 'utf8')) {
    out += ch < 33 || ch > 126 || ch === 0x2b || ch === 0x3d ? '+' + ch.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(ch);
  }
  return out;
}
