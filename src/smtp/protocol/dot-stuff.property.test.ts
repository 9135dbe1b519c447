// Property test of the Buffer dot-stuffer (dot-stuff.ts) against a simple string oracle written
// straight from the rules: RFC 5321 §2.3.8 (CRLF only: a bare CR or LF becomes CRLF), §4.5.2
// (a line starting with "." gets one more), §4.1.1.4 (the data ends with CRLF "." CRLF). Random
// texts are biased to the hard cases — lines starting with ".", CRLF split across chunk
// boundaries, bare CR and LF, CR CR LF, lines of 998 bytes and more — and stuffed in random
// chunkings, through push() (copies) and pushViews() (views of the input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotStuffer, dotStuff } from './dot-stuff.js';
import { prng } from '../../testing/prng.js';

/** The rules as string operations on the latin1 text. */
function oracle(text: string): string {
  let t = text.replace(/\r\n|\r|\n/g, '\r\n');
  if (t.length > 0 && !t.endsWith('\r\n')) t += '\r\n';
  return t.replace(/(^|\r\n)\./g, '$1..') + '.\r\n';
}

const PIECES = ['.', '..', '\r', '\n', '\r\n', '.\r\n', '\r\r\n', '\n.', 'a', 'text', ' ', '\xff\xe9', '\0', 'x'.repeat(998), 'y'.repeat(1500)];

function randomText(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

/** Splits `input` at random points (often 1 or 2 bytes apart, so CR and LF land in different chunks). */
function chunks(input: Buffer, r: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length;) {
    const n = r() < 0.5 ? 1 + Math.floor(r() * 3) : 1 + Math.floor(r() * 2000);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

test('dot-stuff property: DotStuffer agrees with the oracle for any text and any chunking', () => {
  const r = prng(20261127);
  for (let k = 0; k < 2000; k++) {
    const text = randomText(r);
    const input = Buffer.from(text, 'latin1');
    const want = oracle(text);
    assert.equal(dotStuff(input).toString('latin1'), want, JSON.stringify(text.slice(0, 200)));
    const parts = chunks(input, r);
    // push(): a copy per chunk.
    const a = new DotStuffer();
    const copied = Buffer.concat([...parts.map((p) => a.push(p)), a.end()]);
    assert.equal(copied.toString('latin1'), want, `push() chunked ${parts.map((p) => p.length).join(',')}`);
    // pushViews(): views, collected for one gathered write.
    const b = new DotStuffer();
    const views: Buffer[] = [];
    for (const p of parts) b.pushViews(p, views);
    b.endViews(views);
    assert.equal(Buffer.concat(views).toString('latin1'), want, `pushViews() chunked ${parts.map((p) => p.length).join(',')}`);
  }
});

test('dot-stuff: clean CRLF text is passed on as one view of its chunk, not copied', () => {
  const input = Buffer.from('Subject: x\r\n\r\nline one\r\nline. two\r\n', 'latin1');
  const s = new DotStuffer();
  const views = s.pushViews(input);
  assert.equal(views.length, 1);
  assert.equal(views[0]!.buffer, input.buffer);
  assert.equal(views[0]!.byteOffset, input.byteOffset);
  assert.equal(Buffer.concat(s.endViews(views)).toString('latin1'), 'Subject: x\r\n\r\nline one\r\nline. two\r\n.\r\n');
});

test('dot-stuff: push() returns a copy, so the caller may reuse its chunk', () => {
  const chunk = Buffer.from('abc\r\n', 'latin1');
  const s = new DotStuffer();
  const out = s.push(chunk);
  chunk.fill(0x7a);
  assert.equal(out.toString('latin1'), 'abc\r\n');
});
