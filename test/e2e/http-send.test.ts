// X1 #21 item 5 acceptance: the HTTP send API of a real gateway (startServices, no receiver),
// driven by the real curl binary (message/rfc822 with the envelope in the query, and the JSON raw
// form) and by Python's urllib (a JSON description with a binary attachment). Each mail goes
// through the spool and the forwarder to nodemailer's smtp-server on 127.0.0.1 port 0: a raw
// message arrives byte for byte (only our Received field on top), the composed one parses with
// mailparser to the same text and the same attachment bytes. The send token opens no operator route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Logger } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { execProgram, until, withoutTrace, writeConfig } from '../../src/testing/gateway.js';
import { startRelayTarget } from './relay-harness.js';

/** curl -w '\n%{http_code}' output → [body, status]. */
function split(out: string): [string, string] {
  const nl = out.lastIndexOf('\n');
  return [out.slice(0, nl), out.slice(nl + 1)];
}

test('send API: curl (rfc822 and JSON raw) and Python urllib (JSON with an attachment) → spool → forwarder → smtp-server', async (t) => {
  const curl = needPeer(t, 'curl');
  const python = needPeer(t, 'python3');
  if (!curl || !python) return;
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} ConnectLimit 2 }
    Http { Listen 127.0.0.1:0 SendMaxBody 1048576 SendRate 600 }
    Users { SenderPolicy Any }`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const http = services.listening.find((l) => l.role === 'http');
  assert.ok(http !== undefined);
  const base = `http://127.0.0.1:${http.port}`;
  const sendTokenFile = join(config.stateDirectory, 'http-send.token');
  assert.equal(statSync(sendTokenFile).mode & 0o777, 0o600);
  const sendToken = readFileSync(sendTokenFile, 'utf8').trim();

  // The send token runs no operator command.
  let r = await execProgram(curl, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--oauth2-bearer', sendToken, '-d', 'SUSPEND,DELAY', `${base}/api/v1/command`]);
  assert.equal(r.stdout, '403');
  assert.equal(services.gateway.forwarder.suspendMode, 'none');

  // 1. curl, message/rfc822: the file as it is, the envelope in the query (curl --url-query encodes the '+').
  const raw = Buffer.from('From: Billing <billing@corp.test>\r\nTo: a+b@remote.test\r\nBcc: audit@corp.test\r\nSubject: Rechnung\r\n'
    + 'Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inv-1@corp.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n'
    + 'Content-Transfer-Encoding: 8bit\r\n\r\nBetrag: 12,50 \xe4  \r\n.\r\n..two dots\r\n' + 'x'.repeat(990) + '\r\nlast line without CRLF', 'latin1');
  writeFileSync(join(dir, 'invoice.eml'), raw);
  r = await execProgram(curl, ['-s', '-w', '\n%{http_code}', '--oauth2-bearer', sendToken, '-H', 'Content-Type: message/rfc822', '--data-binary', `@${join(dir, 'invoice.eml')}`,
    '--url-query', 'from=billing@corp.test', '--url-query', 'to=a+b@remote.test', '--url-query', 'bcc=audit@corp.test', `${base}/api/v1/messages`]);
  let [answer, status] = split(r.stdout);
  assert.equal(status, '202', r.stdout);
  const first = JSON.parse(answer) as { ok: boolean; id: string; envelope: { from: string; recipients: string[] }; bccHeaderStripped: boolean };
  assert.deepEqual([first.ok, first.envelope, first.bccHeaderStripped], [true, { from: 'billing@corp.test', recipients: ['a+b@remote.test', 'audit@corp.test'] }, true]);
  await target.waitFor(1);
  const m1 = target.mails[0]!;
  assert.deepEqual([m1.from, m1.rcpts.map((x) => x.address)], ['billing@corp.test', ['a+b@remote.test', 'audit@corp.test']]);
  // Byte for byte, less the Bcc: field (sendmail's rule); the message entry ends the last line for SMTP.
  assert.equal(withoutTrace(m1.data), raw.toString('latin1').replace('Bcc: audit@corp.test\r\n', '') + '\r\n');
  assert.match(m1.data.toString('latin1'), /^Received: by gw\.test \(spoolgate TEST http, from user /);

  // 2. curl, JSON {envelope, raw}: the same bytes as base64.
  const raw2 = Buffer.from('Subject: json raw\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <r2@corp.test>\r\n\r\n\xff\xfe binary-ish \x01\r\n', 'latin1');
  r = await execProgram(curl, ['-s', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${sendToken}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify({ envelope: { from: 'app@corp.test', to: ['c@remote.test'] }, raw: raw2.toString('base64') }), `${base}/api/v1/messages`]);
  [answer, status] = split(r.stdout);
  assert.equal(status, '202', r.stdout);
  assert.deepEqual((JSON.parse(answer) as { envelope: unknown }).envelope, { from: 'app@corp.test', recipients: ['c@remote.test'] });
  await target.waitFor(2);
  assert.equal(withoutTrace(target.mails[1]!.data), raw2.toString('latin1'));

  // A refusal from curl: sendmail's code and a 422.
  r = await execProgram(curl, ['-s', '-w', '\n%{http_code}', '--oauth2-bearer', sendToken, '-H', 'Content-Type: message/rfc822', '--data-binary', 'no header here',
    `${base}/api/v1/messages?from=app@corp.test&to=c@remote.test`]);
  [answer, status] = split(r.stdout);
  assert.equal(status, '422');
  assert.equal((JSON.parse(answer) as { code: string }).code, 'SG_SENDMAIL_NO_HEADER');

  // 3. Python urllib: a JSON description with a binary attachment.
  const pdf = randomBytes(200_000);
  writeFileSync(join(dir, 'report.pdf'), pdf);
  const script = `
import base64, json, sys, urllib.request
pdf = open(sys.argv[2], 'rb').read()
body = json.dumps({
    'from': 'Reports <reports@corp.test>', 'to': ['Kunde <k@remote.test>'], 'cc': 'cc@remote.test', 'bcc': ['hidden@remote.test'],
    'subject': 'Monatsbericht für März', 'text': 'Grüße,\\nanbei der Bericht.\\n', 'html': '<p>Grüße</p>',
    'attachments': [{'filename': 'Bericht März.pdf', 'contentType': 'application/pdf', 'content': base64.b64encode(pdf).decode('ascii')}],
}).encode('utf-8')
req = urllib.request.Request(sys.argv[1] + '/api/v1/messages', data=body, method='POST',
    headers={'Authorization': 'Bearer ' + sys.argv[3], 'Content-Type': 'application/json'})
with urllib.request.urlopen(req) as resp:
    print(resp.status, resp.read().decode('utf-8'))
`;
  r = await execProgram(python, ['-c', script, base, join(dir, 'report.pdf'), sendToken]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^202 \{"ok":true,"id":"[^"]+"/);
  await target.waitFor(3);
  const m3 = target.mails[2]!;
  assert.deepEqual(m3.rcpts.map((x) => x.address), ['k@remote.test', 'cc@remote.test', 'hidden@remote.test']);
  assert.doesNotMatch(m3.data.subarray(0, m3.data.indexOf('\r\n\r\n')).toString('latin1'), /hidden@/);
  const parsed = await simpleParser(m3.data);
  assert.equal(parsed.subject, 'Monatsbericht für März');
  assert.equal(parsed.text, 'Grüße,\nanbei der Bericht.\n');
  assert.equal(parsed.html, '<p>Grüße</p>');
  assert.deepEqual(parsed.from?.value.map((a) => [a.name, a.address]), [['Reports', 'reports@corp.test']]);
  assert.deepEqual(parsed.attachments.map((a) => [a.filename, a.contentType]), [['Bericht März.pdf', 'application/pdf']]);
  assert.ok(parsed.attachments[0]!.content.equals(pdf), 'the attachment arrives byte for byte');
  await until('spool empty', async () => (await services.gateway.queue.list()).length === 0);
});

test('send API under SenderPolicy Own: Http SendUser is the identity — its own address is sent, another is 403', async (t) => {
  const target = await startRelayTarget(t);
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${target.port} }
    Http { Listen 127.0.0.1:0 SendUser reports }
    Users { SenderPolicy Own DefaultDomain corp.test }`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const http = services.listening.find((l) => l.role === 'http')!;
  const sendToken = readFileSync(join(config.stateDirectory, 'http-send.token'), 'utf8').trim();
  const send = (from: string) => fetch(`http://127.0.0.1:${http.port}/api/v1/messages`, {
    method: 'POST', headers: { Authorization: `Bearer ${sendToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ from, to: 'k@remote.test', subject: 'Own', text: 'x' }),
  });
  const refused = await send('ceo@corp.test');
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), { ok: false, code: 'SG_SENDMAIL_SENDER_NOT_ALLOWED', error: 'user reports may not send as ceo@corp.test: SenderPolicy Own allows only reports@corp.test' });
  const sent = await send('Reports <reports@corp.test>');
  assert.equal(sent.status, 202);
  await target.waitFor(1);
  assert.equal(target.mails.length, 1);
  assert.equal(target.mails[0]!.from, 'reports@corp.test');
  assert.match(target.mails[0]!.data.toString('latin1'), /^Received: by gw\.test \(spoolgate TEST http, from user reports\)/);
});
