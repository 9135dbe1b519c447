import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId, newMessageIdHeader } from './ids.js';

test('newId: 20 base-36 characters, sortable by time, unique across refills of the random pool', () => {
  const t0 = Date.UTC(2026, 10, 27, 16, 0, 0);
  const ids = Array.from({ length: 5000 }, (_, i) => newId(t0 + Math.floor(i / 7)));
  for (const id of ids) assert.match(id, /^[0-9a-z]{20}$/);
  assert.equal(new Set(ids).size, ids.length, 'no id twice (5000 ids: ten refills of the 512-id pool)');
  for (let i = 1; i < ids.length; i++) if (Math.floor(i / 7) !== Math.floor((i - 1) / 7)) assert.ok(ids[i - 1]! < ids[i]!, 'a later millisecond sorts after');
  assert.equal(newId(t0).slice(0, 9), t0.toString(36).padStart(9, '0'));
  // The random part is not the same for ids of the same millisecond.
  assert.notEqual(newId(t0).slice(9), newId(t0).slice(9));
  assert.match(newMessageIdHeader('mx.example', t0), /^<[0-9a-z]{20}\.spoolgate@mx\.example>$/);
});
