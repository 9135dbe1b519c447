// [Q1] acceptance: the gateway's own mail reaches a target byte-exact as built. Delivery status
// notifications (notify/dsn.ts buildDsn) and Report Admin error reports (spool/report.ts) are
// queued as message entries; the bytes and envelope.json in the spool entry are what the gateway
// built, and what nodemailer's smtp-server receives must be exactly that — the same octets (8-bit
// original returned inside the DSN included, after a non-ASCII diagnostic from the target), the
// null sender, the recipients with their parameters.
//
// To read the entry before it is sent and deleted, the test suspends the forwarder the way the
// operator's SUSPEND,DELAY does (running files finish, no new file starts) from inside the target's
// handler of the original transaction, and resumes it once the entry has been captured.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMailbox, type Envelope, type Mailbox } from '../../src/core/index.js';
import type { EnvelopeJson } from '../../src/core/index.js';
import type { Gateway } from '../../src/main.js';
import { enqueueMessage } from '../../src/spool/enqueue.js';
import { runGateway, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { queuedOwnMail, type QueuedOwnMail } from '../../src/testing/records.js';
import { startRelayTarget, type TargetMail } from './relay-harness.js';

function reject550(text: string): Error {
  return Object.assign(new Error(text), { responseCode: 550 });
}

async function gateway(t: TestContext, port: number): Promise<{ gw: Gateway; root: string; writer: string; config: ReturnType<typeof writeConfig>['config'] }> {
  const dir = mkdtempSync(join(tmpdir(), 'spoolgate-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${port} ConnectLimit 2 }
RetryLimit { Count 2 Interval 1 }
Report Admin
MailAdministrator admin@ops.test
MailAdministrator second.admin@ops.test
BadSpoolDisp Hold`);
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  return { gw, root: config.spool.directory, writer: config.extWrtName, config };
}

/** What arrived has exactly the envelope of envelope.json. */
function assertEnvelope(got: TargetMail, want: EnvelopeJson, what: string): void {
  assert.equal(got.from, want.from, `${what}: sender`);
  assert.deepEqual(got.rcpts, want.recipients.map((r) => ({
    address: r.to, ...(r.notify !== undefined ? { notify: r.notify.split(',') } : {}), ...(r.orcpt !== undefined ? { orcpt: `${r.orcpt.type};${r.orcpt.address}` } : {}),
  })), `${what}: recipients`);
  assert.equal(got.fromArgs.BODY, want.body8bit === true ? '8BITMIME' : undefined, `${what}: BODY`);
  assert.equal(got.ret, want.ret, `${what}: RET`);
  assert.equal(got.envid, want.envid, `${what}: ENVID`);
  assert.equal(got.smtpUtf8, want.smtputf8 === true, `${what}: SMTPUTF8`);
  assert.deepEqual(Object.keys(got.fromArgs).filter((k) => !['SIZE', 'BODY', 'RET', 'ENVID', 'SMTPUTF8'].includes(k)), [], `${what}: no other MAIL parameters`);
}

function mb(s: string): Mailbox {
  const m = parseMailbox(s, { utf8: true });
  assert.ok(m.ok, s);
  return m.value;
}

for (const sender of ['sender@client.test', 'jörg@clïent.test']) {
  test(`a permanent 550 with a UTF-8 reply text gives a DSN that reaches ${sender} byte-exact as built, with a null sender`, async (t) => {
    const utf8 = !/^[\x20-\x7e]*$/.test(sender);
    const hold: { gw?: Gateway } = {};
    const diagnostic = '5.1.1 <gone@far.test>: Empfänger unbekannt — 受信者不明 (ça n’existe pas)';
    const tg = await startRelayTarget(t, { onRcpt: (address) => {
      if (address !== 'gone@far.test') return undefined;
      hold.gw?.forwarder.suspend('delay'); // the DSN entry waits in the spool until captured
      return reject550(diagnostic);
    } });
    const g = await gateway(t, tg.port);
    hold.gw = g.gw;
    // The original: 8-bit body, DSN parameters, returned in full.
    const body = Buffer.concat([
      Buffer.from(`From: ${sender}\r\nTo: gone@far.test\r\nSubject: Grüße\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`, 'utf8'),
      Buffer.from('Ä Ö Ü ß € 日本語\r\ntrailing blanks   \r\n' + 'x'.repeat(79) + '<\r\n.leading dot\r\n', 'utf8'),
    ]);
    const envelope: Envelope = {
      from: { kind: 'mailbox', mailbox: mb(sender) },
      recipients: [{ mailbox: mb('gone@far.test'), notify: { kind: 'on', success: false, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'gone@far.test' } }],
      requireTls: false, dsn: { ret: 'FULL', envid: 'ENV-42' }, body8bit: true, ...(utf8 ? { smtputf8: true } : {}),
    };
    const original = await enqueueMessage({ root: g.root, writer: g.writer, envelope, data: body, origin: { kind: 'submission', tool: 'note' }, jobName: 'NOTEJOB' });

    // The DSN as stored: an entry of this node's spool, or with PostgreSQL a message entry of the
    // shared queue (testing/records.ts queuedOwnMail reads either through the gateway's queue).
    let dsnEntry: QueuedOwnMail | undefined;
    await until('the DSN entry queued, the original finished', async () => {
      const list = await queuedOwnMail(g.gw, g.config);
      dsnEntry = list.find((e) => e.envelope.origin.kind === 'notification');
      return dsnEntry !== undefined && !list.some((e) => e.envelope.origin.kind === 'submission') && !(await g.gw.queue.list()).some((e) => e.id === original.id);
    });
    const built = { data: await dsnEntry!.read(), envelope: dsnEntry!.envelope };
    assert.equal(built.envelope.origin.kind, 'notification');
    assert.equal(dsnEntry!.jobName, 'SGNOTIFY');
    g.gw.forwarder.resume();
    await until('the DSN at the target', () => tg.mails.length >= 1);
    await until('the queue empty', async () => (await g.gw.queue.list()).length === 0 && (await queuedOwnMail(g.gw, g.config)).length === 0);

    assert.equal(tg.mails.length, 1, 'the DSN only (the original was refused)');
    const dsn = tg.mails[0]!;
    assert.equal(dsn.from, '', 'null sender (RFC 3461 §6.1 / RFC 5321 §4.5.5)');
    assertEnvelope(dsn, built.envelope, 'DSN');
    assert.deepEqual(dsn.rcpts.map((r) => r.address), [sender]);
    assert.equal(dsn.smtpUtf8, utf8, 'SMTPUTF8 with a UTF-8 sender');
    assert.ok(dsn.data.equals(built.data), `DSN bytes as built (${dsn.data.length} arrived, ${built.data.length} built)`);
    // What was built: a multipart/report with the target's diagnostic and the original returned intact.
    const text = dsn.data.toString('latin1');
    assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status/m);
    assert.match(text, /^Diagnostic-Code: smtp; 550 5\.1\.1 <gone@far\.test>: Empf/m, 'the diagnostic of the target');
    assert.match(text, /^Original-Envelope-Id: ENV-42\r$/m);
    assert.ok(dsn.data.includes(body), 'the 8-bit original is returned byte for byte inside the DSN');
    t.diagnostic(text.split('\r\n').filter((l) => /^(To|Diagnostic-Code|Status|Action|Final-Recipient|Content-Transfer-Encoding):/.test(l)).join('\n'));
  });
}

test('Report Admin: a bad batch spool file produces an error report mail that reaches the MailAdministrators byte-exact, with Date and Message-ID', async (t) => {
  const hold: { gw?: Gateway } = {};
  const tg = await startRelayTarget(t, { onRcpt: (address) => {
    // The good message of the bad file: hold new files until the report entry was captured.
    if (address === 'ok@far.test') hold.gw?.forwarder.suspend('delay');
    return undefined;
  } });
  const g = await gateway(t, tg.port);
  hold.gw = g.gw;
  const text = [
    'HELO JOBHOST',
    'MAIL FROM:<job@corp.test>', 'RCPT TO:<ok@far.test>', 'DATA', 'Subject: first', '', 'good', '.',
    'XYZZY Grüße <bad@command>',
    'MAIL FROM:<job@corp.test>', 'RCPT TO:<bad address>', 'DATA', 'Subject: second', '', 'never', '.',
    'QUIT', '',
  ].join('\r\n');
  const badId = await submitText(g.config, text, 'BADJOB');

  // The report as stored: an entry of this node's spool, or with PostgreSQL a message entry of the
  // shared queue (its spool entry is stored there and removed as it arrives: not read from there).
  let report: QueuedOwnMail | undefined;
  await until('the report entry queued, the bad file held', async () => {
    report = (await queuedOwnMail(g.gw, g.config)).find((e) => e.envelope.origin.kind === 'report');
    return report !== undefined && !(await g.gw.queue.list()).some((e) => e.id === badId);
  });
  const built = { data: await report!.read(), envelope: report!.envelope };
  assert.equal(report!.jobName, 'SGREPORT');
  assert.equal((await g.gw.held.list()).length, 1, 'the bad file is held (BadSpoolDisp Hold)');
  g.gw.forwarder.resume();
  await until('the report at the target', () => tg.mails.some((m) => m.rcpts.some((r) => r.address === 'admin@ops.test')));
  await until('the queue empty', async () => (await g.gw.queue.list()).length === 0 && (await queuedOwnMail(g.gw, g.config)).length === 0);

  const got = tg.mails.filter((m) => m.rcpts.some((r) => r.address === 'admin@ops.test'));
  assert.equal(got.length, 1, 'one report mail');
  const mail = got[0]!;
  assert.equal(mail.from, '', 'ReportMailFrom default: the null sender');
  assertEnvelope(mail, built.envelope, 'report');
  assert.deepEqual(mail.rcpts.map((r) => r.address), ['admin@ops.test', 'second.admin@ops.test'], 'every MailAdministrator');
  assert.ok(mail.data.equals(built.data), `report bytes as built (${mail.data.length} arrived, ${built.data.length} built)`);
  const s = mail.data.toString('latin1');
  const date = /^Date: (.+)\r$/m.exec(s)?.[1];
  assert.ok(date !== undefined && !Number.isNaN(Date.parse(date)), `a valid Date field: ${date}`);
  assert.match(s, /^Message-ID: <[^<>@\s]+@gw\.test>\r$/m);
  assert.match(s, /^Subject: spoolgate error report for job BADJOB /m);
  assert.match(s, /XYZZY|syntax|command/i, 'the report names the problem');
  assert.equal(tg.mails.length, 2, 'the good message of the bad file and the report, nothing else');
});
