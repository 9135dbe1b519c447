import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok } from '../core/result.js';
import { Logger } from '../log/logger.js';
import type { ForwarderView } from '../control/index.js';
import { tempDir } from '../testing/peers.js';
import { prng } from '../testing/prng.js';
import { until } from '../testing/gateway.js';
import { startHttp } from './http.js';
import { MAX_ATTACHMENTS, MAX_CONCURRENT_SENDS, SendRateLimiter, decodeBase64, messageFromJson, type SendApi, type SendMessage } from './send-routes.js';

const idleForwarder: ForwarderView = {
  counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
  tasks: [], suspendMode: 'none', listTargets: () => [],
  suspend: () => undefined, resume: () => undefined, flushRetry: () => 0, flushExtended: async () => 0, resolve: async () => undefined, refreshTargets: () => undefined,
};

interface Fixture { base: string; operator: string; sender: string; got: SendMessage[]; commands: string[]; gate: { hold: boolean; release: () => void; waiting: number } }

/**
 * A listener with the send API; submit is a recorder (the real one is submit's, tested there and
 * end to end): from "policy@x.test" is refused as SenderPolicy would, "spool@x.test" as a full disk.
 */
async function serve(t: TestContext, send: Partial<SendApi> = {}): Promise<Fixture> {
  const dir = tempDir(t);
  const got: SendMessage[] = [];
  const commands: string[] = [];
  let releases: (() => void)[] = [];
  const gate = { hold: false, waiting: 0, release: () => { const r = releases; releases = []; r.forEach((f) => f()); } };
  const svc = await startHttp({
    listen: { host: '127.0.0.1', port: 0 }, tokenFile: join(dir, 'http.token'), log: Logger.silent(),
    target: {
      execute: async (line) => { commands.push(line); return ok({ ok: true, command: line, lines: [], data: {} }); },
      metrics: { forwarder: idleForwarder, now: () => 0 },
      send: {
        tokenFile: join(dir, 'http-send.token'),
        submit: async (m) => {
          if (gate.hold) { gate.waiting++; await new Promise<void>((r) => releases.push(r)); gate.waiting--; }
          if (m.from === 'policy@x.test') return err({ code: 'SG_SENDMAIL_SENDER_NOT_ALLOWED', message: 'user gw may not send as policy@x.test' });
          if (m.from === 'spool@x.test') return err({ code: 'SG_SENDMAIL_SPOOL_FAILED', message: 'cannot put the mail on the spool: ENOSPC' });
          if (m.from === 'bad@') return err({ code: 'SG_SENDMAIL_BAD_ORIGINATOR', message: 'originator "bad@" is not a valid address' });
          got.push(m);
          return ok({ id: `E${got.length}`, envelope: { from: m.from, recipients: [] }, size: 1, bccHeaderStripped: false });
        },
        ...send,
      },
    },
  });
  t.after(() => svc.close());
  return {
    base: `http://127.0.0.1:${svc.port}`, got, commands, gate,
    operator: readFileSync(join(dir, 'http.token'), 'utf8').trim(), sender: readFileSync(join(dir, 'http-send.token'), 'utf8').trim(),
  };
}

async function post(f: Fixture, body: string | Buffer, opts: { type?: string; token?: string | null; query?: string; path?: string } = {}): Promise<{ status: number; body: { ok: boolean; code?: string; error?: string; id?: string }; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (opts.type !== undefined) headers['Content-Type'] = opts.type;
  const token = opts.token === undefined ? f.sender : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${f.base}${opts.path ?? '/api/v1/messages'}${opts.query ?? ''}`, { method: 'POST', headers, body });
  return { status: r.status, body: await r.json() as { ok: boolean; code?: string }, headers: r.headers };
}

const json = (v: unknown): string => JSON.stringify(v);
const message = { from: 'app@x.test', to: 'b@remote.test', subject: 'hi', text: 'hello' };

test('send token: made 0600 beside http.token, differs from it, opens POST /api/v1/messages and nothing else; the operator token may send too', async (t) => {
  const f = await serve(t);
  assert.notEqual(f.sender, f.operator);
  assert.ok(f.sender.length >= 40);
  let r = await post(f, json(message), { type: 'application/json' });
  assert.deepEqual([r.status, r.body.ok, r.body.id], [202, true, 'E1']);
  r = await post(f, json(message), { type: 'application/json', token: f.operator });
  assert.deepEqual([r.status, r.body.id], [202, 'E2']);
  r = await post(f, json(message), { type: 'application/json', token: null });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="spoolgate"');
  r = await post(f, json(message), { type: 'application/json', token: 'x'.repeat(43) });
  assert.equal(r.status, 401);
  // The send token runs no operator command, by either route: 403 insufficient_scope (RFC 6750 §3.1).
  r = await post(f, 'SUSPEND,DELAY', { type: 'text/plain', path: '/api/v1/command' });
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="spoolgate", error="insufficient_scope"');
  assert.match(r.body.error ?? '', /may only send mail/);
  const g = await fetch(`${f.base}/api/v1/display/config`, { headers: { Authorization: `Bearer ${f.sender}` } });
  assert.equal(g.status, 403);
  assert.deepEqual(f.commands, []);
  assert.equal(f.got.length, 2);
});

test('send token file mode', async (t) => {
  const dir = tempDir(t);
  const svc = await startHttp({
    listen: { host: '127.0.0.1', port: 0 }, tokenFile: join(dir, 'http.token'), log: Logger.silent(),
    target: { execute: async () => err('x'), metrics: { forwarder: idleForwarder, now: () => 0 }, send: { tokenFile: join(dir, 'http-send.token'), submit: async () => err({ code: 'X', message: 'x' }) } },
  });
  t.after(() => svc.close());
  assert.equal(statSync(join(dir, 'http-send.token')).mode & 0o777, 0o600);
  assert.deepEqual(svc.routes.filter((r) => r.auth === 'own').map((r) => r.pattern.source), ['^\\/api\\/v1\\/messages$']);
});

test('the three body forms reach submit as the same message kinds', async (t) => {
  const f = await serve(t);
  const raw = Buffer.from('Subject: \xe4\r\n\r\n8-bit body \xff\r\n', 'latin1');
  let r = await post(f, raw, { type: 'message/rfc822', query: '?from=app@x.test&to=b@remote.test&to=c@remote.test&bcc=d@remote.test' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  r = await post(f, json({ envelope: { from: 'app@x.test', to: ['b@remote.test'], cc: 'c@remote.test' }, raw: raw.toString('base64').replace(/(.{76})/g, '$1\r\n') }), { type: 'application/json; charset=utf-8' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  r = await post(f, json({ ...message, cc: ['c@remote.test'], html: '<p>x</p>', attachments: [{ filename: 'a.pdf', content: 'JVBERi0=' }, { filename: 'b.csv', contentType: 'text/csv', content: '' }] }), { type: 'application/json' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const [a, b, c] = f.got;
  assert.ok(a?.kind === 'raw' && b?.kind === 'raw' && c?.kind === 'compose');
  assert.ok(a.data.equals(raw) && b.data.equals(raw), 'raw bytes untouched');
  assert.deepEqual(a.recipients, [{ address: 'b@remote.test', type: 'normal' }, { address: 'c@remote.test', type: 'normal' }, { address: 'd@remote.test', type: 'bcc' }]);
  assert.deepEqual(b.recipients, [{ address: 'b@remote.test', type: 'normal' }, { address: 'c@remote.test', type: 'cc' }]);
  assert.deepEqual([c.to, c.cc, c.bcc, c.subject, c.text, c.html], [['b@remote.test'], ['c@remote.test'], [], 'hi', 'hello', '<p>x</p>']);
  assert.deepEqual(c.attachments.map((x) => [x.filename, x.contentType, x.content.toString('latin1')]), [['a.pdf', undefined, '%PDF-'], ['b.csv', 'text/csv', '']]);
});

test('refusals: status, code and a message that says what to fix', async (t) => {
  const f = await serve(t, { maxBodyBytes: 4096 });
  const cases: { name: string; body: string | Buffer; type?: string; query?: string; status: number; code: string }[] = [
    { name: 'no content type', body: 'x', status: 415, code: 'SG_HTTP_UNSUPPORTED_TYPE' },
    { name: 'form data (curl -d without -H)', body: 'x', type: 'application/x-www-form-urlencoded', status: 415, code: 'SG_HTTP_UNSUPPORTED_TYPE' },
    { name: 'over SendMaxBody', body: 'x'.repeat(5000), type: 'application/json', status: 413, code: 'SG_HTTP_BODY_TOO_LARGE' },
    { name: 'not JSON', body: '{"from":', type: 'application/json', status: 400, code: 'SG_HTTP_BAD_JSON' },
    { name: 'not UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), type: 'application/json', status: 400, code: 'SG_HTTP_NOT_UTF8' },
    { name: 'an array', body: '[1]', type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'typo in a field name', body: json({ ...message, too: 'x@y.test' }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: '__proto__ field', body: '{"from":"app@x.test","to":"b@remote.test","__proto__":{"x":1}}', type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'to is a number', body: json({ ...message, to: 5 }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'text is an object', body: json({ ...message, text: {} }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'CR LF in the subject', body: json({ ...message, subject: 'hi\r\nBcc: victim@remote.test' }), type: 'application/json', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'LF in from', body: json({ ...message, from: 'app@x.test\nBcc: victim@remote.test' }), type: 'application/json', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'CR in a display name', body: json({ ...message, to: ['Evil\rX <b@remote.test>'] }), type: 'application/json', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'NUL in a file name', body: json({ ...message, attachments: [{ filename: 'a\u0000.exe', content: '' }] }), type: 'application/json', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'lone surrogate in the subject', body: '{"from":"app@x.test","to":"b@remote.test","subject":"\\ud800"}', type: 'application/json', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'bad base64', body: json({ ...message, attachments: [{ filename: 'a', content: 'not*base64' }] }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_BASE64' },
    { name: 'base64 without padding', body: json({ envelope: { from: 'app@x.test', to: ['b@remote.test'] }, raw: 'YWJj ZA' }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_BASE64' },
    { name: 'content type with parameters', body: json({ ...message, attachments: [{ filename: 'a', contentType: 'text/html; charset="x"\r\nX: y', content: '' }] }), type: 'application/json', status: 422, code: 'SG_HTTP_BAD_CONTENT_TYPE' },
    { name: 'raw form without envelope', body: json({ raw: 'YQ==' }), type: 'application/json', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'JSON with a query', body: json(message), type: 'application/json', query: '?to=x@y.test', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'rfc822 without from', body: 'Subject: x\r\n\r\n', type: 'message/rfc822', query: '?to=b@remote.test', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'rfc822 with an unknown query parameter', body: 'Subject: x\r\n\r\n', type: 'message/rfc822', query: '?from=a@x.test&to=b@remote.test&subject=x', status: 400, code: 'SG_HTTP_BAD_REQUEST' },
    { name: 'rfc822 with CR LF in a query address', body: 'Subject: x\r\n\r\n', type: 'message/rfc822', query: '?from=a@x.test%0D%0AX:%20y&to=b@remote.test', status: 422, code: 'SG_HTTP_BAD_HEADER_TEXT' },
    { name: 'SenderPolicy', body: json({ ...message, from: 'policy@x.test' }), type: 'application/json', status: 403, code: 'SG_SENDMAIL_SENDER_NOT_ALLOWED' },
    { name: 'bad address (from submit)', body: json({ ...message, from: 'bad@' }), type: 'application/json', status: 422, code: 'SG_SENDMAIL_BAD_ORIGINATOR' },
    { name: 'spool full', body: json({ ...message, from: 'spool@x.test' }), type: 'application/json', status: 503, code: 'SG_SENDMAIL_SPOOL_FAILED' },
  ];
  for (const c of cases) {
    const r = await post(f, c.body, { ...(c.type === undefined ? {} : { type: c.type }), ...(c.query === undefined ? {} : { query: c.query }) });
    assert.deepEqual([r.status, r.body.ok, r.body.code], [c.status, false, c.code], `${c.name}: ${JSON.stringify(r.body)}`);
    assert.ok(typeof r.body.error === 'string' && r.body.error.length > 10, c.name);
  }
  assert.deepEqual(f.got, [], 'nothing refused reached the spool');
  const full = await post(f, json({ ...message, from: 'spool@x.test' }), { type: 'application/json' });
  assert.equal(full.headers.get('retry-after'), '60');
  assert.doesNotMatch(full.body.error ?? '', /ENOSPC/, 'the detail of a spool failure stays in the log');
  const many = await post(f, json({ ...message, attachments: Array.from({ length: MAX_ATTACHMENTS + 1 }, () => ({ filename: 'a', content: '' })) }), { type: 'application/json' });
  assert.deepEqual([many.status, many.body.code], [422, 'SG_HTTP_TOO_MANY_ATTACHMENTS']);
});

test('too many attachments and recipients are refused before any is decoded', () => {
  const a = messageFromJson(Buffer.from(json({ ...message, attachments: Array.from({ length: MAX_ATTACHMENTS + 1 }, () => ({ filename: 'a', content: '' })) })));
  assert.deepEqual(a.ok ? 'ok' : [a.error.status, a.error.code], [422, 'SG_HTTP_TOO_MANY_ATTACHMENTS']);
  const r = messageFromJson(Buffer.from(json({ ...message, bcc: Array.from({ length: 2001 }, (_, i) => `r${i}@x.test`) })));
  assert.deepEqual(r.ok ? 'ok' : [r.error.status, r.error.code], [422, 'SG_SENDMAIL_TOO_MANY_RECIPIENTS']);
});

test('decodeBase64 is strict: RFC 4648 alphabet and padding, MIME line breaks allowed', () => {
  assert.equal(decodeBase64('YWJjZA==')?.toString(), 'abcd');
  assert.equal(decodeBase64('YWJj\r\nZA==')?.toString(), 'abcd');
  assert.equal(decodeBase64('')?.length, 0);
  for (const bad of ['YWJjZA', 'YWJjZA=', 'YW Jj', 'YWJj!A==', 'YWJjZA==YQ==', '====', 'YWJjZ===', '-_-_']) assert.equal(decodeBase64(bad), undefined, bad);
});

test('fuzz: hostile JSON bodies get a JSON 202/400/413/422 answer, never a 500, and nothing with a line break reaches submit', async (t) => {
  const f = await serve(t, { maxBodyBytes: 64 * 1024 });
  const seed = 0x5e7d;
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nasty = ['\r\n', '\n', '\r', '\u0000', '\u2028', '\ud800', '\u00e4', 'Bcc: v@remote.test', '=?utf-8?b?AAA=?=', '<', '>', '"', ',', ';', '\\', '@', ' ', '\t', 'a'.repeat(300), '\u{1F600}'];
  const str = (): string => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(nasty)).join('');
  const value = (depth: number): unknown => {
    const k = Math.floor(rnd() * 8);
    if (depth > 2 || k < 3) return pick<unknown>([str(), `${str()}@x.test`, 'b@remote.test', 5, null, true, -0, 1e308]);
    if (k < 5) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 3) }, () => [pick(['filename', 'content', 'contentType', 'from', 'to', str()]), value(depth + 1)]));
  };
  const fields = ['from', 'to', 'cc', 'bcc', 'subject', 'text', 'html', 'attachments', 'envelope', 'raw'];
  for (let i = 0; i < 300; i++) {
    const o: Record<string, unknown> = { from: 'app@x.test', to: 'b@remote.test' };
    for (let j = Math.floor(rnd() * 4); j > 0; j--) o[pick(fields)] = value(0);
    let body: string | Buffer = json(o);
    if (rnd() < 0.1) body = Buffer.concat([Buffer.from(body), Buffer.from([0xc3])]);
    if (rnd() < 0.05) body = body.slice(0, Math.floor(body.length / 2));
    const r = await post(f, body, { type: 'application/json' });
    assert.ok([202, 400, 413, 422].includes(r.status), `seed ${seed} case ${i}: ${r.status} ${JSON.stringify(r.body)} for ${String(body).slice(0, 300)}`);
    assert.equal(r.body.ok, r.status === 202);
  }
  assert.ok(f.got.length > 10, `seed ${seed}: some cases must pass the HTTP checks (${f.got.length})`);
  for (const m of f.got) {
    const texts = m.kind === 'raw' ? [m.from, ...m.recipients.map((x) => x.address)] : [m.from, ...m.to, ...m.cc, ...m.bcc, m.subject, ...m.attachments.map((a) => a.filename)];
    for (const s of texts) assert.doesNotMatch(s, /[\r\n\0]/, `seed ${seed}: a line break reached submit: ${JSON.stringify(s)}`);
  }
});

test(`at most ${MAX_CONCURRENT_SENDS} sends at once: one more is 503 with Retry-After, and goes through once one finishes`, async (t) => {
  const f = await serve(t);
  f.gate.hold = true;
  const held = Array.from({ length: MAX_CONCURRENT_SENDS }, () => post(f, json(message), { type: 'application/json' }));
  await until('all held in submit', () => f.gate.waiting === MAX_CONCURRENT_SENDS, 10_000);
  const over = await post(f, json(message), { type: 'application/json' });
  assert.deepEqual([over.status, over.body.code, over.headers.get('retry-after')], [503, 'SG_HTTP_BUSY', '1']);
  f.gate.hold = false;
  f.gate.release();
  for (const r of await Promise.all(held)) assert.equal(r.status, 202);
  assert.equal((await post(f, json(message), { type: 'application/json' })).status, 202);
});

test('Http SendRate: over the rate from one address is 429 with Retry-After; the count is per address and refills with time', async (t) => {
  const f = await serve(t, { ratePerMinute: 2 });
  // Both within the first minute's burst, then the third is refused (a refill of one takes 30 s).
  assert.equal((await post(f, json(message), { type: 'application/json' })).status, 202);
  assert.equal((await post(f, json(message), { type: 'application/json' })).status, 202);
  const r = await post(f, json(message), { type: 'application/json' });
  assert.deepEqual([r.status, r.body.code], [429, 'SG_HTTP_RATE_LIMITED']);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);

  let now = 1_000_000;
  const l = new SendRateLimiter(60, () => now);
  for (let i = 0; i < 60; i++) assert.equal(l.take('a'), undefined);
  assert.equal(l.take('a'), 1);
  assert.equal(l.take('b'), undefined, 'another address has its own bucket');
  now += 1000;
  assert.equal(l.take('a'), undefined, 'one second later one more');
  assert.equal(l.take('a'), 1);
  assert.equal(new SendRateLimiter(0, () => now).take('a'), undefined, '0 = no limit');
});
