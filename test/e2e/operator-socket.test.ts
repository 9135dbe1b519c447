// F5 acceptance: the operator commands end to end — a real gateway (startGateway) delivering to a
// FakeSmtpServer, the control socket, and `spoolgate modify` run as a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ok } from '../../src/core/result.js';
import { startControl, type OperatorTarget, type ControlResponse } from '../../src/control/index.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';



test('spoolgate modify over the control socket: D,TARGETS, D,SPOOL, SUSPEND/RESUME (SUPND), FLUSHRETRY, LOGLEVEL', async (t) => {
  let accept = false;
  const srv = await FakeSmtpServer.start({ onDot: () => (accept ? '250 2.0.0 queued' : '451 4.3.0 try again later') });
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} ConnectLimit 2 }
    RetryLimit { Count 5 Interval 30 }
    LogLevel 7`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  let userExit: string | null = null;
  const target: OperatorTarget = {
    forwarder: gw.forwarder,
    config: gw.config,
    refresh: async () => ok({ ignored: [], changed: [] }),
    userExit: () => userExit,
    setUserExit: async (v) => { userExit = v; return ok(undefined); },
  };
  const control = await startControl({ socketPath: config.controlSocket, target, log: gw.log });
  t.after(() => control.close());

  assert.equal(statSync(config.controlSocket).mode & 0o777, 0o600, 'socket only for its owner');
  assert.equal(statSync(resolve(config.controlSocket, '..')).mode & 0o077, 0, 'socket directory closed to others');

  // One message that the target defers: its file is read to the end with all its mail in long
  // retry, so it is parked (R3 item 7) and its task is free; D,SPOOL lists it under the tasks.
  // With Backend PostgreSQL the file is released to the shared queue instead (any node makes the
  // next attempt: docs/cluster.md), and D,SPOOL lists it there; CURRENT RETRY counts it either way.
  await submitText(config, batchFile('OPS', 1).text, 'OPSJOB');
  await until('message in long retry', () => gw.forwarder.counters.currentRetry === 1);

  let r = await spoolgateCli('modify', '--config', path, 'D,SPOOL');
  assert.equal(r.code, 0, r.stderr);
  let lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'EZD1832I TEST SPOOLSTATUS:');
  assert.match(r.stdout, /^(PARKED \(ALL REMAINING MAIL IN LONG RETRY\): 1\nW 00\d OPSJOB\s+J\d+ LRT 1 MAIL READ 1 UNDELIVERABLE 0|RELEASED TO THE SHARED QUEUE \(ALL REMAINING MAIL IN LONG RETRY\): 1\ndb-\d+ +OPSJOB\s+J\d+ LRT 1 NEXT \S+Z NODE \S+)$/m);

  r = await spoolgateCli('modify', '--config', path, 'SUSPEND');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1822I TEST MODIFY SUSPEND IMMEDIATE COMMAND COMPLETED']);
  r = await spoolgateCli('modify', '--config', path, 'DISPLAY,', 'SPOOLSTATUS,', 'DETAIL');
  assert.equal(r.code, 0, r.stderr);
  // The parked file's task is idle (SUPND of a task reading a file: operator-suspend.test.ts).
  assert.match(r.stdout, /^No non-idle TKIDs to display\n(PARKED \(ALL REMAINING MAIL IN LONG RETRY\): 1\nW 00\d|RELEASED TO THE SHARED QUEUE \(ALL REMAINING MAIL IN LONG RETRY\): 1\ndb-\d+ *) OPSJOB /m);
  r = await spoolgateCli('modify', '--config', path, '--json', 'D,SPOOL');
  const json = JSON.parse(r.stdout) as ControlResponse & { data: { suspendMode: string; tasks: { state: string; jobName: string | null }[] } };
  assert.equal(json.ok, true);
  assert.equal(json.data.suspendMode, 'immediate');
  assert.deepEqual(json.data.tasks.filter((x) => x.state !== 'IDLE' && x.state !== 'SUPND').map((x) => x.state), [], 'no task is reading');

  r = await spoolgateCli('modify', '--config', path, 'TEST', 'RES');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1814I TEST MODIFY RESUME COMMAND COMPLETED']);
  r = await spoolgateCli('modify', '--config', path, 'D,SPOOL');
  assert.match(r.stdout, /^(W 00\d|db-\d+ *) OPSJOB\s+J\d+ LRT 1 /m, 'still parked (or released) after RESUME');

  // The target now accepts: FLUSHRETRY sends the long-retry mail at once (Interval is 30 minutes).
  accept = true;
  r = await spoolgateCli('modify', '--config', path, 'FLUSHR,TKID=0');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['EZD1834I TEST MODIFY COMMAND ACCEPTED', 'EZD1810I TEST MODIFY FLUSHRETRY, TKID=0 COMMAND COMPLETED']);
  await until('flushed mail delivered', () => gw.forwarder.counters.mailSent === 1);
  await until('spool file finished', async () => (await gw.queue.list()).length === 0);

  r = await spoolgateCli('modify', '--config', path, 'DIS,TARGETS,ADDR=127.0.0.1');
  assert.equal(r.code, 0, r.stderr);
  lines = r.stdout.trimEnd().split('\n');
  // Example 7's fields with ADDR= (issue #16 item 10): LONG RETRY is the mail in long retry now.
  assert.deepEqual(lines, [
    'EZD1831I TEST TARGETS:', 'GLOBAL INFORMATION:',
    'MAIL SENT : 1                LONG RETRY   : 0',
    'DEADLETTER: 0                UNDELIVERABLE: 0',
    `TARGET SERVER 127.0.0.1 PORT ${srv.port}`,
    'STATE     : ACTIVE',
    'ESMTP     : YES              MESSAGE SIZE : 10485760',
    'SECURE    : NO               MAIL ATTEMPTS: 2',
    'MAIL SENT : 1                CONNECT FAIL : 0',
    'STARTTLS  : NO',
    'LOST ATTEMPTS: 0',
  ]);
  r = await spoolgateCli('modify', '--config', path, 'D,TARGET,ADDR=::1');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^EZD1838E TEST DISPLAY TARGETS ADDR=::1 IS NOT A TARGET SERVER IN USE/);

  r = await spoolgateCli('modify', '--config', path, 'LOGL,LEVEL=15');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['EZD1809I TEST MODIFY LOGLEVEL COMMAND COMPLETED : UPDATED']);
  assert.equal(gw.log.level, 15);
  r = await spoolgateCli('modify', '--config', path, 'D,LOG');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['EZD1828I TEST DISPLAY LOGLEVEL = 15']);

  r = await spoolgateCli('modify', '--config', path, 'D,IPL');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    'EZD1830I TEST IPLIST:',
    'TARGETIP            : 127.0.0.1',
    `CONNECTPORT         : ${String(srv.port).padEnd(14)} CONNECTLIMIT     : 2`,
    'MAXMSGSENT          : 0              MESSAGESIZE      : 524288', // the configured MessageSize; D,TARGETS shows the learned SIZE
    'SECURE              : NO',
  ]);
  r = await spoolgateCli('modify', '--config', path, 'DISPLAY,CONFIG');
  lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'EZD1829I TEST CONFIGURATION:');
  assert.match(lines.find((l) => l.startsWith('LOGLEVEL')) ?? '', /^LOGLEVEL\s+: 15\s+USEREXIT\s+: NONE$/, 'the level set by LOGL, not the file\'s 7');
  assert.ok(lines.includes('TARGETIP            : 127.0.0.1'), r.stdout);
  assert.match(lines.find((l) => l.startsWith('EXTWRTNAME')) ?? '', /^EXTWRTNAME\s+: TESTW\b/);

  r = await spoolgateCli('modify', '--config', path, 'D,BOGUS');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^EZD1835E TEST MODIFY COMMAND NOT VALID : UNKNOWN DISPLAY 'BOGUS'/);
  r = await spoolgateCli('modify', '--config', path, 'OTHER', 'D,LOG');
  assert.equal(r.code, 2, 'wrong instance name');
});
