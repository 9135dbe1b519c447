// Runs every test/dialogs/*.dialog against a real SmtpServer (one test per file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDialogs, globMatch, parseDialog, unescape } from './dialog.js';

const DIR = join(import.meta.dirname, '..', '..', 'test', 'dialogs');

for (const d of loadDialogs(DIR)) {
  test(`dialog ${d.file.split('/').pop()}`, async () => {
    const { runDialog } = await import('./dialog.js');
    const { failures } = await runDialog(d);
    assert.deepEqual(failures, []);
  });
}

test('dialog format: parsing, escapes and wildcards', () => {
  const d = parseDialog('# config: maxRecipients=2\nS: 220 *\nC: EHLO x\nW: a\\r\\n\\x41\n# assert: messages=1\nS: <closed>\n', 'x.dialog');
  assert.deepEqual(d.config, { maxRecipients: '2' });
  assert.deepEqual(d.steps.map((s) => s.kind), ['expect', 'send', 'send', 'assert', 'closed']);
  assert.equal(unescape('a\\r\\n\\x41').toString('latin1'), 'a\r\nA');
  assert.ok(globMatch('250 2.1.0 *', '250 2.1.0 sender ok'));
  assert.ok(!globMatch('250 2.1.5 *', '250 2.1.0 sender ok'));
  assert.ok(globMatch('a*c*', 'abcd'));
  assert.throws(() => parseDialog('X: what\n', 'bad.dialog'), /bad.dialog:1/);
});
