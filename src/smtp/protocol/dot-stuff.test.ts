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

const lineEnds: { name: string; input: string; want: string; open?: string }[] = [
  { name: 'already CRLF', input: 'a\r\nb\r\n', want: 'a\r\nb\r\n' },
  { name: 'bare LF', input: 'a\nb\n', want: 'a\r\nb\r\n' },
  { name: 'bare CR', input: 'a\rb\r', want: 'a\r\nb\r\n' },
  { name: 'mixed', input: 'a\nb\rc\r\nd', want: 'a\r\nb\r\nc\r\nd\r\n', open: 'a\r\nb\r\nc\r\nd' },
  { name: 'no final line end', input: 'x', want: 'x\r\n', open: 'x' },
  { name: 'leading LF', input: '\nx\r\n', want: '\r\nx\r\n' },
  { name: 'CR CR LF', input: 'a\r\r\n', want: 'a\r\n\r\n' },
  { name: '8-bit bytes', input: '\xff\x00\xe9\n', want: '\xff\x00\xe9\r\n' },
  { name: 'empty', input: '', want: '' },
];

for (const c of lineEnds) {
  test(`normaliseLineEnds: ${c.name}`, () => {
    const input = Buffer.from(c.input, 'latin1');
    assert.equal(normaliseLineEnds(input).toString('latin1'), c.want);
    assert.equal(normaliseLineEnds(input, { terminate: false }).toString('latin1'), c.open ?? c.want);
  });
}

test('normaliseLineEnds agrees with DotStuffer on random bytes', () => {
  let x = 7;
  const rnd = (): number => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  for (let k = 0; k < 300; k++) {
    const input = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => '\r\n.a'.charCodeAt(Math.floor(rnd() * 4))));
    const viaStuffer = dotStuff(input).toString('latin1').slice(0, -3).replace(/(^|\r\n)\./g, '$1');
    assert.equal(normaliseLineEnds(input).toString('latin1'), viaStuffer, JSON.stringify(input.toString('latin1')));
  }
});

test('DotStuffer refuses use after end', () => {
  const s = new DotStuffer();
  s.end();
  assert.throws(() => s.push(Buffer.from('x')));
});
