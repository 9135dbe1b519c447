import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotStuffer, dotStuff, normaliseLineEnds } from './dot-stuff.js';

const cases: { name: string; input: string; want: string }[] = [
  { name: 'empty', input: '', want: '.\r\n' },
  { name: 'one line', input: 'hello\r\n', want: 'hello\r\n.\r\n' },
  { name: 'no final CRLF', input: 'hello', want: 'hello\r\n.\r\n' },
  { name: 'leading dot', input: '.hidden\r\n', want: '..hidden\r\n.\r\n' },
  { name: 'line "."', input: 'a\r\n.\r\nb\r\n', want: 'a\r\n..\r\nb\r\n.\r\n' },
  { name: 'dot mid-line untouched', input: 'a.b\r\n', want: 'a.b\r\n.\r\n' },
  { name: 'bare LF', input: 'a\nb\n', want: 'a\r\nb\r\n.\r\n' },
  { name: 'bare CR', input: 'a\rb\r', want: 'a\r\nb\r\n.\r\n' },
  { name: 'CR CR LF', input: 'a\r\r\n', want: 'a\r\n\r\n.\r\n' },
  { name: 'dot after bare LF', input: 'a\n.x', want: 'a\r\n..x\r\n.\r\n' },
  { name: 'dot after bare CR', input: 'a\r.x', want: 'a\r\n..x\r\n.\r\n' },
  { name: 'only a dot', input: '.', want: '..\r\n.\r\n' },
  { name: '8-bit bytes', input: 'caf\xe9\r\n\xff.\r\n', want: 'caf\xe9\r\n\xff.\r\n.\r\n' },
];

function stuffSplit(input: Buffer, sizes: number[]): string {
  const s = new DotStuffer();
  const parts: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < input.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    parts.push(s.push(input.subarray(i, i + n)));
    i += n;
  }
  parts.push(s.end());
  return Buffer.concat(parts).toString('latin1');
}

for (const c of cases) {
  test(`dot-stuff: ${c.name}`, () => {
    const input = Buffer.from(c.input, 'latin1');
    assert.equal(dotStuff(input).toString('latin1'), c.want);
    for (const sizes of [[1], [2], [3, 1], [5, 2, 1]]) assert.equal(stuffSplit(input, sizes), c.want, `split ${sizes.join(',')}`);
  });
}

test('normaliseLineEnds', () => {
  assert.equal(normaliseLineEnds(Buffer.from('a\nb\rc\r\nd')).toString('latin1'), 'a\r\nb\r\nc\r\nd\r\n');
  assert.equal(normaliseLineEnds(Buffer.alloc(0)).length, 0);
});

test('DotStuffer refuses use after end', () => {
  const s = new DotStuffer();
  s.end();
  assert.throws(() => s.push(Buffer.from('x')));
});
