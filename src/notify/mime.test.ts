import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiText, chooseBoundary, foldHeader, formatDate, headerSection, longestLine, parseHeaderFields, quotedPrintable, toCrlf, wrapText } from './mime.js';
import { envelopeFromJson, envelopeToJson } from '../core/envelope-json.js';
import type { Envelope } from '../core/index.js';

test('formatDate is RFC 5322 date-time in UTC', () => {
  assert.equal(formatDate(new Date(Date.UTC(2026, 0, 5, 3, 4, 5))), 'Mon, 05 Jan 2026 03:04:05 +0000');
});

test('asciiText flattens untrusted text to one printable ASCII line', () => {
  const table = [
    { input: '550-first\r\n550 second', want: '550-first 550 second' },
    { input: 'caf\u00e9\u0000\tx', want: 'caf?? x' },
    { input: '  a   b  ', want: 'a b' },
  ];
  for (const c of table) assert.equal(asciiText(c.input), c.want);
});

test('foldHeader folds at white space; lines ≤ 78 when words allow', () => {
  const f = foldHeader('Diagnostic-Code', `smtp; ${'word '.repeat(60)}`);
  for (const line of f.split('\r\n')) assert.ok(line.length <= 78, line);
  assert.equal(f.replace(/\r\n /g, ' '), `Diagnostic-Code: smtp; ${'word '.repeat(60).trim()}`);
});

test('wrapText wraps at width and never exceeds 998', () => {
  const lines = wrapText(`short ${'y'.repeat(2500)} end`);
  assert.ok(lines.every((l) => l.length <= 998));
  assert.equal(lines.join(''), `short${'y'.repeat(2500)}end`);
  assert.equal(lines[0], 'short');
});

test('quotedPrintable: round trip through a decoder, lines ≤ 76, trailing white space encoded', () => {
  const text = `a=b \u00e4\u20ac trailing \n${'z'.repeat(300)}\nend\t`;
  const qp = quotedPrintable(text);
  for (const line of qp.split('\r\n')) assert.ok(line.length <= 76, line);
  assert.match(qp, /trailing=20\r\n/);
  const decoded = Buffer.from(qp.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  assert.equal(decoded, text.replace(/\n/g, '\r\n'));
});

test('chooseBoundary never returns a string found in the parts', () => {
  const b = chooseBoundary(['abc', Buffer.from('def')]);
  assert.match(b, /^=_spoolgate_[0-9a-f]{24}$/);
});

test('header helpers: section, unfolding, CRLF normalisation, longest line', () => {
  const msg = Buffer.from('Content-Type: multipart/report;\r\n\treport-type=delivery-status\r\nX: 1\r\n\r\nbody\r\n');
  assert.equal(headerSection(msg).toString(), 'Content-Type: multipart/report;\r\n\treport-type=delivery-status\r\nX: 1');
  assert.deepEqual(parseHeaderFields(msg), [{ name: 'content-type', value: 'multipart/report;\treport-type=delivery-status' }, { name: 'x', value: '1' }]);
  assert.equal(toCrlf(Buffer.from('a\nb\rc\r\n')).toString(), 'a\r\nb\r\nc\r\n');
  assert.equal(longestLine(Buffer.from('ab\r\nabcd\r\n')), 4);
});

test('envelope JSON round trip and validation', () => {
  const env: Envelope = {
    from: { kind: 'mailbox', mailbox: { local: 'x', domain: 'example.com' } },
    recipients: [
      { mailbox: { local: 'a', domain: 'example.org' }, notify: { kind: 'never' } },
      { mailbox: { local: 'b', domain: 'example.org' }, notify: { kind: 'on', success: true, failure: false, delay: true }, orcpt: { type: 'rfc822', address: 'B@example.org' } },
    ],
    requireTls: true,
    dsn: { ret: 'FULL', envid: 'abc' },
    smtputf8: false,
  };
  const back = envelopeFromJson(JSON.parse(JSON.stringify(envelopeToJson(env))));
  assert.deepEqual(back, { ok: true, value: env });
  const nullSender = envelopeFromJson({ from: '', recipients: [], requireTls: false });
  assert.ok(nullSender.ok && nullSender.value.from.kind === 'null');
  for (const bad of [null, { from: 1 }, { from: '', recipients: [{ to: 'x' }], requireTls: false }, { from: '', recipients: [], requireTls: false, ret: 'X' },
    { from: '', recipients: [{ to: 'a@b.c', notify: 'SOMETIMES' }], requireTls: false }]) {
    assert.equal(envelopeFromJson(bad).ok, false, JSON.stringify(bad));
  }
});
