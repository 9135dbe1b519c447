// Issue #15 item 8: the HTTP token is not the gateway's user. Against a running gateway: USEREXIT
// over HTTP (curl, with the token) is 403 and loads nothing; a foreign Host header is 403 (DNS
// rebinding); on the control socket USEREXIT takes modules only from UserExitDirectory, owner-only;
// a UserExit statement naming a module elsewhere stops the start with the file and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlResponse } from '../../src/control/index.js';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { execProgram, spoolgateCli, writeConfig } from '../../src/testing/gateway.js';

/** A module whose loading leaves a mark: the proof that it ran as the gateway's user. */
function exitModule(path: string, marker: string): void {
  writeFileSync(path, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default () => 'CONTINUE';\n`, { mode: 0o644 });
  chmodSync(path, 0o644);
}

test('USEREXIT over HTTP is 403 and loads nothing; on the control socket only owner-only modules in UserExitDirectory', async (t) => {
  const curl = needPeer(t, 'curl');
  if (!curl) return;
  const dir = tempDir(t);
  const elsewhere = join(tempDir(t), 'evil.mjs');
  const marker = join(dir, 'loaded');
  exitModule(elsewhere, marker);
  const { path, config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }\nHttp { Listen 127.0.0.1:0 }');
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  const http = services.listening.find((l) => l.role === 'http')!;
  const base = `http://127.0.0.1:${http.port}`;
  const token = readFileSync(join(config.stateDirectory, 'http.token'), 'utf8').trim();

  // The HTTP token holder asks for a module anywhere: 403, nothing loaded.
  let r = await execProgram(curl, ['-s', '-w', '\n%{http_code}', '--oauth2-bearer', token, '-d', `USEREXIT,LEVEL=${elsewhere}`, `${base}/api/v1/command`]);
  const status = r.stdout.slice(r.stdout.lastIndexOf('\n') + 1);
  assert.equal(status, '403', r.stdout);
  assert.match((JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('\n'))) as { error: string }).error, /USEREXIT is offered on the control socket only/);
  assert.equal(existsSync(marker), false, 'the module was not loaded');
  assert.equal(services.gateway.userExit(), null);

  // DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 sends its own name as Host.
  r = await execProgram(curl, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: evil.example', `${base}/metrics`]);
  assert.equal(r.stdout, '403');
  r = await execProgram(curl, ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://localhost:${http.port}/metrics`]);
  assert.equal(r.stdout, '200');

  // The operator on the control socket: a module outside UserExitDirectory is refused before loading.
  const modify = async (line: string): Promise<ControlResponse> => {
    const m = await spoolgateCli('modify', '--config', path, '--json', line);
    return JSON.parse(m.stdout) as ControlResponse;
  };
  let m = await modify(`USEREXIT,LEVEL=${elsewhere}`);
  assert.equal(m.ok, false);
  assert.match(m.lines[0]!, /EZD1836E .* USEREXIT COMMAND FAILED : .*evil\.mjs REFUSED: not inside UserExitDirectory/);
  assert.equal(existsSync(marker), false);
  // Inside the folder but writable by others: refused; made owner-only: loaded.
  mkdirSync(join(dir, 'exits'), { mode: 0o755 });
  const inside = join(dir, 'exits', 'check.mjs');
  exitModule(inside, marker);
  chmodSync(inside, 0o666);
  m = await modify('USEREXIT,LEVEL=exits/check.mjs');
  assert.equal(m.ok, false);
  assert.match(m.lines[0]!, /check\.mjs REFUSED: .*check\.mjs is writable by everybody \(mode 666\); chmod go-w it/);
  assert.equal(existsSync(marker), false);
  chmodSync(inside, 0o644);
  m = await modify('USEREXIT,LEVEL=exits/check.mjs');
  assert.equal(m.ok, true, m.lines.join('\n'));
  assert.equal(services.gateway.userExit(), inside);
  assert.equal(existsSync(marker), true, 'the admitted module was loaded');
});

test('a UserExit statement naming a module outside UserExitDirectory stops the start, naming the file and the fix', async (t) => {
  const dir = tempDir(t);
  const elsewhere = join(tempDir(t), 'evil.mjs');
  exitModule(elsewhere, join(dir, 'loaded'));
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\nUserExit ${elsewhere}`);
  await assert.rejects(startServices(config, { log: Logger.silent() }), (e: Error) => {
    assert.match(e.message, /spoolgate\.conf: UserExit .*evil\.mjs cannot be used: REFUSED: not inside UserExitDirectory .*; put the module there or change UserExitDirectory/);
    return true;
  });
  assert.equal(existsSync(join(dir, 'loaded')), false);
});
