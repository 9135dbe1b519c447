// glibc iconv as the independent oracle of the EBCDIC code pages and of the committed spool
// fixtures (moved here from src/codepage and src/spool: they run iconv hundreds of times, too slow
// for `npm run test:unit`). Without iconv they skip, and src/codepage's oracle hash test still
// checks the committed tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EBCDIC_PAGES, unmappableBytes } from '../../src/codepage/index.js';
import { findPeer, tempDir } from '../../src/testing/peers.js';
import { page, utf16be } from '../../src/testing/codepages.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'spool');
const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

interface OraclePage { glibc: string; charset: string; utf16be: string; toAscii: string; unmappable: number[] }
const ORACLE = JSON.parse(readFileSync(join(ROOT, 'src', 'codepage', 'oracle.sha256.json'), 'utf8')) as { pages: Record<string, OraclePage> };


test('every EBCDIC page agrees with glibc iconv (when installed)', (t) => {
  const iconv = findPeer('iconv');
  if (iconv === undefined) {
    t.skip('glibc iconv not installed; the oracle hash test covers the committed tables');
    return;
  }
  const run = (from: string, to: string, input: Buffer): Buffer =>
    execFileSync(iconv, ['-f', from, '-t', to], { input, stdio: ['pipe', 'pipe', 'pipe'] });
  for (const name of EBCDIC_PAGES) {
    const p = page(name);
    const o = ORACLE.pages[name]!;
    const glibcText = run(o.glibc, 'UTF-16BE', ALL);
    assert.deepEqual(utf16be(p.decode(ALL, { newline: 'strict' })), glibcText, `${name} decode`);
    // glibc's own encode of our decoded text gives back all 256 bytes, as ours does.
    assert.deepEqual(run('UTF-16BE', o.glibc, glibcText), ALL, `${name} glibc encode`);
    const unmappable = new Set(unmappableBytes(p));
    const mappable = Buffer.from([...ALL].filter((b) => !unmappable.has(b)));
    const glibcAscii = run(o.glibc, o.charset, mappable);
    assert.deepEqual(Buffer.from([...mappable].map((b) => p.toAscii![b]!)), glibcAscii, `${name} toAscii`);
    for (const b of unmappable) {
      assert.throws(() => run(o.glibc, o.charset, Buffer.from([b])), `${name} X'${b.toString(16)}' is unmappable in glibc too`);
    }
  }
});

test('the committed fixtures are what glibc iconv makes (when installed)', (t) => {
  if (findPeer('iconv') === undefined) {
    t.skip('glibc iconv not installed; using the committed fixtures as they are');
    return;
  }
  const out = tempDir(t);
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'gen-spool-fixtures.sh'), out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = readdirSync(FIXTURES).sort();
  assert.deepEqual(readdirSync(out).sort(), files);
  for (const f of files) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(FIXTURES, f))), `${f} is reproducible`);
});
