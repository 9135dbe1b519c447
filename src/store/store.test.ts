import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAlias, canonicalUser } from './names.js';
import { hashPassword, verifyPassword } from './password.js';

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
