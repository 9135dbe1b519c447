import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { tempDir } from '../testing/peers.js';
import { writeConfig, withoutTrace } from '../testing/gateway.js';
import { parseEnvelopeFile } from '../spool/message-entry.js';
import { submitHttpMessage, type HttpMessage } from './http-send.js';

const alice = { uid: 1001, user: 'alice' };

function setup(t: TestContext, extra = '') {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\n${extra}`);
  return { config, entry: (id: string) => join(config.spool.directory, config.extWrtName, 'incoming', id) };
}

test('submitHttpMessage raw: the bytes as sent (Bcc: field removed) with our Received field, the envelope beside them', async (t) => {
  const { config, entry } = setup(t, 'Users { SenderPolicy Any }');
  const message = 'From: billing@corp.test\r\nTo: c@remote.test\r\nBcc: audit@corp.test\r\nSubject: x\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x1@corp.test>\r\n\r\nBetrag: 12,50 \xe4  \r\n.\r\n';
  const r = await submitHttpMessage({
    kind: 'raw', from: 'billing@corp.test', data: Buffer.from(message, 'latin1'),
    recipients: [{ address: 'c@remote.test', type: 'normal' }, { address: '<audit@corp.test>', type: 'bcc' }, { address: 'C@remote.test', type: 'cc' }],
  }, { config, caller: alice });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.envelope, { from: 'billing@corp.test', recipients: ['c@remote.test', 'audit@corp.test'] });
  assert.equal(r.value.bccHeaderStripped, true);
  const data = readFileSync(join(entry(r.value.id), 'data'));
  assert.equal(r.value.size, data.length);
  assert.match(data.toString('latin1'), /^Received: by gw\.test \(spoolgate TEST http, from user alice\)/);
  assert.equal(withoutTrace(data), message.replace('Bcc: audit@corp.test\r\n', ''));
  const env = parseEnvelopeFile(readFileSync(join(entry(r.value.id), 'envelope.json')));
  assert.ok(env.ok);
  assert.deepEqual(env.value.origin, { kind: 'submission', tool: 'http' });
});

test('submitHttpMessage compose: MIME by MailComposer, attachments byte-equal with their content types, Bcc only in the envelope', async (t) => {
  const { config, entry } = setup(t, 'Users { SenderPolicy Any }');
  const pdf = randomBytes(70_000);
  const r = await submitHttpMessage({
    kind: 'compose', from: 'Billing Dept <billing@corp.test>', to: ['Kunde <c@remote.test>'], cc: [], bcc: ['audit@corp.test'],
    subject: 'Rechnung für März', text: 'Grüße\n', html: '<p>Grüße</p>',
    attachments: [{ filename: 'Rechnung 1.pdf', content: pdf }, { filename: 'data', contentType: 'text/csv', content: Buffer.from('a;b\r\n') }],
  }, { config, caller: alice });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.envelope.recipients, ['c@remote.test', 'audit@corp.test']);
  const data = readFileSync(join(entry(r.value.id), 'data'));
  assert.doesNotMatch(data.subarray(0, data.indexOf('\r\n\r\n')).toString('latin1'), /audit@|^bcc:/im);
  const m = await simpleParser(data);
  assert.equal(m.subject, 'Rechnung für März');
  assert.deepEqual(m.from?.value.map((a) => [a.name, a.address]), [['Billing Dept', 'billing@corp.test']]);
  assert.equal(m.text, 'Grüße\n');
  assert.deepEqual(m.attachments.map((a) => [a.filename, a.contentType]), [['Rechnung 1.pdf', 'application/pdf'], ['data', 'text/csv']]);
  assert.ok(m.attachments[0]!.content.equals(pdf));
});

test('submitHttpMessage: the refusals of `spoolgate sendmail`, with its codes', async (t) => {
  const { config } = setup(t, 'JESMsgSize 64');
  const okRaw = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  const compose = (o: Partial<Extract<HttpMessage, { kind: 'compose' }>>): HttpMessage => ({ kind: 'compose', from: 'alice@gw.test', to: ['b@remote.test'], cc: [], bcc: [], subject: 's', attachments: [], ...o });
  const cases: { name: string; msg: HttpMessage; code: string }[] = [
    { name: 'SenderPolicy Own: another sender', msg: { kind: 'raw', from: 'ceo@gw.test', recipients: [{ address: 'b@remote.test', type: 'normal' }], data: okRaw }, code: 'SG_SENDMAIL_SENDER_NOT_ALLOWED' },
    { name: 'SenderPolicy Own in the composed form', msg: compose({ from: 'CEO <ceo@gw.test>' }), code: 'SG_SENDMAIL_SENDER_NOT_ALLOWED' },
    { name: 'no recipient', msg: { kind: 'raw', from: 'alice@gw.test', recipients: [], data: okRaw }, code: 'SG_SENDMAIL_NO_RECIPIENT' },
    { name: 'no recipient (composed)', msg: compose({ to: [] }), code: 'SG_SENDMAIL_NO_RECIPIENT' },
    { name: 'bad recipient', msg: { kind: 'raw', from: 'alice@gw.test', recipients: [{ address: 'no-at', type: 'normal' }], data: okRaw }, code: 'SG_SENDMAIL_BAD_RECIPIENT' },
    { name: 'bad cc (composed)', msg: compose({ cc: ['x@'] }), code: 'SG_SENDMAIL_BAD_RECIPIENT' },
    { name: 'bad from (composed)', msg: compose({ from: 'Name <>' }), code: 'SG_SENDMAIL_BAD_ORIGINATOR' },
    { name: 'long originator', msg: { kind: 'raw', from: `${'a'.repeat(250)}@gw.test`, recipients: [{ address: 'b@remote.test', type: 'normal' }], data: okRaw }, code: 'SG_SENDMAIL_ORIGINATOR_TOO_LONG' },
    { name: 'too many recipients', msg: compose({ to: Array.from({ length: 2001 }, (_, i) => `r${i}@remote.test`) }), code: 'SG_SENDMAIL_TOO_MANY_RECIPIENTS' },
    { name: 'no header', msg: { kind: 'raw', from: 'alice@gw.test', recipients: [{ address: 'b@remote.test', type: 'normal' }], data: Buffer.from('just text\r\n') }, code: 'SG_SENDMAIL_NO_HEADER' },
    { name: 'no separator', msg: { kind: 'raw', from: 'alice@gw.test', recipients: [{ address: 'b@remote.test', type: 'normal' }], data: Buffer.from('Subject: x\r\n') }, code: 'SG_SENDMAIL_NO_SEPARATOR' },
    // The receiver is off, so the message entry limit is JESMsgSize 64 KB.
    { name: 'over the message entry limit', msg: compose({ attachments: [{ filename: 'big.bin', content: randomBytes(70 * 1024) }] }), code: 'SG_SENDMAIL_FILE_TOO_LARGE' },
  ];
  for (const c of cases) {
    const r = await submitHttpMessage(c.msg, { config, caller: alice });
    assert.equal(r.ok ? 'queued' : r.error.code, c.code, c.name);
  }
  const queued = await submitHttpMessage(compose({}), { config, caller: alice });
  assert.ok(queued.ok, 'the own address under SenderPolicy Own is queued');
});

test('submitHttpMessage compose: quotes, commas, semicolons and non-ASCII in names and file names stay inside their field', async (t) => {
  const { config, entry } = setup(t, 'Users { SenderPolicy Any }');
  const names = ['a"; filename="evil.exe', 'Bericht, März; Teil=1 (final).pdf', '=?utf-8?q?x?=.txt', 'x'.repeat(200) + '.bin'];
  const r = await submitHttpMessage({
    kind: 'compose', from: '"Doe, John" <john@corp.test>', to: ['"Müller; Jörg" <j@remote.test>', 'x <y@remote.test>'], cc: [], bcc: [],
    subject: 'Re: =?utf-8?b?AAA=?= "quoted" ; Bcc: v@remote.test', text: 't',
    attachments: names.map((filename, i) => ({ filename, content: Buffer.from([i]) })),
  }, { config, caller: alice });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.envelope.recipients, ['j@remote.test', 'y@remote.test']);
  const m = await simpleParser(readFileSync(join(entry(r.value.id), 'data')));
  assert.equal(m.subject, 'Re: =?utf-8?b?AAA=?= "quoted" ; Bcc: v@remote.test');
  assert.equal(m.bcc, undefined);
  assert.deepEqual(m.from?.value.map((a) => [a.name, a.address]), [['Doe, John', 'john@corp.test']]);
  const to = Array.isArray(m.to) ? m.to : [m.to!];
  assert.deepEqual(to.flatMap((a) => a.value.map((x) => [x.name, x.address])), [['Müller; Jörg', 'j@remote.test'], ['x', 'y@remote.test']]);
  assert.deepEqual(m.attachments.map((a) => a.filename), names);
  assert.deepEqual(m.attachments.map((a) => a.content[0]), [0, 1, 2, 3]);
});
