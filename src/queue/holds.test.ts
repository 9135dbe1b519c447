import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { HoldList, MAX_HOLDS } from './holds.js';

const hold = { operator: 'alice', reason: 'why', at: '2026-11-27T10:00:00.000Z' };

test('holds are on disk when add/remove resolve, and read back at the next open', async (t) => {
  const path = join(tempDir(t), 'W.holds.json');
  const { list } = await HoldList.open(path, new Date());
  assert.equal(existsSync(path), false);
  assert.deepEqual(await list.add(['0123456789ab-1', '0123456789ab-2'], hold), { ok: true, value: 2 });
  assert.deepEqual(await list.add(['0123456789ab-1'], hold), { ok: true, value: 0 }, 'already held: nothing written');
  const again = (await HoldList.open(path, new Date())).list;
  assert.deepEqual(again.ids().sort(), ['0123456789ab-1', '0123456789ab-2']);
  assert.deepEqual(again.get('0123456789ab-1'), hold);
  assert.equal(await list.remove(['0123456789ab-1', 'ffffffffffff-9']), 1);
  assert.deepEqual((await HoldList.open(path, new Date())).list.ids(), ['0123456789ab-2']);
});

test('a corrupt hold file is moved aside and reported, not fatal; a bad id in it is refused', async (t) => {
  const dir = tempDir(t);
  for (const [name, text, want] of [
    ['a.json', '{not json', /not JSON/],
    ['b.json', JSON.stringify({ version: 1, holds: { '../../etc': hold } }), /is not a queue id/],
    ['c.json', JSON.stringify({ version: 2, holds: {} }), /not a version 1 holds file/],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const r = await HoldList.open(path, new Date('2026-11-27T10:00:00Z'));
    assert.match(r.problem ?? '', want);
    assert.equal(r.list.size, 0);
    assert.equal(existsSync(path), false);
    assert.ok(readdirSync(dir).some((n) => n.startsWith(`${name}.corrupt-`)));
  }
});

test('the list is bounded: more than MAX_HOLDS is refused and nothing changes', async (t) => {
  const path = join(tempDir(t), 'W.holds.json');
  const { list } = await HoldList.open(path, new Date());
  const ids = Array.from({ length: MAX_HOLDS }, (_, i) => `${i.toString(16).padStart(12, '0')}-1`);
  assert.deepEqual(await list.add(ids, hold), { ok: true, value: MAX_HOLDS });
  const r = await list.add(['ffffffffffff-1'], hold);
  assert.equal(r.ok, false);
  assert.equal(list.size, MAX_HOLDS);
  assert.equal(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { holds: object }).holds).length, MAX_HOLDS);
});
