import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineReader, type LineItem } from './line-reader.js';

function show(items: LineItem[]): string[] {
  return items.map((i) => (i.kind === 'line' ? `line:${i.text}` : `too-long:${i.octets}`));
}

const cases: { name: string; input: string[]; max?: number; want: string[]; rest?: string }[] = [
  { name: 'one line', input: ['EHLO x\r\n'], want: ['line:EHLO x'] },
  { name: 'split CR LF', input: ['NOOP\r', '\nQUIT\r\n'], want: ['line:NOOP', 'line:QUIT'] },
  { name: 'pipelined with partial tail', input: ['A\r\nB\r\nC'], want: ['line:A', 'line:B'], rest: 'C' },
  { name: 'bare LF accepted as line end', input: ['NOOP\nQUIT\r\n'], want: ['line:NOOP', 'line:QUIT'] },
  { name: 'exactly 512 with CRLF', max: 512, input: ['x'.repeat(510) + '\r\n'], want: ['line:' + 'x'.repeat(510)] },
  { name: '513 with CRLF is too long', max: 512, input: ['x'.repeat(511) + '\r\n', 'NOOP\r\n'], want: ['too-long:513', 'line:NOOP'] },
  { name: 'too long across chunks, resync', max: 10, input: ['x'.repeat(7), 'y'.repeat(20), 'z\r\nNOOP\r\n'], want: ['too-long:30', 'line:NOOP'] },
  { name: 'empty line', input: ['\r\n'], want: ['line:'] },
];

for (const c of cases) {
  test(`line reader: ${c.name}`, () => {
    const r = new LineReader(c.max === undefined ? {} : { maxLength: c.max });
    const got: LineItem[] = [];
    for (const chunk of c.input) got.push(...r.push(Buffer.from(chunk, 'latin1')));
    assert.deepEqual(show(got), c.want);
    assert.equal(r.drain().toString('latin1'), c.rest ?? '');
  });
}

test('line reader: memory stays bounded on an endless line', () => {
  const r = new LineReader({ maxLength: 512 });
  for (let i = 0; i < 1000; i++) assert.deepEqual(r.push(Buffer.alloc(1000, 0x41)), []);
  assert.ok(r.buffered <= 512);
  assert.deepEqual(show(r.push(Buffer.from('\r\nQUIT\r\n'))), ['too-long:1000002', 'line:QUIT']);
});

test('line reader: every split point gives the same lines', () => {
  const input = Buffer.from('EHLO a\r\nMAIL FROM:<a@b>\r\n' + 'x'.repeat(40) + '\r\nQUIT\r\n');
  const whole = show(new LineReader({ maxLength: 20 }).push(input));
  for (let cut = 0; cut <= input.length; cut++) {
    const r = new LineReader({ maxLength: 20 });
    const got = [...r.push(input.subarray(0, cut)), ...r.push(input.subarray(cut))];
    assert.deepEqual(show(got), whole, `cut at ${cut}`);
  }
});
