// glibc iconv as the oracle of the mixed SBCS/DBCS pages IBM-930, 933, 935, 937, 939: every
// mapped SBCS byte and double-byte pair, every unmapped one, the encoder, and the shift rules.
// Without iconv they skip; src/codepage/dbcs.test.ts still checks the committed table hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DBCS_PAGES } from '../../src/codepage/index.js';
import { findPeer } from '../../src/testing/peers.js';
import { dbcsTable, page, utf16be } from '../../src/testing/codepages.js';

const SO = 0x0e;
const SI = 0x0f;
const GLIBC: Record<string, string> = { 'IBM-930': 'IBM930', 'IBM-933': 'IBM933', 'IBM-935': 'IBM935', 'IBM-937': 'IBM937', 'IBM-939': 'IBM939' };

function iconvRun(iconv: string, args: string[], input: Buffer): { ok: boolean; out: Buffer } {
  const r = spawnSync(iconv, args, { input, maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: r.stdout };
}

test('every mapped and unmapped code of the DBCS pages agrees with glibc iconv (when installed)', (t) => {
  const iconv = findPeer('iconv');
  if (iconv === undefined) {
    t.skip('glibc iconv not installed; dbcs.test.ts checks the committed table hashes');
    return;
  }
  for (const name of DBCS_PAGES) {
    const glibc = GLIBC[name]!;
    const p = page(name);
    const units = dbcsTable(name);
    const mappedSbcs: number[] = [];
    const unmappedSbcs: number[] = [];
    for (let b = 0; b < 256; b++) if (b !== SO && b !== SI) (units[b] === 0xffff ? unmappedSbcs : mappedSbcs).push(b);
    const mappedPairs: number[] = [];
    const unmappedPairs: number[] = [];
    for (let l = 0; l < 256; l++) {
      for (let x = 0; x < 256; x++) {
        if (l === SO || l === SI || x === SO || x === SI) continue;
        (units[256 + l * 256 + x] === 0xffff ? unmappedPairs : mappedPairs).push(l * 256 + x);
      }
    }
    assert.ok(mappedPairs.length > 9000, `${name}: ${mappedPairs.length} pairs`);
    // Every mapped code in one strict call: SBCS bytes, then SO, every pair, SI.
    const input = Buffer.concat([Buffer.from(mappedSbcs), Buffer.from([SO]), Buffer.from(mappedPairs.flatMap((v) => [v >> 8, v & 0xff])), Buffer.from([SI])]);
    const g = iconvRun(iconv, ['-f', glibc, '-t', 'UTF-16BE'], input);
    assert.ok(g.ok, `${name}: glibc converts every code we map`);
    const ours = p.decode(input, { newline: 'strict' });
    assert.ok(utf16be(ours).equals(g.out), `${name}: decode of ${mappedSbcs.length} SBCS + ${mappedPairs.length} DBCS codes equals glibc`);
    // Every unmapped code: glibc -c drops each one and keeps the X'40' after it.
    const unInput = Buffer.concat([
      Buffer.from(unmappedSbcs.flatMap((b) => [b, 0x40])),
      Buffer.from(unmappedPairs.flatMap((v) => [SO, v >> 8, v & 0xff, SI, 0x40])),
    ]);
    const gc = iconvRun(iconv, ['-c', '-f', glibc, '-t', 'UTF-8'], unInput);
    assert.equal(gc.out.toString('latin1'), ' '.repeat(unmappedSbcs.length + unmappedPairs.length), `${name}: glibc maps none of our unmapped codes`);
    // ... and refuses them strictly (a sample: every 401st, plus each SBCS one; one process per
    // code, so the sample is kept small: the -c call above covers every code).
    for (const b of unmappedSbcs) assert.equal(iconvRun(iconv, ['-f', glibc, '-t', 'UTF-8'], Buffer.from([b])).ok, false, `${name} X'${b.toString(16)}'`);
    for (let i = 0; i < unmappedPairs.length; i += 401) {
      const v = unmappedPairs[i]!;
      assert.equal(iconvRun(iconv, ['-f', glibc, '-t', 'UTF-8'], Buffer.from([SO, v >> 8, v & 0xff, SI])).ok, false, `${name} X'${v.toString(16)}'`);
    }
    // Encoding: every mapped character, one per line (LF is X'25', in no pair), byte-exact.
    const chars = [...new Set(ours)].filter((c) => c !== '\n');
    const lines = chars.join('\n');
    const genc = iconvRun(iconv, ['-f', 'UTF-8', '-t', glibc], Buffer.from(lines, 'utf8'));
    assert.ok(genc.ok, `${name}: glibc encodes every character we decode`);
    const enc = p.encode(lines, { newline: 'strict' });
    if (!enc.equals(genc.out)) {
      const mine = chars.map((c) => p.encode(c, { newline: 'strict' }).toString('hex'));
      const theirs = genc.out.toString('hex').split('25');
      const i = mine.findIndex((m, k) => m !== theirs[k]);
      assert.fail(`${name}: encode of U+${chars[i]!.charCodeAt(0).toString(16)} is ${mine[i]}, glibc ${theirs[i]}`);
    }
  }
});

test('shift rules of the spool translator match glibc: accepted exactly where glibc accepts (when installed)', (t) => {
  const iconv = findPeer('iconv');
  if (iconv === undefined) {
    t.skip('glibc iconv not installed');
    return;
  }
  const cases: { bytes: number[]; why: string }[] = [
    { bytes: [0xc1, SO, 0x45, 0x81, SI, 0xc2], why: 'balanced' },
    { bytes: [0xc1, SO, 0x45, 0x81], why: 'SO without SI' },
    { bytes: [0xc1, SI, 0xc2], why: 'SI without SO' },
    { bytes: [SO, SO, 0x45, 0x81, SI, SI], why: 'SO SO, SI SI' },
    { bytes: [SO, 0x45, 0x81, 0x45], why: 'odd byte count' },
    { bytes: [SO, 0x45, SI, 0xc1], why: 'SI as second byte' },
    { bytes: [SO, 0xff, 0xff, SI], why: 'undefined pair' },
    { bytes: [SO, 0x40, 0x40, SI], why: 'DBCS space' },
    { bytes: [SO, SI], why: 'empty shift' },
  ];
  for (const name of DBCS_PAGES) {
    for (const c of cases) {
      const input = Buffer.from(c.bytes);
      const g = iconvRun(iconv, ['-f', GLIBC[name]!, '-t', 'UTF-8'], input);
      const tr = page(name).shiftTranslator!();
      const out = Buffer.alloc(64);
      const o = tr.translate(input, 0, input.length, out, 0);
      const accepted = tr.problem === undefined && !tr.pendingLead;
      assert.equal(accepted, g.ok, `${name} ${c.why}: glibc ${g.ok ? 'accepts' : 'refuses'}`);
      if (g.ok) assert.equal(out.toString('utf8', 0, o), g.out.toString('utf8'), `${name} ${c.why}: same text`);
    }
  }
});
