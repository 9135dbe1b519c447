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
