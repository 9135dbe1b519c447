// O2 #18 item 5: at the default LogLevel (7) one `mail.delivery` line per recipient per attempt,
// with the fields an operator greps (key, job, from, to, relay ip:port, tls, delay, dsn, status,
// the remote reply with its "queued as" id, msgid), the same fields in the Text and JSON forms.
// A real gateway over TLS to a scripted target: one recipient accepted, one refused for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { jsonSink, Logger, textSink, type LogRecord } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { testCerts } from '../../src/testing/certs.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';

/** Text fields of one log line: k=v or k="quoted". */
function textFields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/ ([a-z_]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) out[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!;
  return out;
}

test('mail.delivery: one line per recipient per attempt at LogLevel 7, the same fields in Text and JSON', async (t) => {
  const srv = await FakeSmtpServer.start({
    tls: true,
    rcpt: (a) => (a === 'nobody@remote.test' ? '550 5.1.1 <nobody@remote.test> no such user' : undefined),
    onDot: () => '250 2.0.0 Ok: queued as 4BxYz1QfG',
  });
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} TlsCaFile ${testCerts().caFile} TlsServerName localhost Secure YES }`);
  const records: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => records.push(r) }, instance: 'CSSMTP1', level: 7 });
  const services = await startServices(config, { log });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const spoolId = await submitText(config, batchFile('DLOG', 1, ['rcpt@remote.test', 'nobody@remote.test']).text, 'PAYROLL');
  await until('both delivery lines', () => records.filter((r) => r.event === 'mail.delivery').length >= 2);

  const lines = records.filter((r) => r.event === 'mail.delivery');
  assert.equal(lines.length, 2, 'one line per recipient');
  const sent = lines.find((r) => r.fields.to === 'rcpt@remote.test')!;
  const bounced = lines.find((r) => r.fields.to === 'nobody@remote.test')!;
  assert.equal(sent.level, 'event');
  assert.equal(sent.fields.key, `${spoolId}#1`, 'the key of the journal and of mail.* lines');
  assert.equal(sent.fields.job, 'PAYROLL');
  assert.equal(sent.fields.from, 'job@corp.test');
  assert.equal(sent.fields.relay, `127.0.0.1:${srv.port}`);
  assert.equal(sent.fields.tls, 'yes');
  assert.equal(typeof sent.fields.delay, 'number');
  assert.ok((sent.fields.delay as number) >= 0);
  assert.equal(sent.fields.status, 'sent');
  assert.equal(sent.fields.dsn, '2.0.0');
  assert.equal(sent.fields.reply, '250 2.0.0 Ok: queued as 4BxYz1QfG');
  assert.equal(sent.fields.queued_as, '4BxYz1QfG');
  assert.equal(sent.fields.msgid, '<DLOG.1@corp.test>');
  assert.equal(bounced.fields.status, 'bounced');
  assert.equal(bounced.fields.dsn, '5.1.1');
  assert.equal(bounced.fields.reply, '550 5.1.1 <nobody@remote.test> no such user');
  assert.equal(bounced.fields.queued_as, undefined);

  // The two forms: every field of the record, with the same value.
  const text = new PassThrough({ encoding: 'utf8' });
  const json = new PassThrough({ encoding: 'utf8' });
  textSink(text).write(sent);
  jsonSink(json).write(sent);
  const tl = text.read() as string;
  const jl = JSON.parse(json.read() as string) as Record<string, unknown>;
  assert.match(tl, /^\S+ CSSMTP1 event( tkid=\d+)? mail\.delivery key=/);
  const tf = textFields(tl);
  for (const [k, v] of Object.entries(sent.fields)) {
    if (v === undefined) continue;
    assert.equal(tf[k], String(v), `text ${k}`);
    assert.equal(jl[k], v, `json ${k}`);
  }
});

test('smtp.dialog (LogLevel 32): every line of the forwarder\'s SMTP dialog carries the session id of its connection', async (t) => {
  const srv = await FakeSmtpServer.start({});
  t.after(() => srv.close());
  const { config } = writeConfig(tempDir(t), `LogLevel 39\nTargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }`);
  const records: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => records.push(r) }, instance: 'CSSMTP1', level: 7 | 32 });
  const services = await startServices(config, { log });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  await submitText(config, batchFile('DLG', 1).text);
  await until('the delivery line', () => records.some((r) => r.event === 'mail.delivery'));
  const dialog = records.filter((r) => r.event === 'smtp.dialog');
  assert.ok(dialog.some((r) => String(r.fields.line).startsWith('MAIL FROM:')), 'the dialog is logged');
  const sessions = new Set(dialog.map((r) => r.fields.session));
  assert.equal(sessions.size, 1, 'one connection, one session id');
  assert.ok(dialog.every((r) => typeof r.fields.session === 'string' && /^\S+$/.test(r.fields.session)), 'a session id on every line');
  assert.ok(dialog.every((r) => r.fields.target === `127.0.0.1:${srv.port}`));
});
