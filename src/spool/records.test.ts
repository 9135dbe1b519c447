import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getCodePage, type CodePage } from '../codepage/index.js';
import { AUTO_SAMPLE_BYTES, RecordDecoder, RecordOptionsError, detectRecordFormat, readChunks, readRecords, type RecordDecoderOptions, type RecordFormat, type RecordItem } from './records.js';
import { prng } from '../testing/prng.js';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/spool');

function cp(name: string): CodePage {
  const p = getCodePage(name);
  assert.ok(p, name);
  return p;
}

function opts(format: RecordFormat, codepage: string, more: Partial<RecordDecoderOptions> = {}): RecordDecoderOptions {
  return { format, recordLength: 80, codepage: cp(codepage), nullTrnc: false, ...more };
}

/** Decodes `input` fed in pieces cut at `cuts` (sorted offsets). */
function decode(input: Buffer, o: RecordDecoderOptions, cuts: readonly number[] = []): RecordItem[] {
  const d = new RecordDecoder(o);
  const items: RecordItem[] = [];
  let from = 0;
  for (const c of [...cuts, input.length]) {
    items.push(...d.push(input.subarray(from, c)));
    from = c;
  }
  items.push(...d.end());
  return items;
}

function texts(items: RecordItem[]): string[] {
  return items.map((i) => (i.kind === 'record' ? i.text : `<error ${i.problem}>`));
}


const ebcdic = (page: string, s: string): Buffer => cp(page).encode(s, { newline: 'strict' });
const rdw = (n: number): Buffer => Buffer.from([(n + 4) >> 8, (n + 4) & 0xff, 0, 0]);
const vb = (page: string, lines: string[]): Buffer => Buffer.concat(lines.flatMap((l) => [rdw(ebcdic(page, l).length), ebcdic(page, l)]));
const fb = (page: string, recs: string[], len = 80): Buffer => Buffer.concat(recs.map((r) => ebcdic(page, r.padEnd(len, ' '))));

const FIXTURE_SETS = ['IBM1047', 'IBM273'].flatMap((page) => [
  { file: `mail.${page}.nl`, o: opts('nl', page) },
  { file: `mail.${page}.fb80`, o: opts('fixed', page) },
  { file: `mail.${page}.vb`, o: opts('variable', page) },
]);

test('the same mail as text, EBCDIC NL, FB80 with continuations and VB gives identical records', () => {
  const txt = readFileSync(join(FIXTURES, 'mail.txt'));
  const want = decode(txt, opts('text', 'ISO8859-1'));
  const lines = txt.toString('latin1').split('\n').slice(0, -1);
  assert.equal(want.length, lines.length);
  assert.ok(want.every((i) => i.kind === 'record'), 'every fixture line is a valid record');
  assert.deepEqual(texts(want), lines.map((l) => l.replace(/ +$/, '')));
  assert.ok(texts(want).includes('A line with trailing blanks and a\ttab inside'));
  assert.ok(texts(want).includes('Gr\u00fc\u00dfe aus K\u00f6ln: \u00bd price, \u00a92024, na\u00efve caf\u00e9, \u00df, \u00d8, \u00e6, \u00bfqu\u00e9?'));
  // CRLF text is the same.
  const crlf = Buffer.from(txt.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');
  assert.deepEqual(texts(decode(crlf, opts('text', 'UTF-8'))), texts(want));
  for (const f of FIXTURE_SETS) {
    const got = decode(readFileSync(join(FIXTURES, f.file)), f.o);
    assert.deepEqual(texts(got), texts(want), f.file);
  }
  // FB80: continued records report the number of their first physical record.
  const fbItems = decode(readFileSync(join(FIXTURES, 'mail.IBM1047.fb80')), opts('fixed', 'IBM1047'));
  assert.ok(fbItems.some((i, k) => k > 0 && i.recordNo > fbItems[k - 1]!.recordNo + 1), 'continuations skip record numbers');
});

test('every split point of every fixture gives the same items', () => {
  const all = [{ file: 'mail.txt', o: opts('text', 'ISO8859-1') }, ...FIXTURE_SETS];
  const rnd = prng(7);
  for (const f of all) {
    const input = readFileSync(join(FIXTURES, f.file));
    const want = decode(input, f.o);
    for (let cut = 0; cut <= input.length; cut++) assert.deepEqual(decode(input, f.o, [cut]), want, `${f.file} cut at ${cut}`);
    for (let k = 0; k < 200; k++) {
      const cuts = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * (input.length + 1))).sort((a, b) => a - b);
      assert.deepEqual(decode(input, f.o, cuts), want, `${f.file} cuts ${cuts.join(',')}`);
    }
    const bytewise = Array.from({ length: input.length }, (_, i) => i);
    assert.deepEqual(decode(input, f.o, bytewise), want, `${f.file} one byte at a time`);
  }
});

test('record rules, table-driven', () => {
  const l1 = (s: string): Buffer => Buffer.from(s, 'latin1');
  const cases: { name: string; input: Buffer; o: RecordDecoderOptions; want: string[] }[] = [
    { name: 'empty input', input: l1(''), o: opts('text', 'ISO8859-1'), want: [] },
    { name: 'LF and CRLF', input: l1('a\r\nb\nc'), o: opts('text', 'ISO8859-1'), want: ['a', 'b', 'c'] },
    { name: 'empty lines', input: l1('\n\n'), o: opts('text', 'ISO8859-1'), want: ['', ''] },
    { name: 'trailing blanks, not tabs', input: l1('a  \nb\t \n'), o: opts('text', 'ISO8859-1'), want: ['a', 'b\t'] },
    { name: 'control character', input: l1('a\x01b\nok\n'), o: opts('text', 'ISO8859-1'), want: ['<error control-character>', 'ok'] },
    { name: 'bare CR', input: l1('a\rb\n'), o: opts('text', 'ISO8859-1'), want: ['<error control-character>'] },
    { name: 'DEL', input: l1('a\x7f\n'), o: opts('text', 'ISO8859-1'), want: ['<error control-character>'] },
    { name: 'UTF-8 bytes pass through', input: Buffer.from('Gr\u00fc\u00dfe \u20ac\n', 'utf8'), o: opts('text', 'UTF-8'), want: [Buffer.from('Gr\u00fc\u00dfe \u20ac', 'utf8').toString('latin1')] },
    { name: 'text continuation', input: l1(`${'a'.repeat(79)}<\nbc\nd\n`), o: opts('text', 'ISO8859-1'), want: [`${'a'.repeat(79)}bc`, 'd'] },
    { name: '79 bytes ending in < is not a continuation', input: l1(`${'a'.repeat(78)}<\nb\n`), o: opts('text', 'ISO8859-1'), want: [`${'a'.repeat(78)}<`, 'b'] },
    { name: 'continuation at end of file', input: l1(`${'a'.repeat(79)}<`), o: opts('text', 'ISO8859-1'), want: ['a'.repeat(79)] },
    { name: 'too long', input: l1('0123456789abc\nok\n'), o: opts('text', 'ISO8859-1', { maxRecordBytes: 10 }), want: ['<error record-too-long>', 'ok'] },
    { name: 'too long counts trailing blanks', input: l1(`abc${' '.repeat(20)}\nok\n`), o: opts('text', 'ISO8859-1', { maxRecordBytes: 10 }), want: ['<error record-too-long>', 'ok'] },
    { name: 'exactly the limit with CRLF', input: l1('0123456789\r\n'), o: opts('text', 'ISO8859-1', { maxRecordBytes: 10 }), want: ['0123456789'] },
    { name: 'EBCDIC NL', input: ebcdic('IBM1047', 'HELO X\u0085MAIL FROM:<a@b>  \u0085'), o: opts('nl', 'IBM1047'), want: ['HELO X', 'MAIL FROM:<a@b>'] },
    { name: 'EBCDIC LF inside an NL record', input: ebcdic('IBM1047', 'a\nb\u0085c\u0085'), o: opts('nl', 'IBM1047'), want: ['<error control-character>', 'c'] },
    { name: 'EBCDIC tab is allowed', input: ebcdic('IBM1047', 'a\tb\u0085'), o: opts('nl', 'IBM1047'), want: ['a\tb'] },
    { name: '273 @', input: Buffer.from([0xc1, 0xb5, 0xc2, 0x15]), o: opts('nl', 'IBM273'), want: ['A@B'] },
    { name: '1141 euro to ISO-8859-15', input: ebcdic('IBM1141', '5 \u20ac\u0085'), o: opts('nl', 'IBM1141'), want: ['5 \xa4'] },
    { name: 'FB80 continuation', input: fb('IBM1047', [`${'x'.repeat(79)}<`, 'tail', 'next']), o: opts('fixed', 'IBM1047'), want: [`${'x'.repeat(79)}tail`, 'next'] },
    { name: 'fixed, other length', input: ebcdic('IBM1047', 'QUIT  AB<CD '), o: opts('fixed', 'IBM1047', { recordLength: 3 }), want: ['QUI', 'T', 'ABCD'] },
    { name: 'NullTrnc YES', input: Buffer.concat([ebcdic('IBM1047', 'QUIT  '), Buffer.alloc(74)]), o: opts('fixed', 'IBM1047', { nullTrnc: true }), want: ['QUIT'] },
    { name: 'NullTrnc NO', input: Buffer.concat([ebcdic('IBM1047', 'QUIT'), Buffer.alloc(76)]), o: opts('fixed', 'IBM1047'), want: ['<error control-character>'] },
    { name: 'inner X00 with NullTrnc', input: Buffer.concat([ebcdic('IBM1047', 'QU'), Buffer.alloc(1), ebcdic('IBM1047', 'IT'.padEnd(77))]), o: opts('fixed', 'IBM1047', { nullTrnc: true }), want: ['<error control-character>'] },
    { name: 'truncated FB', input: fb('IBM1047', ['A']), o: opts('fixed', 'IBM1047'), want: ['A'] },
    { name: 'truncated FB tail', input: fb('IBM1047', ['A', 'B']).subarray(0, 100), o: opts('fixed', 'IBM1047'), want: ['A', '<error truncated-record>'] },
    { name: 'VB', input: vb('IBM1047', ['HELO X', '', 'QUIT  ']), o: opts('variable', 'IBM1047'), want: ['HELO X', '', 'QUIT'] },
    { name: 'VB too long skips one record', input: vb('IBM1047', ['0123456789abc', 'ok']), o: opts('variable', 'IBM1047', { maxRecordBytes: 10 }), want: ['<error record-too-long>', 'ok'] },
    { name: 'VB bad length stops', input: Buffer.concat([vb('IBM1047', ['A']), Buffer.from([0, 3, 0, 0]), vb('IBM1047', ['B'])]), o: opts('variable', 'IBM1047'), want: ['A', '<error bad-rdw>'] },
    { name: 'VB nonzero segment bytes stop', input: Buffer.concat([Buffer.from([0, 5, 1, 0, 0xc1]), vb('IBM1047', ['B'])]), o: opts('variable', 'IBM1047'), want: ['<error bad-rdw>'] },
    { name: 'VB truncated data', input: vb('IBM1047', ['A', 'BCDEF']).subarray(0, 8), o: opts('variable', 'IBM1047'), want: ['A', '<error truncated-record>'] },
    { name: 'VB truncated RDW', input: vb('IBM1047', ['A', 'B']).subarray(0, 7), o: opts('variable', 'IBM1047'), want: ['A', '<error truncated-record>'] },
  ];
  for (const c of cases) {
    const whole = decode(c.input, c.o);
    assert.deepEqual(texts(whole), c.want, c.name);
    for (let cut = 0; cut <= c.input.length; cut++) assert.deepEqual(decode(c.input, c.o, [cut]), whole, `${c.name}, cut at ${cut}`);
  }
});

test('items carry record numbers, offsets and a useful detail', () => {
  const items = decode(Buffer.from(`${'a'.repeat(79)}<\nb\nc\x02d\n`, 'latin1'), opts('text', 'ISO8859-1'));
  assert.deepEqual(items[0], { kind: 'record', recordNo: 1, text: `${'a'.repeat(79)}b`, offset: 0, endOffset: 83 });
  assert.deepEqual(items[1], { kind: 'error', recordNo: 3, offset: 83, endOffset: 87, problem: 'control-character', detail: "control character X'02' at column 2 of record 3" });
  const ebc = decode(Buffer.concat([ebcdic('IBM1047', 'ab'), Buffer.from([0x25, 0x15])]), opts('nl', 'IBM1047'));
  assert.equal(ebc[0]?.kind === 'error' && ebc[0].detail, "control character X'25' at column 3 of record 1");
  const bad = decode(Buffer.concat([vb('IBM1047', ['A']), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(100)]), opts('variable', 'IBM1047'));
  assert.equal(bad.length, 2);
  assert.deepEqual({ ...bad[1], detail: '' }, { kind: 'error', recordNo: 2, offset: 5, endOffset: 9, problem: 'bad-rdw', detail: '' });
});

test('inconsistent options are rejected', () => {
  assert.throws(() => new RecordDecoder(opts('fixed', 'IBM1047', { recordLength: 0 })), RecordOptionsError);
  assert.throws(() => new RecordDecoder(opts('fixed', 'IBM1047', { recordLength: 100, maxRecordBytes: 80 })), RecordOptionsError);
  assert.throws(() => new RecordDecoder(opts('text', 'UTF-8', { maxRecordBytes: 0 })), RecordOptionsError);
});

test('readRecords batches per chunk', async () => {
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('a\nb', 'latin1');
    yield Buffer.from('', 'latin1');
    yield Buffer.from('c\n', 'latin1');
    yield Buffer.from('d', 'latin1');
  }
  const batches: string[][] = [];
  for await (const batch of readRecords(source(), opts('text', 'ISO8859-1'))) batches.push(texts(batch));
  assert.deepEqual(batches, [['a'], ['bc'], ['d']]);
});

test('fuzz: random bytes never throw, every byte is in an item, chunking does not matter', () => {
  const rnd = prng(20240611);
  const formats: { o: RecordDecoderOptions; alphabet: number[] }[] = [
    { o: opts('text', 'UTF-8', { maxRecordBytes: 100 }), alphabet: [0x0a, 0x0d, 0x20, 0x3c, 0x41, 0x00, 0x09, 0xc3] },
    { o: opts('nl', 'IBM1047', { maxRecordBytes: 100, nullTrnc: true }), alphabet: [0x15, 0x25, 0x40, 0x4c, 0xc1, 0x00, 0x05, 0xff] },
    { o: opts('fixed', 'IBM1141', { recordLength: 8, maxRecordBytes: 20 }), alphabet: [0x40, 0x4c, 0xc1, 0x00, 0x15, 0x9f] },
    { o: opts('variable', 'IBM273', { maxRecordBytes: 30 }), alphabet: [0x00, 0x04, 0x08, 0x40, 0x4c, 0xb5, 0x01] },
  ];
  for (let n = 0; n < 3000; n++) {
    for (const f of formats) {
      const len = Math.floor(rnd() * 300);
      const input = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        input[i] = rnd() < 0.5 ? f.alphabet[Math.floor(rnd() * f.alphabet.length)]! : Math.floor(rnd() * 256);
      }
      if (f.o.format === 'variable' && len > 4 && rnd() < 0.7) {
        // mostly well-framed VB, so that framing is exercised past the first RDW
        let p = 0;
        while (p + 4 <= len) {
          const d = Math.min(Math.floor(rnd() * 40), len - p - 4);
          input.writeUInt16BE(d + 4, p);
          input[p + 2] = 0;
          input[p + 3] = 0;
          p += 4 + d;
        }
      }
      const items = decode(input, f.o);
      let at = 0;
      for (const [k, it] of items.entries()) {
        assert.equal(it.offset, at, `case ${n} ${f.o.format}: item ${k} starts where the previous ended`);
        assert.ok(it.endOffset > it.offset, `case ${n} ${f.o.format}: item ${k} is not empty`);
        at = it.endOffset;
        if (it.kind === 'error' && it.problem === 'bad-rdw') {
          assert.equal(k, items.length - 1, 'bad-rdw is the last item');
          at = len; // it stands for the rest of the file
        }
        if (it.kind === 'record') assert.ok(it.text.length <= (f.o.maxRecordBytes ?? 0));
      }
      assert.equal(at, len, `case ${n} ${f.o.format}: items cover all ${len} bytes`);
      const cuts = Array.from({ length: Math.floor(rnd() * 4) }, () => Math.floor(rnd() * (len + 1))).sort((a, b) => a - b);
      assert.deepEqual(decode(input, f.o, cuts), items, `case ${n} ${f.o.format}: cuts ${cuts.join(',')}`);
    }
  }
});

// Issue #16 item 6: under the default configuration (Translate IBM-1047, no Spool RecordFormat)
// each EBCDIC file is framed as it comes. The fixtures are glibc iconv's output
// (scripts/gen-spool-fixtures.sh; test/peers/iconv.test.ts checks that they still are).
test("'auto' frames each EBCDIC fixture (NL, FB80, VB) like its explicit format, at every split point", () => {
  for (const page of ['IBM1047', 'IBM273']) {
    for (const [ext, format] of [['nl', 'nl'], ['fb80', 'fixed'], ['vb', 'variable']] as const) {
      const input = readFileSync(join(FIXTURES, `mail.${page}.${ext}`));
      const want = decode(input, opts(format, page));
      const d = new RecordDecoder(opts('auto', page));
      const got = [...d.push(input), ...d.end()];
      assert.equal(d.format, format, `${page}.${ext}`);
      assert.deepEqual(got, want, `${page}.${ext}`);
      for (let cut = 0; cut <= input.length; cut += 7) assert.deepEqual(decode(input, opts('auto', page), [cut]), want, `${page}.${ext} cut at ${cut}`);
      assert.deepEqual(decode(input, opts('auto', page), Array.from({ length: input.length }, (_, i) => i)), want, `${page}.${ext} one byte at a time`);
    }
  }
});

test("'auto' detection rules, table-driven", () => {
  const p = cp('IBM1047');
  const lf = Buffer.concat([ebcdic('IBM1047', 'HELO A'), Buffer.from([0x25]), ebcdic('IBM1047', 'QUIT'), Buffer.from([0x25])]);
  const cases: { name: string; input: Buffer; want: string }[] = [
    { name: 'NL X\'15\' line ends', input: Buffer.concat([ebcdic('IBM1047', 'HELO A'), Buffer.from([0x15])]), want: 'nl' },
    { name: 'LF X\'25\' line ends', input: lf, want: 'text' },
    { name: 'card images', input: fb('IBM1047', ['HELO A', 'QUIT']), want: 'fixed' },
    { name: 'RDW records', input: vb('IBM1047', ['HELO A', 'QUIT']), want: 'variable' },
    { name: 'RDW records, the last one cut short', input: vb('IBM1047', ['HELO A', 'QUIT']).subarray(0, 15), want: 'variable' },
    // A length of 21 is X'0015' : the RDW is checked before line ends are looked for.
    { name: 'RDW whose length byte is X\'15\'', input: vb('IBM1047', ['HELO MVSHOST12345']), want: 'variable' },
    { name: 'empty file', input: Buffer.alloc(0), want: 'nl' },
  ];
  for (const c of cases) assert.equal(detectRecordFormat(c.input, p), c.want, c.name);
  assert.equal(detectRecordFormat(lf, cp('ISO8859-1')), 'text', 'an ASCII code page is always text');
  // The decision uses only the first AUTO_SAMPLE_BYTES: card images whose first NL lies beyond it stay fixed.
  const big = Buffer.concat([fb('IBM1047', Array.from({ length: Math.ceil(AUTO_SAMPLE_BYTES / 80) + 1 }, () => 'X')), Buffer.from([0x15])]);
  assert.equal(detectRecordFormat(big.subarray(0, AUTO_SAMPLE_BYTES), p), 'fixed');
  const d = new RecordDecoder(opts('auto', 'IBM1047'));
  d.push(big.subarray(0, AUTO_SAMPLE_BYTES - 1));
  assert.equal(d.format, undefined, 'not decided before the sample is full');
  d.push(big.subarray(AUTO_SAMPLE_BYTES - 1));
  assert.equal(d.format, 'fixed');
});

// [B2] #20 item 5: whole FB records of a single-byte EBCDIC page go through WebAssembly
// (fixed-wasm.ts), continued or bad ones through the JavaScript path; VB records always take the
// JavaScript path. The same physical records in both framings, the FB file in chunks that grow
// (the module's memory is laid out again) and cut inside records, give the same items.
test('FB records in growing chunks decode like the same records as VB', () => {
  const rnd = prng(0x20b5);
  const page = cp('IBM1047');
  const alphabet = [...ebcdic('IBM1047', 'aZ09 .<@:äß'), 0x40, 0x40, 0x40];
  for (const nullTrnc of [false, true]) {
    const phys: Buffer[] = [];
    for (let k = 0; k < 3000; k++) {
      const b = Buffer.alloc(80);
      for (let i = 0; i < 80; i++) b[i] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      if (rnd() < 0.5) b.fill(0x40, Math.floor(rnd() * 80));
      if (nullTrnc && rnd() < 0.2) b.fill(0, Math.floor(rnd() * 80));
      if (rnd() < 0.02) b[Math.floor(rnd() * 80)] = [0x07, 0x3f, 0x00, 0xff][Math.floor(rnd() * 4)]!;
      b[79] = rnd() < 0.1 ? 0x4c : b[79] === 0x4c ? 0x40 : b[79]!; // '<' continues
      phys.push(b);
    }
    const fixed = Buffer.concat(phys);
    const variable = Buffer.concat(phys.flatMap((b) => [rdw(b.length), b]));
    const strip = (items: RecordItem[]): unknown[] => items.map((i) => (i.kind === 'record' ? [i.recordNo, i.text] : [i.recordNo, i.problem]));
    const want = strip(decode(variable, { format: 'variable', recordLength: 80, codepage: page, nullTrnc }));
    const got = strip(decode(fixed, { format: 'fixed', recordLength: 80, codepage: page, nullTrnc }, [100, 1137, 30_001, 30_040, 120_000]));
    assert.ok(want.length > 2000);
    assert.deepEqual(got, want, `NullTrnc ${nullTrnc}`);
  }
});

// readChunks hands out ONE reused buffer (the forwarder reads spool files so): the decoder must
// copy what it keeps between pushes, the 'auto' sample included (it held the caller's chunks).
test("readChunks' reused buffer decodes like the whole file, 'auto' framing included", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-chunks-'));
  try {
    for (const set of FIXTURE_SETS) {
      const whole = readFileSync(join(FIXTURES, set.file));
      const path = join(dir, set.file);
      writeFileSync(path, whole);
      for (const format of [set.o.format, 'auto'] as const) {
        const o = { ...set.o, format };
        for (const size of [7, 80, 4096]) {
          const fh = await open(path);
          const d = new RecordDecoder(o);
          const items: RecordItem[] = [];
          try {
            for await (const chunk of readChunks(fh, size)) items.push(...d.push(chunk));
          } finally {
            await fh.close();
          }
          items.push(...d.end());
          assert.deepEqual(items, decode(whole, o), `${set.file} ${format} in ${size}-byte reads`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
