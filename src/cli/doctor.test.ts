// `spoolgate doctor`: each check finds the fault it is for, with a fix, and a clean machine
// passes. Real parts: openssl-made certificates, real sockets for the ports and the targets
// (a scripted SMTP server offering STARTTLS, and a port where nothing listens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { run } from './doctor.js';
import { runCli } from '../testing/cli.js';
import { testCerts } from '../testing/certs.js';
import { FakeSmtpServer } from '../testing/fake-smtp-server.js';
import { isRoot, tempDir } from '../testing/peers.js';
import { writeConfig } from '../testing/gateway.js';

function listenBusy(): Promise<{ server: Server; port: number }> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      done({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}

test('doctor: a mismatched key, a busy port, a missing user exit, an unreachable target and an unwritable log directory all FAIL with a fix', async (t) => {
  const dir = tempDir(t);
  const a = testCerts();
  const b = testCerts('other.test');
  const busy = await listenBusy();
  t.after(() => { busy.server.close(); });
  const dead = await listenBusy();
  await new Promise<void>((r) => dead.server.close(() => r())); // a port where nothing listens now
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  chmodSync(logDir, 0o700); // root's; uid 65534 cannot write
  const { path } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${dead.port} }
    UserExit ${join(dir, 'missing-exit.mjs')}
    LogFile ${join(logDir, 'gw.log')}
    Receiver { Listen 127.0.0.1:${busy.port} LocalDomain local.test TlsCert ${a.certFile} TlsKey ${b.keyFile} }`);
  const r = await runCli(run, ['--config', path, ...(isRoot ? ['--user', 'nobody'] : [])]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stdout;
  assert.match(lines, /^FAIL receiver TLS key: .*key\.pem does not belong to .*cert\.pem/m);
  assert.match(lines, new RegExp(`^FAIL receiver port: 127\\.0\\.0\\.1:${busy.port} is in use by another program\\n {5}fix: find it with: ss -ltnp`, 'm'));
  assert.match(lines, /^FAIL user exit: .*missing-exit\.mjs/m);
  assert.match(lines, new RegExp(`^FAIL target 127\\.0\\.0\\.1:${dead.port}: connect: `, 'm'));
  if (isRoot) assert.match(lines, /^FAIL log directory: .*logs is not writable by nobody/m);
  assert.match(lines, /^NOT ready: \d+ failed/m);
});

test('doctor: a healthy setup is ready; the target line shows its EHLO capabilities; --json has the same findings', async (t) => {
  const dir = tempDir(t);
  const a = testCerts();
  const target = await FakeSmtpServer.start();
  t.after(() => target.close());
  const { path } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }
    Receiver { Listen 127.0.0.1:0 LocalDomain local.test TlsCert ${a.certFile} TlsKey ${a.keyFile} }`);
  const r = await runCli(run, ['--config', path]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok {3}configuration: .* loads$/m);
  // testCerts() are made for 30 days: under the 30-day warning.
  assert.match(r.stdout, /^warn receiver TLS certificate: .*cert\.pem expires in 2\d days/m);
  assert.match(r.stdout, new RegExp(`^ok {3}target 127\\.0\\.0\\.1:${target.port}: ESMTP, STARTTLS (yes|no), SIZE`, 'm'));
  assert.match(r.stdout, /^ok {3}writer lock: writer TESTW is free$/m);
  assert.match(r.stdout, /^ready: 0 failed/m);
  const j = await runCli(run, ['--config', path, '--json', '--no-targets']);
  assert.equal(j.code, 0);
  const parsed = JSON.parse(j.stdout) as { findings: { verdict: string; what: string }[] };
  assert.ok(parsed.findings.some((f) => f.what === 'receiver TLS certificate' && f.verdict === 'warn'));
  assert.ok(!parsed.findings.some((f) => f.what.startsWith('target')), '--no-targets');
});

test('doctor: DKIM key files are read as at start: a broken one FAILS naming file and line, a good one shows the TXT record to publish', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'corp.key');
  writeFileSync(good, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const bad = join(dir, 'bad.key');
  writeFileSync(bad, 'not a key\n', { mode: 0o600 });
  const { path } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 }
    Dkim { Domain corp.test Selector s1 KeyFile ${good} Algorithm ed25519-sha256 }`);
  let r = await runCli(run, ['--config', path, '--no-targets']);
  assert.match(r.stdout, /^ok {3}DKIM key: .*corp\.key signs corp\.test; publish TXT at s1\._domainkey\.corp\.test: "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/m);
  assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
  writeFileSync(path, readFileSync(path, 'utf8').replace(good, bad));
  r = await runCli(run, ['--config', path, '--no-targets']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL DKIM key: .*spoolgate\.conf:\d+: Dkim KeyFile: .*bad\.key cannot be used: not a PEM private key; allowed .*openssl genpkey -algorithm ed25519/m);
});
