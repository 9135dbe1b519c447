// O1 #17: a message's history survives a restart. A real gateway (startServices) sends a job
// message to a target that answers 451; the operator holds and releases it (REST, with a
// reason); the gateway stops and starts again on the same state. `queue show` (REST and the CLI's
// text) then still lists the operator's actions with who and why, and the delivery attempts made
// before the restart with their 451 replies: both come from the journal, not from memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { run as queueCli } from '../../src/cli/queue.js';
import { runCli } from '../../src/testing/cli.js';
import { FaultTarget } from '../../src/testing/fault-target.js';
import { submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { tempDir } from '../../src/testing/peers.js';
import type { QueueDetail, QueueItem } from '../../src/queue/index.js';

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;

function apiOf(services: Services, stateDir: string): Api {
  const http = services.listening.find((l) => l.role === 'http')!;
  const token = readFileSync(join(stateDir, 'http.token'), 'utf8').trim();
  return async (method, p, body) => {
    const r = await fetch(`http://127.0.0.1:${http.port}${p}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: r.status, body: await r.json() as Record<string, unknown> };
  };
}

test('queue show after a restart: the operator\'s actions and the attempts before it, from the journal', async (t) => {
  const target = await FaultTarget.start({ rcpt: (a) => (/@soft\.test>?$/i.test(a) ? '451 4.2.0 mailbox busy' : undefined) });
  t.after(() => target.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit 2 }
    RetryLimit { Count 9 Interval 60 }
    Http { Listen 127.0.0.1:0 }
    Pop3 { Listen 127.0.0.1:0 }`);
  const log = (): Logger => (process.env.GW_LOG ? Logger.create({ sink: { write: (r) => console.error(JSON.stringify(r)) }, instance: 'T', level: 255 }) : Logger.silent());
  let services = await startServices(config, { log: log() });
  let stopped = false;
  t.after(async () => { if (!stopped) await services.stop(); });
  await services.gateway.forwarder.start();
  let api = apiOf(services, config.stateDirectory);
  await submitText(config, 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nRCPT TO:<u@soft.test>\r\nDATA\r\nSubject: HIST 1\r\n\r\nbody\r\n.\r\nQUIT\r\n', 'HISTJOB');
  let item: QueueItem | undefined;
  await until('in retry', async () => { item = ((await api('GET', '/api/v1/queue?state=retry')).body.items as QueueItem[])[0]; return item !== undefined; });
  const qid = item!.id;
  assert.equal((await api('POST', `/api/v1/queue/${qid}/hold`, { reason: 'asking the customer', operator: 'dora' })).status, 200);
  // A release tries it at once: a second 451.
  assert.equal((await api('POST', `/api/v1/queue/${qid}/release`, { reason: 'customer says go', operator: 'erik' })).status, 200);
  await until('two attempts journaled', async () => (await services.store!.journal.query({ type: 'deferred' })).length >= 2);
  const before = (await api('GET', `/api/v1/queue/${qid}`)).body.item as QueueDetail;
  assert.ok(before.history.length >= 2);

  await services.stop();
  stopped = true;
  const restartedAt = Date.now();
  services = await startServices(config, { log: log() });
  stopped = false;
  api = apiOf(services, config.stateDirectory);
  // The file is read again; the message's in-memory history starts empty in this process.
  await services.gateway.forwarder.start();
  let shown: QueueDetail | undefined;
  await until('listed again under the same queue id', async () => {
    const r = await api('GET', `/api/v1/queue/${qid}`);
    if (r.status === 200) shown = r.body.item as QueueDetail;
    return shown !== undefined;
  });
  const acts = shown!.actions.map((a) => [a.action, a.operator]);
  assert.deepEqual(acts, [['hold', 'http:dora'], ['release', 'http:erik']]);
  assert.match(shown!.actions[0]!.detail, /asking the customer$/);
  const deferred = shown!.history.filter((h) => h.status === 'deferred' && Date.parse(h.at) < restartedAt);
  assert.ok(deferred.length >= 2, `the attempts made before the restart: ${JSON.stringify(shown!.history)}`);
  for (const h of deferred) {
    assert.equal(h.recipient, 'u@soft.test');
    assert.match(h.reply, /451 4\.2\.0 mailbox busy/);
  }
  assert.equal(deferred[0]!.target, `127.0.0.1:${target.port}`);
  // The CLI's text (MODIFY DISPLAY,QUEUE,ID=) lists them too.
  const cli = await runCli(queueCli, ['show', qid, '--config', path]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^ {2}ACTIONS:$/m);
  assert.match(cli.stdout, /^ {4}\S+ HOLD BY http:dora: held \(was retry(?:; in the shared queue)?\); by http:dora: asking the customer$/m);
  assert.match(cli.stdout, /^ {4}\S+ u@soft\.test DEFERRED 451 4\.2\.0 mailbox busy \(127\.0\.0\.1:\d+\)$/m);
});
