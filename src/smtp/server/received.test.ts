import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressLiteral, receivedHeader, rfc5322Date } from './received.js';

test('RFC 5322 date in UTC', () => {
  assert.equal(rfc5322Date(Date.UTC(2026, 10, 22, 9, 5, 7)), 'Sun, 22 Nov 2026 09:05:07 +0000');
});

test('address literals (RFC 5321 §4.1.3)', () => {
  assert.equal(addressLiteral('192.0.2.1'), '[192.0.2.1]');
  assert.equal(addressLiteral('::ffff:192.0.2.1'), '[192.0.2.1]');
  assert.equal(addressLiteral('2001:db8::1'), '[IPv6:2001:db8::1]');
});

const base = { clientIp: '192.0.2.1', hostName: 'mx.test', id: 'S1', dateMs: Date.UTC(2026, 10, 22, 12, 0, 0), smtputf8: false };
const cases = [
  { name: 'ESMTPSA with one recipient', f: { ...base, heloName: 'c.test', esmtp: true, tls: true, authenticated: true, forRecipient: '<b@y.test>' },
    want: 'Received: from c.test ([192.0.2.1])\r\n\tby mx.test (spoolgate) with ESMTPSA id S1\r\n\tfor <b@y.test>;\r\n\tSun, 22 Nov 2026 12:00:00 +0000\r\n' },
  { name: 'HELO, several recipients (no "for"), hostile HELO text', f: { ...base, heloName: 'x(y);z', esmtp: false, tls: false, authenticated: false },
    want: 'Received: from x?y??z ([192.0.2.1])\r\n\tby mx.test (spoolgate) with SMTP id S1;\r\n\tSun, 22 Nov 2026 12:00:00 +0000\r\n' },
  { name: 'SMTPUTF8 over TLS', f: { ...base, heloName: 'c', esmtp: true, tls: true, authenticated: false, smtputf8: true },
    want: 'Received: from c ([192.0.2.1])\r\n\tby mx.test (spoolgate) with UTF8SMTPS id S1;\r\n\tSun, 22 Nov 2026 12:00:00 +0000\r\n' },
];
for (const c of cases) {
  test(`Received header: ${c.name}`, () => {
    assert.equal(receivedHeader(c.f).toString(), c.want);
  });
}
