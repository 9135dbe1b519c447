import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser, type ParsedMail } from 'mailparser';
import { buildDsn, notificationSuppression, notifyWants, type DsnInput, type DsnRecipientReport } from './dsn.js';
import type { Envelope, Recipient, DsnNotify } from '../core/index.js';

const NOW = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));
const ARRIVAL = new Date(Date.UTC(2026, 10, 22, 11, 0, 0));

function rcpt(addr: string, notify?: DsnNotify, orcpt?: { type: string; address: string }): Recipient {
  const [local, domain] = addr.split('@') as [string, string];
  return { mailbox: { local, domain }, ...(notify ? { notify } : {}), ...(orcpt ? { orcpt } : {}) };
}

function envelope(over: Partial<Envelope> = {}): Envelope {
  return {
    from: { kind: 'mailbox', mailbox: { local: 'batch', domain: 'mvs.example.com' } },
    recipients: [rcpt('alice@example.org'), rcpt('bob@example.org')],
    requireTls: false,
    ...over,
  };
}

const BODY = 'From: batch@mvs.example.com\r\nTo: alice@example.org\r\nSubject: nightly run\r\nMessage-ID: <x1@mvs>\r\n\r\nJob PAYROLL ended RC=0000.\r\nSecond line.\r\n';

function input(over: Partial<DsnInput> = {}, env = envelope(), data = BODY): DsnInput {
  return {
    original: { envelope: env, data: Buffer.from(data, 'latin1'), arrival: ARRIVAL, jobName: 'PAYROLL', jobId: 'JOB00042' },
    recipients: [
      { recipient: rcpt('alice@example.org'), action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 <alice@example.org>: user unknown', remoteMta: 'mx1.example.org' },
    ],
    reportingMta: 'gw.example.com',
    now: NOW,
    ...over,
  };
}

/** Raw text of one MIME part (between boundaries) by content type. */
function rawPart(raw: string, contentType: string): string {
  const b = /boundary="([^"]+)"/.exec(raw)![1]!;
  const parts = raw.split(`--${b}`);
  const p = parts.find((x) => new RegExp(`^\\r\\nContent-Type: ${contentType.replace('/', '\\/')}`, 'i').test(x));
  assert.ok(p, `part ${contentType} present`);
  return p.slice(p.indexOf('\r\n\r\n') + 4);
}

function checkWire(data: Buffer): void {
  const s = data.toString('latin1');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(s), 'CRLF only');
  for (const line of s.split('\r\n')) assert.ok(line.length <= 998, `line ≤ 998: ${line.length}`);
}

async function parse(data: Buffer): Promise<ParsedMail> {
  return simpleParser(data, { skipHtmlToText: true, skipTextToHtml: true, keepDeliveryStatus: true });
}

// RFC 3464 §2.2/§2.3 field syntax, one regex per field name.
const FIELD_SYNTAX: Record<string, RegExp> = {
  'Reporting-MTA': /^Reporting-MTA: dns; [A-Za-z0-9.-]+$/,
  'Original-Envelope-Id': /^Original-Envelope-Id: [\x21-\x7e]+$/,
  'Arrival-Date': /^Arrival-Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
  'Final-Recipient': /^Final-Recipient: (rfc822|utf-8); \S+$/,
  'Original-Recipient': /^Original-Recipient: [A-Za-z0-9-]+; \S+$/,
  Action: /^Action: (failed|delayed|delivered|relayed|expanded)$/,
  Status: /^Status: [245]\.\d{1,3}\.\d{1,3}$/,
  'Remote-MTA': /^Remote-MTA: dns; \S+$/,
  'Diagnostic-Code': /^Diagnostic-Code: smtp; [\x20-\x7e]+$/,
  'Last-Attempt-Date': /^Last-Attempt-Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
  'Will-Retry-Until': /^Will-Retry-Until: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
};

/** Parses the message/delivery-status body into groups of unfolded fields, checking syntax. */
function statusGroups(body: string): Map<string, string>[] {
  const groups: Map<string, string>[] = [];
  for (const block of body.replace(/(\r\n)+$/, '').split('\r\n\r\n')) {
    if (block.trim() === '') continue;
    const m = new Map<string, string>();
    for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
      const name = line.slice(0, line.indexOf(':'));
      const re = FIELD_SYNTAX[name];
      assert.ok(re, `known field ${name}`);
      assert.match(line, re);
      m.set(name, line.slice(name.length + 2));
    }
    groups.push(m);
  }
  return groups;
}

test('failed recipient: multipart/report with three parts, RFC 3464 fields, original attached', async () => {
  const env = envelope({ dsn: { envid: 'QQ314159', ret: 'FULL' }, recipients: [rcpt('alice@example.org', undefined, { type: 'rfc822', address: 'Alice@Example.org' })] });
  const inp = input({
    recipients: [{ recipient: env.recipients[0]!, action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 <alice@example.org>: user unknown', remoteMta: 'mx1.example.org' }],
  }, env);
  const dsn = buildDsn(inp);
  assert.ok(dsn);
  checkWire(dsn.data);
  // RFC 5321 §4.5.5: null sender, to the original MAIL FROM.
  assert.deepEqual(dsn.envelope.from, { kind: 'null' });
  assert.deepEqual(dsn.envelope.recipients.map((r) => `${r.mailbox.local}@${r.mailbox.domain}`), ['batch@mvs.example.com']);

  const mail = await parse(dsn.data);
  const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
  assert.equal(ct.value, 'multipart/report');
  assert.equal(ct.params['report-type'], 'delivery-status');
  assert.equal(mail.headers.get('auto-submitted'), 'auto-replied');
  assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : '', 'batch@mvs.example.com');
  assert.match(mail.text ?? '', /<alice@example\.org>: delivery failed permanently/);
  assert.match(mail.text ?? '', /user unknown/);
  assert.match(mail.text ?? '', /PAYROLL JOB00042/);
  const types = mail.attachments.map((a) => a.contentType);
  assert.deepEqual(types, ['message/delivery-status', 'message/rfc822']);
  assert.equal(mail.attachments[1]!.content.toString('latin1'), BODY);

  const raw = dsn.data.toString('latin1');
  const groups = statusGroups(rawPart(raw, 'message/delivery-status'));
  assert.equal(groups.length, 2);
  assert.deepEqual(Object.fromEntries(groups[0]!), {
    'Reporting-MTA': 'dns; gw.example.com', 'Original-Envelope-Id': 'QQ314159', 'Arrival-Date': 'Sun, 22 Nov 2026 11:00:00 +0000',
  });
  assert.deepEqual(Object.fromEntries(groups[1]!), {
    'Original-Recipient': 'rfc822; Alice@Example.org',
    'Final-Recipient': 'rfc822; alice@example.org',
    Action: 'failed',
    Status: '5.1.1',
    'Remote-MTA': 'dns; mx1.example.org',
    'Diagnostic-Code': 'smtp; 550 5.1.1 <alice@example.org>: user unknown',
    'Last-Attempt-Date': 'Sun, 22 Nov 2026 12:00:00 +0000',
  });
});

test('headers only: RET=HDRS, and an original larger than the limit', async (t) => {
  const cases = [
    { name: 'RET=HDRS', env: envelope({ dsn: { ret: 'HDRS' } }), max: undefined },
    { name: 'over the size limit', env: envelope(), max: 50 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const dsn = buildDsn(input(c.max !== undefined ? { maxReturnBytes: c.max } : {}, c.env));
      assert.ok(dsn);
      checkWire(dsn.data);
      const mail = await parse(dsn.data);
      assert.deepEqual(mail.attachments.map((a) => a.contentType), ['message/delivery-status', 'text/rfc822-headers']);
      const hdrs = mail.attachments[1]!.content.toString('latin1');
      assert.match(hdrs, /^Subject: nightly run\r?$/m);
      assert.doesNotMatch(hdrs, /PAYROLL ended/);
      assert.match(mail.text ?? '', /header of the original message is attached/);
    });
  }
});

test('NOTIFY decides which recipients are reported', async (t) => {
  const never: DsnNotify = { kind: 'never' };
  const success: DsnNotify = { kind: 'on', success: true, failure: false, delay: false };
  const delay: DsnNotify = { kind: 'on', success: false, failure: true, delay: true };
  const failureOnly: DsnNotify = { kind: 'on', success: false, failure: true, delay: false };
  const table: { name: string; notify?: DsnNotify; action: DsnRecipientReport['action']; want: boolean }[] = [
    { name: 'default, failed', action: 'failed', want: true },
    { name: 'default, delayed', action: 'delayed', want: false },
    { name: 'default, delivered', action: 'delivered', want: false },
    { name: 'NEVER, failed', notify: never, action: 'failed', want: false },
    { name: 'SUCCESS, delivered', notify: success, action: 'delivered', want: true },
    { name: 'SUCCESS, relayed', notify: success, action: 'relayed', want: true },
    { name: 'SUCCESS only, failed', notify: success, action: 'failed', want: false },
    { name: 'FAILURE,DELAY, delayed', notify: delay, action: 'delayed', want: true },
    { name: 'FAILURE, delayed', notify: failureOnly, action: 'delayed', want: false },
    { name: 'FAILURE, failed', notify: failureOnly, action: 'failed', want: true },
  ];
  for (const c of table) {
    await t.test(c.name, () => {
      const r = rcpt('alice@example.org', c.notify);
      assert.equal(notifyWants(r, c.action), c.want);
      const dsn = buildDsn(input({ recipients: [{ recipient: r, action: c.action, status: c.action === 'failed' ? '5.0.0' : c.action === 'delayed' ? '4.4.1' : '2.0.0' }] }));
      assert.equal(dsn !== null, c.want);
    });
  }

  await t.test('mixed: NEVER recipient left out, the other reported', () => {
    const dsn = buildDsn(input({
      recipients: [
        { recipient: rcpt('alice@example.org', never), action: 'failed', status: '5.1.1' },
        { recipient: rcpt('bob@example.org'), action: 'failed', status: '5.2.2', diagnostic: '552 5.2.2 mailbox full' },
      ],
    }));
    assert.ok(dsn);
    const raw = dsn.data.toString('latin1');
    assert.doesNotMatch(raw, /Final-Recipient: rfc822; alice@/);
    assert.match(raw, /Final-Recipient: rfc822; bob@example\.org/);
  });

  await t.test('delayed notice carries Will-Retry-Until and a 4.x.x status', async () => {
    const until = new Date(Date.UTC(2026, 10, 27, 11, 0, 0));
    const dsn = buildDsn(input({ recipients: [{ recipient: rcpt('alice@example.org', delay), action: 'delayed', status: '4.4.1', diagnostic: 'connection refused', willRetryUntil: until }] }));
    assert.ok(dsn);
    checkWire(dsn.data);
    const g = statusGroups(rawPart(dsn.data.toString('latin1'), 'message/delivery-status'));
    assert.equal(g[1]!.get('Action'), 'delayed');
    assert.equal(g[1]!.get('Status'), '4.4.1');
    assert.equal(g[1]!.get('Will-Retry-Until'), 'Fri, 27 Nov 2026 11:00:00 +0000');
    assert.equal((await parse(dsn.data)).subject, 'Delayed Mail (still being retried)');
  });
});

test('no notification about a notification', async (t) => {
  const cases = [
    { name: 'null MAIL FROM', env: envelope({ from: { kind: 'null' } }), data: BODY, want: 'null-sender' },
    {
      name: 'original is a multipart/report delivery-status',
      env: envelope(),
      data: 'From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report;\r\n\treport-type="delivery-status"; boundary="b"\r\n\r\n--b--\r\n',
      want: 'report',
    },
    { name: 'Auto-Submitted: auto-generated', env: envelope(), data: 'Auto-Submitted: auto-generated\r\nSubject: x\r\n\r\nbody\r\n', want: 'auto-submitted' },
    { name: 'Auto-Submitted: auto-replied (comment)', env: envelope(), data: 'Auto-Submitted: Auto-Replied (vacation)\r\n\r\nbody\r\n', want: 'auto-submitted' },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const orig = { envelope: c.env, data: Buffer.from(c.data, 'latin1') };
      assert.equal(notificationSuppression(orig), c.want);
      assert.equal(buildDsn(input({}, c.env, c.data)), null);
    });
  }
  await t.test('Auto-Submitted: no and multipart/report of another type still get one', () => {
    for (const data of ['Auto-Submitted: no\r\n\r\nx\r\n', 'Content-Type: multipart/report; report-type=disposition-notification; boundary=z\r\n\r\n--z--\r\n']) {
      assert.notEqual(buildDsn(input({}, envelope(), data)), null);
    }
  });
  await t.test('our own notification is recognised as one (bounce loop)', () => {
    const first = buildDsn(input());
    assert.ok(first);
    const withSender = envelope();
    assert.equal(notificationSuppression({ envelope: withSender, data: first.data }), 'report');
  });
});

test('untrusted diagnostic text: long, multi-line, non-ASCII — lines stay short and 7-bit', async () => {
  const long = `550-5.7.1 ${'x'.repeat(3000)}\r\n550 5.7.1 caf\u00e9 ${'word '.repeat(400)}`;
  const dsn = buildDsn(input({ recipients: [{ recipient: rcpt('alice@example.org'), action: 'failed', status: 'junk', diagnostic: long, remoteMta: 'mx1.example.org' }] }));
  assert.ok(dsn);
  checkWire(dsn.data);
  const g = statusGroups(rawPart(dsn.data.toString('latin1'), 'message/delivery-status'));
  assert.equal(g[1]!.get('Status'), '5.0.0');
  assert.ok(g[1]!.get('Diagnostic-Code')!.endsWith('...'));
  await parse(dsn.data);
});

test('8-bit original is carried with Content-Transfer-Encoding 8bit and body8bit envelope', async () => {
  const data = 'Subject: r\u00e9sum\u00e9\r\n\r\nGr\u00fc\u00dfe\r\n';
  const dsn = buildDsn(input({}, envelope({ requireTls: true }), Buffer.from(data, 'utf8').toString('latin1')));
  assert.ok(dsn);
  checkWire(dsn.data);
  assert.equal(dsn.envelope.body8bit, true);
  assert.equal(dsn.envelope.requireTls, true);
  const mail = await parse(dsn.data);
  assert.equal(mail.attachments[1]!.content.toString('utf8'), data);
});

test('bare LF original is returned with CRLF line ends', () => {
  const dsn = buildDsn(input({}, envelope(), 'Subject: lf\n\nline\n'));
  assert.ok(dsn);
  checkWire(dsn.data);
  assert.match(dsn.data.toString('latin1'), /Subject: lf\r\n\r\nline\r\n/);
});

test('(ext) copyTo adds an envelope recipient, not a header; not duplicated when it is the sender', () => {
  const dsn = buildDsn(input({ copyTo: { local: 'nondelivery', domain: 'gw.example.com' } }));
  assert.ok(dsn);
  assert.deepEqual(dsn.envelope.recipients.map((r) => `${r.mailbox.local}@${r.mailbox.domain}`), ['batch@mvs.example.com', 'nondelivery@gw.example.com']);
  assert.doesNotMatch(dsn.data.toString('latin1'), /nondelivery/);
  const same = buildDsn(input({ copyTo: { local: 'batch', domain: 'MVS.example.com' } }));
  assert.equal(same?.envelope.recipients.length, 1);
});
