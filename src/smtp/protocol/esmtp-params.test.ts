import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMailParams, parseRcptParams, splitPathArg } from './esmtp-params.js';

const splits: { name: string; input: string; keyword: 'FROM:' | 'TO:'; want: unknown }[] = [
  { name: 'path only', input: 'FROM:<a@b>', keyword: 'FROM:', want: { path: '<a@b>', params: [] } },
  { name: 'space after colon', input: 'from: <a@b> size=10', keyword: 'FROM:', want: { path: '<a@b>', params: [{ keyword: 'SIZE', value: '10' }] } },
  { name: 'quoted ">"', input: 'TO:<"x>y"@b> NOTIFY=NEVER', keyword: 'TO:', want: { path: '<"x>y"@b>', params: [{ keyword: 'NOTIFY', value: 'NEVER' }] } },
  { name: 'no brackets', input: 'TO:a@b X', keyword: 'TO:', want: { path: 'a@b', params: [{ keyword: 'X', value: undefined }] } },
  { name: 'several blanks between params', input: 'FROM:<> SMTPUTF8   BODY=8BITMIME ', keyword: 'FROM:', want: { path: '<>', params: [{ keyword: 'SMTPUTF8', value: undefined }, { keyword: 'BODY', value: '8BITMIME' }] } },
  // RFC 5321 §4.1.1.2: SP between path and parameters (the old batch grammar took "<a@b>SIZE=1").
  { name: 'parameter glued to the path', input: 'FROM:<a@b>SIZE=1', keyword: 'FROM:', want: undefined },
  { name: 'wrong keyword', input: 'TO:<a@b>', keyword: 'FROM:', want: undefined },
];

for (const c of splits) {
  test(`splitPathArg: ${c.name}`, () => assert.deepEqual(splitPathArg(c.input, c.keyword), c.want));
}

test('parseMailParams: the caller\'s accept list makes other keywords unknown', () => {
  const p = splitPathArg('FROM:<a@b> AUTH=<> SIZE=5', 'FROM:')!.params;
  assert.deepEqual(parseMailParams(p), { ok: true, value: { auth: '<>', size: 5 } });
  assert.deepEqual(parseMailParams(p, { accept: ['SIZE'] }), { ok: false, error: { kind: 'unknown-parameter', keyword: 'AUTH' } });
});

test('parseMailParams: AUTH= must be xtext (RFC 4954 §5)', () => {
  const r = parseMailParams(splitPathArg('FROM:<a@b> AUTH=a=b', 'FROM:')!.params);
  assert.deepEqual(r, { ok: false, error: { kind: 'bad-parameter', keyword: 'AUTH', text: 'AUTH= must be xtext' } });
});

test('parseRcptParams: repeated and unknown keywords', () => {
  const twice = parseRcptParams(splitPathArg('TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER', 'TO:')!.params);
  assert.deepEqual(twice, { ok: false, error: { kind: 'bad-parameter', keyword: 'NOTIFY', text: 'NOTIFY given twice' } });
  const unknown = parseRcptParams(splitPathArg('TO:<a@b> ORCPT=rfc822;a@b', 'TO:')!.params, { accept: ['NOTIFY'] });
  assert.deepEqual(unknown, { ok: false, error: { kind: 'unknown-parameter', keyword: 'ORCPT' } });
});
