// Just enough MIME to filter incoming mail (SPEC.md §5 filters): header fields of the message and
// of every body part, RFC 2047 encoded-words, RFC 2231 parameter values, multipart walking.
// Untrusted input: the whole message. Bounded: nesting depth, number of parts, header bytes.
// The message is handled as a byte string (latin1: one char per octet), decoded to Unicode only
// where a value is compared.

const MAX_DEPTH = 20;
const MAX_PARTS = 1000;
const MAX_HEADER_BYTES = 256 * 1024;

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** The unfolded raw value (byte string). */
  readonly value: string;
}

/** Splits a byte string into its header fields and body (RFC 5322 §2.2, §2.2.3 unfolding). */
export function splitHeaders(msg: string): { fields: HeaderField[]; body: string } {
  let end = msg.indexOf('\r\n\r\n');
  let sep = 4;
  if (msg.startsWith('\r\n')) { end = 0; sep = 2; }
  if (end < 0) { end = msg.length; sep = 0; }
  const head = msg.slice(0, Math.min(end, MAX_HEADER_BYTES));
  const fields: HeaderField[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && fields.length > 0) {
      const last = fields[fields.length - 1]!;
      fields[fields.length - 1] = { name: last.name, value: last.value + line };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return { fields, body: msg.slice(Math.min(end + sep, msg.length)) };
}

/** Byte string → Unicode: UTF-8 when it is valid UTF-8, else ISO-8859-1 (raw 8-bit headers). */
export function bytesToText(bytes: string): string {
  if (!/[\x80-\xff]/.test(bytes)) return bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes, 'latin1'));
  } catch {
    // Not UTF-8: the octets are taken as ISO-8859-1, which maps every octet.
    return bytes;
  }
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    // Unknown charset name (RFC 2047 §6.1 leaves it to the reader): show the octets as ISO-8859-1.
    return bytes.toString('latin1');
  }
}

/** RFC 2047 §4.2 "Q" encoding: "_" is space, =XX is an octet. */
function decodeQ(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;

/**
 * RFC 2047 decoding of an unstructured header value (Subject) or a parameter written as an
 * encoded word. Whitespace between adjacent encoded words is dropped (§6.2); adjacent words in
 * the same charset are joined before decoding, so a multi-byte character split across two words
 * survives. Anything else is kept as written.
 */
export function decodeWords(raw: string): string {
  const parts: { charset: string; bytes: Buffer }[] = [];
  let out = '';
  let last = 0;
  const flush = (): void => {
    for (const p of mergeSameCharset(parts)) out += decodeCharset(p.bytes, p.charset);
    parts.length = 0;
  };
  for (const m of raw.matchAll(ENCODED_WORD)) {
    const between = raw.slice(last, m.index);
    if (parts.length > 0 && /^[ \t\r\n]*$/.test(between)) {
      // RFC 2047 §6.2: linear white space between encoded words is ignored.
    } else {
      flush();
      out += bytesToText(between);
    }
    const [, charset, enc, text] = m as unknown as [string, string, string, string];
    const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQ(text);
    parts.push({ charset, bytes });
    last = m.index + m[0].length;
  }
  flush();
  return out + bytesToText(raw.slice(last));
}

function mergeSameCharset(parts: readonly { charset: string; bytes: Buffer }[]): { charset: string; bytes: Buffer }[] {
  const out: { charset: string; bytes: Buffer }[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.charset.toLowerCase() === p.charset.toLowerCase()) out[out.length - 1] = { charset: prev.charset, bytes: Buffer.concat([prev.bytes, p.bytes]) };
    else out.push(p);
  }
  return out;
}

export interface ParsedValue {
  /** The value before the first ";" (lower-cased), e.g. "text/plain" or "attachment". */
  readonly value: string;
  /** Parameters with RFC 2231 continuations joined and charsets decoded; names lower-case. */
  readonly params: ReadonlyMap<string, string>;
}

/** Content-Type / Content-Disposition (RFC 2045 §5.1, RFC 2183, RFC 2231). */
export function parseStructured(raw: string): ParsedValue {
  const tokens = splitParams(raw);
  const value = (tokens.shift() ?? '').trim().toLowerCase();
  const plain = new Map<string, string>();
  const sections = new Map<string, { n: number; encoded: boolean; text: string }[]>();
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    const key = t.slice(0, eq).trim().toLowerCase();
    let v = t.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    // RFC 2231 §3 continuations name*0, name*1*; §4 charset'language'%XX on the starred ones.
    const m = /^([^*]+)\*(?:(\d+)\*?|)$/.exec(key);
    if (m !== null) {
      const name = m[1]!;
      const n = m[2] === undefined ? 0 : Number(m[2]);
      const list = sections.get(name) ?? [];
      list.push({ n, encoded: key.endsWith('*'), text: v });
      sections.set(name, list);
    } else plain.set(key, decodeWords(v));
  }
  for (const [name, list] of sections) {
    list.sort((a, b) => a.n - b.n);
    let charset = 'utf-8';
    const bytes: Buffer[] = [];
    list.forEach((s, i) => {
      let text = s.text;
      if (s.encoded && i === 0) {
        const q = /^([^']*)'[^']*'(.*)$/s.exec(text);
        if (q !== null) { charset = q[1] || 'utf-8'; text = q[2]!; }
      }
      bytes.push(s.encoded ? Buffer.from(text.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1') : Buffer.from(text, 'latin1'));
    });
    // An RFC 2231 value wins over a plain one of the same name (RFC 2231 §4.1).
    plain.set(name, decodeCharset(Buffer.concat(bytes), charset));
  }
  return { value, params: plain };
}

function splitParams(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && quoted) { cur += c + (raw[i + 1] ?? ''); i++; continue; }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

export interface MimePart {
  /** Lower-case type/subtype ("text/plain" when absent, RFC 2045 §5.2). */
  readonly contentType: string;
  /** Decoded file name from Content-Disposition filename or Content-Type name, if any. */
  readonly fileName?: string;
}

export interface MessageSummary {
  readonly subject?: string;
  /** Header From: addresses (addr-spec only, lower-case). */
  readonly fromAddresses: readonly string[];
  readonly parts: readonly MimePart[];
}

function header(fields: readonly HeaderField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

/** Address specs in a From: value: <a@b> forms, else bare tokens containing "@". */
function addressesOf(value: string): string[] {
  const angle = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((m) => m[1]!);
  if (angle.length > 0) return angle.map((a) => a.toLowerCase());
  return value.split(/[\s,;]+/).filter((t) => t.includes('@')).map((t) => t.replace(/^["'(]+|["')]+$/g, '').toLowerCase());
}

/** Subject, From addresses and every MIME part's type and file name. */
export function summarize(data: Buffer): MessageSummary {
  const msg = data.toString('latin1');
  const { fields, body } = splitHeaders(msg);
  const parts: MimePart[] = [];
  walk(fields, body, 0, parts);
  const subject = header(fields, 'subject');
  const from = header(fields, 'from');
  return {
    ...(subject === undefined ? {} : { subject: decodeWords(subject) }),
    fromAddresses: from === undefined ? [] : addressesOf(from),
    parts,
  };
}

function walk(fields: readonly HeaderField[], body: string, depth: number, out: MimePart[]): void {
  if (out.length >= MAX_PARTS) return;
  const ct = parseStructured(header(fields, 'content-type') ?? 'text/plain');
  const contentType = /^[^\s/]+\/[^\s/]+$/.test(ct.value) ? ct.value : 'text/plain';
  const disp = header(fields, 'content-disposition');
  const fileName = (disp === undefined ? undefined : parseStructured(disp).params.get('filename')) ?? ct.params.get('name');
  out.push({ contentType, ...(fileName === undefined || fileName === '' ? {} : { fileName }) });
  if (depth >= MAX_DEPTH) return;
  if (contentType.startsWith('multipart/')) {
    const boundary = ct.params.get('boundary');
    if (boundary === undefined || boundary === '') return;
    for (const p of splitMultipart(body, boundary)) {
      if (out.length >= MAX_PARTS) return;
      const sub = splitHeaders(p);
      walk(sub.fields, sub.body, depth + 1, out);
    }
  } else if (contentType === 'message/rfc822') {
    // An attached message's own attachments count too (forwarded malware).
    const sub = splitHeaders(body);
    walk(sub.fields, sub.body, depth + 1, out);
  }
}

/** RFC 2046 §5.1.1: the body parts between "--boundary" lines, up to "--boundary--". */
function splitMultipart(body: string, boundary: string): string[] {
  const delim = '--' + boundary;
  const parts: string[] = [];
  let pos = body.startsWith(delim) ? 0 : body.indexOf('\r\n' + delim);
  if (pos < 0) return parts;
  if (!body.startsWith(delim)) pos += 2;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', pos);
    const after = body.slice(pos + delim.length, pos + delim.length + 2);
    if (after === '--' || lineEnd < 0) return parts;
    const next = body.indexOf('\r\n' + delim, lineEnd);
    const end = next < 0 ? body.length : next;
    parts.push(body.slice(lineEnd + 2, end));
    if (next < 0 || parts.length >= MAX_PARTS) return parts;
    pos = next + 2;
  }
}
