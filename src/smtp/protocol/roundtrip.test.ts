// Property: any body, dot-stuffed by the client's DotStuffer (in random chunks) and read back by
// the server's DataReader (in other random chunks), gives back the original after CRLF
// normalisation — and the reader stops exactly at the final dot (what follows is left over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotStuffer, normaliseLineEnds } from './dot-stuff.js';
import { DataReader } from './data-reader.js';
import { prng } from '../../testing/prng.js';


// Bytes that matter to the framing, weighted heavily, plus 8-bit and ordinary text.
const ALPHABET = [0x2e, 0x2e, 0x2e, 0x0d, 0x0a, 0x0d, 0x0a, 0x61, 0x20, 0xff, 0xe9, 0x00, 0x09];

function randomBody(rnd: () => number): Buffer {
  const len = Math.floor(rnd() * 300);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = rnd() < 0.05 ? Math.floor(rnd() * 256) : ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
  return b;
}

function chunks(b: Buffer, rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length;) {
    const n = 1 + Math.floor(rnd() * 17);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

test('dot-stuff then DATA-read returns the original (1000 seeded random bodies)', () => {
  const base = 20261122;
  for (let k = 0; k < 1000; k++) {
    const seed = base + k;
    const rnd = prng(seed);
    const body = randomBody(rnd);
    const st = new DotStuffer();
    const wire = Buffer.concat([...chunks(body, rnd).map((c) => st.push(c)), st.end(), Buffer.from('QUIT\r\n')]);
    const reader = new DataReader({ maxBytes: 0 });
    let leftover: Buffer | undefined;
    for (const c of chunks(wire, rnd)) {
      if (leftover !== undefined) { leftover = Buffer.concat([leftover, c]); continue; }
      const r = reader.push(c);
      if (r.done) leftover = r.leftover ?? Buffer.alloc(0);
    }
    const res = reader.result();
    assert.equal(res.error, undefined, `seed ${seed}: reader reported ${res.error}`);
    assert.deepEqual(res.data, normaliseLineEnds(body), `seed ${seed}`);
    assert.equal(leftover?.toString('latin1'), 'QUIT\r\n', `seed ${seed}: reader must stop at the final dot`);
  }
});
