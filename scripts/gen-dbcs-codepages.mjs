#!/usr/bin/env node
// Regenerates src/codepage/dbcs-tables.generated.ts and src/codepage/dbcs-oracle.sha256.json
// from glibc iconv, the oracle for the mixed SBCS/DBCS EBCDIC pages IBM-930, 933, 935, 937, 939
// (issue #21 item 2). Usage: node scripts/gen-dbcs-codepages.mjs   (needs glibc `iconv` on PATH;
// commit both outputs). Takes a few seconds.
//
// For each page:
//   - SBCS part: every byte except SO X'0E' / SI X'0F', one iconv call per byte (a byte glibc
//     refuses is unmapped);
//   - DBCS part: every pair (lead, trail) with neither byte SO/SI, written as
//     SO lead trail SI X'40' and converted with `iconv -c` to UTF-32BE in one call: glibc drops
//     an unmapped pair (both bytes) and keeps the X'40' separator, so the output splits into one
//     field per pair, empty when the pair is unmapped. The mapped pairs are then converted again
//     without -c, all in one call, and must give exactly the same characters.
//   - Encoder: every mapped character, one per line, converted UTF-8 -> page in one call. Where
//     glibc's choice differs from the default (the SBCS byte, else the lowest pair) it is kept in
//     `encodeOverrides` (glibc maps a few characters one way only, e.g. '~' to X'A1' on 930/939,
//     and prefers other pairs for duplicated hanzi on 937).
// Every mapped byte and pair decodes to one BMP code point in glibc 2.36 (checked here).
//
// Stored form: 256 + 65536 UTF-16 code units (SBCS byte b at [b], pair (l,t) at [256 + l*256 + t],
// 0xFFFF = unmapped), delta-coded (each unit minus the one before, mod 2^16), deflated (raw) and
// base64-encoded: about 40-90 kB of source per page instead of 128 kB of binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_TS = join(ROOT, 'src/codepage/dbcs-tables.generated.ts');
const OUT_SHA = join(ROOT, 'src/codepage/dbcs-oracle.sha256.json');

/** [canonical name, glibc iconv name] */
const PAGES = [
  ['IBM-930', 'IBM930'],
  ['IBM-933', 'IBM933'],
  ['IBM-935', 'IBM935'],
  ['IBM-937', 'IBM937'],
  ['IBM-939', 'IBM939'],
];
const SO = 0x0e;
const SI = 0x0f;
const UNMAPPED = 0xffff;

function tryIconv(args, input) {
  const r = spawnSync('iconv', args, { input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, out: r.stdout };
}

function codePoints32(buf) {
  const out = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readUInt32BE(i));
  return out;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function generate(glibc) {
  const table = new Uint16Array(256 + 65536).fill(UNMAPPED);
  // SBCS part.
  for (let b = 0; b < 256; b++) {
    if (b === SO || b === SI) continue;
    const r = tryIconv(['-f', glibc, '-t', 'UTF-32BE'], Buffer.from([b]));
    if (!r.ok) continue;
    const cps = codePoints32(r.out);
    if (cps.length !== 1 || cps[0] > 0xfffe) throw new Error(`${glibc} X'${b.toString(16)}' gives ${cps.length} code points`);
    table[b] = cps[0];
  }
  const space = table[0x40];
  if (space !== 0x20) throw new Error(`${glibc}: X'40' is not the SBCS space`);
  // DBCS part, one -c call over every pair.
  const pairs = [];
  for (let l = 0; l < 256; l++) for (let t = 0; t < 256; t++) if (l !== SO && l !== SI && t !== SO && t !== SI) pairs.push([l, t]);
  const input = Buffer.alloc(pairs.length * 5);
  pairs.forEach(([l, t], i) => input.set([SO, l, t, SI, 0x40], i * 5));
  const all = codePoints32(tryIconv(['-c', '-f', glibc, '-t', 'UTF-32BE'], input).out);
  const fields = [[]];
  for (const cp of all) {
    if (cp === 0x20) fields.push([]);
    else fields[fields.length - 1].push(cp);
  }
  fields.pop(); // after the last separator
  if (fields.length !== pairs.length) throw new Error(`${glibc}: ${fields.length} fields for ${pairs.length} pairs`);
  const mapped = [];
  pairs.forEach(([l, t], i) => {
    const f = fields[i];
    if (f.length === 0) return;
    if (f.length !== 1 || f[0] > 0xfffe) throw new Error(`${glibc} X'${l.toString(16)}${t.toString(16)}' gives ${f.length} code points`);
    table[256 + l * 256 + t] = f[0];
    mapped.push([l, t]);
  });
  // Check: the mapped pairs in one strict call give the same characters.
  const strictIn = Buffer.alloc(2 + mapped.length * 2);
  strictIn[0] = SO;
  mapped.forEach(([l, t], i) => strictIn.set([l, t], 1 + i * 2));
  strictIn[strictIn.length - 1] = SI;
  const strict = tryIconv(['-f', glibc, '-t', 'UTF-32BE'], strictIn);
  if (!strict.ok) throw new Error(`${glibc}: the mapped pairs do not convert without -c`);
  const want = mapped.map(([l, t]) => table[256 + l * 256 + t]);
  const got = codePoints32(strict.out);
  if (got.length !== want.length || got.some((c, i) => c !== want[i])) throw new Error(`${glibc}: strict conversion differs`);
  return { table, sbcsMapped: table.subarray(0, 256).filter((c) => c !== UNMAPPED).length, dbcsMapped: mapped.length, overrides: encoderOverrides(glibc, table) };
}

/** [unicode, code] where glibc encodes differently from "SBCS byte first, else the lowest pair". */
function encoderOverrides(glibc, table) {
  const dflt = new Map();
  for (let i = 0; i < table.length; i++) {
    const u = table[i];
    if (u !== UNMAPPED && !dflt.has(u)) dflt.set(u, i < 256 ? i : 0x10000 | (i - 256));
  }
  const chars = [...dflt.keys()].filter((u) => u !== 0x0a);
  const r = tryIconv(['-f', 'UTF-8', '-t', glibc], Buffer.from(chars.map((c) => String.fromCharCode(c)).join('\n'), 'utf8'));
  if (!r.ok) throw new Error(`${glibc}: cannot encode its own characters`);
  const parts = [];
  let s = 0;
  for (let i = 0; i <= r.out.length; i++) {
    if (i === r.out.length || r.out[i] === 0x25) { parts.push(r.out.subarray(s, i)); s = i + 1; } // X'25' LF: in no pair
  }
  if (parts.length !== chars.length) throw new Error(`${glibc}: ${parts.length} encodings for ${chars.length} characters`);
  const out = [];
  chars.forEach((u, i) => {
    const p = parts[i];
    const code = p.length === 1 ? p[0] : p.length === 4 && p[0] === SO && p[3] === SI ? 0x10000 | (p[1] << 8) | p[2] : -1;
    if (code < 0) throw new Error(`${glibc}: U+${u.toString(16)} encodes to ${p.toString('hex')}`);
    if (code !== dflt.get(u)) out.push([u, code]);
  });
  return out;
}

function pack(table) {
  const delta = new Uint16Array(table.length);
  let prev = 0;
  for (let i = 0; i < table.length; i++) {
    delta[i] = (table[i] - prev) & 0xffff;
    prev = table[i];
  }
  const raw = Buffer.from(delta.buffer);
  return deflateRawSync(raw, { level: 9 }).toString('base64');
}

const version = execFileSync('iconv', ['--version']).toString().split('\n')[0];
const oracle = { generator: 'scripts/gen-dbcs-codepages.mjs', iconv: version, pages: {} };
const entries = [];
for (const [name, glibc] of PAGES) {
  const { table, sbcsMapped, dbcsMapped, overrides } = generate(glibc);
  const be = Buffer.from(table.buffer.slice(0)).swap16(); // hash the big-endian units
  oracle.pages[name] = { glibc, sbcsMapped, dbcsMapped, table: sha256(be), encodeOverrides: overrides.length };
  const b64 = pack(table);
  const lines = [];
  for (let i = 0; i < b64.length; i += 100) lines.push(`    '${b64.slice(i, i + 100)}'`);
  entries.push(`  '${name}': {\n    glibc: '${glibc}',\n    sbcsMapped: ${sbcsMapped},\n    dbcsMapped: ${dbcsMapped},\n    encodeOverrides: [${overrides.map(([u, c]) => `[0x${u.toString(16)}, 0x${c.toString(16)}]`).join(', ')}],\n    packed:\n${lines.join(' +\n')},\n  },`);
  console.log(`${name}: ${sbcsMapped} SBCS, ${dbcsMapped} DBCS, ${b64.length} base64 chars`);
}

const ts = `// GENERATED by scripts/gen-dbcs-codepages.mjs from ${version} — do not edit by hand.
// Regenerate: node scripts/gen-dbcs-codepages.mjs (then commit this file and dbcs-oracle.sha256.json).
// Its length is table data (five packed code pages), not code: it is not split by role.
//
// Per page, \`packed\` is base64 of the raw-deflated, delta-coded table of 256 + 65536 UTF-16 units:
// SBCS byte b at [b], DBCS pair (lead, trail) at [256 + lead * 256 + trail], 0xFFFF = unmapped
// (see the script's header). Unpacked lazily by dbcs.ts the first time the page decodes.
export interface DbcsPageData {
  readonly glibc: string;
  readonly sbcsMapped: number;
  readonly dbcsMapped: number;
  /** [unicode, code]: glibc's encoding where it is not the SBCS byte or the lowest pair (code > 0xFFFF: pair). */
  readonly encodeOverrides: readonly (readonly [number, number])[];
  readonly packed: string;
}

export const DBCS_PAGE_DATA: Readonly<Record<string, DbcsPageData>> = {
${entries.join('\n')}
};
`;
writeFileSync(OUT_TS, ts);
writeFileSync(OUT_SHA, JSON.stringify(oracle, null, 2) + '\n');
console.log(`wrote ${OUT_TS} and ${OUT_SHA}`);
