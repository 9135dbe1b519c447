import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodepageError, EBCDIC_PAGES, getCodePage, unmappableBytes } from './index.js';
import { SpoolgateError } from '../core/errors.js';
import { page, utf16be } from '../testing/codepages.js';

const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

interface OraclePage { glibc: string; charset: string; utf16be: string; toAscii: string; unmappable: number[] }
const ORACLE = JSON.parse(readFileSync(join(import.meta.dirname, 'oracle.sha256.json'), 'utf8')) as { pages: Record<string, OraclePage> };


const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('EBCDIC_PAGES lists the pages SPEC.md §1 requires', () => {
  const want = ['037', '273', '277', '278', '280', '284', '285', '297', '500', '871', '1047',
    '1140', '1141', '1142', '1143', '1144', '1145', '1146', '1147', '1148', '1149'].map((n) => `IBM-${n}`);
  assert.deepEqual([...EBCDIC_PAGES].sort(), want.sort());
});

test('names are accepted in every usual spelling', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: 'IBM-1047', want: 'IBM-1047' }, { input: 'IBM1047', want: 'IBM-1047' },
    { input: '1047', want: 'IBM-1047' }, { input: 'CP1047', want: 'IBM-1047' },
    { input: 'ibm-1047', want: 'IBM-1047' }, { input: 'cp1047', want: 'IBM-1047' },
    { input: 'IBM-037', want: 'IBM-037' }, { input: 'IBM037', want: 'IBM-037' }, { input: '37', want: 'IBM-037' },
    { input: 'IBM-37', want: 'IBM-037' }, { input: 'ibm-1141', want: 'IBM-1141' }, { input: ' IBM-273 ', want: 'IBM-273' },
    { input: 'ISO8859-1', want: 'ISO8859-1' }, { input: 'ISO-8859-1', want: 'ISO8859-1' }, { input: 'iso_8859-1', want: 'ISO8859-1' },
    { input: 'UTF-8', want: 'UTF-8' }, { input: 'utf8', want: 'UTF-8' },
    { input: 'IBM-1026', want: undefined }, { input: 'IBM-930', want: 'IBM-930' }, { input: 'IBM-931', want: undefined }, { input: 'EBCDIC', want: undefined },
    { input: '', want: undefined }, { input: 'IBM-', want: undefined }, { input: 'ISO-8859-15', want: undefined },
  ];
  for (const c of cases) assert.equal(getCodePage(c.input)?.name, c.want, c.input);
});

test('well-known bytes: @ and NL/LF', () => {
  const cases: { page: string; byte: number; strict: string; nlIsLf: string }[] = [
    { page: 'IBM-1047', byte: 0x7c, strict: '@', nlIsLf: '@' },
    { page: 'IBM-273', byte: 0xb5, strict: '@', nlIsLf: '@' },
    { page: 'IBM-037', byte: 0x7c, strict: '@', nlIsLf: '@' },
    { page: 'IBM-1047', byte: 0x15, strict: '\u0085', nlIsLf: '\n' },
    { page: 'IBM-1047', byte: 0x25, strict: '\n', nlIsLf: '\n' },
    { page: 'IBM-1047', byte: 0x40, strict: ' ', nlIsLf: ' ' },
    { page: 'IBM-1140', byte: 0x9f, strict: '€', nlIsLf: '€' },
    { page: 'IBM-1141', byte: 0x9f, strict: '€', nlIsLf: '€' },
  ];
  for (const c of cases) {
    const p = page(c.page);
    assert.equal(p.decode(Uint8Array.of(c.byte), { newline: 'strict' }), c.strict, `${c.page} X'${c.byte.toString(16)}' strict`);
    assert.equal(p.decode(Uint8Array.of(c.byte)), c.nlIsLf, `${c.page} X'${c.byte.toString(16)}' default`);
  }
  assert.deepEqual(page('IBM-1047').encode('@'), Buffer.from([0x7c]));
  assert.deepEqual(page('IBM-273').encode('@'), Buffer.from([0xb5]));
  assert.deepEqual(page('IBM-1047').encode('a\nb'), Buffer.from([0x81, 0x15, 0x82]), "'\\n' → NL X'15' by default");
  assert.deepEqual(page('IBM-1047').encode('a\nb', { newline: 'strict' }), Buffer.from([0x81, 0x25, 0x82]));
  assert.deepEqual(page('IBM-1047').encode('\u0085'), Buffer.from([0x15]));
});

test('toAscii: ISO-8859-1 for non-euro pages, ISO-8859-15 for 1140–1149 (euro → 0xA4)', () => {
  for (const name of EBCDIC_PAGES) {
    const p = page(name);
    assert.ok(p.ebcdic && p.toAscii?.length === 256, name);
    const euro = /^IBM-114\d$/.test(name);
    assert.equal(p.asciiCharset, euro ? 'ISO-8859-15' : 'ISO-8859-1', name);
    assert.equal(p.toAscii[0x15], 0x85, `${name} NL`);
    assert.equal(p.toAscii[0x25], 0x0a, `${name} LF`);
    assert.equal(p.toAscii[0x40], 0x20, `${name} blank`);
    if (euro) {
      const at = p.decode(ALL).indexOf('€'); // X'9F' on most, X'5A' on 1142/1143
      assert.ok(at >= 0, `${name} has the euro`);
      assert.equal(p.toAscii[at], 0xa4, `${name} euro`);
    }
    for (const b of unmappableBytes(p)) assert.equal(p.toAscii[b], 0x3f, `${name} unmappable X'${b.toString(16)}'`);
  }
  assert.deepEqual(unmappableBytes(page('IBM-285')), [0xa1]);
  assert.equal(unmappableBytes(page('IBM-1140')).length, 7);
  assert.equal(unmappableBytes(page('IBM-1047')).length, 0);
});

test('every EBCDIC page: 256 bytes decode and re-encode to themselves', () => {
  for (const name of EBCDIC_PAGES) {
    const p = page(name);
    const text = p.decode(ALL, { newline: 'strict' });
    assert.equal(text.length, 256, name);
    assert.equal(new Set(text).size, 256, `${name} is bijective`);
    assert.deepEqual(p.encode(text, { newline: 'strict' }), ALL, name);
  }
});

test('committed tables match the committed glibc oracle hashes', () => {
  assert.deepEqual(Object.keys(ORACLE.pages).sort(), [...EBCDIC_PAGES].sort());
  for (const name of EBCDIC_PAGES) {
    const p = page(name);
    const o = ORACLE.pages[name]!;
    assert.equal(sha256(utf16be(p.decode(ALL, { newline: 'strict' }))), o.utf16be, `${name} unicode`);
    assert.equal(sha256(p.toAscii!), o.toAscii, `${name} toAscii`);
    assert.deepEqual([...unmappableBytes(p)], o.unmappable, `${name} unmappable`);
  }
});

test('encode throws CodepageError for an unmappable character', () => {
  const cases: { page: string; text: string }[] = [
    { page: 'IBM-1047', text: 'price: 5€' },
    { page: 'IBM-037', text: '中' },
    { page: 'IBM-1140', text: 'x\u{1F600}' },
    { page: 'ISO8859-1', text: '€' },
    { page: 'UTF-8', text: 'a\uD800b' },
  ];
  for (const c of cases) {
    assert.throws(() => page(c.page).encode(c.text), (e: unknown) => e instanceof CodepageError && e instanceof SpoolgateError && e.code === 'ERR_CODEPAGE', c.page);
  }
});

test('ASCII-compatible pages: byte-exact latin1 and UTF-8', () => {
  const l1 = page('ISO8859-1');
  assert.equal(l1.ebcdic, false);
  assert.equal(l1.toAscii, undefined);
  assert.equal(l1.decode(ALL).length, 256);
  assert.deepEqual(l1.encode(l1.decode(ALL)), ALL);
  const u8 = page('UTF-8');
  assert.equal(u8.decode(Buffer.from('Grüße €', 'utf8')), 'Grüße €');
  assert.deepEqual(u8.encode('Grüße 😀'), Buffer.from('Grüße 😀', 'utf8'));
  assert.equal(u8.decode(Uint8Array.of(0x61, 0xff, 0x62)), 'a\uFFFDb');
  // decode works on a view into a larger buffer
  const big = Buffer.from('xxhello', 'latin1');
  assert.equal(l1.decode(big.subarray(2)), 'hello');
  assert.equal(page('IBM-1047').decode(page('IBM-1047').encode('xxhello').subarray(2)), 'hello');
});
