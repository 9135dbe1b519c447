import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEhlo, heloCapabilities, describeCapabilities } from './ehlo.js';
import { makeReply } from './reply.js';

test('parseEhlo: common keywords', () => {
  const c = parseEhlo(makeReply(250, ['mx.example.test Hello', 'SIZE 10240000', 'STARTTLS', 'pipelining', '8BITMIME',
    'AUTH PLAIN LOGIN', 'AUTH=CRAM-MD5', 'ENHANCEDSTATUSCODES', 'DSN', 'SMTPUTF8', 'CHUNKING', 'X-FOO bar']));
  assert.equal(c.esmtp, true);
  assert.equal(c.serverName, 'mx.example.test');
  assert.equal(c.size, 10240000);
  assert.equal(c.starttls, true);
  assert.equal(c.pipelining, true);
  assert.equal(c.eightBitMime, true);
  assert.deepEqual([...c.auth].sort(), ['CRAM-MD5', 'LOGIN', 'PLAIN']);
  assert.equal(c.enhancedStatusCodes, true);
  assert.equal(c.dsn, true);
  assert.equal(c.smtputf8, true);
  assert.equal(c.chunking, true);
  assert.deepEqual(c.keywords.get('X-FOO'), ['bar']);
  assert.match(describeCapabilities(c), /^ESMTP SIZE=10240000 STARTTLS PIPELINING 8BITMIME AUTH=/);
});

const sizeCases: { name: string; line: string | undefined; want: number | undefined }[] = [
  { name: 'absent', line: undefined, want: undefined },
  { name: 'no parameter = no limit', line: 'SIZE', want: 0 },
  { name: 'zero = no limit', line: 'SIZE 0', want: 0 },
  { name: 'number', line: 'SIZE 524288', want: 524288 },
  { name: 'garbage = no fixed limit', line: 'SIZE lots', want: 0 },
];
for (const c of sizeCases) {
  test(`parseEhlo SIZE: ${c.name}`, () => {
    const lines = ['mx'];
    if (c.line !== undefined) lines.push(c.line);
    assert.equal(parseEhlo(makeReply(250, lines)).size, c.want);
  });
}

test('heloCapabilities: nothing offered', () => {
  const c = heloCapabilities('old.test');
  assert.equal(c.esmtp, false);
  assert.equal(c.starttls, false);
  assert.equal(describeCapabilities(c), 'SMTP (no ESMTP)');
});
