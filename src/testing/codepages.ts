// Helpers for code-page tests (the unit tests and the glibc iconv oracle test).
import assert from 'node:assert/strict';
import { getCodePage, type CodePage } from '../codepage/index.js';

/** A supported code page, or the test fails naming it. */
export function page(name: string): CodePage {
  const p = getCodePage(name);
  assert.ok(p, `code page ${name} is supported`);
  return p;
}

/** UTF-16BE bytes of a string (iconv's -t UTF-16BE output, for comparison). */
export function utf16be(s: string): Buffer {
  const b = Buffer.from(s, 'utf16le');
  b.swap16();
  return b;
}
