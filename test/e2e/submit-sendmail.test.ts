// S1 acceptance: `spoolgate sendmail` (its run(argv, io), in-process) → spool → forwarder → FakeSmtpServer; the
// Bcc: header field of the file is not sent, the Bcc recipient is in the envelope, the file stays
// unless --remove, and a refusal exits 2 with its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/cli/sendmail.js';
import { runCli } from '../../src/testing/cli.js';
import { FakeSmtpServer } from '../../src/testing/fake-smtp-server.js';
import { tempDir } from '../../src/testing/peers.js';
import { runGateway, until, withoutTrace, writeConfig } from '../../src/testing/gateway.js';

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const [name, ...rest] = args;
  assert.equal(name, 'sendmail');
  const r = await runCli(run, rest);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('sendmail → spool → forwarder: Bcc header stripped, Bcc recipient in the envelope, file kept unless --remove', async (t) => {
  const srv = await FakeSmtpServer.start();
  t.after(() => srv.close());
  const dir = tempDir(t);
  const { path: conf, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 ConnectPort ${srv.port} }\nUsers { SenderPolicy Any }`);
  const file = join(dir, 'invoice.eml');
  const message = 'From: billing@corp.test\r\nTo: customer@remote.test\r\nBcc: audit@corp.test\r\nSubject: Rechnung\r\n'
    + 'Date: Sun, 22 Nov 2026 12:00:00 +0000\r\nMessage-ID: <inv1@corp.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n'
    + 'Content-Transfer-Encoding: 8bit\r\n\r\nBetrag: 12,50 €\r\n.\r\n';
  await writeFile(file, message);
  const bad = await cli(['sendmail', '--config', conf, '--from', 'billing@corp.test', file]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'spoolgate sendmail: SG_SENDMAIL_NO_RECIPIENT: no recipient: at least one is required\n');

  const r = await cli(['sendmail', '--config', conf, '--from', 'billing@corp.test', '--to', 'customer@remote.test', '--bcc', 'audit@corp.test', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(await readFile(file, 'utf8'), message, 'file untouched without --remove');
  const gw = await runGateway(config);
  t.after(() => gw.stop());
  await until('the mail at the target', () => srv.messages.length >= 1);
  const m = srv.messages[0]!;
  assert.equal(m.from, 'billing@corp.test');
  assert.deepEqual(m.recipients, ['customer@remote.test', 'audit@corp.test']);
  assert.equal(withoutTrace(m.data), Buffer.from(message.replace('Bcc: audit@corp.test\r\n', '')).toString('latin1'));

  const removed = await cli(['sendmail', '--config', conf, '--from', 'billing@corp.test', '--to', 'customer@remote.test', '--remove', file]);
  assert.equal(removed.status, 0, removed.stderr);
  await assert.rejects(stat(file), { code: 'ENOENT' });
  await until('the second mail at the target', () => srv.messages.length >= 2);
  await until('spool empty', async () => (await gw.queue.list()).length === 0);
});
