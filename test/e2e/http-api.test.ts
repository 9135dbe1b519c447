// SPEC.md §4 / §8 acceptance for `Http { Listen }`: a real gateway (startServices) with the HTTP
// listener, driven by the real curl binary and node's fetch. The API needs the token from the
// state directory; its answer is the control socket's (`spoolgate modify --json`); a SUSPEND sent
// over HTTP is seen over the control socket; /metrics counts a delivery; the console page loads
// with its Content-Security-Policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlResponse } from '../../src/control/index.js';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { batchFile, execProgram, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { CONSOLE_CSP } from '../../src/web/index.js';
import { checkExposition, sampleValue } from '../../src/web/exposition-testutil.js';



const modify = (...args: string[]) => spoolgateCli('modify', ...args);

test('HTTP API, metrics and console against a running gateway: curl and fetch', async (t) => {
  const curl = needPeer(t, 'curl');
  if (!curl) return;
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} ConnectLimit 2 }
    Http { Listen 127.0.0.1:0 }
    LogLevel 7`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const http = services.listening.find((l) => l.role === 'http');
  assert.ok(http !== undefined && http.port > 0, JSON.stringify(services.listening));
  const base = `http://127.0.0.1:${http.port}`;

  // The token: created on first start, only for the instance's user.
  const tokenFile = join(config.stateDirectory, 'http.token');
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const bearer = `Authorization: Bearer ${token}`;

  // No token / a wrong token: 401 with the challenge, from curl.
  let r = await execProgram(curl, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '--data-binary', 'D,TARGETS', `${base}/api/v1/command`]);
  assert.equal(r.stdout, '401');
  r = await execProgram(curl, ['-s', '-D', '-', '-o', '/dev/null', '-H', 'Authorization: Bearer not-the-token-at-all', `${base}/api/v1/display/targets`]);
  assert.match(r.stdout, /^HTTP\/1\.1 401 /);
  assert.match(r.stdout, /^www-authenticate: Bearer realm="spoolgate", error="invalid_token"\r$/im);

  // D,TARGETS over HTTP (`curl -d`, as the README shows it) = `spoolgate modify --json D,TARGETS`.
  r = await execProgram(curl, ['-s', '-f', '--oauth2-bearer', token, '-d', 'D,TARGETS', `${base}/api/v1/command`]);
  assert.equal(r.code, 0, r.stderr);
  const viaHttp = JSON.parse(r.stdout) as ControlResponse;
  const m = await modify('--config', path, '--json', 'D,TARGETS');
  assert.equal(m.code, 0, m.stderr);
  const viaSocket = JSON.parse(m.stdout) as ControlResponse;
  assert.deepEqual(viaHttp, viaSocket);
  assert.equal(viaHttp.lines[0], 'EZD1831I TEST TARGETS:');
  // The GET form gives the same answer.
  const viaGet = await (await fetch(`${base}/api/v1/display/targets`, { headers: { Authorization: `Bearer ${token}` } })).json() as ControlResponse;
  assert.deepEqual(viaGet, viaSocket);

  // A delivery, then /metrics (no token needed) counts it.
  await submitText(config, batchFile('HTTP', 1).text, 'HTTPJOB');
  await until('message delivered', () => services.gateway.forwarder.counters.mailSent === 1);
  await until('spool file finished', async () => (await services.gateway.queue.list()).length === 0);
  r = await execProgram(curl, ['-s', '-f', `${base}/metrics`]);
  assert.equal(r.code, 0, r.stderr);
  const samples = checkExposition(r.stdout);
  assert.equal(sampleValue(samples, 'spoolgate_mail_sent_total'), 1);
  assert.equal(sampleValue(samples, 'spoolgate_target_mail_sent_total', { address: '127.0.0.1', port: String(srv.port) }), 1);
  assert.equal(sampleValue(samples, 'spoolgate_target_state', { address: '127.0.0.1', port: String(srv.port), state: 'ACTIVE' }), 1);
  assert.equal(sampleValue(samples, 'spoolgate_delivery_latency_seconds_count', { outcome: 'delivered' }), 1);
  assert.equal(sampleValue(samples, 'spoolgate_spool_files'), 0);
  assert.equal(sampleValue(samples, 'spoolgate_suspended', { mode: 'none' }), 1);

  // SUSPEND over HTTP (JSON body, fetch) is seen over the control socket; RESUME over HTTP undoes it.
  let res = await fetch(`${base}/api/v1/command`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ command: 'SUSPEND' }) });
  assert.equal(res.status, 200);
  assert.deepEqual(((await res.json()) as ControlResponse).lines, ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1822I TEST MODIFY SUSPEND IMMEDIATE COMMAND COMPLETED']);
  const spool = await modify('--socket', config.controlSocket, '--json', 'D,SPOOL');
  assert.equal(spool.code, 0, spool.stderr);
  const spoolData = (JSON.parse(spool.stdout) as ControlResponse & { data: { suspendMode: string; tasks: { state: string }[] } }).data;
  assert.equal(spoolData.suspendMode, 'immediate');
  assert.ok(spoolData.tasks.length > 0, 'the tasks are listed (IDLE ones stay IDLE; a task reading a file shows SUPND)');
  r = await execProgram(curl, ['-s', '-H', bearer, `${base}/api/v1/display/spool?detail=1`]);
  assert.equal((JSON.parse(r.stdout) as { data: { suspendMode: string } }).data.suspendMode, 'immediate');
  r = await execProgram(curl, ['-s', '-H', bearer, '-H', 'Content-Type: application/json', '--data-binary', '{"command":"RES"}', `${base}/api/v1/command`]);
  assert.equal((JSON.parse(r.stdout) as ControlResponse).command, 'RESUME');
  assert.equal(services.gateway.forwarder.suspendMode, 'none');

  // A command the parser refuses: 422 with the EZD1835E line.
  res = await fetch(`${base}/api/v1/command`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: 'D,BOGUS' });
  assert.equal(res.status, 422);
  assert.match(((await res.json()) as ControlResponse).lines[0] ?? '', /^EZD1835E TEST MODIFY COMMAND NOT VALID : UNKNOWN DISPLAY 'BOGUS'/);

  // The console: page and script load with the strict CSP, no inline script.
  r = await execProgram(curl, ['-s', '-D', '-', `${base}/`]);
  assert.match(r.stdout, /^HTTP\/1\.1 200 /);
  assert.ok(r.stdout.toLowerCase().includes(`content-security-policy: ${CONSOLE_CSP.toLowerCase()}\r\n`), r.stdout.slice(0, 600));
  assert.match(r.stdout, /<script src="\/console.js" defer><\/script>/);
  res = await fetch(`${base}/console.js`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /\/api\/v1\/command/);
});
