// Fuzz: the parser must never throw, never hang and never report an internal error, whatever
// the bytes. Seeded PRNG (mulberry32) so a failure names the seed and case that reproduce it.
// Found crashes go into REGRESSIONS below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig, parseConfigBytes } from './index.js';
import { getCodePage } from '../codepage/index.js';
import { prng } from '../testing/prng.js';


const SAMPLE = readFileSync(new URL('../../config/spoolgate.conf', import.meta.url), 'utf8');
const PIECES = ['{', '}', '#', ';', '"', '\\', '\n', '\r\n', '\r', '\u0085', ' ', '\t', '\0', 'TargetServer', 'RetryLimit', 'Count', '99999999999999999999', '-1', 'YES', '::', '[', ']', ':', '/', '@', 'ÿ', '\u{1F4E7}', '\uFEFF'];

function mutate(rnd: () => number, text: string): string {
  let s = text;
  const edits = 1 + Math.floor(rnd() * 8);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = rnd();
    if (op < 0.3) s = s.slice(0, at) + PIECES[Math.floor(rnd() * PIECES.length)]! + s.slice(at);
    else if (op < 0.55) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 20));
    else if (op < 0.7) s = s.slice(0, at); // truncation
    else if (op < 0.85) {
      const from = Math.floor(rnd() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(rnd() * 40)) + s.slice(at);
    } else s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x110)) + s.slice(at + 1);
  }
  return s;
}

function check(label: string, run: () => ReturnType<typeof parseConfig>): void {
  let r;
  try {
    r = run();
  } catch (e) {
    assert.fail(`${label}: threw ${e instanceof Error ? e.stack : String(e)}`);
  }
  if (!r.ok) {
    assert.ok(r.error.length > 0, `${label}: failure without errors`);
    for (const e of r.error) {
      assert.ok(!e.message.includes('internal error'), `${label}: ${e.message}`);
      assert.match(e.message, /^[^:]+:\d+: /, `${label}: error format`);
    }
  }
}

const REGRESSIONS: string[] = [
  '"',
  '{',
  'RetryLimit {',
  'RetryLimit\n',
  'Options { AtSign "',
  '\u0085\u0085}',
  'TargetServer { TargetIP [ }',
];

test('fuzz: regression inputs', () => {
  for (const [k, text] of REGRESSIONS.entries()) check(`regression ${k}`, () => parseConfig(text, 'f.conf', {}, { hostName: 'h' }));
});

test('fuzz: 3000 mutated valid configurations, random text and random (EBCDIC) bytes', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20240611);
  const rnd = prng(seed);
  const ebcdic = getCodePage('IBM-1047');
  assert.ok(ebcdic !== undefined);
  const ebcdicSample = ebcdic.encode(SAMPLE.replace(/[^\x20-\x7e\n]/g, ' '));
  const env = { CSSMTP_CODEPAGE_CONFIG: 'IBM-1047' };
  for (let k = 0; k < 3000; k++) {
    const label = `seed ${seed} case ${k}`;
    const kind = k % 4;
    if (kind === 0) {
      const text = mutate(rnd, SAMPLE);
      check(label, () => parseConfig(text, 'f.conf', {}, { hostName: 'h' }));
    } else if (kind === 1) {
      const len = Math.floor(rnd() * 400);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
      check(label, () => parseConfigBytes(bytes, 'f.conf', rnd() < 0.5 ? env : {}, { hostName: 'h' }));
    } else if (kind === 2) {
      // The EBCDIC sample with random byte flips and a random truncation.
      const bytes = Buffer.from(ebcdicSample.subarray(0, Math.floor(rnd() * (ebcdicSample.length + 1))));
      for (let j = 0; j < 1 + rnd() * 10; j++) {
        if (bytes.length > 0) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      }
      check(label, () => parseConfigBytes(bytes, 'f.conf', env, { hostName: 'h' }));
    } else {
      let text = '';
      const n = Math.floor(rnd() * 60);
      for (let j = 0; j < n; j++) text += PIECES[Math.floor(rnd() * PIECES.length)]! + (rnd() < 0.5 ? ' ' : '');
      check(label, () => parseConfig(text, 'f.conf', {}, { hostName: 'h' }));
    }
  }
});

test('fuzz: a long file of many statements parses without hanging', () => {
  const text = 'MailAdministrator a@b.example\n'.repeat(5000) + 'TargetServer {\n' + '  TargetIP 192.0.2.1\n'.repeat(5000) + '}\n';
  const r = parseConfig(text, 'big.conf', {}, { hostName: 'h' });
  assert.ok(r.ok);
  assert.equal(r.value.config.mailAdministrators.length, 4);
});
