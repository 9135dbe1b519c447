// Helpers for code-page tests (the unit tests and the glibc iconv oracle test).
import assert from 'node:assert/strict';
import { getCodePage, type CodePage } from '../codepage/index.js';
import { unpackDbcs } from '../codepage/dbcs.js';
import { DBCS_PAGE_DATA } from '../codepage/dbcs-tables.generated.js';

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

/** A DBCS page's unpacked table: 256 SBCS + 65536 pair units (lead * 256 + trail), 0xFFFF unmapped. */
export function dbcsTable(name: string): Uint16Array {
  const data = DBCS_PAGE_DATA[name];
  assert.ok(data, `DBCS page ${name} is generated`);
  return unpackDbcs(name, data).units;
}
