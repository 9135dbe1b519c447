import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterRule } from '../config/types.js';
import { evaluateFilters, filterOutcome, wildcardMatch } from './filters.js';
import { EVASIONS } from './filter-evasions-testutil.js';

test('wildcardMatch: "*" is any run of characters, case-insensitive, whole value', () => {
  const cases: [string, string, boolean][] = [
    ['*.vbs', 'LoveBug.VBS', true],
    ['*.vbs', '.vbs', true],
    ['*.vbs', 'a.vbs.txt', false],
    ['image/*', 'image/jpeg', true],
    ['image/*', 'image/', true],
    ['*Köln*', 'Grüße aus Köln', true],
    ['*@example.com', 'eve@EXAMPLE.com', true],
    ['*@example.com', 'eve@sub.example.com.evil', false],
    ['ILOVEYOU', 'iloveyou', true],
    ['ILOVEYOU', 'ILOVEYOU too', false],
    ['*love*', 'I love you', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['*', 'x', true],
    ['*', '', true],
    ['', 'x', false],
  ];
  for (const [p, v, want] of cases) assert.equal(wildcardMatch(p, v), want, `${p} ~ ${v}`);
  // Linear: a hostile pattern against a long value finishes at once.
  assert.equal(wildcardMatch('*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
});

test('filterOutcome: Keep beats Discard; dry run only journals', () => {
  const r = (action: 'keep' | 'discard', dryRun = false): FilterRule => ({ match: 'subject', pattern: 'x', action, dryRun });
  assert.equal(filterOutcome([]), 'deliver');
  assert.equal(filterOutcome([{ rule: r('discard', true), value: 'x' }]), 'deliver');
  assert.equal(filterOutcome([{ rule: r('discard'), value: 'x' }]), 'discard');
  assert.equal(filterOutcome([{ rule: r('discard'), value: 'x' }, { rule: r('keep'), value: 'x' }]), 'keep');
});

test('evaluateFilters: originator from envelope or From header', () => {
  const rules: FilterRule[] = [{ match: 'originator', pattern: '*@spam.test', action: 'discard', dryRun: false }];
  const data = Buffer.from('From: a@ok.test\r\nSubject: s\r\n\r\nbody\r\n');
  assert.equal(evaluateFilters(rules, { kind: 'mailbox', mailbox: { local: 'x', domain: 'SPAM.test' } }, data).length, 1);
  assert.equal(evaluateFilters(rules, { kind: 'null' }, data).length, 0);
  assert.equal(evaluateFilters(rules, { kind: 'null' }, Buffer.from('From: Bad <b@spam.test>\r\n\r\n')).length, 1);
});

test('issue #15 item 6: every known evasion is discarded or kept, never delivered', () => {
  const rules: FilterRule[] = [{ match: 'attachmentName', pattern: '*.vbs', action: 'discard', dryRun: false }];
  for (const e of EVASIONS) {
    const hits = evaluateFilters(rules, { kind: 'null' }, e.mail);
    assert.equal(filterOutcome(hits), e.want, e.name);
  }
});

test('a message in doubt: unchecked content rules keep it; a dry run only journals; other rules are not affected', () => {
  const deep = EVASIONS.find((e) => e.name.startsWith('nesting'))!.mail;
  const mime: FilterRule = { match: 'mimeType', pattern: 'application/x-never', action: 'discard', dryRun: false };
  const hits = evaluateFilters([mime], { kind: 'null' }, deep);
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.unchecked, true);
  assert.match(hits[0]!.value, /nesting deeper than 20/);
  assert.equal(filterOutcome(hits), 'keep');
  assert.equal(filterOutcome(evaluateFilters([{ ...mime, dryRun: true }], { kind: 'null' }, deep)), 'deliver');
  assert.deepEqual(evaluateFilters([{ match: 'subject', pattern: 'x', action: 'discard', dryRun: false }], { kind: 'null' }, deep), []);
});
