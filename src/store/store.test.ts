import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoUser } from './demo.js';
import { canonicalAlias, canonicalUser } from './names.js';
import { openSqliteStore } from './sqlite/index.js';
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

test('S2 #15: the demo user is made only when the configuration says Users Demo YES, never for a DefaultDomain alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = openSqliteStore(':memory:', { scrypt: { N: 1024, r: 8, p: 1 } });
  t.after(() => s.close());
  const file = join(dir, 'demo.password');
  assert.equal(await ensureDemoUser(s.users, { demo: false, defaultDomain: 'corp.test' }, file), undefined);
  assert.deepEqual(await s.users.listUsers(), [], 'a production configuration with DefaultDomain gets no demo user');
  assert.equal(existsSync(file), false);
  const demo = await ensureDemoUser(s.users, { demo: true, defaultDomain: 'example.test' }, file);
  assert.ok(demo);
  assert.equal(demo.user, 'demo');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(await s.users.verify('demo', demo.password), true);
});

test('S2 #15: user names are canonical, never trimmed: surrounding or embedded white space and invisible characters are refused', () => {
  for (const n of [' alice', 'alice ', '\talice', 'alice\u00a0', 'al\u200bice']) assert.equal(canonicalUser(n), undefined, JSON.stringify(n));
  assert.equal(canonicalUser('ALICE'), 'alice');
});
