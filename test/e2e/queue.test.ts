// O1 #17 acceptance (items 1-3): a real gateway (startServices, HTTP listener) in front of a
// scriptable target that answers 451 for some recipients and 550 for others. Each queue action,
// through the REST routes, moves the message to the expected state; what reaches the target (or
// the sender's notification) is checked; the counters, the log's queue.action lines and the
// journal agree. Hostile ids and filters are clear 400s.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { FaultTarget } from '../../src/testing/fault-target.js';
import { tempDir } from '../../src/testing/peers.js';
import { submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { TEST_BACKEND } from '../../src/testing/backend.js';
import type { QueueItem } from '../../src/queue/index.js';
import type { Config } from '../../src/config/index.js';

interface Env {
  readonly services: Services;
  readonly target: FaultTarget;
  readonly config: Config;
  readonly path: string;
  readonly api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
  readonly log: LogRecord[];
  /** Recipients the target refuses: address -> reply (changeable while the test runs). */
  readonly refuse: Map<string, string>;
}

async function gateway(t: TestContext, extra: string): Promise<Env> {
  const refuse = new Map<string, string>();
  const target = await FaultTarget.start({ rcpt: (a) => refuse.get(a.replace(/^<|>$/g, '').toLowerCase()) });
  t.after(() => target.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit 2 }
    Http { Listen 127.0.0.1:0 }
    Pop3 { Listen 127.0.0.1:0 }
    LogLevel 7
    ${extra}`);
  const log: LogRecord[] = [];
  const logger = Logger.create({ sink: { write: (r) => { log.push(r); } }, instance: 'TEST', level: 255 });
  const services = await startServices(config, { log: logger });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const http = services.listening.find((l) => l.role === 'http')!;
  const token = readFileSync(join(config.stateDirectory, 'http.token'), 'utf8').trim();
  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`http://127.0.0.1:${http.port}${p}`, {
      method, headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: await r.json() as Record<string, unknown> };
  };
  return { services, target, config, path, api, log, refuse };
}

function job(tag: string, messages: readonly { readonly from?: string; readonly to: readonly string[] }[]): string {
  let text = 'HELO JOBHOST\r\n';
  messages.forEach((m, i) => {
    text += [`MAIL FROM:<${m.from ?? 'job@corp.test'}>`, ...m.to.map((r) => `RCPT TO:<${r}>`), 'DATA'].join('\r\n') + '\r\n';
    text += `From: job@corp.test\r\nTo: ${m.to.join(', ')}\r\nSubject: ${tag} ${i + 1}\r\nMessage-ID: <${tag}.${i + 1}@corp.test>\r\n\r\nbody of ${tag} ${i + 1}\r\n.\r\n`;
  });
  return text + 'QUIT\r\n';
}

const items = (b: Record<string, unknown>): QueueItem[] => b.items as QueueItem[];
const subjectOf = (data: Buffer): string => /^Subject: (.*)$/m.exec(data.toString('latin1'))?.[1]?.trim() ?? '?';
const actions = (env: Env): Record<string, unknown>[] => env.log.filter((r) => r.event === 'queue.action').map((r) => r.fields as Record<string, unknown>);

test('queue actions over REST move each message to the expected state (451/550 target)', async (t) => {
  const env = await gateway(t, 'RetryLimit { Count 5 Interval 60 }');
  const { api, target, refuse, services } = env;
  const counters = services.gateway.forwarder.counters;
  for (const a of ['soft1@remote.test', 'soft2@remote.test', 'soft3@remote.test']) refuse.set(a, '451 4.2.0 mailbox busy, try later');
  refuse.set('hard1@remote.test', '550 5.1.1 no such user');
  await submitText(env.config, job('QA', [
    { to: ['soft1@remote.test', 'hard1@remote.test', 'ok1@remote.test'] },
    { to: ['soft2@remote.test'] },
    { to: ['soft3@remote.test'] },
  ]), 'QJOB');

  // All three wait in long retry after their first attempt; ok1 was delivered with message 1.
  let list: QueueItem[] = [];
  await until('three messages in retry', async () => { list = items((await api('GET', '/api/v1/queue?state=retry')).body); return list.length === 3; });
  assert.equal(target.accepted.length, 1);
  assert.deepEqual(target.accepted[0]!.recipients, ['ok1@remote.test']);
  const bySubject = new Map<string, QueueItem>();
  for (const it of list) {
    assert.match(it.id, /^[0-9a-f]{12}-[1-3]$/);
    assert.equal(it.jobName, 'QJOB');
    assert.equal(it.sender, 'job@corp.test');
    assert.equal(it.target, '127.0.0.1');
    assert.ok(it.nextAttempt !== null && Date.parse(it.nextAttempt) > Date.now());
    bySubject.set(`QA ${it.id.split('-')[1]}`, it);
  }
  // One spool file: one id prefix for its three messages.
  assert.equal(new Set(list.map((i) => i.id.split('-')[0])).size, 1);
  const m1 = bySubject.get('QA 1')!, m2 = bySubject.get('QA 2')!, m3 = bySubject.get('QA 3')!;
  const state = (it: QueueItem, a: string) => it.recipients.find((r) => r.address === a);
  assert.deepEqual(state(m1, 'hard1@remote.test'), { address: 'hard1@remote.test', state: 'failed', lastReply: '550 5.1.1 no such user' });
  assert.deepEqual(state(m1, 'soft1@remote.test'), { address: 'soft1@remote.test', state: 'deferred', lastReply: '451 4.2.0 mailbox busy, try later' });
  assert.deepEqual(state(m1, 'ok1@remote.test'), { address: 'ok1@remote.test', state: 'delivered', lastReply: null });

  // Summary, shape and the filters agree with the list.
  const sum = (await api('GET', '/api/v1/queue/summary')).body as { counts: Record<string, number>; oldestAgeSeconds: number };
  assert.equal(sum.counts.retry, 3);
  const shape = (await api('GET', '/api/v1/queue/shape?by=domain')).body as { buckets: number[]; rows: { key: string; total: number; counts: number[] }[] };
  assert.deepEqual(shape.buckets.slice(0, 4), [5, 10, 20, 40]);
  assert.deepEqual(shape.rows.find((r) => r.key === 'remote.test')?.counts[0], 3);
  assert.equal(items((await api('GET', '/api/v1/queue?recipient=SOFT2@remote.test')).body).length, 1);
  assert.equal(items((await api('GET', '/api/v1/queue?domain=remote.test&job=qjob&sender=job@corp')).body).length, 3);
  assert.equal(items((await api('GET', '/api/v1/queue?minAge=3600')).body).length, 0);

  // show: envelope, per-recipient history, headers; the body only when asked.
  let r = await api('GET', `/api/v1/queue/${m1.id}`);
  assert.equal(r.status, 200);
  const shown = r.body.item as { headers: string; body?: string; history: { recipient: string; status: string; reply: string }[] };
  assert.match(shown.headers, /^Subject: QA 1\r$/m);
  assert.equal(shown.body, undefined);
  assert.deepEqual(shown.history.map((h) => `${h.recipient} ${h.status}`).sort(), ['hard1@remote.test bounced', 'ok1@remote.test sent', 'soft1@remote.test deferred']);
  assert.match(((await api('GET', `/api/v1/queue/${m1.id}?body=1`)).body.item as { body: string }).body, /body of QA 1/);

  // hold -> held; retry on a held message is refused; release -> tried at once (451 again: retry).
  r = await api('POST', `/api/v1/queue/${m2.id}/hold`, { reason: 'flood check', operator: 'alice' });
  assert.equal(r.status, 200);
  assert.equal((r.body.item as QueueItem).state, 'held');
  assert.equal((await api('POST', `/api/v1/queue/${m2.id}/hold`, { reason: 'again' })).status, 409);
  assert.equal((await api('POST', `/api/v1/queue/${m2.id}/retry`, {})).status, 409);
  r = await api('POST', `/api/v1/queue/${m2.id}/release`, { reason: 'checked' });
  assert.equal(r.status, 200);
  await until('released message back in retry after its 451', async () => {
    const x = (await api('GET', `/api/v1/queue/${m2.id}`)).body.item as QueueItem | undefined;
    return x?.state === 'retry' && x.attempts === 2;
  });
  // A 451 answers RCPT: no message data reached the target for it.
  assert.equal(target.accepted.length, 1);

  // retry now, with the target now taking soft2: delivered, gone from the queue.
  refuse.delete('soft2@remote.test');
  r = await api('POST', `/api/v1/queue/${m2.id}/retry`, { reason: 'mailbox fixed' });
  assert.equal(r.status, 200);
  await target.waitFor('retried message delivered', () => target.accepted.some((m) => m.recipients.includes('soft2@remote.test')));
  await until('delivered message left the queue', async () => (await api('GET', `/api/v1/queue/${m2.id}`)).status === 404);
  assert.equal(subjectOf(target.accepted.find((m) => m.recipients.includes('soft2@remote.test'))!.data), 'QA 2');

  // bounce: message 1 becomes undeliverable; the sender's notification names soft1 and hard1.
  const undeliver = counters.undeliver;
  r = await api('POST', `/api/v1/queue/${m1.id}/bounce`, { reason: 'customer asked' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(counters.undeliver, undeliver + 1);
  await target.waitFor('notification to the sender', () => target.accepted.some((m) => m.recipients.includes('job@corp.test')));
  const dsn = target.accepted.find((m) => m.recipients.includes('job@corp.test'))!;
  assert.equal(dsn.from, '');
  const dsnText = dsn.data.toString('latin1');
  assert.match(dsnText, /multipart\/report/);
  assert.match(dsnText, /Final-Recipient: rfc822;\s*soft1@remote\.test/i);
  assert.match(dsnText, /Final-Recipient: rfc822;\s*hard1@remote\.test/i);
  assert.match(dsnText, /returned by the operator \(http\): customer asked/);
  assert.doesNotMatch(dsnText, /Final-Recipient: rfc822;\s*ok1@remote\.test/i);
  assert.equal((await api('GET', `/api/v1/queue/${m1.id}`)).status, 404);

  // delete: message 3 leaves without any notification.
  const notifications = target.accepted.filter((m) => m.recipients.includes('job@corp.test')).length;
  const undeliverable = counters.undeliverable;
  r = await api('POST', `/api/v1/queue/${m3.id}/delete`, { reason: 'spam' });
  assert.equal(r.status, 200);
  assert.equal(counters.undeliverable, undeliverable + 1);
  assert.equal((await api('GET', `/api/v1/queue/${m3.id}`)).status, 404);
  assert.equal((await api('POST', `/api/v1/queue/${m3.id}/delete`, { reason: 'twice' })).status, 404);
  await until('spool file finished', async () => (await services.gateway.queue.list()).length === 0);
  assert.equal(target.accepted.filter((m) => m.recipients.includes('job@corp.test')).length, notifications);
  assert.equal(items((await api('GET', '/api/v1/queue')).body).length, 0);

  // The log and the journal hold each action with operator and reason, and agree with each other.
  const done = actions(env).map((a) => `${String(a.action)} ${String(a.qid)} ${String(a.operator)} ${String(a.reason)}`);
  assert.deepEqual(done, [
    `hold ${m2.id} http:alice flood check`, `release ${m2.id} http checked`, `retry ${m2.id} http mailbox fixed`,
    `bounce ${m1.id} http customer asked`, `delete ${m3.id} http spam`,
  ]);
  const journal = await services.store!.journal.query({});
  const queueEvents = journal.filter((e) => e.type.startsWith('queue.')).map((e) => `${e.type} ${e.messageId ?? ''} ${e.user ?? ''}`);
  assert.deepEqual(queueEvents, [`queue.hold ${m2.id} http:alice`, `queue.release ${m2.id} http`, `queue.retry ${m2.id} http`, `queue.bounce ${m1.id} http`, `queue.delete ${m3.id} http`]);
  // Every delivery line carries the queue id.
  const deliveries = env.log.filter((x) => x.event === 'mail.delivery');
  assert.ok(deliveries.length >= 5);
  for (const d of deliveries) assert.match(String((d.fields as Record<string, unknown>).qid), /^[0-9a-f]{12}-\d+$/);
});

test('hostile input: path characters in ids, unknown states, huge filters, bad bodies are clear 400s', async (t) => {
  const { api } = await gateway(t, 'RetryLimit { Count 5 Interval 60 }');
  const bad = async (method: string, p: string, body?: unknown, status = 400): Promise<string> => {
    const r = await api(method, p, body);
    assert.equal(r.status, status, `${method} ${p}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.ok, false);
    assert.equal(typeof r.body.error, 'string');
    return r.body.error as string;
  };
  assert.match(await bad('GET', '/api/v1/queue/..%2F..%2Fetc%2Fpasswd'), /not a queue id/);
  assert.match(await bad('POST', '/api/v1/queue/..%2Fx/hold', {}), /not a queue id/);
  assert.match(await bad('GET', '/api/v1/queue/%E0%A4%A'), /percent-encoding/);
  assert.match(await bad('GET', '/api/v1/queue?state=frozen'), /unknown state 'frozen'/);
  assert.match(await bad('GET', '/api/v1/queue?colour=red'), /unknown filter 'colour'/);
  assert.match(await bad('GET', `/api/v1/queue?sender=${'a'.repeat(5000)}`), /longer than 320/);
  assert.match(await bad('GET', '/api/v1/queue?limit=1000000'), /limit must be/);
  assert.match(await bad('GET', '/api/v1/queue?minAge=-5'), /minAge must be/);
  assert.match(await bad('GET', '/api/v1/queue/shape?by=planet'), /target or domain/);
  assert.match(await bad('POST', '/api/v1/queue/0123456789ab-1/hold', { reason: 'x'.repeat(600) }), /reason/);
  assert.match(await bad('POST', '/api/v1/queue/0123456789ab-1/hold', { reason: 'x', operator: 'a b' }), /operator/);
  assert.match(await bad('POST', '/api/v1/queue/0123456789ab-1/hold', [1, 2]), /JSON object/);
  assert.match(await bad('POST', '/api/v1/queue/0123456789ab-1/hold', { reason: 'x' }, 404), /no message/);
  assert.match(await bad('POST', '/api/v1/queue/0123456789ab-1/explode', {}, 404), /unknown action/);
  assert.match(await bad('POST', '/api/v1/deadletters/..%2F..%2Fx/requeue', {}), /not a dead-letter id/);
  assert.match(await bad('POST', '/api/v1/deadletters/purge', { olderThanDays: -1 }), /olderThanDays/);
  assert.match(await bad('POST', '/api/v1/deadletters/purge', {}), /olderThanDays/);
  assert.match(await bad('GET', '/api/v1/spool/held/..%2F..%2Fetc'), /not a spool entry name/);
  assert.match(await bad('GET', '/api/v1/spool/held/nothere', undefined, 404), /no held spool file/);
});

test('extended retry, dead letters and held spool files through the same model and routes', async (t) => {
  const env = await gateway(t, 'RetryLimit { Count 0 Interval 1 }\nExtendedRetry { Age 1 Interval 1440 }');
  const { api, target, refuse, services } = env;
  refuse.set('soft@remote.test', '451 4.2.0 try later');
  refuse.set('soft2@remote.test', '451 4.2.0 try later');
  refuse.set('hard@remote.test', '550 5.1.1 no such user');
  await submitText(env.config, job('EX', [
    { to: ['soft@remote.test'] },
    { to: ['soft2@remote.test'] },
    // A null sender cannot be notified: a dead letter.
    { from: '', to: ['hard@remote.test'] },
  ]), 'EXJOB');

  let ext: QueueItem[] = [];
  await until('two messages in extended retry', async () => { ext = items((await api('GET', '/api/v1/queue?state=extended')).body); return ext.length === 2; });
  let dead: QueueItem[] = [];
  await until('one dead letter', async () => { dead = items((await api('GET', '/api/v1/deadletters')).body); return dead.length === 1; });
  // The queue id stays the one the message had in the spool (log lines of its first attempt).
  const firstIds = new Set(env.log.filter((r) => r.event === 'mail.delivery').map((r) => String((r.fields as Record<string, unknown>).qid)));
  for (const it of [...ext, ...dead]) assert.ok(firstIds.has(it.id), `${it.id} in ${[...firstIds].join(',')}`);
  assert.equal(dead[0]!.state, 'dead');
  assert.deepEqual(dead[0]!.recipients.map((r) => r.address), ['hard@remote.test']);
  const [e1, e2] = ext.sort((a, b) => (a.id < b.id ? -1 : 1));
  assert.equal(e1!.recipients[0]!.lastReply, '451 4.2.0 try later');
  assert.ok(e1!.nextAttempt !== null && Date.parse(e1!.nextAttempt) > Date.now() + 3_600_000);

  // hold -> held (the scheduler leaves it); release -> tried at once: 451, still in extended retry.
  let r = await api('POST', `/api/v1/queue/${e1!.id}/hold`, { reason: 'look at it' });
  assert.equal((r.body.item as QueueItem).state, 'held');
  assert.equal(((await api('GET', '/api/v1/queue/summary')).body.counts as Record<string, number>).held, 1);
  r = await api('POST', `/api/v1/queue/${e1!.id}/release`, { reason: 'go' });
  assert.equal(r.status, 200);
  await until('released record tried again', async () => {
    const x = (await api('GET', `/api/v1/queue/${e1!.id}`)).body.item as QueueItem | undefined;
    return x?.state === 'extended' && x.attempts === 2;
  });
  // retry now with the target taking it: delivered, the record is gone.
  refuse.delete('soft@remote.test');
  assert.equal((await api('POST', `/api/v1/queue/${e1!.id}/retry`, { reason: 'fixed' })).status, 200);
  await target.waitFor('extended message delivered', () => target.accepted.some((m) => m.recipients.includes('soft@remote.test')));
  await until('record removed', async () => (await api('GET', `/api/v1/queue/${e1!.id}`)).status === 404);

  // bounce from extended retry: the sender is notified, the record removed.
  r = await api('POST', `/api/v1/queue/${e2!.id}/bounce`, { reason: 'give up' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await target.waitFor('notification', () => target.accepted.some((m) => m.recipients.includes('job@corp.test') && /soft2@remote\.test/.test(m.data.toString('latin1'))));
  assert.equal((await api('GET', `/api/v1/queue/${e2!.id}`)).status, 404);
  assert.equal(services.gateway.forwarder.counters.extendedCurrent, 0);

  // requeue the dead letter once the target takes the address: delivered with its null sender.
  refuse.delete('hard@remote.test');
  r = await api('POST', `/api/v1/deadletters/${dead[0]!.id}/requeue`, { reason: 'user exists now' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await target.waitFor('requeued dead letter delivered', () => target.accepted.some((m) => m.recipients.includes('hard@remote.test')));
  assert.equal(target.accepted.find((m) => m.recipients.includes('hard@remote.test'))!.from, '');
  assert.equal(items((await api('GET', '/api/v1/deadletters')).body).length, 0);

  // purge by age: a new dead letter, purged with olderThanDays 0.
  refuse.set('hard@remote.test', '550 5.1.1 no such user');
  await submitText(env.config, job('DL', [{ from: '', to: ['hard@remote.test'] }]), 'DLJOB');
  await until('a dead letter again', async () => items((await api('GET', '/api/v1/deadletters')).body).length === 1);
  assert.equal((await api('POST', '/api/v1/deadletters/purge', { olderThanDays: 1 })).body.purged, 0);
  assert.equal((await api('POST', '/api/v1/deadletters/purge', { olderThanDays: 0, reason: 'clean up' })).body.purged, 1);
  assert.equal(items((await api('GET', '/api/v1/deadletters')).body).length, 0);

  // A held spool file: its problem report, release (read again: held again), purge.
  await submitText(env.config, 'HELO JOBHOST\r\nMAIL FROM:<job@corp.test>\r\nBOGUS COMMAND\r\nQUIT\r\n', 'BADJOB');
  let held: { id: string; queueId: string; jobName: string }[] = [];
  // The reason file is written right after the move into held/ (spool/disposition.ts): wait for both.
  await until('held spool file', async () => { held = (await api('GET', '/api/v1/spool/held')).body.items as typeof held; return held.length === 1 && held[0]!.jobName !== null; });
  assert.equal(held[0]!.jobName, 'BADJOB');
  r = await api('GET', `/api/v1/spool/held/${encodeURIComponent(held[0]!.id)}`);
  assert.equal(r.status, 200);
  assert.match(String(r.body.report), /BOGUS|not recognized|500/i);
  // The same file in the queue list, state held, by its queue id (message number 0: the whole file).
  const inQueue = items((await api('GET', '/api/v1/queue?state=held')).body);
  assert.deepEqual(inQueue.map((i) => i.id), [held[0]!.queueId]);
  assert.match(held[0]!.queueId, /-0$/);
  r = await api('POST', `/api/v1/spool/held/${held[0]!.queueId}/purge`, { reason: 'broken job' });
  assert.equal(r.status, 200);
  assert.equal(((await api('GET', '/api/v1/spool/held')).body.items as unknown[]).length, 0);
  const acts = actions(env).map((a) => String(a.action));
  assert.deepEqual(acts, ['hold', 'release', 'retry', 'bounce', 'requeue', 'purge', 'purge', 'purge']);
});

test('CLI and MODIFY: list --json, show, hold a flood by sender, clear a dead target, and a stopped instance is named', async (t) => {
  const env = await gateway(t, 'RetryLimit { Count 5 Interval 60 }');
  const { target, refuse, path } = env;
  const { runCli } = await import('../../src/testing/cli.js');
  const queueCli = (await import('../../src/cli/queue.js')).run;
  const deadCli = (await import('../../src/cli/queue.js')).runDeadLetter;
  const { main } = await import('../../src/cli/index.js');
  const { captureIo } = await import('../../src/testing/cli.js');
  const modify = async (...args: string[]) => { const io = captureIo(); const code = await main(['modify', '--config', path, ...args], io); return { code, stdout: io.out(), stderr: io.err() }; };
  const env2 = { ...process.env, USER: 'carol' };
  for (const a of ['a@dead.test', 'b@dead.test', 'c@dead.test']) refuse.set(a, '451 4.4.1 connection timed out');
  await submitText(env.config, job('FL', [
    { from: 'flood@corp.test', to: ['a@dead.test'] },
    { from: 'flood@corp.test', to: ['b@dead.test'] },
    { from: 'job@corp.test', to: ['c@dead.test'] },
  ]), 'FLJOB');
  await until('three in retry', async () => (JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json', '--state', 'retry'])).stdout) as { total: number }).total === 3);

  // list (text): the mailq-like lines with each recipient's last reply.
  let r = await runCli(queueCli, ['list', '--config', path, '--domain', 'dead.test']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^EZD1849I TEST QUEUE: 3 OF 3 MESSAGES$/m);
  assert.match(r.stdout, /^ {4}a@dead\.test DEFERRED 451 4\.4\.1 connection timed out$/m);
  const all = JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json'])).stdout) as { total: number; items: QueueItem[] };
  const third = all.items.find((i) => i.sender === 'job@corp.test')!;

  // show (why it waits).
  r = await runCli(queueCli, ['show', third.id, '--config', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^EZD1850I TEST QUEUE MESSAGE ${third.id}:$`, 'm'));
  assert.match(r.stdout, /RECIPIENT c@dead\.test : DEFERRED 451 4\.4\.1 connection timed out/);
  assert.match(r.stdout, /^ {4}Subject: FL 3$/m);

  // Stop a flood: hold everything from one sender, through MODIFY.
  r = await modify("HOLD,SENDER=flood@corp.test,REASON='flood from a runaway job',BY=dave");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^EZD1855I TEST MODIFY HOLD COMMAND COMPLETED : 2 MESSAGES$/m);
  const held = JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json', '--state', 'held'])).stdout) as { items: QueueItem[] };
  assert.deepEqual(held.items.map((i) => i.sender), ['flood@corp.test', 'flood@corp.test']);
  assert.equal(held.items[0]!.hold?.operator, 'modify:dave');
  assert.deepEqual(held.items.map((i) => i.hold?.reason), ['flood from a runaway job', 'flood from a runaway job']);
  if (TEST_BACKEND === 'sqlite') {
    // A hold survives in the hold file (read at the next start).
    const holdsFile = JSON.parse(readFileSync(join(env.config.stateDirectory, 'TESTW.holds.json'), 'utf8')) as { holds: Record<string, { reason: string }> };
    assert.deepEqual(Object.values(holdsFile.holds).map((h) => h.reason), ['flood from a runaway job', 'flood from a runaway job']);
  } else {
    // Released to the shared queue for long retry, each hold is stored with its message (any node
    // sees it; the node that claims the file sends the third message and leaves these waiting).
    const retry = JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json', '--state', 'retry'])).stdout) as { items: QueueItem[] };
    assert.deepEqual(retry.items.map((i) => i.sender), ['job@corp.test']);
  }

  // Clear a dead target's backlog: bounce everything waiting for dead.test (held ones too).
  r = await runCli(queueCli, ['bounce', '--config', path, '--domain', 'dead.test', '--reason', 'domain gone'], { env: env2 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /COMMAND COMPLETED : 3 MESSAGES/);
  await target.waitFor('three notifications', () => target.accepted.filter((m) => m.from === '').length === 3);
  // The notifications leave the queue once their delivery is recorded.
  await until('queue empty', async () => (JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json'])).stdout) as { total: number }).total === 0);
  const operators = actions(env).filter((a) => a.action === 'bounce').map((a) => String(a.operator));
  assert.deepEqual(operators, ['modify:carol', 'modify:carol', 'modify:carol']);

  // delete asks; without an answer nothing is deleted.
  refuse.set('d@dead.test', '451 4.4.1 connection timed out');
  await submitText(env.config, job('DD', [{ to: ['d@dead.test'] }]), 'DDJOB');
  let one: QueueItem | undefined;
  await until('one in retry', async () => { one = (JSON.parse((await runCli(queueCli, ['list', '--config', path, '--json'])).stdout) as { items: QueueItem[] }).items[0]; return one?.state === 'retry'; });
  r = await runCli(queueCli, ['delete', one!.id, '--config', path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not deleted/);
  r = await runCli(queueCli, ['delete', one!.id, '--config', path], { stdin: 'y\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /EZD1855I TEST MODIFY DELETE COMMAND COMPLETED : ID=.* HAS LEFT THE QUEUE/);
  r = await runCli(queueCli, ['retry', one!.id, '--config', path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^EZD1856E TEST MODIFY RETRY COMMAND FAILED : NO MESSAGE/m);

  // shape and dead letters over MODIFY.
  r = await modify('D,QSHAPE,BY=TARGET');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^EZD1851I TEST QSHAPE BY TARGET \(AGE IN MINUTES\):$/m);
  r = await runCli(deadCli, ['list', '--config', path]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^EZD1852I TEST DEADLETTERS: 0$/m);

  // The instance stopped: the CLI says so.
  await env.services.stop();
  r = await runCli(queueCli, ['list', '--config', path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^spoolgate queue: the instance is not reachable: no instance is listening on .* \(is it started\?\)$/m);
});

test('relayed mail: the journal\'s "queued" event names the queue id the queue shows', async (t) => {
  const env = await gateway(t, `RetryLimit { Count 5 Interval 60 }
    Receiver {
      Listen 127.0.0.1:0
      HostName mx.gw.test
      LocalDomain local.test
      RelayMode AddressList
      RelayAddress 127.0.0.1/32
    }`);
  env.refuse.set('far@remote.test', '451 4.2.0 later');
  const rx = env.services.listening.find((l) => l.role === 'smtp')!;
  const { createConnection } = await import('node:net');
  // A plain SMTP client: one command, wait for its reply.
  const sock = createConnection(rx.port, '127.0.0.1');
  let buf = '';
  const reply = (): Promise<string> => new Promise((resolve) => {
    const check = (): void => { const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf); if (m) { const r = buf; buf = ''; sock.off('data', on); resolve(r); } };
    const on = (d: Buffer): void => { buf += d.toString('latin1'); check(); };
    sock.on('data', on);
    check();
  });
  const say = async (line: string): Promise<string> => { sock.write(`${line}\r\n`); return reply(); };
  assert.match(await reply(), /^220/);
  assert.match(await say('EHLO client.test'), /^250/m);
  assert.match(await say('MAIL FROM:<me@client.test>'), /^250/);
  assert.match(await say('RCPT TO:<far@remote.test>'), /^250/);
  assert.match(await say('DATA'), /^354/);
  assert.match(await say('From: me@client.test\r\nSubject: relayed\r\n\r\nhello\r\n.'), /^250/);
  await say('QUIT');
  sock.destroy();
  let items: QueueItem[] = [];
  await until('relayed message in retry', async () => { items = (await env.api('GET', '/api/v1/queue?state=retry')).body.items as QueueItem[]; return items.length === 1; });
  const queued = (await env.services.store!.journal.query({ type: 'queued' }))[0];
  assert.match(queued?.detail ?? '', new RegExp(`queued for relay as spool entry \\S+, queue id ${items[0]!.id}$`));
  assert.equal(items[0]!.jobName, 'RECEIVER');
});

test('spool files no task has read yet (SUSPEND): listed as processing, shown parsed, held or deleted unread; retry and bounce are clear 409s', async (t) => {
  const env = await gateway(t, 'RetryLimit { Count 5 Interval 60 }');
  assert.equal((await env.api('POST', '/api/v1/command', { command: 'SUSPEND,DELAY' })).status, 200);
  const entry = await submitText(env.config, job('SU', [{ to: ['x@remote.test'] }, { to: ['y@remote.test'] }]), 'SUSJOB');
  let waiting: QueueItem[] = [];
  await until('the waiting file listed', async () => { waiting = items((await env.api('GET', '/api/v1/queue?state=processing')).body); return waiting.length === 1; });
  assert.equal(waiting[0]!.place, `spool:${entry}`);
  assert.match(waiting[0]!.id, /^[0-9a-f]{12}-0$/);
  assert.equal(waiting[0]!.jobName, 'SUSJOB');
  assert.match(waiting[0]!.why ?? '', /SUSPEND DELAY/);
  // show parses the unread file read-only: its messages' envelopes and the first one's headers.
  const shown = await env.api('GET', `/api/v1/queue/${waiting[0]!.id}`);
  assert.equal(shown.status, 200);
  const file = (shown.body.item as { file: { messages: { messageNo: number; sender: string; recipients: string[] }[]; truncated: boolean }; headers: string });
  assert.deepEqual(file.file.messages.map((m) => [m.messageNo, m.sender, m.recipients]), [[1, 'job@corp.test', ['x@remote.test']], [2, 'job@corp.test', ['y@remote.test']]]);
  assert.equal(file.file.truncated, false);
  assert.match(file.headers, /^Subject: SU 1\r$/m);
  // Retry and bounce work on messages, which an unread file does not have yet: a 409 that says what to do.
  const retry = await env.api('POST', `/api/v1/queue/${waiting[0]!.id}/retry`, {});
  assert.equal(retry.status, 409);
  assert.match(String(retry.body.error), /not read yet, so it has no messages to retry: .*RESUME.*hold or delete work on the file now/);
  const bounce = await env.api('POST', `/api/v1/queue/${waiting[0]!.id}/bounce`, {});
  assert.equal(bounce.status, 409);
  assert.match(String(bounce.body.error), /hold it .* or delete it/);
  // A second unread file: deleted by the CLI before any task read it; nothing of it is ever sent.
  const doomed = await submitText(env.config, job('DEL', [{ to: ['z@remote.test'] }]), 'DELJOB');
  let doomedId = '';
  await until('the second file listed', async () => { doomedId = items((await env.api('GET', '/api/v1/queue?state=processing')).body).find((i) => i.place === `spool:${doomed}`)?.id ?? ''; return doomedId !== ''; });
  const { runCli } = await import('../../src/testing/cli.js');
  const queueCli = (await import('../../src/cli/queue.js')).run;
  const del = await runCli(queueCli, ['delete', doomedId, '--config', env.path, '--reason', 'wrong job', '--yes'], { env: { ...process.env, USER: 'carol' } });
  assert.equal(del.code, 0, del.stderr + del.stdout);
  // Hold the first one unread: it becomes a held spool file under the same queue id, with the reason.
  const held = await env.api('POST', `/api/v1/queue/${waiting[0]!.id}/hold`, { reason: 'check first', operator: 'dora' });
  assert.equal(held.status, 200, JSON.stringify(held.body));
  const heldItem = held.body.item as QueueItem;
  assert.equal(heldItem.state, 'held');
  assert.equal(heldItem.id, waiting[0]!.id);
  assert.equal(heldItem.place, `held:${entry}`);
  assert.match(heldItem.why ?? '', /held by http:dora before it was read: check first/);
  assert.deepEqual(items((await env.api('GET', '/api/v1/queue?state=processing')).body), [], 'neither file waits for a task any more');
  // RESUME: nothing is read (one file held, one deleted); releasing the held file reads it.
  assert.equal((await env.api('POST', '/api/v1/command', { command: 'RESUME' })).status, 200);
  assert.equal((await env.api('POST', `/api/v1/queue/${waiting[0]!.id}/release`, { reason: 'checked' })).status, 200);
  // Its messages get the same prefix once read.
  await env.target.waitFor('both delivered', () => env.target.accepted.length === 2);
  const prefix = waiting[0]!.id.slice(0, 12);
  const qids = (): string[] => env.log.filter((r) => r.event === 'mail.delivery').map((r) => String((r.fields as Record<string, unknown>).qid)).sort();
  await until('both delivery lines logged', () => qids().length === 2);
  assert.deepEqual(qids(), [`${prefix}-1`, `${prefix}-2`]);
  await until('queue empty', async () => items((await env.api('GET', '/api/v1/queue')).body).length === 0);
  assert.deepEqual(env.target.accepted.map((m) => subjectOf(m.data)).sort(), ['SU 1', 'SU 2'], 'the deleted file was never sent');
  const j = await env.services.store!.journal.query({ id: doomedId });
  assert.match(j.find((e) => e.type === 'queue.delete')?.detail ?? '', new RegExp(`spool file ${doomed} deleted unread: nobody is notified; by modify:carol: wrong job$`));
});
