// Issue #16 item 14 (iSeries role), end to end through a real gateway to nodemailer's smtp-server:
// the NONDELIVERY user (Undeliverable CopyTo) gets its copy of a notification; NOTIFY=SUCCESS to a
// target without DSN gives a "relayed" notice; the journal answers "where is my mail?" for a job.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServices, type Gateway } from '../../src/main.js';
import { Logger } from '../../src/log/index.js';
import { run as journalCli } from '../../src/cli/journal.js';
import { captureIo } from '../../src/testing/cli.js';
import { batchFile, runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { startRelayGateway, startRelayTarget } from './relay-harness.js';
import { needPeer } from '../../src/testing/peers.js';
import { execFile } from 'node:child_process';

function reject550(text: string): Error {
  return Object.assign(new Error(text), { responseCode: 550 });
}

async function gateway(t: TestContext, port: number, extra: string): Promise<{ gw: Gateway; config: ReturnType<typeof writeConfig>['config'] }> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-i16-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} ConnectLimit 2 }\nRetryLimit { Count 2 Interval 1 }\n${extra}`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  return { gw, config };
}

// Seed 004 (tracking undelivered mail): a NONDELIVERY user receives a copy of the nondelivery
// notice, and the sender receives one too.
test('Undeliverable CopyTo: the notification reaches the sender and the NONDELIVERY copy address', async (t) => {
  const tg = await startRelayTarget(t, { onRcpt: (a) => (a === 'gone@far.test' ? reject550('5.1.1 <gone@far.test>: user unknown') : undefined) });
  const { gw, config } = await gateway(t, tg.port, 'Undeliverable {\n  ReturnToMailFrom YES\n  CopyTo NONDELIVERY@gw.test\n}');
  await submitText(config, batchFile('copyto', 1, ['gone@far.test']).text);
  await tg.waitFor(1);
  const dsn = tg.mails[0]!;
  assert.equal(dsn.from, '', 'null sender');
  assert.deepEqual(dsn.rcpts.map((r) => r.address).sort(), ['NONDELIVERY@gw.test', 'job@corp.test'].sort());
  const text = dsn.data.toString('latin1');
  assert.match(text, /^To: <job@corp\.test>$/m, 'the copy address is an envelope recipient only');
  assert.doesNotMatch(text, /^(To|Cc):.*NONDELIVERY/im);
  assert.match(text, /^Final-Recipient: rfc822; gone@far\.test$/m);
  assert.match(text, /^Action: failed$/m);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  assert.equal(tg.mails.length, 1, 'one notification, both recipients in it');
});

// RFC 3461 §5.2.2: a job asks NOTIFY=SUCCESS and the target does not offer DSN, so it is given the
// mail without NOTIFY and the gateway itself tells the sender: a "relayed" notice arrives.
test('NOTIFY=SUCCESS to a target without DSN: the sender gets a "relayed" notice; the target got no NOTIFY', async (t) => {
  const tg = await startRelayTarget(t, { dsn: false });
  const { gw, config } = await gateway(t, tg.port, '');
  const job = 'HELO JOBHOST\r\nMAIL FROM:<payroll@corp.test>\r\nRCPT TO:<clerk@far.test> NOTIFY=SUCCESS,FAILURE\r\nRCPT TO:<audit@far.test>\r\nDATA\r\nSubject: pay run 42\r\n\r\nTotals.\r\n.\r\nQUIT\r\n';
  await submitText(config, job, 'PAYROLL');
  await tg.waitFor(2);
  const original = tg.mails.find((m) => m.from === 'payroll@corp.test')!;
  assert.deepEqual(original.rcpts, [{ address: 'clerk@far.test' }, { address: 'audit@far.test' }], 'no NOTIFY to a target without DSN');
  const notice = tg.mails.find((m) => m.from === '')!;
  assert.deepEqual(notice.rcpts.map((r) => r.address), ['payroll@corp.test']);
  const text = notice.data.toString('latin1');
  assert.match(text, /^Subject: Successful Mail Delivery Report$/m);
  assert.match(text, /^Final-Recipient: rfc822; clerk@far\.test\r\nAction: relayed\r\nStatus: 2\.\d\.\d$/m);
  assert.doesNotMatch(text, /Final-Recipient: rfc822; audit@far\.test/);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  assert.equal(tg.mails.length, 2, 'one original, one notice');
});

// "Where is my mail?" for a batch job on a forwarder-only gateway: the database is opened for the
// journal, and `spoolgate journal --id <spool entry id>` lists the attempts and outcomes.
test('forwarder-only: journal --id with the spool entry id shows attempt, delivered and undeliverable per recipient', async (t) => {
  const tg = await startRelayTarget(t, { onRcpt: (a) => (a === 'gone@far.test' ? reject550('5.1.1 <gone@far.test>: user unknown') : undefined) });
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-i16j-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${tg.port} ConnectLimit 2 }`);
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  const id = await submitText(config, batchFile('where', 1, ['here@far.test', 'gone@far.test']).text, 'WHEREJOB');
  let out = '';
  await until('journal shows the outcome', async () => {
    const io = captureIo();
    assert.equal(await journalCli(['--config', path, '--id', id], io), 0, io.err());
    out = io.out();
    return / notified /.test(out);
  }, 30_000);
  const lines = out.trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[1]), ['attempt', 'delivered', 'undeliverable', 'notified'], out);
  for (const l of lines) assert.ok(l.includes(` ${id}#1 `), l);
  assert.match(lines[0]!, /8B attempt to 127\.0\.0\.1:\d+ for 2 recipient\(s\) job WHEREJOB/);
  assert.match(lines[1]!, /<job@corp\.test> -> <here@far\.test> 88 sent by 127\.0\.0\.1:\d+: 250 /);
  assert.match(lines[2]!, /<job@corp\.test> -> <gone@far\.test> 83 bounced by 127\.0\.0\.1:\d+: 550 5\.1\.1 /);
  assert.match(lines[3]!, /87 notification to the sender for 1 recipient\(s\)/);
});

// RFC 3461 NOTIFY=SUCCESS for a local mailbox (the iSeries DSN option for mail clients): Python
// smtplib hands a message to the receiver for a local user; the sender, on a far domain, gets a
// "delivered" notice through the forwarder.
test('NOTIFY=SUCCESS to a local mailbox: the receiver stores it and the sender gets a "delivered" notice', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const tg = await startRelayTarget(t);
  const gw = await startRelayGateway(t, tg.port);
  await gw.services.store!.users.addUser('alice', 'secret-alice');
  const script = [
    'import smtplib, sys',
    "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)",
    "s.ehlo('client.test')",
    "r = s.sendmail('clerk@far.test', ['alice@local.test'], b'From: clerk@far.test\\r\\nTo: alice@local.test\\r\\nSubject: invoice\\r\\n\\r\\nsee attached\\r\\n', mail_options=['ENVID=INV7'], rcpt_options=['NOTIFY=SUCCESS'])",
    'assert r == {}, r',
    's.quit()',
  ].join('\n');
  await new Promise<void>((resolve, reject) => execFile(py, ['-c', script, String(gw.receiverPort)], { timeout: 60_000 }, (e, _o, se) => (e ? reject(new Error(`${e.message}\n${se}`)) : resolve())));
  await tg.waitFor(1);
  const n = tg.mails[0]!;
  assert.equal(n.from, '');
  assert.deepEqual(n.rcpts.map((r) => r.address), ['clerk@far.test']);
  const text = n.data.toString('latin1');
  assert.match(text, /^Subject: Successful Mail Delivery Report$/m);
  assert.match(text, /^Original-Envelope-Id: INV7$/m);
  assert.match(text, /^Final-Recipient: rfc822; alice@local\.test\r\nAction: delivered\r\nStatus: 2\.0\.0$/m);
  assert.equal((await gw.services.store!.mailboxes.list('alice')).length, 1, 'the mail is in the mailbox');
});
