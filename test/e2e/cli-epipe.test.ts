// Issue #16 item 16: `spoolgate <command> | head` — the reader goes away before the command has
// written everything. The command stops quietly: no EPIPE stack on stderr, exit status 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Our end of the pipe closes before the child (still loading) writes anything: its first
    // write meets a pipe without a reader, as after `head` has exited.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('close', (code) => done({ code, stderr }));
  });
}

test('a command whose output reader has gone exits 0 without a stack trace', async () => {
  for (const args of [['config', 'show', '--config', 'config/spoolgate.conf'], ['--help']]) {
    const r = await runWithClosedStdout(args);
    assert.equal(r.stderr, '', args.join(' '));
    assert.equal(r.code, 0, args.join(' '));
  }
});
