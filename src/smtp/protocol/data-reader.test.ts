import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataReader, type DataError } from './data-reader.js';

interface Case { name: string; input: string; want: string; leftover?: string; error?: DataError; done?: boolean; max?: number; size?: number }

const cases: Case[] = [
  { name: 'empty message', input: '.\r\n', want: '' },
  { name: 'one line', input: 'Subject: x\r\n\r\nhi\r\n.\r\n', want: 'Subject: x\r\n\r\nhi\r\n' },
  { name: 'dot unstuffing', input: '..a\r\n...\r\n.\r\n', want: '.a\r\n..\r\n' },
  { name: 'leftover pipelined commands', input: 'a\r\n.\r\nQUIT\r\n', want: 'a\r\n', leftover: 'QUIT\r\n' },
  { name: 'no final dot yet', input: 'a\r\n.', want: 'a\r\n', done: false },
  { name: 'line without CRLF before dot is not the end', input: 'a.\r\n.\r\n', want: 'a.\r\n' },
  // SMTP smuggling variants: none of these end the message; the real final dot does.
  { name: 'smuggle \\n.\\n', input: 'a\n.\nMAIL FROM:<x@y>\r\n.\r\n', want: 'a\n.\nMAIL FROM:<x@y>\r\n', error: 'bare-lf' },
  { name: 'smuggle \\r.\\r', input: 'a\r.\rMAIL\r\n.\r\n', want: 'a\r.\rMAIL\r\n', error: 'bare-cr' },
  { name: 'smuggle \\n.\\r\\n', input: 'a\n.\r\nMAIL\r\n.\r\n', want: 'a\n.\r\nMAIL\r\n', error: 'bare-lf' },
  { name: 'smuggle \\r\\n.\\n', input: 'a\r\n.\nMAIL\r\n.\r\n', want: 'a\r\n\nMAIL\r\n', error: 'bare-lf' },
  { name: 'smuggle \\r\\n.\\r', input: 'a\r\n.\rMAIL\r\n.\r\n', want: 'a\r\n\rMAIL\r\n', error: 'bare-cr' },
  { name: 'smuggle \\r.\\r\\n', input: 'a\r.\r\nb\r\n.\r\n', want: 'a\r.\r\nb\r\n', error: 'bare-cr' },
  { name: 'bare LF at start', input: '\n.\r\n.\r\n', want: '\n.\r\n', error: 'bare-lf' },
  { name: 'size limit: reads to the final dot', input: 'abcdefghij\r\nmore\r\n.\r\nQUIT\r\n', max: 5, want: 'abcde', error: 'too-big', size: 18, leftover: 'QUIT\r\n' },
  { name: 'exactly at the limit', input: 'abc\r\n.\r\n', max: 5, want: 'abc\r\n' },
];

function runAll(input: Buffer, max: number, cuts: number[]) {
  const r = new DataReader({ maxBytes: max });
  let leftover: Buffer | undefined;
  let pos = 0;
  for (const end of [...cuts, input.length]) {
    const res = r.push(input.subarray(pos, end));
    if (res.done) { leftover = Buffer.concat([res.leftover ?? Buffer.alloc(0), input.subarray(end)]); break; }
    assert.equal(res.consumed, end - pos);
    pos = end;
  }
  return { r, leftover };
}

for (const c of cases) {
  test(`data reader: ${c.name}`, () => {
    const input = Buffer.from(c.input, 'latin1');
    // Whole, and split at every byte boundary.
    for (let cut = -1; cut <= input.length; cut++) {
      const { r, leftover } = runAll(input, c.max ?? 0, cut < 0 ? [] : [cut]);
      const res = r.result();
      const what = `cut ${cut}`;
      assert.equal(r.done, c.done ?? true, what);
      assert.equal(res.data.toString('latin1'), c.want, what);
      assert.equal(res.error, c.error, what);
      if (c.size !== undefined) assert.equal(res.size, c.size, what);
      else assert.equal(res.size, res.data.length, what);
      if (r.done) assert.equal(leftover?.toString('latin1'), c.leftover ?? '', what);
    }
  });
}

test('data reader: byte-at-a-time equals whole', () => {
  const input = Buffer.from('x\r\n..y\r\n\r\n.\r\nNOOP\r\n');
  const cuts = Array.from({ length: input.length }, (_, i) => i);
  const { r, leftover } = runAll(input, 0, cuts);
  assert.equal(r.result().data.toString(), 'x\r\n.y\r\n\r\n');
  assert.equal(leftover?.toString(), 'NOOP\r\n');
});
