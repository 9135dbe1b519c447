import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from './command.js';
import { LineReader, type LineItem } from './line-reader.js';
import { dotStuff, normaliseLineEnds } from '../../smtp/protocol/dot-stuff.js';
import { prng } from '../../testing/prng.js';
import { stuffedResponse, topOf } from './message.js';

function show(items: LineItem[]): string[] {
  return items.map((i) => (i.kind === 'line' ? i.line.toString('latin1') : '<too-long>'));
}

test('line reader gives the same lines whatever the chunk boundaries', () => {
  const input = Buffer.from('USER alice\r\nPASS a b\nSTAT\r\n' + 'X'.repeat(300) + '\r\nNOOP\r\npartial');
  const want = ['USER alice', 'PASS a b', 'STAT', '<too-long>', 'NOOP'];
  for (let size = 1; size <= input.length; size += size < 20 ? 1 : 37) {
    const r = new LineReader();
    const got: LineItem[] = [];
    for (let i = 0; i < input.length; i += size) got.push(...r.push(input.subarray(i, i + size)));
    assert.deepEqual(show(got), want, `chunk size ${size}`);
    assert.equal(r.buffered, 'partial'.length);
  }
});

test('line reader keeps memory bounded on an endless line', () => {
  const r = new LineReader();
  const items: LineItem[] = [];
  for (let i = 0; i < 1000; i++) items.push(...r.push(Buffer.alloc(1000, 0x41)));
  assert.deepEqual(show(items), []);
  assert.equal(r.buffered, 0);
  // One answer per line, in order: the over-long line is reported when its end arrives.
  assert.deepEqual(show(r.push(Buffer.from('tail\r\nQUIT\r\n'))), ['<too-long>', 'QUIT']);
});

test('parseCommand', () => {
  const cases: { input: string; want: string }[] = [
    { input: 'stat', want: 'STAT []' },
    { input: 'LIST 1', want: 'LIST ["1"]' },
    { input: 'PASS has  two spaces', want: 'PASS ["has","two","spaces"] rest="has  two spaces"' },
    { input: 'TOP 1 10', want: 'TOP ["1","10"]' },
    { input: 'HELO x', want: 'error unknown' },
    { input: '   ', want: 'error empty' },
    { input: 'USER \u0000', want: 'error bad-bytes' },
  ];
  for (const c of cases) {
    const r = parseCommand(Buffer.from(c.input, 'utf8'));
    const got = r.ok ? `${r.value.verb} ${JSON.stringify(r.value.args)}${r.value.verb === 'PASS' ? ` rest="${r.value.rest}"` : ''}` : `error ${r.error}`;
    assert.equal(got, c.want, c.input);
  }
  assert.equal(parseCommand(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xff])).ok, false, 'invalid UTF-8');
});

test('dot-stuffing and TOP', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'plain', input: 'a\r\nb\r\n', want: 'a\r\nb\r\n.\r\n' },
    { name: 'leading dot', input: '.a\r\n', want: '..a\r\n.\r\n' },
    { name: 'lone dot line', input: 'x\r\n.\r\ny\r\n', want: 'x\r\n..\r\ny\r\n.\r\n' },
    { name: 'dot inside a line untouched', input: 'a.b\r\n', want: 'a.b\r\n.\r\n' },
    { name: 'missing final CRLF', input: 'a', want: 'a\r\n.\r\n' },
    { name: 'empty', input: '', want: '.\r\n' },
  ];
  for (const c of cases) assert.equal(dotStuff(Buffer.from(c.input)).toString(), c.want, c.name);
  const msg = Buffer.from('H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n');
  assert.equal(topOf(msg, 0).toString(), 'H: 1\r\nH: 2\r\n\r\n');
  assert.equal(topOf(msg, 1).toString(), 'H: 1\r\nH: 2\r\n\r\nb1\r\n');
  assert.equal(topOf(msg, 5).toString(), msg.toString());
  assert.equal(topOf(Buffer.from('H: only\r\n'), 3).toString(), 'H: only\r\n');
});

test('stuffedResponse: the bytes of dotStuff for any stored message; a message without dot lines is passed on uncopied', () => {
  const rnd = prng(20);
  const pieces = ['.', '..', 'a', 'text ', '\r\n', '\r\n.', '\r\n..', ' .', '\t'];
  for (let k = 0; k < 2000; k++) {
    let s = '';
    const n = Math.floor(rnd() * 12);
    for (let j = 0; j < n; j++) s += pieces[Math.floor(rnd() * pieces.length)];
    // The mailbox store's contract (MailboxStore.deliver): CRLF line ends, a final CRLF.
    const data = normaliseLineEnds(Buffer.from(s, 'latin1'));
    const got = stuffedResponse(data);
    assert.equal(Buffer.concat(got).toString('latin1'), dotStuff(data).toString('latin1'), JSON.stringify(s));
    if (!/(^|\n)\./.test(data.toString('latin1'))) assert.equal(got[0], data, `passed on as it is: ${JSON.stringify(s)}`);
    // With dot lines: the DotStuffer's views; the message's own bytes are views of it, not a
    // copy (only the inserted periods and the terminator are other buffers).
    else {
      const own = got.filter((b) => b.buffer === data.buffer).reduce((a, b) => a + b.length, 0);
      const dots = (data.toString('latin1').match(/(^|\n)\./g) ?? []).length;
      assert.equal(own, data.length, `the text as views: ${JSON.stringify(s)}`);
      assert.equal(Buffer.concat(got).length, data.length + dots + 3);
    }
  }
  // Not the store's form (bare LF, no final CRLF): dotStuff normalises it.
  for (const s of ['a\nb', 'a\r\nb', '.a\nb\r\n']) {
    assert.equal(Buffer.concat(stuffedResponse(Buffer.from(s))).toString(), dotStuff(Buffer.from(s)).toString(), s);
  }
});
