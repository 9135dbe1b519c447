import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../testing/prng.js';
import { EVASIONS } from './filter-evasions-testutil.js';
import { MAX_PARTS, decodeWords, nameForms, parseStructured, readStructured, summarize } from './mime.js';

test('decodeWords (RFC 2047)', () => {
  const cases: { raw: string; want: string }[] = [
    { raw: 'plain subject', want: 'plain subject' },
    { raw: '=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=', want: 'Grüße aus Köln' },
    { raw: '=?utf-8?B?SUxPVkVZT1U=?=', want: 'ILOVEYOU' },
    { raw: '=?ISO-8859-1?Q?a=E4b?= tail', want: 'aäb tail' },
    { raw: '=?UTF-8?Q?a?= =?UTF-8?Q?b?=', want: 'ab' },
    // A multi-byte character split across two encoded words (€ = E2 82 AC).
    { raw: '=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=', want: '€' },
    { raw: 'x =?UTF-8?Q?y?= z', want: 'x y z' },
    { raw: '=?unknown-cs?Q?a=41?=', want: 'aA' },
    { raw: '=?UTF-8*en?Q?hi?=', want: 'hi' },
  ];
  for (const c of cases) assert.equal(decodeWords(c.raw), c.want, c.raw);
});

test('parseStructured (RFC 2231 and encoded-word names)', () => {
  const a = parseStructured('attachment; filename*0*=utf-8\'\'l%C3%B6ve; filename*1=bug.vbs');
  assert.equal(a.value, 'attachment');
  assert.equal(a.params.get('filename'), 'lövebug.vbs');
  const b = parseStructured('Application/Octet-Stream;\r\n name="=?UTF-8?Q?l=C3=B6vebug=2Evbs?="');
  assert.equal(b.value, 'application/octet-stream');
  assert.equal(b.params.get('name'), 'lövebug.vbs');
  const c = parseStructured('attachment; filename*=iso-8859-1\'de\'%E4.txt');
  assert.equal(c.params.get('filename'), 'ä.txt');
  const d = parseStructured('text/plain; name="semi;colon.txt"; charset=us-ascii');
  assert.equal(d.params.get('name'), 'semi;colon.txt');
});

test('summarize walks nested multiparts and attached messages', () => {
  const msg = [
    'From: "Eve" <EVE@Bad.Example>', 'Subject: =?UTF-8?Q?hello?=', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="OUT"', '', 'preamble',
    '--OUT', 'Content-Type: multipart/alternative; boundary=IN', '',
    '--IN', 'Content-Type: text/plain', '', 'hi', '--IN', 'Content-Type: text/html', '', '<b>hi</b>', '--IN--',
    '--OUT', 'Content-Type: image/png; name=pic.png', 'Content-Transfer-Encoding: base64', '', 'AAAA',
    '--OUT', 'Content-Type: message/rfc822', '', 'Subject: inner', 'Content-Type: application/x-vbs', 'Content-Disposition: attachment; filename=inner.vbs', '', 'x',
    '--OUT--', '',
  ].join('\r\n');
  const s = summarize(Buffer.from(msg, 'latin1'));
  assert.deepEqual(s.doubts, [], 'a well-formed message is not in doubt');
  assert.equal(s.subject, 'hello');
  assert.deepEqual(s.fromAddresses, ['eve@bad.example']);
  assert.deepEqual(s.parts.map((p) => `${p.contentType}${p.fileNames.length > 0 ? ' ' + p.fileNames.join(',') : ''}`), [
    'multipart/mixed', 'multipart/alternative', 'text/plain', 'text/html', 'image/png pic.png', 'message/rfc822', 'application/x-vbs inner.vbs',
  ]);
});

test('summarize is bounded on hostile input', () => {
  let nested = '';
  for (let i = 0; i < 200; i++) nested += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  const s = summarize(Buffer.from(nested, 'latin1'));
  assert.ok(s.parts.length <= 1000);
  assert.equal(summarize(Buffer.alloc(0)).parts.length, 1);
});

test('readStructured: the RFC 2045 grammar against the naive reading; doubts where they differ', () => {
  const cases: { raw: string; value: string; params: Record<string, string[]>; doubt: RegExp | null }[] = [
    { raw: 'multipart/mixed; boundary="----=_Part_1.2"', value: 'multipart/mixed', params: { boundary: ['----=_Part_1.2'] }, doubt: null },
    { raw: 'text/plain ; charset = "utf-8" ;', value: 'text/plain', params: { charset: ['utf-8'] }, doubt: null },
    { raw: 'multipart/mixed (x); boundary=B', value: 'multipart/mixed', params: { boundary: ['B'] }, doubt: /comment/ },
    { raw: 'multipart/mixed; boundary=(x)"B"', value: 'multipart/mixed', params: { boundary: ['B', '(x)"B"'] }, doubt: /boundary read in more than one way/ },
    { raw: 'multipart/mixed; boundary=A; boundary=B', value: 'multipart/mixed', params: { boundary: ['A', 'B'] }, doubt: /given twice/ },
    { raw: 'attachment; filename="a.txt"; filename*=utf-8\'\'b%2Evbs', value: 'attachment', params: { filename: ['a.txt', 'b.vbs'] }, doubt: null },
    { raw: 'attachment; filename="unterminated', value: 'attachment', params: { filename: ['unterminated', '"unterminated'] }, doubt: /unbalanced/ },
    { raw: 'attachment; filename=love.vbs x.txt', value: 'attachment', params: { filename: ['love.vbs x.txt', 'love.vbs'] }, doubt: null },
    { raw: 'multipart/mixed; boundary=a b', value: 'multipart/mixed', params: { boundary: ['a b', 'a'] }, doubt: /boundary read in more than one way/ },
  ];
  for (const c of cases) {
    const r = readStructured(c.raw);
    assert.equal(r.value, c.value, c.raw);
    for (const [k, v] of Object.entries(c.params)) assert.deepEqual(r.params.get(k), v, `${c.raw}: ${k}`);
    if (c.doubt === null) assert.deepEqual(r.doubts, [], c.raw);
    else assert.ok(r.doubts.some((d) => c.doubt!.test(d)), `${c.raw}: ${r.doubts.join('; ')}`);
  }
});

test('nameForms: the names a client may open', () => {
  const has = (raw: string, want: string): void => assert.ok(nameForms(raw).includes(want), `${JSON.stringify(raw)} -> ${want}: ${nameForms(raw).join(' | ')}`);
  has('love.vbs.', 'love.vbs');
  has('love.vbs. . ', 'love.vbs');
  has(' love.vbs', 'love.vbs');
  has('love.vbs\0.txt', 'love.vbs');
  has('C:\\x\\love.vbs', 'love.vbs');
  has('../love.vbs', 'love.vbs');
  has('lo\u0308ve.vbs', 'l\u00f6ve.vbs');
  assert.deepEqual(nameForms(''), []);
});

test('summarize: limits hit and ambiguous structure are doubts, not silence', () => {
  const deep = summarize(Buffer.from('Content-Type: message/rfc822\r\n\r\n'.repeat(30), 'latin1'));
  assert.ok(deep.doubts.includes('nesting deeper than 20'), deep.doubts.join('; '));
  const big = summarize(Buffer.from('X: ' + 'a'.repeat(300 * 1024) + '\r\n\r\nbody', 'latin1'));
  assert.ok(big.doubts.some((d) => d.startsWith('header over')));
  const partial = summarize(Buffer.from('Content-Type: message/partial; id=x; number=1\r\n\r\nx', 'latin1'));
  assert.ok(partial.doubts.some((d) => d.startsWith('message/partial')));
  const noClose = summarize(Buffer.from('Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/x-a; name=a.vbs\r\n\r\nx\r\n', 'latin1'));
  assert.deepEqual(noClose.doubts, [], 'a missing close delimiter is common and harmless');
  assert.deepEqual(noClose.parts.map((p) => p.contentType), ['multipart/mixed', 'text/x-a']);
});

test('fuzz: mutated evasion messages never throw, stay within the limits, and a doubt or a name is never lost by a harmless suffix', () => {
  const rnd = prng(0x15_06);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const tokens = ['(', ')', '"', '\\', ';', '=', '*', "'", '%', '--', '\r\n', '\r\n\r\n', 'boundary=', 'filename*0*=', '=?utf-8?B?', '?=', 'Content-Type: multipart/mixed; boundary=B\r\n', '\0', '\xff'];
  for (let i = 0; i < 3000; i++) {
    const base = pick(EVASIONS).mail.toString('latin1');
    let m = base;
    for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) {
      const at = Math.floor(rnd() * (m.length + 1));
      const op = rnd();
      if (op < 0.4) m = m.slice(0, at) + pick(tokens) + m.slice(at);
      else if (op < 0.7) m = m.slice(0, at) + m.slice(at + Math.floor(rnd() * 20));
      else if (op < 0.9) m = m.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + m.slice(at + 1);
      else m = m.slice(0, at);
    }
    const s = summarize(Buffer.from(m, 'latin1'));
    assert.ok(s.parts.length >= 1 && s.parts.length <= MAX_PARTS, `parts ${s.parts.length}`);
  }
  // Appending an epilogue after the message does not make a found name or a doubt disappear.
  for (const e of EVASIONS) {
    const a = summarize(e.mail);
    const b = summarize(Buffer.concat([e.mail, Buffer.from('\r\nepilogue text\r\n')]));
    assert.ok(a.parts.flatMap((p) => p.fileNames).every((n) => b.parts.some((p) => p.fileNames.includes(n))) || b.doubts.length > 0, e.name);
  }
});
