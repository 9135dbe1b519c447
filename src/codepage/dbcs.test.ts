// The mixed SBCS/DBCS pages: committed tables against the committed glibc hashes, the shift rules
// of decode() and of the spool's shift translator. The per-code comparison with glibc itself is in
// test/peers/iconv-dbcs.test.ts (it runs iconv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DBCS_PAGES, EBCDIC_PAGES, getCodePage, type ShiftProblem, type ShiftTranslator } from './index.js';
import { dbcsTable, page } from '../testing/codepages.js';

interface OraclePage { glibc: string; sbcsMapped: number; dbcsMapped: number; table: string }
const ORACLE = JSON.parse(readFileSync(join(import.meta.dirname, 'dbcs-oracle.sha256.json'), 'utf8')) as { pages: Record<string, OraclePage> };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

test('DBCS_PAGES are IBM-930, 933, 935, 937, 939; names resolve; not in the SBCS list', () => {
  assert.deepEqual([...DBCS_PAGES].sort(), ['IBM-930', 'IBM-933', 'IBM-935', 'IBM-937', 'IBM-939']);
  for (const [input, want] of [['IBM-939', 'IBM-939'], ['ibm939', 'IBM-939'], ['CP930', 'IBM-930'], ['937', 'IBM-937'], ['IBM-931', undefined]] as const) {
    assert.equal(getCodePage(input)?.name, want, input);
  }
  for (const n of DBCS_PAGES) {
    const p = page(n);
    assert.ok(p.ebcdic && p.toAscii === undefined && p.asciiCharset === 'UTF-8' && p.shiftTranslator !== undefined, n);
    assert.ok(!EBCDIC_PAGES.includes(n), n);
  }
});

test('unpacked tables match the committed glibc oracle hashes and counts', () => {
  assert.deepEqual(Object.keys(ORACLE.pages).sort(), [...DBCS_PAGES].sort());
  for (const n of DBCS_PAGES) {
    const units = dbcsTable(n);
    const be = Buffer.from(units.buffer.slice(0)).swap16();
    assert.equal(sha256(be), ORACLE.pages[n]!.table, n);
  }
});

test('well-known codes: SBCS differences of 930 and 939, DBCS characters, NL', () => {
  const cases: { page: string; bytes: Buffer; want: string }[] = [
    { page: 'IBM-930', bytes: b(0x62, 0xc1, 0x81), want: 'aAｱ' }, // 930: katakana at X'81', 'a' at X'62'
    { page: 'IBM-939', bytes: b(0x81, 0xc1, 0x59), want: 'aAｱ' }, // 939: latin lower case at X'81'
    { page: 'IBM-939', bytes: b(0x0e, 0x45, 0x81, 0x0f), want: '谷' },
    { page: 'IBM-930', bytes: b(0x0e, 0x45, 0x81, 0x40, 0x40, 0x0f), want: '谷\u3000' },
    { page: 'IBM-933', bytes: b(0x0e, 0x45, 0x81, 0x0f), want: 'メ' },
    { page: 'IBM-935', bytes: b(0x0e, 0x41, 0x41, 0x0f), want: 'α' },
    { page: 'IBM-937', bytes: b(0x0e, 0x41, 0x41, 0x0f), want: 'α' },
    { page: 'IBM-939', bytes: b(0xc1, 0x15, 0xc2), want: 'A\nB' },
  ];
  for (const c of cases) assert.equal(page(c.page).decode(c.bytes), c.want, `${c.page} ${c.bytes.toString('hex')}`);
  assert.equal(page('IBM-939').decode(b(0x15), { newline: 'strict' }), '\u0085');
});

test('decode follows glibc shift rules; errors become U+FFFD', () => {
  const p = page('IBM-939');
  const cases: { bytes: Buffer; want: string; why: string }[] = [
    { bytes: b(0xc1, 0x0e, 0x45, 0x81), want: 'A谷', why: 'SO without SI: accepted' },
    { bytes: b(0xc1, 0x0f, 0xc2), want: 'AB', why: 'SI without SO: ignored' },
    { bytes: b(0x0e, 0x0e, 0x45, 0x81, 0x0f, 0x0f), want: '谷', why: 'SO SO / SI SI: ignored' },
    { bytes: b(0x0e, 0x45, 0x81, 0x45), want: '谷\uFFFD', why: 'half a pair at the end' },
    { bytes: b(0x0e, 0x45, 0x0f, 0xc1), want: '\uFFFDA', why: 'SI as second byte' },
    { bytes: b(0x0e, 0xff, 0xff, 0x0f), want: '\uFFFD', why: 'undefined pair' },
  ];
  for (const c of cases) assert.equal(p.decode(c.bytes), c.want, c.why);
});

test('encode uses SBCS where it can and SO/SI around double-byte runs', () => {
  const p = page('IBM-939');
  assert.deepEqual(p.encode('A谷谷B'), b(0xc1, 0x0e, 0x45, 0x81, 0x45, 0x81, 0x0f, 0xc2));
  assert.deepEqual(p.encode('谷'), b(0x0e, 0x45, 0x81, 0x0f));
  assert.deepEqual(p.encode(' <\n'), b(0x40, 0x4c, 0x15));
  assert.throws(() => p.encode('€\u{1F600}'), /has no byte in IBM-939/);
  assert.deepEqual(p.encode('~'), b(0xa0), "glibc's choice (encodeOverrides)");
  assert.equal(p.decode(b(0xa0)), '‾');
  for (const n of DBCS_PAGES) {
    const q = page(n);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((x) => x !== 0x0e && x !== 0x0f));
    // '~' and '\\' on 930/939 encode one way only in glibc (to the overline and the yen sign).
    const text = q.decode(all, { newline: 'strict' }).replace(/[\uFFFD~\\]/g, '');
    assert.equal(q.decode(q.encode(text, { newline: 'strict' }), { newline: 'strict' }), text, `${n} SBCS round trip`);
  }
});

test('shift translator: state carries across calls, problems name the byte', () => {
  const t: ShiftTranslator = page('IBM-939').shiftTranslator!();
  const problem = (): ShiftProblem | undefined => t.problem;
  const out = Buffer.alloc(64);
  let o = t.translate(b(0xc1, 0x0e, 0x45), 0, 3, out, 0);
  assert.equal(t.shifted, true);
  assert.equal(t.pendingLead, true);
  o = t.translate(b(0x81, 0x0f, 0xc2), 0, 3, out, o);
  assert.equal(out.toString('utf8', 0, o), 'A谷B');
  assert.equal(t.problem, undefined);
  t.reset();
  o = t.translate(b(0xc1, 0x0e, 0xff, 0xff, 0x45, 0x81), 0, 6, out, 0);
  assert.equal(problem()?.kind, 'invalid-dbcs');
  assert.equal(problem()?.index, 3);
  assert.match(problem()?.detail ?? '', /X'FFFF'/);
  assert.equal(t.shifted, true, 'state still followed after the problem');
  assert.equal(out.toString('utf8', 0, o), 'A');
  t.reset();
  t.translate(b(0xc1, 0x01), 0, 2, out, 0); // X'05' would be tab, allowed
  assert.equal(problem()?.kind, 'control-character');
  t.reset();
  assert.equal(t.translate(b(0x0e, 0x45, 0x81), 0, 3, Buffer.alloc(2), 0), -1, 'output full');
  // A byte unassigned in 935's SBCS part is an error, as in glibc.
  const u = page('IBM-935').shiftTranslator!();
  const undef = [...Array(256).keys()].find((x) => x !== 0x0e && x !== 0x0f && page('IBM-935').decode(b(x)) === '\uFFFD')!;
  u.translate(b(undef), 0, 1, out, 0);
  assert.equal(u.problem?.kind, 'invalid-dbcs');
});
