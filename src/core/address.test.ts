import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseForwardPath, parseReversePath, parseMailbox, formatPath } from './address.js';

const good: Array<[string, string]> = [
  ['<a@b.example>', 'a@b.example'],
  ['<first.last@sub.example.org>', 'first.last@sub.example.org'],
  ['<"john doe"@example.com>', '"john doe"@example.com'],
  ['<"a@b"@example.com>', '"a@b"@example.com'],
  ['<user@[127.0.0.1]>', 'user@[127.0.0.1]'],
  ['<user@[IPv6:::1]>', 'user@[IPv6:::1]'],
];
for (const [input, want] of good) {
  test(`forward path accepts ${input}`, () => {
    const r = parseForwardPath(input);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(`${r.value.local}@${r.value.domain}`, want);
  });
}

const bad: Array<[string, string]> = [
  ['a@b.example', 'no-brackets'],
  ['<>', 'empty'],
  ['<ab.example>', 'no-at'],
  ['<a..b@example.com>', 'bad-local'],
  ['<.a@example.com>', 'bad-local'],
  ['<a@-example.com>', 'bad-domain'],
  ['<a@example..com>', 'bad-domain'],
  ['<a@[300.1.1.1]>', 'bad-domain'],
  ['<a@[IPv6:zz]>', 'bad-domain'],
  [`<${'x'.repeat(65)}@example.com>`, 'local-too-long'],
  ['<@relay.example:a@b.example>', 'source-route'],
  ['<a b@example.com>', 'bad-local'],
];
for (const [input, want] of bad) {
  test(`forward path rejects ${input.slice(0, 40)} as ${want}`, () => {
    const r = parseForwardPath(input);
    assert.ok(!r.ok);
    assert.equal(r.error.problem, want);
  });
}

test('domain longer than 255 octets is rejected', () => {
  const domain = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
  const r = parseMailbox(`a@${domain}`);
  assert.ok(!r.ok);
  assert.equal(r.error.problem, 'domain-too-long');
});

test('source route accepted and dropped when allowed', () => {
  const r = parseForwardPath('<@a.example,@b.example:u@c.example>', { allowSourceRoute: true });
  assert.ok(r.ok);
  assert.equal(r.value.domain, 'c.example');
});

test('null reverse path', () => {
  const r = parseReversePath('<>');
  assert.ok(r.ok);
  assert.equal(r.value.kind, 'null');
  assert.equal(formatPath(r.value), '<>');
});

test('UTF-8 local part only with utf8 option', () => {
  assert.ok(!parseForwardPath('<jörg@example.de>').ok);
  assert.ok(parseForwardPath('<jörg@example.de>', { utf8: true }).ok);
});
