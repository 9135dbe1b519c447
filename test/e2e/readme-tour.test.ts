// R2 acceptance: the README's tour, exactly as a new user pastes it, is an automated test:
//   npm start   (embedded default: forwarder + receiver + POP3 on loopback, state in ./var/)
//   npx spoolgate submit examples/hello.smtp
//   curl --user "demo:$(cat var/state/demo.password)" pop3://127.0.0.1:1110/1
// It runs in the repository itself, as the user would (npx resolves the package's own bin only
// there). To never touch a developer's state it needs ./var/ to be absent: with one present it
// skips (and under CI=true, a clean clone, it fails instead), and it removes the ./var/ it made.
// The sample configuration's fixed ports 2525 and 1110 must be free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inCI, needPeer } from '../../src/testing/peers.js';
import { until } from '../../src/testing/gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');

function tourCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const tour = readme.slice(readme.indexOf('## Tour'));
  return [...tour.matchAll(/^ {4}(npx spoolgate submit .*|curl .*)$/gm)].map((m) => m[1]!.trim());
}

test('the README tour: npm start, npx spoolgate submit, curl pop3 fetches the mail', async (t) => {
  if (!needPeer(t, 'curl')) return;
  const cmds = tourCommands();
  assert.equal(cmds.length, 2, `the tour has the submit and curl commands: ${JSON.stringify(cmds)}`);
  const dir = ROOT;
  const varDir = join(ROOT, 'var');
  if (existsSync(varDir)) {
    if (inCI) throw new Error('./var/ exists in a CI checkout');
    t.skip('./var/ exists (a developer\'s embedded default state): remove it to run the tour test');
    return;
  }
  t.after(() => rmSync(varDir, { recursive: true, force: true }));
  const npm = spawn('npm', ['start'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npm.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  npm.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const stop = (): void => { try { process.kill(-npm.pid!, 'SIGTERM'); } catch { /* already gone */ } };
  t.after(stop);
  let exited: string | undefined;
  npm.once('exit', (code, signal) => { exited = `npm start exited (${code ?? signal ?? '?'})`; });
  await until('npm start to print its listeners', () => {
    if (exited !== undefined) throw new Error(`${exited} before it was ready; its output:\n${out}`);
    return out.includes('created mailbox user "demo"') && out.includes('pop3');
  }, 120_000).catch((e: unknown) => { throw new Error(`${(e as Error).message}; output so far:\n${out}`); });
  // The demo password is only in the owner-only file, never on the terminal.
  const password = readFileSync(join(varDir, 'state', 'demo.password'), 'utf8').trim();
  assert.ok(password.length >= 12 && !out.includes(password), 'npm start does not print the demo password');
  const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const submitted = sh(cmds[0]!);
  assert.match(submitted, /examples\/hello\.smtp/);
  let fetched = '';
  await until('the mail in the demo mailbox', () => {
    try { fetched = sh(cmds[1]!); } catch { fetched = ''; }
    return fetched.includes('Subject: Hello from the spool');
  }, 30_000);
  assert.match(fetched, /This mail was put on the spool by spoolgate submit\./);
  assert.match(fetched, /^Received: from HELLO \(job J\d+ user /m);
  stop();
  await new Promise<void>((r) => npm.once('exit', () => r()));
});
