import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWords, parseStructured, summarize } from './mime.js';

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
  assert.equal(s.subject, 'hello');
  assert.deepEqual(s.fromAddresses, ['eve@bad.example']);
  assert.deepEqual(s.parts.map((p) => `${p.contentType}${p.fileName ? ' ' + p.fileName : ''}`), [
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
