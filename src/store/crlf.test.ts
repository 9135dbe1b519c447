import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCrlf } from './crlf.js';
import { canonicalAlias, canonicalUser } from './names.js';
import { hashPassword, verifyPassword } from './password.js';

test('toCrlf normalises every line end and ends with CRLF', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'already CRLF', input: 'a\r\nb\r\n', want: 'a\r\nb\r\n' },
    { name: 'bare LF', input: 'a\nb\n', want: 'a\r\nb\r\n' },
    { name: 'bare CR', input: 'a\rb\r', want: 'a\r\nb\r\n' },
    { name: 'mixed', input: 'a\r\nb\nc\rd', want: 'a\r\nb\r\nc\r\nd\r\n' },
    { name: 'no final line end', input: 'x', want: 'x\r\n' },
    { name: 'leading LF', input: '\nx\r\n', want: '\r\nx\r\n' },
    { name: 'empty', input: '', want: '' },
  ];
  for (const c of cases) assert.equal(toCrlf(Buffer.from(c.input, 'latin1')).toString('latin1'), c.want, c.name);
});

test('8-bit bytes pass through unchanged', () => {
  const data = Buffer.from([0xff, 0x00, 0xe9, 0x0a]);
  assert.deepEqual([...toCrlf(data)], [0xff, 0x00, 0xe9, 0x0d, 0x0a]);
});

test('names are validated and lower-cased', () => {
  assert.equal(canonicalUser('Alice'), 'alice');
  assert.equal(canonicalUser('a b'), undefined);
  assert.equal(canonicalUser(''), undefined);
  assert.equal(canonicalUser('.x'), undefined);
  assert.equal(canonicalUser('x'.repeat(65)), undefined);
  assert.equal(canonicalAlias('Sales@Example.COM.'), 'sales@example.com');
  assert.equal(canonicalAlias('a@-bad'), undefined);
});

test('scrypt hashes are salted, carry their parameters and verify', async () => {
  const prm = { N: 1024, r: 8, p: 1 };
  const h1 = await hashPassword('secret', prm);
  const h2 = await hashPassword('secret', prm);
  assert.notEqual(h1, h2, 'salted');
  assert.match(h1, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!h1.includes('secret'));
  assert.equal(await verifyPassword('secret', h1), true);
  assert.equal(await verifyPassword('Secret', h1), false);
  assert.equal(await verifyPassword('secret', undefined), false);
  assert.equal(await verifyPassword('secret', 'garbage'), false);
});
