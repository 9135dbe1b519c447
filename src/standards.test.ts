// STYLE.md §3: docs/standards.md lists each RFC with Yes / Partial / No. Every RFC cited in src/
// (`RFC 5321`, `RFC 3461 §4.1`, `RFC5322`) must have a row of its own there, so a rule
// implemented in the code cannot cite a standard the documentation does not own up to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { tsFiles } from './testing/source-files.js';

const SRC = resolve(import.meta.dirname);
const STANDARDS = resolve(SRC, '..', 'docs', 'standards.md');
const CITATION = /\bRFC ?(\d{3,5})\b/g;

const walk = (dir: string): string[] => tsFiles(dir);

/** RFC number -> the first file citing it (tests too: they cite the rule they check; not this file's examples). */
function citedInSource(): Map<string, string> {
  const cited = new Map<string, string>();
  for (const file of walk(SRC).sort()) {
    if (file === import.meta.filename) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(CITATION)) {
      if (!cited.has(m[1]!)) cited.set(m[1]!, relative(SRC, file));
    }
  }
  return cited;
}

/** RFC number -> its status cell, from the rows whose first cell names it ("RFC 2034 / RFC 3463"). */
function listedInStandards(markdown: string): Map<string, string> {
  const listed = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length < 3 || !cells[0]!.includes('RFC')) continue;
    for (const m of cells[0]!.matchAll(CITATION)) listed.set(m[1]!, cells[2]!);
  }
  return listed;
}

test('every RFC cited in src/ has a row in docs/standards.md', () => {
  const cited = citedInSource();
  assert.ok(cited.size > 20, `the scan found the citations (${cited.size})`);
  const listed = listedInStandards(readFileSync(STANDARDS, 'utf8'));
  const missing = [...cited].filter(([rfc]) => !listed.has(rfc)).map(([rfc, file]) => `RFC ${rfc} (cited in src/${file})`);
  assert.deepEqual(missing, [], 'add a row to docs/standards.md with an honest Yes / Partial / No');
});

test('each RFC row of docs/standards.md says Yes, Partial or No', () => {
  const listed = listedInStandards(readFileSync(STANDARDS, 'utf8'));
  const vague = [...listed].filter(([, status]) => !/^(Yes|Partial|No)\b/.test(status)).map(([rfc, status]) => `RFC ${rfc}: "${status}"`);
  assert.deepEqual(vague, []);
});

test('the table reader: first column only, several RFCs per row, status from the third column', () => {
  const md = '| standard | what | status |\n|---|---|---|\n| RFC 2034 / RFC 3463 | codes, see RFC 9999 | Yes |\n| RFC1870 §6 | loops | No |\nRFC 1234 in prose\n';
  assert.deepEqual([...listedInStandards(md)], [['2034', 'Yes'], ['3463', 'Yes'], ['1870', 'No']]);
});
