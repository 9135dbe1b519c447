import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Codes, formatReply, enhancedOf, classOf } from './codes.js';

test('every catalogue entry: enhanced class digit equals the basic class', () => {
  for (const [name, rc] of Object.entries(Codes)) {
    assert.match(name, new RegExp(`^C${rc.code}`), `${name} must start with C${rc.code}`);
    const e = enhancedOf(rc);
    if (e !== '') assert.equal(e[0], String(rc.code)[0], name);
  }
});

test('multi-line reply format', () => {
  assert.equal(formatReply(Codes.C250Ok, ['a', 'b']), '250-2.0.0 a\r\n250 2.0.0 b\r\n');
  assert.equal(formatReply(Codes.C220ServiceReady, 'host ESMTP'), '220 host ESMTP\r\n');
  assert.equal(formatReply(Codes.C550MailboxUnavailable, 'no such user'), '550 5.1.1 no such user\r\n');
});

test('reply classes; unknown is transient', () => {
  assert.equal(classOf(250), 'success');
  assert.equal(classOf(354), 'intermediate');
  assert.equal(classOf(451), 'transient');
  assert.equal(classOf(550), 'permanent');
  assert.equal(classOf(999), 'transient');
  assert.equal(classOf(120), 'transient');
});
