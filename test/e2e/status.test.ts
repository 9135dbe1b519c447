// O2 #18 item 6: `spoolgate status` against a started gateway (startServices, as `spoolgate start`
// wires it): pid, version, uptime, node, the listeners with their real ports, messages per queue
// state, the target's state, suspension — as text and --json — and exit 1 with one clear line
// once the instance has stopped. And the queue commands' ages in the one WHEN syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('spoolgate status: what runs, listeners, queue counts, targets, suspension; exit 1 when stopped', async (t) => {
  // The target defers every message: one stays in the queue in state retry.
  const srv = await FakeSmtpServer.start({ onDot: () => '451 4.3.0 try again later' });
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }
    RetryLimit { Count 5 Interval 30 }
    Receiver {\n Listen 127.0.0.1:0\n HostName mx.local.test\n LocalDomain local.test\n}
    Http { Listen 127.0.0.1:0 }`);
  const services = await startServices(config, { log: Logger.silent() });
  let stopped = false;
  t.after(() => (stopped ? undefined : services.stop()));
  await services.gateway.forwarder.start();
  await submitText(config, batchFile('STAT', 1).text, 'STATJOB');
  await until('the message in retry', () => services.gateway.forwarder.counters.currentRetry === 1);

  const smtp = services.listening.find((l) => l.role === 'smtp')!;
  const http = services.listening.find((l) => l.role === 'http')!;
  let r = await spoolgateCli('status', '--config', path);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'EZD1865I TEST STATUS:');
  assert.match(r.stdout, new RegExp(`^  PID +: ${process.pid}   VERSION : ${VERSION.replace(/\./g, '\\.')}   NODE\\.JS : ${process.version}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^  NODE +: ${hostname()}   STARTED : \\S+Z   UPTIME : \\d+s$`, 'm'));
  assert.match(r.stdout, /^ {2}SUSPENDED +: NO$/m);
  assert.match(r.stdout, new RegExp(`^  SMTP +127\\.0\\.0\\.1:${smtp.port}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^  HTTP +127\\.0\\.0\\.1:${http.port}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^  CONTROL +${config.controlSocket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(r.stdout, /^ {2}PROCESSING 0 {3}RETRY 1 {3}EXTENDED 0 {3}HELD 0 {3}DEAD 0 {3}QUARANTINED 0/m);
  assert.match(r.stdout, new RegExp(`^  127\\.0\\.0\\.1 PORT ${srv.port}   ACTIVE   SENT 0   CONNECT FAIL 0`, 'm'));

  // --json: the same facts as data (the console's /api/v1/status fields and the process ones).
  r = await spoolgateCli('status', '--config', path, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    pid: number; version: string; node: string; uptimeSeconds: number; suspendMode: string; instance: string;
    listeners: { role: string; port: number }[]; queue: { counts: Record<string, number> }; targets: { port: number; state: string }[];
  };
  assert.equal(j.pid, process.pid);
  assert.equal(j.version, VERSION);
  assert.equal(j.instance, 'TEST');
  assert.equal(j.suspendMode, 'none');
  assert.ok(j.uptimeSeconds >= 0);
  assert.deepEqual(j.listeners.map((l) => l.role).sort(), ['control', 'http', 'smtp']);
  assert.equal(j.queue.counts.retry, 1);
  assert.deepEqual(j.targets.map((x) => [x.port, x.state]), [[srv.port, 'ACTIVE']]);

  // O2 #18 item 8: the queue commands take the one WHEN syntax (cli/since.ts) for ages; a bare
  // number keeps its old unit. The message is seconds old: not 1h old, but 0m old.
  const total = async (...argv: string[]): Promise<number> => {
    const q = await spoolgateCli('queue', 'list', '--config', path, '--json', ...argv);
    assert.equal(q.code, 0, q.stderr);
    return (JSON.parse(q.stdout) as { total: number }).total;
  };
  assert.equal(await total('--min-age', '1h'), 0);
  assert.equal(await total('--min-age', '60'), 0);
  assert.equal(await total('--min-age', '0m'), 1);
  assert.equal(await total('--state', 'retry'), 1);
  const purge = await spoolgateCli('deadletter', 'purge', '--config', path, '--older-than', '30d', '--yes');
  assert.equal(purge.code, 0, purge.stderr);
  assert.match(purge.stdout, /PURGEDEAD/);
  const badAge = await spoolgateCli('deadletter', 'purge', '--config', path, '--older-than', 'last week', '--yes');
  assert.equal(badAge.code, 2);
  assert.match(badAge.stderr, /^spoolgate deadletter: --older-than "last week" is not a duration \(30m, 12h, 7d\) or an ISO date or date-time/);

  // Suspended: status says so.
  assert.equal((await spoolgateCli('modify', '--config', path, 'SUSPEND')).code, 0);
  r = await spoolgateCli('status', '--config', path);
  assert.match(r.stdout, /^ {2}SUSPENDED +: YES \(IMMEDIATE\)/m);

  // Stopped: exit 1 and one line that says nothing runs.
  stopped = true;
  await services.stop();
  r = await spoolgateCli('status', '--config', path);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^spoolgate status: not running: (no instance is listening on|nothing answers on) .*\n$/);
});
