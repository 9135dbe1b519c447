// R3 #22 leftovers: when the checkpoint cannot be written the forwarder stops sending (h4's
// WAIT). The operator sees why: D,SPOOL shows the task in WAIT with the reason, /readyz answers
// 503 with the contained fault `checkpoint`, /metrics has spoolgate_fault{component="checkpoint"} 1,
// and D,TARGETS lists it under FAULTS. The write failure is injected (a rejected commit, as
// SQLite answers SQLITE_FULL); everything else is the real gateway over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServices } from '../../src/main.js';
import { sendCommand } from '../../src/control/index.js';
import { CHECKPOINT_FAULT_HINT } from '../../src/forwarder/checkpoint.js';
import { STORE_CHECKPOINT_FAULT_HINT } from '../../src/forwarder/store-source.js';
import { failCheckpointWrites } from '../../src/testing/checkpoint-fault.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { recordingLog } from '../faults/contain-helpers.js';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a checkpoint that cannot be written: task WAIT with the reason in D,SPOOL, fault checkpoint in /readyz, metrics and D,TARGETS; all clear once it can', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }
    Http { Listen 127.0.0.1:0 }`);
  const rec = recordingLog();
  const services = await startServices(config, { log: rec.log });
  t.after(() => services.stop());
  const gw = services.gateway;
  // Fault injection: the checkpoint's commits fail as on a full state directory, or a full
  // database with Backend PostgreSQL (testing/checkpoint-fault.ts).
  const fault = await failCheckpointWrites(gw, config);
  const reason = escapeRegExp(fault.reason);
  // Where the operator is told to look: the state directory, or the database of the shared queue.
  const hint = config.store.backend === 'postgresql' ? STORE_CHECKPOINT_FAULT_HINT : CHECKPOINT_FAULT_HINT;
  await gw.forwarder.start();
  await submitText(config, batchFile('CP', 2).text);
  await until('the checkpoint fault', () => gw.health.get('checkpoint') !== undefined);
  await until('a task in WAIT', () => gw.forwarder.tasks.some((x) => x.state === 'WAIT'));

  const control = services.listening.find((l) => l.role === 'control')!;
  const spool = await sendCommand(control.host, 'D,SPOOL');
  assert.ok(spool.ok);
  assert.match(spool.value.lines.join('\n'), new RegExp(String.raw`\nW 001 TESTJOB {2}WAIT .*\n(?:.*\n)*WAIT REASON: checkpoint cannot be written: ${reason}(?:\n|$)`));
  const detail = await sendCommand(control.host, 'D,SPOOL,DETAIL');
  assert.ok(detail.ok);
  assert.ok(detail.value.lines.includes(`WAIT REASON  : checkpoint cannot be written: ${fault.reason}`), detail.value.lines.join('\n'));
  const targets = await sendCommand(control.host, 'D,TARGETS');
  assert.ok(targets.ok);
  assert.match(targets.value.lines.join('\n'), new RegExp(String.raw`\nFAULTS:\n {2}CHECKPOINT SINCE \S+ FAILURES \d+ ROLE DISABLED\n {4}checkpoint cannot be written: ${reason}; sending stopped until it can \(${escapeRegExp(hint)}\)`));

  const http = services.listening.find((l) => l.role === 'http')!;
  const ready = await fetch(`http://127.0.0.1:${http.port}/readyz`);
  assert.equal(ready.status, 503);
  const body = await ready.json() as { faults: { component: string; disabling: boolean }[] };
  assert.deepEqual(body.faults.map((f) => [f.component, f.disabling]), [['checkpoint', true]]);
  const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
  // (With Backend PostgreSQL every series also carries the node's name first: docs/cluster.md.)
  assert.match(metrics, /^spoolgate_fault\{(?:node="[^"]+",)?component="checkpoint"\} 1$/m);
  assert.match(metrics, /^spoolgate_target_lost_attempts_total\{(?:node="[^"]+",)?address="127.0.0.1",port="\d+"\} 0$/m);

  await fault.clear(); // space again: the write is retried with back-off and succeeds
  await until('the fault clears', () => gw.health.get('checkpoint') === undefined);
  await until('both messages delivered', () => srv.messages.length === 2 && gw.forwarder.counters.delivered === 2);
  await until('no task waits', () => gw.forwarder.tasks.every((x) => x.state !== 'WAIT'));
  assert.equal((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status, 200);
  assert.equal(srv.messages.length, 2, 'nothing was sent twice');
});
