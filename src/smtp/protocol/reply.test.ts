import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyParser, MalformedReplyError, describeReply, localReply, type Reply } from './reply.js';
import { Codes } from './codes.js';

function parseAll(input: string, split = 0): { replies: Reply[]; error?: MalformedReplyError } {
  const p = new ReplyParser({ maxLineLength: 100 });
  const replies: Reply[] = [];
  const bytes = Buffer.from(input, 'utf8');
  const step = split > 0 ? split : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) {
    const r = p.push(bytes.subarray(i, i + step));
    replies.push(...r.replies);
    if (r.error) return { replies, error: r.error };
  }
  return { replies };
}

const cases: { name: string; input: string; want: { code: number; enhanced?: string; lines: string[] }[]; error?: string }[] = [
  { name: 'single line', input: '220 mx.test ESMTP ready\r\n', want: [{ code: 220, lines: ['mx.test ESMTP ready'] }] },
  { name: 'multi-line EHLO', input: '250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n', want: [{ code: 250, lines: ['mx.test', 'PIPELINING', 'SIZE 1000'] }] },
  { name: 'enhanced code', input: '550 5.1.1 <a@b> no such user\r\n', want: [{ code: 550, enhanced: '5.1.1', lines: ['<a@b> no such user'] }] },
  { name: 'enhanced on every line', input: '451-4.3.0 first\r\n451 4.3.0 second\r\n', want: [{ code: 451, enhanced: '4.3.0', lines: ['first', 'second'] }] },
  { name: 'enhanced class mismatch kept as text', input: '250 5.1.1 odd\r\n', want: [{ code: 250, lines: ['5.1.1 odd'] }] },
  { name: 'code alone', input: '250\r\n', want: [{ code: 250, lines: [''] }] },
  { name: 'bare LF accepted', input: '250 ok\n354 go\n', want: [{ code: 250, lines: ['ok'] }, { code: 354, lines: ['go'] }] },
  { name: 'two replies in one chunk (pipelining)', input: '250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n', want: [{ code: 250, enhanced: '2.1.0', lines: ['ok'] }, { code: 250, enhanced: '2.1.5', lines: ['ok'] }, { code: 354, lines: ['go ahead'] }] },
  { name: 'not a code', input: 'hello\r\n', want: [], error: 'bad-code' },
  { name: 'code 199', input: '199 no\r\n', want: [], error: 'bad-code' },
  { name: 'code 260 (second digit > 5)', input: '260 no\r\n', want: [], error: 'bad-code' },
  { name: 'bad separator', input: '250x ok\r\n', want: [], error: 'bad-separator' },
  { name: 'code changes mid reply', input: '250-a\r\n251 b\r\n', want: [], error: 'code-mismatch' },
  { name: 'line too long', input: `250 ${'x'.repeat(200)}\r\n`, want: [], error: 'line-too-long' },
  { name: 'line too long without LF', input: `250 ${'x'.repeat(200)}`, want: [], error: 'line-too-long' },
  { name: 'reply before the error is kept', input: '250 ok\r\nbogus\r\n', want: [{ code: 250, lines: ['ok'] }], error: 'bad-code' },
];

for (const c of cases) {
  for (const split of [0, 1, 3]) {
    test(`reply parser: ${c.name} (split ${split})`, () => {
      const r = parseAll(c.input, split);
      assert.deepEqual(r.replies.map((x) => ({ code: x.code, ...(x.enhanced !== undefined ? { enhanced: x.enhanced } : {}), lines: [...x.lines] })), c.want);
      assert.equal(r.error?.problem, c.error);
      if (c.error !== undefined) assert.ok(r.error instanceof MalformedReplyError);
    });
  }
}

test('reply parser stays failed after an error', () => {
  const p = new ReplyParser();
  assert.ok(p.push(Buffer.from('xyz\r\n')).error);
  const r = p.push(Buffer.from('250 ok\r\n'));
  assert.deepEqual(r.replies, []);
  assert.ok(r.error);
});

test('reply parser reports partial bytes as buffered', () => {
  const p = new ReplyParser();
  p.push(Buffer.from('220 ready\r\n25'));
  assert.equal(p.buffered, 2);
  p.push(Buffer.from('0-a\r\n'));
  assert.ok(p.buffered > 0, 'an unfinished multi-line reply counts as buffered');
});

test('describeReply and localReply', () => {
  const r = localReply(Codes.C552MessageTooBig, 'message too big');
  assert.equal(r.local, true);
  assert.equal(describeReply(r), '552 5.3.4 message too big');
  assert.equal(r.text, 'message too big');
});
