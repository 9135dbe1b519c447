// Just enough MIME to filter incoming mail (SPEC.md §5 filters): header fields of the message and
// of every body part, RFC 2047 encoded-words, RFC 2231 parameter values, multipart walking.
// Untrusted input: the whole message. Bounded: nesting depth, number of parts, header bytes.
// The message is handled as a byte string (latin1: one char per octet), decoded to Unicode only
// where a value is compared.
//
// Fail closed: the filter must see what any mail client could see. Where two reasonable readers
// would read the structure differently (a comment in Content-Type, a parameter given twice, a
// boundary that only prefixes a line, two Content-Type fields) or a limit stops the walk, the
// summary carries a "doubt"; filters.ts then keeps the message instead of delivering it. File
// names are collected in every form a client could show (filename and name, on either field,
// plain, RFC 2231 and RFC 2047, with trailing dots and spaces removed as Windows does).

export const MAX_DEPTH = 20;
export const MAX_PARTS = 1000;
export const MAX_HEADER_BYTES = 256 * 1024;

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** The unfolded raw value (byte string). */
  readonly value: string;
}

/** Splits a byte string into its header fields and body (RFC 5322 §2.2, §2.2.3 unfolding). */
export function splitHeaders(msg: string): { fields: HeaderField[]; body: string; truncated: boolean } {
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
  return { fields, body: msg.slice(Math.min(end + sep, msg.length)), truncated: end > MAX_HEADER_BYTES };
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
  const sections = new Map<string, Rfc2231Section[]>();
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
  // An RFC 2231 value wins over a plain one of the same name (RFC 2231 §4.1).
  for (const [name, list] of sections) plain.set(name, joinRfc2231(list));
  return { value, params: plain };
}

/** One RFC 2231 section of a parameter value: name*N (encoded when name*N*). */
interface Rfc2231Section { readonly n: number; readonly encoded: boolean; readonly text: string }

/**
 * RFC 2231 §3 (continuations) and §4 (charset'language'%XX on the starred sections): the
 * sections of one parameter, in order, as one decoded value. Both readings of a structured field
 * (parseStructured, readStructured) join sections here.
 */
function joinRfc2231(sections: readonly Rfc2231Section[]): string {
  const list = [...sections].sort((a, b) => a.n - b.n);
  let charset = 'utf-8';
  const bytes: Buffer[] = [];
  list.forEach((s, i) => {
    let text = s.text;
    if (s.encoded && i === 0) {
      const q = /^([^']*)'[^']*'(.*)$/s.exec(text);
      if (q !== null) { charset = q[1] || 'utf-8'; text = q[2]!; }
    }
    bytes.push(Buffer.from(s.encoded ? text.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : text, 'latin1'));
  });
  return decodeCharset(Buffer.concat(bytes), charset);
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

/** One lexical item of a structured MIME header (RFC 2045 §5.1 tokens, RFC 5322 §3.2.2 comments). */
interface Lexeme { readonly kind: 'token' | 'quoted' | 'special'; readonly text: string }

// RFC 2045 §5.1: tspecials; everything else printable (and, leniently, 8-bit octets) is a token.
const TSPECIALS = '()<>@,;:\\"/[]?=';

/**
 * RFC 2045 §5.1 / RFC 5322 §3.2.2: splits a structured value into tokens, quoted strings and
 * specials; comments "( ... )" (nested, with quoted-pairs) are dropped, and noted, because a
 * reader that does not know them reads a different value.
 */
function lex(raw: string): { items: Lexeme[]; comment: boolean; unbalanced: boolean } {
  const items: Lexeme[] = [];
  let comment = false;
  let unbalanced = false;
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue; }
    if (c === '(') {
      comment = true;
      let depth = 0;
      for (; i < raw.length; i++) {
        const d = raw[i]!;
        if (d === '\\') { i++; continue; }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      if (depth !== 0) unbalanced = true;
      i++;
      continue;
    }
    if (c === '"') {
      let text = '';
      let closed = false;
      for (i++; i < raw.length; i++) {
        const d = raw[i]!;
        if (d === '\\' && i + 1 < raw.length) { text += raw[++i]; continue; }
        if (d === '"') { closed = true; i++; break; }
        text += d;
      }
      if (!closed) unbalanced = true;
      items.push({ kind: 'quoted', text });
      continue;
    }
    if (TSPECIALS.includes(c)) { items.push({ kind: 'special', text: c }); i++; continue; }
    let j = i;
    while (j < raw.length && !TSPECIALS.includes(raw[j]!) && !' \t\r\n'.includes(raw[j]!) && raw.charCodeAt(j) > 0x1f && raw.charCodeAt(j) !== 0x7f) j++;
    if (j === i) { j = i + 1; unbalanced = true; } // a control character: not a token
    items.push({ kind: 'token', text: raw.slice(i, j) });
    i = j;
  }
  return { items, comment, unbalanced };
}

/** A structured field read two ways: by the RFC grammar and as a naive reader splits on ";". */
export interface StructuredReading {
  /** The value (lower-case) by the RFC grammar, comments removed; '' when there is none. */
  readonly value: string;
  /** Every value any of the readings gives each parameter (names lower-case, RFC 2231 joined, decoded). */
  readonly params: ReadonlyMap<string, readonly string[]>;
  /** Why another reader could see something else; empty when the field is clean. */
  readonly doubts: readonly string[];
}

/**
 * The RFC 2045 §5.1 grammar `value *(";" attribute "=" value)` over the lexemes, collecting each
 * parameter's values, with RFC 2231 §3-§4 sections joined. A repeated parameter is a doubt: one
 * reader takes the first, another the last.
 */
function strictParams(items: readonly Lexeme[], doubts: string[]): { value: string; params: Map<string, string[]> } {
  let i = 0;
  let value = '';
  while (i < items.length && !(items[i]!.kind === 'special' && items[i]!.text === ';')) value += items[i++]!.text;
  const raw = new Map<string, string[]>();
  while (i < items.length) {
    i++; // the ";"
    const name = items[i];
    if (name === undefined) break; // a trailing ";" is harmless
    if (name.kind !== 'token' || items[i + 1]?.text !== '=') {
      doubts.push('a parameter without "="');
      while (i < items.length && items[i]!.text !== ';') i++;
      continue;
    }
    i += 2;
    const pieces: string[] = [];
    while (i < items.length && !(items[i]!.kind === 'special' && items[i]!.text === ';')) pieces.push(items[i++]!.text);
    const key = name.text.toLowerCase();
    if (raw.has(key)) doubts.push(`parameter ${key} given twice`);
    // LENIENT: an unquoted value with spaces ("name=my file.vbs") is read as the words joined,
    // as most mail clients do, and as its first word, as the others do: both are kept.
    raw.set(key, [...(raw.get(key) ?? []), pieces.join(' '), ...(pieces.length > 1 ? [pieces[0]!] : [])]);
  }
  return { value: value.toLowerCase(), params: joinSections(raw) };
}

/** RFC 2231: name*0, name*1*, name* → one value per name; plain values are decoded as RFC 2047 too. */
function joinSections(raw: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, v: string): void => { out.set(k, [...(out.get(k) ?? []), v]); };
  const sections = new Map<string, Rfc2231Section[]>();
  for (const [key, values] of raw) {
    const m = /^([^*]+)\*(?:(\d+)\*?|)$/.exec(key);
    if (m === null) { for (const v of values) { add(key, v); add(key, decodeWords(v)); } continue; }
    const list = sections.get(m[1]!) ?? [];
    // One value per section: the first reading (a section given twice is already a doubt).
    list.push({ n: m[2] === undefined ? 0 : Number(m[2]), encoded: key.endsWith('*'), text: values[0] ?? '' });
    sections.set(m[1]!, list);
  }
  for (const [name, list] of sections) add(name, joinRfc2231(list));
  return out;
}

/**
 * Content-Type / Content-Disposition read by the RFC 2045 grammar and by the naive ";" splitter
 * (parseStructured). Parameter values of both readings are kept; where the value or the boundary
 * differs between them, or the grammar finds something odd, the reading carries a doubt.
 */
export function readStructured(raw: string): StructuredReading {
  const doubts: string[] = [];
  const lexed = lex(raw);
  if (lexed.comment) doubts.push('a comment in a structured field');
  if (lexed.unbalanced) doubts.push('an unbalanced quote or comment, or a control character');
  const strict = strictParams(lexed.items, doubts);
  const naive = parseStructured(raw);
  const params = new Map<string, string[]>();
  for (const [k, vs] of strict.params) params.set(k, [...vs]);
  for (const [k, v] of naive.params) params.set(k, [...(params.get(k) ?? []), v]);
  if (naive.value !== strict.value) doubts.push(`value read as "${strict.value}" and as "${naive.value}"`);
  const boundaries = new Set(params.get('boundary') ?? []);
  if (boundaries.size > 1) doubts.push('boundary read in more than one way');
  return { value: strict.value, params: new Map([...params].map(([k, vs]) => [k, [...new Set(vs)]])), doubts };
}

/**
 * The forms of a file name that some client may use: as written; cut at a NUL (C strings);
 * without trailing dots and spaces (Windows drops them: "x.vbs." opens as "x.vbs"); without
 * leading and trailing white space; the last path segment; NFC.
 */
export function nameForms(name: string): string[] {
  const out = new Set<string>();
  const add = (n: string): void => {
    if (n === '') return;
    out.add(n);
    out.add(n.normalize('NFC'));
  };
  const bases = [name, name.split('\0')[0]!];
  for (const b of bases) {
    // eslint-disable-next-line no-control-regex -- control characters are what is removed
    for (const n of [b, b.replace(/[\x00-\x1f\x7f]/g, '')]) {
      add(n);
      const trimmed = n.trim().replace(/[. \t]+$/, '');
      add(trimmed);
      const base = trimmed.replace(/^.*[\\/]/, '');
      add(base);
      add(base.trim().replace(/[. \t]+$/, ''));
    }
  }
  return [...out];
}

export interface MimePart {
  /** Lower-case type/subtype ("text/plain" when absent, RFC 2045 §5.2); the one the walk used. */
  readonly contentType: string;
  /** Every type/subtype some reader could see for this part (contentType first). */
  readonly contentTypes: readonly string[];
  /** Every form of every file name on the part (nameForms of filename and name, on both fields). */
  readonly fileNames: readonly string[];
}

export interface MessageSummary {
  readonly subject?: string;
  /** Header From: addresses (addr-spec only, lower-case). */
  readonly fromAddresses: readonly string[];
  readonly parts: readonly MimePart[];
  /**
   * Why the MIME structure cannot be trusted: a limit stopped the walk, or a structured field
   * or body is read differently by different readers. Empty for a clean message.
   */
  readonly doubts: readonly string[];
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

interface WalkState { readonly parts: MimePart[]; readonly doubts: Set<string> }

/** Subject, From addresses, every MIME part's types and file names, and any doubt on the structure. */
export function summarize(data: Buffer): MessageSummary {
  const msg = data.toString('latin1');
  const { fields, body, truncated } = splitHeaders(msg);
  const st: WalkState = { parts: [], doubts: new Set() };
  if (truncated) st.doubts.add(`header over ${MAX_HEADER_BYTES} bytes`);
  walk(fields, body, 0, 'text/plain', st);
  const subject = header(fields, 'subject');
  const from = header(fields, 'from');
  return {
    ...(subject === undefined ? {} : { subject: decodeWords(subject) }),
    fromAddresses: from === undefined ? [] : addressesOf(from),
    parts: st.parts,
    doubts: [...st.doubts],
  };
}

/** Bytes of a message read to count its attachments for accounting; the rest is not read. */
export const MAX_ACCOUNTING_SCAN = 4 * 1024 * 1024;

/**
 * Subject and attachment count for the accounting MAIL record (SMTP-Send's "who sends mail",
 * issue #16 item 15), with the same MIME reading as the filters. An attachment is a part that
 * carries a file name (filename or name, either field, or a uuencoded/yEnc block). Bounded: only
 * the first `maxBytes` are read; `partial` says the count may be low because the rest was not.
 */
export function accountingSummary(data: Buffer, maxBytes = MAX_ACCOUNTING_SCAN): { subject?: string; attachments: number; partial: boolean } {
  const partial = data.length > maxBytes;
  const s = summarize(partial ? data.subarray(0, maxBytes) : data);
  const attachments = s.parts.filter((p) => p.fileNames.length > 0).length;
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  return { ...(s.subject === undefined ? {} : { subject: s.subject.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 256) }), attachments, partial };
}

const TYPE = /^[^\s/]+\/[^\s/]+$/;

function walk(fields: readonly HeaderField[], body: string, depth: number, defaultType: string, st: WalkState): void {
  if (st.parts.length >= MAX_PARTS) { st.doubts.add(`more than ${MAX_PARTS} parts`); return; }
  const ctFields = fields.filter((f) => f.name === 'content-type');
  const cdFields = fields.filter((f) => f.name === 'content-disposition');
  if (ctFields.length > 1) st.doubts.add('two Content-Type fields in one part');
  if (cdFields.length > 1) st.doubts.add('two Content-Disposition fields in one part');
  if (fields.filter((f) => f.name === 'content-transfer-encoding').length > 1) st.doubts.add('two Content-Transfer-Encoding fields in one part');
  const ct = ctFields.map((f) => readStructured(f.value));
  const cd = cdFields.map((f) => readStructured(f.value));
  for (const r of [...ct, ...cd]) for (const d of r.doubts) st.doubts.add(d);
  const first = ct[0];
  // RFC 2045 §5.2: a missing or unreadable Content-Type is text/plain; an unreadable one is a doubt.
  let contentType = defaultType;
  if (first !== undefined) {
    if (TYPE.test(first.value)) contentType = first.value;
    else st.doubts.add('a Content-Type that is not type/subtype');
  }
  const types = new Set([contentType]);
  for (const r of ct) if (TYPE.test(r.value)) types.add(r.value);
  for (const f of ctFields) { const n = parseStructured(f.value).value; if (TYPE.test(n)) types.add(n); }
  const names = new Set<string>();
  for (const r of [...ct, ...cd]) {
    for (const key of ['filename', 'name']) for (const v of r.params.get(key) ?? []) for (const f of nameForms(v)) names.add(f);
  }
  const container = contentType.startsWith('multipart/') || contentType === 'message/rfc822' || contentType === 'message/global';
  // Mail clients (Outlook Express, Pine, many news readers) show uuencoded ("begin 644 name") and
  // yEnc ("=ybegin ... name=") blocks inside a plain-text body as attachments.
  if (!container && contentType.startsWith('text/')) {
    for (const m of body.matchAll(/^(?:begin(?:-base64)? [0-7]{3,4} |=ybegin .*?\bname=)([^\r\n]+)$/gm)) {
      for (const f of nameForms(bytesToText(m[1]!))) names.add(f);
      if (names.size > 100) break;
    }
  }
  st.parts.push({ contentType, contentTypes: [...types], fileNames: [...names] });

  if (contentType === 'message/partial') st.doubts.add('message/partial: the whole message is not here');
  if (!container) return;
  if (depth >= MAX_DEPTH) { st.doubts.add(`nesting deeper than ${MAX_DEPTH}`); return; }
  // RFC 2045 §6.4 forbids encoding a multipart or message/rfc822 body; some clients decode one
  // anyway, so the filter reads it decoded.
  const cte = (header(fields, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  const inner = cte === 'base64' ? Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1')
    : cte === 'quoted-printable' ? body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    : body;
  if (!contentType.startsWith('multipart/')) {
    const sub = splitHeaders(inner);
    if (sub.truncated) st.doubts.add(`header over ${MAX_HEADER_BYTES} bytes`);
    walk(sub.fields, sub.body, depth + 1, 'text/plain', st);
    return;
  }
  const boundaries = first?.params.get('boundary') ?? [];
  const boundary = boundaries[0];
  if (boundary === undefined || boundary === '') { st.doubts.add('a multipart without boundary'); return; }
  // RFC 2046 §5.1.5: in multipart/digest a part without Content-Type is message/rfc822.
  const childDefault = contentType === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  for (const p of splitMultipart(inner, boundary, st)) {
    if (st.parts.length >= MAX_PARTS) { st.doubts.add(`more than ${MAX_PARTS} parts`); return; }
    const sub = splitHeaders(p);
    if (sub.truncated) st.doubts.add(`header over ${MAX_HEADER_BYTES} bytes`);
    walk(sub.fields, sub.body, depth + 1, childDefault, st);
  }
}

/**
 * RFC 2046 §5.1.1: the body parts between delimiter lines ("--" boundary, then only white space)
 * up to the close delimiter ("--" boundary "--"). A line that starts with "--" boundary and goes
 * on with anything else is a delimiter to a prefix-matching reader and not to a strict one: a
 * doubt. So is a multipart body without any delimiter.
 */
function splitMultipart(body: string, boundary: string, st: WalkState): string[] {
  const delim = '--' + boundary;
  const parts: string[] = [];
  let start = -1; // start of the current part's content
  let pos = 0; // start of the line being looked at
  let found = false;
  for (;;) {
    const at = pos === 0 && body.startsWith(delim) ? 0 : body.indexOf('\r\n' + delim, pos === 0 ? 0 : pos - 2);
    if (at < 0) break;
    const lineStart = at === 0 && body.startsWith(delim) && pos === 0 ? 0 : at + 2;
    let lineEnd = body.indexOf('\r\n', lineStart);
    if (lineEnd < 0) lineEnd = body.length;
    const rest = body.slice(lineStart + delim.length, lineEnd);
    const close = rest.startsWith('--') && /^[ \t]*$/.test(rest.slice(2));
    if (!close && !/^[ \t]*$/.test(rest)) {
      st.doubts.add('a line that starts with the boundary but is not a delimiter');
      pos = lineEnd + 2;
      if (pos > body.length) break;
      continue;
    }
    found = true;
    if (start >= 0) {
      parts.push(body.slice(start, Math.max(start, lineStart - 2)));
      if (parts.length >= MAX_PARTS) { st.doubts.add(`more than ${MAX_PARTS} parts`); return parts; }
    }
    if (close) return parts;
    start = Math.min(lineEnd + 2, body.length);
    pos = start;
    if (pos >= body.length) break;
  }
  if (!found) st.doubts.add('a multipart body without a delimiter line');
  // LENIENT: no close delimiter (a cut-off message); the last part runs to the end.
  if (start >= 0) parts.push(body.slice(start));
  return parts;
}
