// Fault injection (R3 #22 item 6): a stop (SIGTERM) while the target hangs. The attempts in
// flight get DrainTimeout, then their connections are cut; everything else read stays in the
// spool unsent, and the next start delivers it. Duplicates: at most the attempts in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultTarget, assertConserved, conservation, subjectOf } from '../../src/testing/fault-target.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, runGateway, submitText, writeConfig } from '../../src/testing/gateway.js';

const CONNECT_LIMIT = 2;

test('stop with a hanging target ends after DrainTimeout, sends nothing more, and the rest is delivered after the restart', async (t) => {
  const target = await FaultTarget.start();
  t.after(() => target.close());
  target.fault = { kind: 'hang-after-data' };
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit ${CONNECT_LIMIT} }\nTimeout { DataTerm 600 }\nDrainTimeout 1`);
  const n = 20;
  await submitText(config, batchFile('STOP', n).text, 'STOPJOB');
  const gw = await runGateway(config);
  await target.waitFor('both connections hanging', () => target.received.length >= CONNECT_LIMIT, 30_000);
  // Read-ahead is bounded by the connections: the task read only what it could put on one.
  assert.equal(gw.forwarder.tasks.reduce((n, task) => n + task.counters.mailRead, 0), CONNECT_LIMIT, 'messages read ahead of the connections');
  // Without the bound this waits DataTerm (600 s) per attempt; the test's own bound is 20 s.
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([gw.stop(), new Promise((_, reject) => { bound = setTimeout(() => reject(new Error('stop did not end within DrainTimeout')), 20_000); })]);
  clearTimeout(bound);
  assert.equal(target.received.length, CONNECT_LIMIT, 'nothing but the attempts in flight was sent');
  // Next start: the target is healthy; everything is delivered, the two in flight may be duplicates.
  target.fault = { kind: 'none' };
  const gw2 = await runGateway(config);
  t.after(() => gw2.stop());
  const read = Array.from({ length: n }, (_, i) => `STOP message ${i + 1}`);
  await target.waitFor('all delivered', () => new Set(target.accepted.map((m) => subjectOf(m.data))).size >= n, 60_000);
  const r = conservation({ read, delivered: target.received.map((m) => subjectOf(m.data)) });
  assertConserved(r, { maxDuplicates: CONNECT_LIMIT });
});
