// "Did you mean": a typo of a statement or parameter gets the name it was meant to be; a word
// far from every name gets none; a tie gets none (no guessing between two names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, editDistance } from './suggest.js';
import { parseConfig } from './index.js';

test('edit distance counts a swap of neighbours as one edit, case-insensitive', () => {
  assert.equal(editDistance('TargetSevrer', 'TargetServer'), 1);
  assert.equal(editDistance('retrylimit', 'RetryLimit'), 0);
  assert.equal(editDistance('abc', ''), 3);
});

test('didYouMean: close typos only, no ties, bounded input', () => {
  const names = ['TargetServer', 'RetryLimit', 'Timeout', 'LogLevel', 'LogFile'];
  assert.equal(didYouMean('TargetSever', names), 'TargetServer');
  assert.equal(didYouMean('RetryLimt', names), 'RetryLimit');
  assert.equal(didYouMean('MaxHops', names), undefined);
  assert.equal(didYouMean('LogFil', names), 'LogFile');
  assert.equal(didYouMean('x'.repeat(100), names), undefined);
  assert.equal(didYouMean('ab', ['ac', 'ad']), undefined, 'a tie');
});

test('a misspelt statement and a misspelt parameter: the error names the file, the line and the likely fix', () => {
  const r = parseConfig('TargetSevrer { TargetIP 192.0.2.1 }\nRetryLimit { Cuont 3 }\n', '/etc/spoolgate/spoolgate.conf');
  assert.ok(!r.ok);
  const text = r.error.map((e) => e.message).join('\n');
  assert.match(text, /^\/etc\/spoolgate\/spoolgate\.conf:1: TargetSevrer: unknown statement \(did you mean TargetServer\?\)/m);
  assert.match(text, /^\/etc\/spoolgate\/spoolgate\.conf:2: RetryLimit: unknown parameter 'Cuont' \(did you mean Count\?\)/m);
});
