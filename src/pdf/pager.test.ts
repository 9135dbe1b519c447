// The carriage-control rules, one by one, and the page overflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pager, type CarriageControl, type PrintPage, type PrintRecord } from './pager.js';

function pages(carriage: CarriageControl, records: PrintRecord[], linesPerPage = 66): PrintPage[] {
  const out: PrintPage[] = [];
  const p = new Pager({ linesPerPage, carriage, onPage: (x) => out.push(x) });
  for (const r of records) p.push(r);
  p.end();
  return out;
}
const text = (ps: PrintPage[]): string[][] => ps.map((p) => p.lines.map((l) => (l ?? []).join('|')));
const asa = (c: string, t: string): PrintRecord => ({ cc: c.charCodeAt(0), text: t });

test('none: one record a line; a form feed starts a page, also in mid-record', () => {
  assert.deepEqual(text(pages('none', [{ text: 'a' }, { text: 'b' }, { text: '\fc' }, { text: 'd\fe' }])), [['a', 'b'], ['c', 'd'], ['e']]);
});

test('ASA: blank, 0, -, + and 1', () => {
  const ps = pages('asa', [asa('1', 'TITLE'), asa('0', 'after one blank'), asa('-', 'after two blanks'), asa('+', '____'), asa(' ', 'next'), asa('1', 'page 2'), asa('Z', 'unknown = next line')]);
  assert.deepEqual(text(ps), [['TITLE', '', 'after one blank', '', '', 'after two blanks|____', 'next'], ['page 2', 'unknown = next line']]);
});

test('ASA: + at the top of a page is a new line, not an overprint of nothing', () => {
  assert.deepEqual(text(pages('asa', [asa('+', 'first')])), [['first']]);
});

test('machine: write-then-space codes, skip to channel 1, immediate spaces, overprint with X\'01\'', () => {
  const m = (b: number, t = ''): PrintRecord => ({ cc: b, text: t });
  const ps = pages('machine', [m(0x09, 'one'), m(0x11, 'two'), m(0x01, 'three'), m(0x09, '_____'), m(0x0b), m(0x89, 'four'), m(0x09, 'p2'), m(0x8b), m(0x03), m(0x09, 'p3')]);
  assert.deepEqual(text(ps), [['one', 'two', '', 'three|_____', '', 'four'], ['p2'], ['p3']]);
});

test('a page holds linesPerPage lines; the next line starts a new page (ASA and machine)', () => {
  const many = Array.from({ length: 7 }, (_, i) => asa(' ', `l${i}`));
  assert.deepEqual(text(pages('asa', many, 3)), [['l0', 'l1', 'l2'], ['l3', 'l4', 'l5'], ['l6']]);
  const mach = Array.from({ length: 4 }, (_, i) => ({ cc: 0x09, text: `m${i}` }));
  assert.deepEqual(text(pages('machine', mach, 3)), [['m0', 'm1', 'm2'], ['m3']]);
  assert.deepEqual(pages('asa', []), []);
});
