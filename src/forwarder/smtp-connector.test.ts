import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEhlo } from '../smtp/protocol/ehlo.js';
import { clientTls, learned } from './smtp-connector.js';

const ehlo = (...lines: string[]) => parseEhlo({ code: 250, lines: ['mx.example', ...lines], text: '' });

const LEARNED: readonly { name: string; caps: ReturnType<typeof ehlo>; tls: boolean; want: boolean }[] = [
  { name: 'plain session, STARTTLS offered', caps: ehlo('STARTTLS', 'PIPELINING'), tls: false, want: true },
  { name: 'plain session, STARTTLS not offered', caps: ehlo('PIPELINING'), tls: false, want: false },
  // RFC 3207 §4.2: the EHLO after TLS (TLSEhlo YES) does not list STARTTLS again.
  { name: 'TLS session, EHLO after TLS without STARTTLS', caps: ehlo('AUTH PLAIN LOGIN', 'SIZE 1000'), tls: true, want: true },
  { name: 'TLS session, pre-TLS capabilities kept (TLSEhlo NO)', caps: ehlo('STARTTLS'), tls: true, want: true },
];

for (const c of LEARNED) {
  test(`learned STARTTLS: ${c.name}`, () => {
    const l = learned(c.caps, c.tls);
    assert.equal(l.startTls, c.want);
    assert.equal(l.esmtp, true);
  });
}

test('clientTls maps TlsCaFile / TlsServerName / TlsMinVersion / TlsVerify to the client\'s options', () => {
  assert.deepEqual(clientTls({ caFile: '/ca.pem', servername: 'mx.example', minVersion: 'TLSv1.3', verify: false }),
    { caFile: '/ca.pem', servername: 'mx.example', minVersion: 'TLSv1.3', rejectUnauthorized: false });
  assert.deepEqual(clientTls({ caFile: null, servername: null, minVersion: 'TLSv1.2', verify: true }),
    { caFile: undefined, servername: undefined, minVersion: 'TLSv1.2', rejectUnauthorized: true });
});
