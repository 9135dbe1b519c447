// Every reply the gateway makes up itself comes from the catalogue (codes.ts), whose enhanced
// codes carry no class digit (STYLE.md §3). This test scans src/ for the ways around it: a
// localReply() with a literal code, or a literal { code, enhanced } pair whose classes disagree
// (RFC 3463 §2: the class digit of the enhanced code equals the first digit of the basic code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../..');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const LITERAL_LOCAL = /\blocalReply\(\s*\d/g;
const PAIR = /\bcode:\s*([1-9])\d\d\s*,\s*enhanced:\s*['"`]([0-9])\./g;
const MAKE = /\bmakeReply\(\s*([1-9])\d\d\s*,\s*\[\s*['"`]([0-9])\./g;

function localReplyProblems(file: string, text: string): string[] {
  const problems: string[] = [];
  const line = (i: number): number => text.slice(0, i).split('\n').length;
  for (const m of text.matchAll(LITERAL_LOCAL)) problems.push(`${file}:${line(m.index)}: localReply with a literal code; use a Codes entry`);
  for (const re of [PAIR, MAKE]) {
    for (const m of text.matchAll(re)) {
      if (m[1] !== m[2]) problems.push(`${file}:${line(m.index)}: reply class ${m[1]} with enhanced class ${m[2]}: ${m[0]}`);
    }
  }
  return problems;
}

test('the scanner finds a class mismatch and a literal localReply', () => {
  assert.equal(localReplyProblems('x.ts', "fail(item, r, { code: 554, enhanced: '4.4.7', text: 'expired' })").length, 1);
  assert.equal(localReplyProblems('x.ts', "localReply(451, '4.3.0', 'busy')").length, 1);
  assert.deepEqual(localReplyProblems('x.ts', "{ code: 550, enhanced: '5.7.1', text: 'no' }; localReply(Codes.C451LocalError, 'x')"), []);
});

test('no locally made reply in src/ bypasses the catalogue or has a class mismatch', () => {
  const problems = walk(SRC).flatMap((f) => localReplyProblems(relative(SRC, f), readFileSync(f, 'utf8')));
  assert.deepEqual(problems, []);
});
