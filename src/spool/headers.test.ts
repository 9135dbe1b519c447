import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../testing/clock.js';
import { isHeaderFieldLine, HeaderScanner, formatRfc5322Date, zoneOffsetFn, traceHeaders, missingFields, countReceivedFields, overHopLimit, type HeaderOptions } from './headers.js';
import { toItems, baseOptions, runAll } from './batch-testutil.js';
import type { BatchOptions } from './batch.js';

// FakeClock default: 2026-11-22T12:00:00Z (a Sunday).
const T = new FakeClock().now();

test('RFC 5322 §2.2 field-name detection', () => {
  const cases: { line: string; want: boolean }[] = [
    { line: 'Subject: x', want: true },
    { line: 'X-Custom-1:', want: true },
    { line: 'Subject :x', want: false }, // SP is not ftext
    { line: ':x', want: false },
    { line: 'no colon here', want: false },
    { line: 'Hello world: x', want: false },
    { line: '\tfolded: x', want: false },
    { line: 'Ä:x', want: false },
    { line: '!#~:x', want: true },
  ];
  for (const c of cases) assert.equal(isHeaderFieldLine(c.line), c.want, c.line);
});

test('HeaderScanner: continuations, Date and Message-ID in any case', () => {
  const s = new HeaderScanner();
  assert.equal(s.accept(' leading continuation'), false);
  const s2 = new HeaderScanner();
  for (const l of ['DATE: x', '\tmore', 'message-id: <a@b>']) assert.equal(s2.accept(l), true, l);
  assert.equal(s2.hasDate, true);
  assert.equal(s2.hasMessageId, true);
  assert.equal(s2.accept('body line'), false);
});

test('RFC 5322 §3.3 date-time in a fixed zone', () => {
  const cases: { tz: string | undefined; want: string }[] = [
    { tz: 'UTC', want: 'Sun, 22 Nov 2026 12:00:00 +0000' },
    { tz: 'Europe/Berlin', want: 'Sun, 22 Nov 2026 13:00:00 +0100' },
    { tz: 'America/St_Johns', want: 'Sun, 22 Nov 2026 08:30:00 -0330' },
    { tz: 'Asia/Kolkata', want: 'Sun, 22 Nov 2026 17:30:00 +0530' },
  ];
  for (const c of cases) assert.equal(formatRfc5322Date(T, zoneOffsetFn(c.tz)), c.want, c.tz);
  // Summer time is taken at the clock's instant.
  assert.equal(formatRfc5322Date(Date.UTC(2026, 6, 1, 12), zoneOffsetFn('Europe/Berlin')), 'Wed, 1 Jul 2026 14:00:00 +0200');
  // No zone configured: the process's own offset at that instant.
  const local = zoneOffsetFn(undefined);
  assert.equal(local(T), -new Date(T).getTimezoneOffset());
  assert.throws(() => zoneOffsetFn('Not/AZone'), /unknown time zone/);
});

const HO: HeaderOptions = { date: true, userInfo: true, instance: 'SPOOLGW', hostName: 'gw.example', job: { jobName: 'PAYJOB', jobId: 'J0001234', originUser: 'PAYUSER' } };

test('Received with UserInfo YES names job, job id and origin user', () => {
  const t = traceHeaders(HO, T, zoneOffsetFn('UTC'));
  assert.match(t.messageId, /^<[0-9a-z]+\.spoolgate@gw\.example>$/);
  assert.deepEqual(t.received, [
    'Received: from PAYJOB (job J0001234 user PAYUSER)',
    `\tby gw.example (spoolgate SPOOLGW) with BSMTP id ${t.messageId};`,
    '\tSun, 22 Nov 2026 12:00:00 +0000',
  ]);
});

test('Received with UserInfo NO names only the instance', () => {
  const t = traceHeaders({ ...HO, userInfo: false }, T, zoneOffsetFn('UTC'));
  assert.equal(t.received[0], 'Received: from SPOOLGW');
  assert.ok(!t.received.join('\n').includes('PAYJOB') && !t.received.join('\n').includes('PAYUSER'));
});

test('job attributes are sanitised before going into a trace header', () => {
  const t = traceHeaders({ ...HO, job: { jobName: 'A(B)\r\nX', jobId: '', originUser: 'u ser' } }, T, zoneOffsetFn('UTC'));
  assert.equal(t.received[0], 'Received: from A-B---X (job unknown user u-ser)');
});

test('missingFields: Date only with Header Date YES and when missing; Message-ID when missing', () => {
  const t = traceHeaders(HO, T, zoneOffsetFn('UTC'));
  const id = `Message-ID: ${t.messageId}`;
  const date = 'Date: Sun, 22 Nov 2026 12:00:00 +0000';
  assert.deepEqual(missingFields(t, true, { date: false, messageId: false }), [date, id]);
  assert.deepEqual(missingFields(t, true, { date: true, messageId: false }), [id]);
  assert.deepEqual(missingFields(t, false, { date: false, messageId: false }), [id]);
  assert.deepEqual(missingFields(t, true, { date: true, messageId: true }), []);
});

function parse(body: string[], over: Partial<BatchOptions>): string {
  const { events } = runAll(baseOptions(new FakeClock(), over), toItems(['HELO h', 'MAIL FROM:<a@b.example>', 'RCPT TO:<c@d.example>', 'DATA', ...body, '.']));
  const e = events[0];
  assert.ok(e?.kind === 'message', JSON.stringify(events));
  return e.message.data.toString('latin1').replace(/<[0-9a-z]+\.spoolgate@gw\.example>/g, '<ID>');
}

test('parser: Date and Message-ID added only when missing, in a fixed zone, after the own headers', () => {
  const opts = { header: { date: true, userInfo: true }, timeZone: 'Europe/Berlin' };
  assert.equal(parse(['Subject: s', '', 'b'], opts),
    'Received: from PAYJOB (job J0001234 user PAYUSER)\r\n\tby gw.example (spoolgate SPOOLGW) with BSMTP id <ID>;\r\n\tSun, 22 Nov 2026 13:00:00 +0100\r\n' +
    'Subject: s\r\nDate: Sun, 22 Nov 2026 13:00:00 +0100\r\nMessage-ID: <ID>\r\n\r\nb\r\n');
  const own = parse(['Date: Mon, 1 Jan 2024 00:00:00 +0000', 'Message-ID: <mine@x>', '', 'b'], opts);
  assert.ok(own.endsWith('\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <mine@x>\r\n\r\nb\r\n'), own);
  assert.equal(own.match(/^Date:/gm)?.length, 1);
  assert.equal(own.match(/^Message-ID:/gm)?.length, 1);
  const noDate = parse(['Subject: s', '', 'b'], { header: { date: false, userInfo: false } });
  assert.ok(!/^Date:/m.test(noDate));
  assert.ok(noDate.startsWith('Received: from SPOOLGW\r\n'));
});

test('parser: separator added at the start, before the first body line, and after headers only', () => {
  const o = { header: { date: false, userInfo: true } };
  assert.ok(parse(['just text'], o).endsWith('\tSun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <ID>\r\n\r\njust text\r\n'));
  assert.ok(parse(['To: x', 'body'], o).endsWith('To: x\r\nMessage-ID: <ID>\r\n\r\nbody\r\n'));
  assert.ok(parse(['To: x'], o).endsWith('To: x\r\nMessage-ID: <ID>\r\n\r\n'));
  assert.ok(parse([], o).endsWith('\r\nMessage-ID: <ID>\r\n\r\n'));
  // An existing separator is not doubled.
  assert.ok(parse(['To: x', '', 'body'], o).endsWith('To: x\r\nMessage-ID: <ID>\r\n\r\nbody\r\n'));
});

// RFC 5321 §6.3: hop counting for loop detection (MaxReceivedHeaders).
const received = (n: number): string => Array.from({ length: n }, (_, i) => `Received: from h${i} by g${i};\r\n\tSun, 22 Nov 2026 12:00:00 +0000\r\n`).join('');

test('countReceivedFields: folded fields count once, any case, and only the header section', () => {
  const msg = Buffer.from(
    'RECEIVED: from a\r\n' +
    '\tby b; Sun, 22 Nov 2026 12:00:00 +0000\r\n' +
    'X-Received: from internal\r\n' +
    'Delivered-To: someone@example.test\r\n' +
    'received:from c by d; Sun, 22 Nov 2026 12:00:00 +0000\r\n' +
    'Receivedx: not a trace field\r\n' +
    'Subject: Received: in a subject\r\n' +
    '\r\n' +
    'Received: a body line that looks like a field\r\n', 'latin1');
  assert.equal(countReceivedFields(msg), 2);
  // Bare LF line ends too; a body that starts without the empty line (a non-field line) ends the section.
  assert.equal(countReceivedFields(Buffer.from('Received: a\nReceived: b\nnot a field line\nReceived: c\n')), 2);
  // A leading continuation with no field before it is body.
  assert.equal(countReceivedFields(Buffer.from(' Received: x\r\nReceived: y\r\n')), 0);
  assert.equal(countReceivedFields(Buffer.from('')), 0);
  assert.equal(countReceivedFields(Buffer.from('Received: no line end')), 1);
});

test('countReceivedFields: exactly 100 and 101; counting stops above the bound', () => {
  assert.equal(countReceivedFields(Buffer.from(received(100) + 'Subject: x\r\n\r\nbody\r\n')), 100);
  assert.equal(countReceivedFields(Buffer.from(received(101) + '\r\n')), 101);
  assert.equal(countReceivedFields(Buffer.from(received(5000) + '\r\n'), 10), 11);
  // overHopLimit: the message as held has our own Received on top, which is not counted.
  const ours = 'Received: from client by us; Sun, 22 Nov 2026 12:00:00 +0000\r\n';
  assert.equal(overHopLimit(Buffer.from(ours + received(100) + '\r\nbody\r\n'), 100), false);
  assert.equal(overHopLimit(Buffer.from(ours + received(101) + '\r\nbody\r\n'), 100), true);
  // A body full of Received-looking lines never counts.
  assert.equal(overHopLimit(Buffer.from(ours + 'Subject: x\r\n\r\n' + received(500)), 100), false);
});
