// F5 acceptance (SPEC.md §8): accounting records written by a running gateway — CONFIG at start,
// one MAIL record per finished message with its fields, SPOOL per file, CONNECT per target
// connection, STATS at shutdown — and `spoolgate accounting` answering "who sends e-mail" from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { accountingRecords } from '../../src/testing/records.js';
import { batchFile, runGateway, spoolgateCli, submitText, until, writeConfig } from '../../src/testing/gateway.js';

type Rec = Record<string, unknown> & { type: number; name: string; time: string; instance: string };

test('a running gateway writes CONFIG, MAIL, SPOOL, CONNECT and STATS records; spoolgate accounting queries them', async (t) => {
  // nobody@remote.test is refused: that message ends undeliverable and its notification goes
  // back through the spool (job SGNOTIFY) to the same server.
  const srv = await FakeSmtpServer.start({ rcpt: (a) => (a === 'nobody@remote.test' ? '550 5.1.1 no such user' : undefined) });
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} ConnectLimit 1 }
    SMF119 { CONFIG YES CONNECT YES MAIL YES SPOOL YES STATS YES Interval 60 }`);
  const gw = await runGateway(config);
  let stopped = false;
  t.after(async () => { if (!stopped) await gw.stop(); });

  const payroll = batchFile('PAY', 3, ['alice@remote.test', 'bob@remote.test']);
  await submitText(config, payroll.text, 'PAYROLL');
  await submitText(config, batchFile('BILL', 1, ['nobody@remote.test']).text, 'BILLING');
  await until('three payroll messages and one notification delivered', () => gw.forwarder.counters.mailSent === 4);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
  await gw.stop();
  stopped = true;

  // Read back as the operator does (the file, or the shared table with Store Backend PostgreSQL).
  const records = await accountingRecords(path) as Rec[];
  for (const r of records) assert.equal(r.instance, 'TEST');
  assert.deepEqual(records[0] && { type: records[0].type, name: records[0].name, reason: records[0].reason, userExit: records[0].userExit }, { type: 48, name: 'CONFIG', reason: 'start', userExit: null });
  const user = userInfo().username;

  const mail = records.filter((r) => r.name === 'MAIL');
  assert.equal(mail.length, 5, 'one MAIL record per finished message: 3 + 1 undeliverable + 1 notification');
  const pay = mail.filter((r) => r.jobName === 'PAYROLL').sort((a, b) => Number(a.messageNo) - Number(b.messageNo));
  assert.deepEqual(pay.map((r) => [r.type, r.messageNo, r.result, r.user, r.from, r.recipients, r.accepted === 2 ? 0 : -1, r.target]), [1, 2, 3].map((n) =>
    [50, n, 'delivered', user, 'job@corp.test', ['alice@remote.test', 'bob@remote.test'], 0, '127.0.0.1']));
  for (const [i, r] of pay.entries()) {
    // size = the bytes sent: what the server received (the body plus the gateway's Received header).
    const got = srv.messages.find((m) => m.data.toString('latin1').includes(`Subject: PAY message ${i + 1}\r\n`));
    assert.equal(r.size, got?.data.length);
    assert.equal(r.jobId, pay[0]!.jobId);
    assert.equal(typeof r.spoolId, 'string');
  }
  const bill = mail.find((r) => r.jobName === 'BILLING');
  assert.equal(bill?.result, 'undeliverable');
  assert.equal(bill.failed, 1);
  const notice = mail.find((r) => r.jobName === 'SGNOTIFY');
  assert.deepEqual([notice?.result, notice?.from, notice?.recipients], ['delivered', '', ['job@corp.test']]);

  const spool = records.filter((r) => r.name === 'SPOOL');
  const paySpool = spool.find((r) => r.jobName === 'PAYROLL');
  assert.deepEqual(paySpool && [paySpool.type, paySpool.mailRead, paySpool.undeliverable, paySpool.problems, paySpool.disposition, paySpool.user], [51, 3, 0, 0, 'finished', user]);
  assert.deepEqual(spool.find((r) => r.jobName === 'BILLING')?.undeliverable, 1);

  // ConnectLimit 1: the one connection carried every transaction and closed at shutdown.
  const connects = records.filter((r) => r.name === 'CONNECT');
  assert.ok(connects.length >= 1);
  for (const c of connects) assert.deepEqual([c.type, c.address, c.port, c.result, c.tls, c.esmtp], [49, '127.0.0.1', srv.port, 'ok', false, true]);
  assert.equal(connects.reduce((n, c) => n + Number(c.messages), 0), 5, 'five transactions, on the connections that carried them');

  const last = records.at(-1)!;
  assert.equal(last.name, 'STATS', 'STATS is the last record, written at shutdown');
  assert.equal(last.reason, 'shutdown');
  assert.deepEqual(last.counters, { mailSent: 4, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 1, extendedCurrent: 0, extendedTotal: 0, delivered: 4, undeliverable: 1, extended: 0 });

  // The query tool over the same file.
  let r = await spoolgateCli('accounting', '--config', path, '--type', 'MAIL', '--job', 'PAY*', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as Rec).messageNo).sort(), [1, 2, 3]);
  r = await spoolgateCli('accounting', '--config', path, '--summary', '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(summary.find((s) => s.user === user), { user, messages: 5, recipients: 8, bytes: mail.reduce((n, m) => n + Number(m.size), 0), undeliverable: 1 });
  r = await spoolgateCli('accounting', '--config', path, '--type', '49');
  assert.equal(r.code, 0, r.stderr);
  // (A record of the shared table names the node that wrote it.)
  assert.match(r.stdout, new RegExp(`^\\S+ 49 CONNECT (?:node=\\S+ )?127\\.0\\.0\\.1:${srv.port} ok messages=\\d+ tls=false$`, 'm'));
  r = await spoolgateCli('accounting', '--config', path, '--type', 'BOGUS');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--type "BOGUS" is not one of CONFIG, CONNECT, MAIL, SPOOL, STATS/);
});

test('a connect that fails writes a CONNECT record with result failed and the reason', async (t) => {
  const closed = await new Promise<number>((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => done(p)); });
  });
  const dir = tempDir(t);
  const { path, config } = writeConfig(dir, `
    TargetServer { TargetIP 127.0.0.1 ConnectPort ${closed} }
    SMF119 { CONNECT YES }`);
  const gw = await runGateway(config);
  await submitText(config, batchFile('DOWN', 1).text, 'DOWNJOB');
  await until('connect failure counted', () => gw.forwarder.listTargets().some((x) => x.counters.connectFail > 0));
  await gw.stop();
  const records = await accountingRecords(path) as Rec[];
  assert.ok(records.every((r) => r.name === 'CONNECT'), 'only CONNECT is switched on');
  const failed = records.find((r) => r.result === 'failed');
  assert.deepEqual(failed && [failed.address, failed.port, failed.messages, failed.esmtp], ['127.0.0.1', closed, 0, null]);
  assert.match(String(failed?.detail), /ECONNREFUSED|refused/i);
});
