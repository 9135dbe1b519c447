// Record decoding with the mixed SBCS/DBCS pages (docs/codepages.md): SO/SI state across an FB80
// continuation, the '<' that is half a pair, padding, and every invalid shape as a record error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordDecoder, type RecordDecoderOptions, type RecordItem } from './records.js';
import { page } from '../testing/codepages.js';

const SO = 0x0e;
const SI = 0x0f;
const J = page('IBM-939');
const ebc = (s: string): Buffer => J.encode(s, { newline: 'strict' });
const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? ebc(p) : Buffer.from(p))));
/** An FB80 record: the bytes padded with X'40' blanks to 80. */
const card = (b: Buffer): Buffer => {
  assert.ok(b.length <= 80, `card of ${b.length} bytes`);
  return Buffer.concat([b, Buffer.alloc(80 - b.length, 0x40)]);
};

function decodeAll(input: Buffer, more: Partial<RecordDecoderOptions> = {}, cut?: number): RecordItem[] {
  const d = new RecordDecoder({ format: 'fixed', recordLength: 80, codepage: J, nullTrnc: false, ...more });
  const out: RecordItem[] = [];
  if (cut === undefined) out.push(...d.push(input));
  else for (let i = 0; i < input.length; i += cut) out.push(...d.push(input.subarray(i, i + cut)));
  out.push(...d.end());
  return out;
}
/** Record text as the mail carries it: UTF-8 bytes in a latin1 string → the Unicode text. */
const utf8 = (it: RecordItem): string => (it.kind === 'record' ? Buffer.from(it.text, 'latin1').toString('utf8') : `ERROR ${it.problem}: ${it.detail}`);

test('a Japanese string shifted out in one FB80 record continues in the next ("<" in column 80)', () => {
  const kanji = '日本語のテキストです'; // 10 DBCS characters = 20 bytes
  const head = bytes('Subject:', [SO]); // 9 bytes: the pairs fill columns 10-79 exactly
  const pairs = ebc(kanji).subarray(1, -1); // without SO/SI
  // Record 1: "Subject: " SO + as many pairs as fit before column 80, then '<'.
  const fit = 79 - head.length;
  assert.equal(fit % 2, 0);
  const all = Buffer.concat([pairs, pairs, pairs, pairs]); // 80 bytes of pairs
  const r1 = Buffer.concat([head, all.subarray(0, fit)]);
  const r1card = Buffer.concat([r1, Buffer.alloc(79 - r1.length, 0x40), ebc('<')]);
  assert.equal(r1card.length, 80);
  // Record 2: still in DBCS mode (no SO), the remaining pairs, SI, SBCS text.
  const r2 = card(Buffer.concat([all.subarray(fit), bytes([SI], ' end')]));
  for (const cut of [undefined, 1, 7, 80]) {
    const items = decodeAll(Buffer.concat([r1card, r2, card(ebc('next'))]), {}, cut);
    assert.deepEqual(items.map(utf8), [`Subject:${kanji.repeat(4)} end`, 'next'], `cut ${cut}`);
    assert.equal(items[0]!.recordNo, 1);
    assert.equal(items[1]!.recordNo, 3);
  }
});

test("a '<' in column 80 that is the second byte of a pair is data, not a continuation", () => {
  // X'454C' is a pair on 939; put it at columns 79-80.
  assert.notEqual(J.decode(Buffer.from([SO, 0x45, 0x4c, SI])), '\uFFFD');
  const r1 = Buffer.concat([ebc('x'.repeat(75)), Buffer.from([SO, 0x45, 0x81, 0x45, 0x4c])]);
  assert.equal(r1.length, 80);
  assert.equal(r1[79], 0x4c);
  const items = decodeAll(Buffer.concat([r1, card(ebc('two'))]));
  assert.equal(items.length, 2);
  assert.equal(utf8(items[0]!), 'x'.repeat(75) + J.decode(Buffer.from([SO, 0x45, 0x81, 0x45, 0x4c, SI])));
  assert.equal(utf8(items[1]!), 'two');
});

test('shift state resets at each logical record; SO without SI closes at the record end (glibc accepts it); DBCS padding stripped', () => {
  const items = decodeAll(Buffer.concat([card(bytes('A', [SO, 0x45, 0x81])), card(ebc('ABC'))]));
  assert.deepEqual(items.map(utf8), ['A谷', 'ABC']);
});

test('SI without SO, SO SO: ignored as glibc does; trailing SBCS blanks stripped, DBCS spaces kept', () => {
  const items = decodeAll(Buffer.concat([
    card(bytes('A', [SI], 'B')),
    card(bytes([SO, SO, 0x45, 0x81, 0x40, 0x40, SI, SI], 'C   ')),
    card(bytes('D', [SO, 0x45, 0x81, 0x40])), // one X'40' left in DBCS mode: padding
  ]));
  assert.deepEqual(items.map(utf8), ['AB', '谷\u3000C', 'D谷']);
});

test('invalid input is a record error naming the record and column, and the next record is read', () => {
  const cases: { rec: Buffer; problem: string; detail: RegExp }[] = [
    { rec: card(bytes('A', [SO, 0xff, 0xff, SI])), problem: 'invalid-dbcs', detail: /X'FFFF' is not defined at column 4 of record 1/ },
    { rec: card(bytes('A', [SO, 0x45, SI], 'B')), problem: 'invalid-dbcs', detail: /half a double-byte character X'45' before SI at column 4/ },
    { rec: card(bytes('A', [0x01])), problem: 'control-character', detail: /X'01' at column 2/ },
    { rec: card(bytes([SO, 0x45, 0x81, 0x45, 0x81, 0x45, 0x81, 0x45])).subarray(0, 8), problem: 'invalid-dbcs', detail: /ends inside a double-byte character/ },
  ];
  for (const c of cases) {
    const rec = c.rec.length === 80 ? c.rec : Buffer.concat([c.rec, Buffer.alloc(72, 0x4e)]); // fill without X'40'
    const items = decodeAll(Buffer.concat([rec, card(ebc('ok'))]));
    assert.equal(items.length, 2, c.problem);
    const e = items[0]!;
    assert.ok(e.kind === 'error' && e.problem === c.problem, `${c.problem}: ${utf8(e)}`);
    assert.match(e.detail, c.detail);
    assert.equal(utf8(items[1]!), 'ok');
  }
});

test('half a pair at the very end of an unpadded record is an error (glibc: incomplete character)', () => {
  const d = new RecordDecoder({ format: 'nl', recordLength: 80, codepage: J, nullTrnc: false });
  const items = [...d.push(bytes('A', [SO, 0x45, 0x81, 0x45, 0x15], 'B', [0x15])), ...d.end()];
  assert.equal(items[0]!.kind, 'error');
  assert.match(items[0]!.kind === 'error' ? items[0]!.detail : '', /ends inside a double-byte character at column 5 of record 1/);
  assert.equal(utf8(items[1]!), 'B');
});

test('NL-delimited and variable records, NullTrnc, and the limit on UTF-8 bytes', () => {
  const d = new RecordDecoder({ format: 'nl', recordLength: 80, codepage: J, nullTrnc: true });
  const items = [...d.push(bytes('ｱ', [SO, 0x45, 0x81, SI], 'z  ', [0, 0, 0x15], [SO, 0x45, 0x81])), ...d.end()];
  assert.deepEqual(items.map(utf8), ['ｱ谷z', '谷']);
  // 30 DBCS characters are 62 bytes in EBCDIC but 90 bytes of UTF-8: over a limit of 80.
  const long = Buffer.concat([Buffer.from([SO]), Buffer.alloc(60, 0x45).fill(0x81, 0).map((_, i) => (i % 2 === 0 ? 0x45 : 0x81)), Buffer.from([SI, 0x15])]);
  const e = new RecordDecoder({ format: 'nl', recordLength: 80, codepage: J, nullTrnc: false, maxRecordBytes: 80 });
  const r = [...e.push(long), ...e.push(bytes('ok', [0x15])), ...e.end()];
  assert.equal(r[0]!.kind === 'error' && r[0]!.problem, 'record-too-long');
  assert.equal(utf8(r[1]!), 'ok');
});
