import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../config/index.js';
import type { ForwarderView, TargetView } from '../control/index.js';
import { ok } from '../core/result.js';
import { Logger, type LogRecord } from '../log/logger.js';
import { tempDir } from '../testing/peers.js';
import { ConsoleEvents, DEFAULT_EVENT_CAPACITY, DEFAULT_MAX_WAITERS, Throughput, configEntries, defaultConfig, type ConsoleSource } from './console-routes.js';
import { startHttp } from './http.js';

const rec = (event: string, fields: LogRecord['fields'] = {}): LogRecord => ({ time: '2026-11-27T10:00:00.000Z', instance: 'T', level: 'event', event, fields });

test('event ring: keeps deliveries only, bounded, and says when it dropped some', () => {
  const ev = new ConsoleEvents({ capacity: 3 });
  ev.write(rec('auth.failed'));
  ev.write(rec('http.request'));
  assert.equal(ev.last, 0, 'lines that are not about mail are not kept');
  for (let i = 1; i <= 5; i++) ev.write(rec('mail.delivery', { to: `r${i}@x.test`, status: 'deferred', reply: 'x'.repeat(2000) }));
  const all = ev.since(0);
  assert.deepEqual(all.events.map((e) => e.seq), [3, 4, 5]);
  assert.equal(all.dropped, true);
  assert.equal(all.last, 5);
  assert.ok(String(all.events[0]!.fields.reply).length <= 501, 'long fields are cut');
  assert.deepEqual(ev.since(4).events.map((e) => e.seq), [5]);
  assert.equal(ev.since(4).dropped, false);
  assert.deepEqual(ev.since(5).events, []);
  assert.deepEqual(ev.since(0, 1).events.map((e) => e.seq), [5], 'limit keeps the newest');
});

test('event long poll: wakes on the next event, and no more than the bound wait at once', async () => {
  const ev = new ConsoleEvents({ maxWaiters: 2 });
  const a = ev.wait(0, 60_000);
  const b = ev.wait(0, 60_000);
  assert.equal(ev.waiting, 2);
  // A third is answered at once (it would otherwise hold a connection).
  await ev.wait(0, 60_000);
  assert.equal(ev.waiting, 2);
  ev.write(rec('mail.delivery', { status: 'sent' }));
  await Promise.all([a, b]);
  assert.equal(ev.waiting, 0);
  // An event already there: no wait at all; close() ends a waiting poll and every later one.
  await ev.wait(0, 60_000);
  const c = ev.wait(1, 60_000);
  ev.close();
  await c;
  await ev.wait(1, 60_000);
  assert.equal(ev.waiting, 0);
  assert.equal(DEFAULT_MAX_WAITERS > 0 && DEFAULT_EVENT_CAPACITY > 0, true);
});

test('throughput: per minute over the last hour, older minutes fall out', () => {
  let now = Date.parse('2026-11-27T10:00:30Z');
  const tp = new Throughput(() => now);
  tp.observe('delivered');
  tp.observe('delivered');
  tp.observe('undeliverable');
  now += 30 * 60_000;
  tp.observe('extended');
  let r = tp.read();
  assert.equal(r.perMinute.length, 60);
  assert.deepEqual([r.delivered, r.undeliverable, r.extended], [2, 1, 1]);
  assert.deepEqual(r.perMinute[59], { delivered: 0, undeliverable: 0, extended: 1 });
  assert.deepEqual(r.perMinute[29], { delivered: 2, undeliverable: 1, extended: 0 });
  now += 31 * 60_000; // the first minute is now more than an hour ago
  r = tp.read();
  assert.deepEqual([r.delivered, r.undeliverable, r.extended], [0, 0, 1]);
  // Its bucket is reused by a later minute without the old counts.
  now = Date.parse('2026-11-27T12:00:10Z');
  tp.observe('delivered');
  assert.equal(tp.read().delivered, 1);
});

function config(text: string, dir = '/srv/gw'): Config {
  const r = parseConfig(`TargetServer { TargetIP 192.0.2.1 ConnectPort 2525 AuthUser u AuthPassword hunter2-secret }\n${text}`, join(dir, 'spoolgate.conf'), {}, { hostName: 'gw.test' });
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  return r.value.config;
}

test('configuration entries: non-default values first, each with its default; passwords hidden', () => {
  const c = config('LogLevel 15\nRetryLimit { Count 9 }\nHttp { Listen 127.0.0.1:8025 }');
  const entries = configEntries(c, defaultConfig(c));
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const firstDefault = entries.findIndex((e) => !e.changed);
  assert.ok(firstDefault > 0);
  assert.ok(entries.slice(firstDefault).every((e) => !e.changed), 'changed ones first');
  assert.deepEqual(byKey.get('logLevel'), { key: 'logLevel', label: 'LogLevel', value: '15', default: '7', changed: true });
  assert.deepEqual(byKey.get('retryLimit.count'), { key: 'retryLimit.count', label: 'RetryLimit Count', value: '9', default: '5', changed: true });
  assert.deepEqual(byKey.get('retryLimit.interval'), { key: 'retryLimit.interval', label: 'RetryLimit Interval', value: '1', default: '1', changed: false });
  assert.deepEqual(byKey.get('targetServers[0].connectPort'), { key: 'targetServers[0].connectPort', label: 'TargetServer #1 ConnectPort', value: '2525', default: '25', changed: true });
  assert.equal(byKey.get('http.listen.port')?.label, 'Http Listen port');
  assert.equal(byKey.get('configFile')?.label, 'configFile');
  assert.equal(byKey.get('targetServers[0].targetIp')?.changed, true);
  assert.equal(byKey.get('targetServers[0].connectLimit')?.changed, false);
  // A block that is off by default (Http) has no default for its values.
  assert.equal(byKey.get('http.listen.port')?.default, null);
  assert.equal(byKey.get('http.listen.port')?.changed, true);
  // Directory defaults follow the configuration file's place: not "changed".
  assert.equal(byKey.get('stateDirectory')?.changed, false);
  assert.equal(byKey.get('hostName')?.changed, true, 'HostName given (gw.test) differs from this host');
  const pw = byKey.get('targetServers[0].authPassword');
  assert.equal(pw?.value, '(set)');
  assert.doesNotMatch(JSON.stringify(entries), /hunter2/);
});

const idleForwarder = (targets: TargetView[] = []): ForwarderView => ({
  counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
  tasks: [], suspendMode: 'immediate', listTargets: () => targets,
  suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
});

const deadTarget: TargetView = {
  addr: { address: '192.0.2.9', port: 25, source: { kind: 'TargetIP' }, server: { connectLimit: 1, maxMsgSent: 0, messageSize: 1000, secure: false } },
  state: 'NOT USABLE', capabilities: undefined, counters: { mailAttempts: 3, mailSent: 0, connectFail: 3 }, lastError: 'connect ECONNREFUSED 192.0.2.9:25',
  acquire: async () => { throw new Error('not used'); },
};

async function serve(t: TestContext, source: ConsoleSource | undefined) {
  const dir = tempDir(t);
  const svc = await startHttp({
    listen: { host: '127.0.0.1', port: 0 }, tokenFile: join(dir, 'http.token'), log: Logger.silent(),
    target: { execute: async () => ok({ ok: true, lines: [], data: null }), metrics: { forwarder: idleForwarder([deadTarget]), now: () => Date.parse('2026-11-27T10:00:00Z') }, ...(source ? { console: source } : {}) },
  });
  t.after(() => svc.close());
  const token = readFileSync(join(dir, 'http.token'), 'utf8').trim();
  const base = `http://127.0.0.1:${svc.port}`;
  const get = async (path: string, auth = true) => {
    const r = await fetch(base + path, auth ? { headers: { Authorization: `Bearer ${token}` } } : {});
    return { status: r.status, csp: r.headers.get('content-security-policy'), body: r.headers.get('content-type')?.includes('json') ? await r.json() as Record<string, unknown> : await r.text() };
  };
  return { get, dir, svc };
}

test('console routes over HTTP: status with the level in force, config, events; token needed; hello names the token file', async (t) => {
  const events = new ConsoleEvents();
  let level = 23;
  const c = config('LogLevel 7');
  const { get, dir } = await serve(t, { config: () => c, logLevel: () => level, events, throughput: new Throughput(() => Date.parse('2026-11-27T10:00:00Z')) });
  for (const p of ['/api/v1/status', '/api/v1/config', '/api/v1/events']) assert.equal((await get(p, false)).status, 401, p);

  const hello = await get('/console/hello.json', false);
  assert.equal(hello.status, 200);
  assert.deepEqual(hello.body, { tokenFile: join(dir, 'http.token'), instance: 'spoolgate' });

  let s = await get('/api/v1/status');
  assert.equal(s.status, 200);
  const body = s.body as { logLevel: number; logLevelNames: string[]; suspendMode: string; targets: { state: string; lastError: string }[]; throughput: { perMinute: unknown[] } };
  assert.equal(body.logLevel, 23, 'the level in force, not the file\'s 7');
  assert.deepEqual(body.logLevelNames, ['error', 'warning', 'event', 'jes']);
  assert.equal(body.suspendMode, 'immediate');
  assert.deepEqual(body.targets.map((x) => [x.state, x.lastError]), [['NOT USABLE', 'connect ECONNREFUSED 192.0.2.9:25']]);
  assert.equal(body.throughput.perMinute.length, 60);
  level = 1;
  s = await get('/api/v1/status');
  assert.equal((s.body as { logLevel: number }).logLevel, 1);

  const cf = await get('/api/v1/config');
  assert.equal(cf.status, 200);
  assert.ok(((cf.body as { changed: number }).changed) > 0);

  // Events: an immediate answer without wait; a waiting poll is answered by the next event.
  assert.deepEqual((await get('/api/v1/events?after=0')).body, { ok: true, last: 0, dropped: false, events: [] });
  const waiting = get('/api/v1/events?after=0&wait=20');
  await new Promise<void>((resolve) => { const check = (): void => { if (events.waiting === 1) resolve(); else setImmediate(check); }; check(); });
  events.write(rec('mail.delivery', { status: 'deferred', to: 'a@b.test' }));
  const got = (await waiting).body as { last: number; events: { event: string; fields: { status: string } }[] };
  assert.equal(got.last, 1);
  assert.deepEqual(got.events.map((e) => [e.event, e.fields.status]), [['mail.delivery', 'deferred']]);
  assert.equal((await get('/api/v1/events?after=x')).status, 400);
  // A client ahead of the server (it restarted) gets everything from the start.
  assert.equal(((await get('/api/v1/events?after=99')).body as { events: unknown[] }).events.length, 1);

  // The second script is served under the same policy as the page.
  const views = await get('/console-views.js', false);
  assert.equal(views.status, 200);
  assert.match(views.csp ?? '', /script-src 'self'/);
});

test('console data routes without a source answer 404; the page still loads', async (t) => {
  const { get } = await serve(t, undefined);
  assert.equal((await get('/api/v1/status')).status, 404);
  assert.equal((await get('/api/v1/events')).status, 404);
  assert.equal((await get('/')).status, 200);
  const hello = (await get('/console/hello.json', false)).body as { tokenFile: string; instance: unknown };
  assert.match(hello.tokenFile, /\/http\.token$/);
  assert.equal(hello.instance, null);
});
