// The man pages are generated (scripts/gen-man.mjs, src/cli/man.ts): the committed man/ files must
// be what the command table and docs/configuration.md make now, and render without a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { needPeer } from '../testing/peers.js';
import { COMMANDS } from './commands.js';
import { confManPage, inline, roffText, spoolgateManPage } from './man.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PAGES = [
  { file: 'man/spoolgate.1', make: () => spoolgateManPage(VERSION) },
  { file: 'man/spoolgate.conf.5', make: () => confManPage(readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8'), VERSION) },
];

test('man/spoolgate.1 and man/spoolgate.conf.5 are current (else: node --import tsx scripts/gen-man.mjs)', () => {
  for (const p of PAGES) assert.equal(readFileSync(join(ROOT, p.file), 'utf8'), p.make(), `${p.file} is stale: run node --import tsx scripts/gen-man.mjs`);
});

test('spoolgate(1) has every command, its options and exit codes; spoolgate.conf(5) every statement', () => {
  const one = spoolgateManPage(VERSION);
  for (const c of COMMANDS) {
    assert.ok(one.includes(`.SS "spoolgate ${c.name}"`), c.name);
    for (const o of c.options) assert.ok(one.includes(o.description.slice(0, 30).replace(/\\/g, '\\e')), `${c.name} ${o.flags}`);
  }
  const five = PAGES[1]!.make();
  for (const s of ['BadSpoolDisp', 'TargetServer', 'Receiver', 'Retention', 'Store']) assert.ok(five.includes(`\n\\fB${s}\\fR\n`), s);
  assert.ok(!five.includes('Programming interface'), 'the developers\' section is left out');
});

test('roff escaping: backslashes, leading dots and quotes, non-ASCII, inline code', () => {
  assert.equal(roffText('.hidden'), '\\&.hidden');
  assert.equal(roffText("'quote"), "\\&'quote");
  assert.equal(roffText('a\\b'), 'a\\eb');
  assert.equal(roffText('Count × Interval ≤ 7200'), 'Count \\[u00D7] Interval \\[u2264] 7200');
  assert.equal(inline('use `--config FILE` or **(ext)** [docs](x.md)'), 'use \\fB\\-\\-config FILE\\fR or \\fB(ext)\\fR docs');
});

test('groff and man -l render both pages without a warning', (t) => {
  const groff = needPeer(t, 'groff');
  if (groff === undefined) return;
  for (const p of PAGES) {
    const g: { status: number | null; stderr: string } = spawnSync(groff, ['-man', '-Tutf8', '-ww', '-z', join(ROOT, p.file)], { encoding: 'utf8' });
    assert.equal(g.status, 0, p.file);
    assert.equal(g.stderr, '', `${p.file}: groff warnings`);
    const m: { status: number | null; stderr: string; stdout: string; error?: Error } = spawnSync('man', ['--warnings', '-l', join(ROOT, p.file)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } });
    if (m.error !== undefined) continue; // no man(1): groff above is the check
    assert.equal(m.status, 0, p.file);
    assert.equal(m.stderr, '', `${p.file}: man -l warnings`);
    assert.match(m.stdout, /^SPOOLGATE(\.CONF)?\((1|5)\)/, p.file);
  }
});
