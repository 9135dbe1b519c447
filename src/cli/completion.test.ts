// `spoolgate completion bash|zsh`: scripts generated from the command table. The bash one is run
// in a real bash with COMP_WORDS set as readline would set them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { runCli } from '../testing/cli.js';
import { COMMANDS } from './commands.js';
import { main } from './index.js';

function complete(script: string, words: string[]): string[] {
  const cword = words.length - 1;
  const prog = `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${cword}; _spoolgate; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', prog, 'bash', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

test('completion bash: commands, actions, options, file names after --config', async (t) => {
  const r = await runCli(main, ['completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  const dir = tempDir(t);
  const file = join(dir, 'spoolgate.bash');
  writeFileSync(file, r.stdout);
  assert.equal(spawnSync('bash', ['-n', file]).status, 0, 'bash -n: the script parses');
  assert.deepEqual(complete(file, ['spoolgate', '']), COMMANDS.map((c) => c.name).sort());
  assert.deepEqual(complete(file, ['spoolgate', 'st']), ['start', 'status']);
  assert.deepEqual(complete(file, ['spoolgate', 'queue', '']), ['bounce', 'delete', 'hold', 'list', 'release', 'retry', 'shape', 'show']);
  assert.deepEqual(complete(file, ['spoolgate', 'queue', 'list', '--js']), ['--json']);
  assert.deepEqual(complete(file, ['spoolgate', 'doctor', '--no']), ['--no-targets']);
  assert.deepEqual(complete(file, ['spoolgate', 'F', '--so']), ['--socket'], 'F is modify');
  writeFileSync(join(dir, 'site.conf'), '');
  assert.deepEqual(complete(file, ['spoolgate', 'status', '--config', join(dir, 'si')]), [join(dir, 'site.conf')]);
});

test('completion zsh: a #compdef script naming every command and option; an unknown shell is a usage error', async () => {
  const r = await runCli(main, ['completion', 'zsh']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith('#compdef spoolgate\n'));
  for (const c of COMMANDS) {
    assert.match(r.stdout, new RegExp(`^    ${c.name}\\) _arguments `, 'm'), c.name);
    assert.ok(r.stdout.includes(`'${c.name}:`), `${c.name} described`);
  }
  assert.ok(r.stdout.includes("'--since[records at or after WHEN]:when: '"));
  const bad = await runCli(main, ['completion', 'fish']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^spoolgate completion: no completion for "fish": bash or zsh\n/);
});
