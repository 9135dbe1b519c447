// R1: local delivery over real SMTP clients into the mailbox store, byte-exact apart from our
// Received header; unknown local users 550 5.1.1; aliases; several local domains; journal trail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripReceived } from '../../src/testing/dialog.js';
import { needPeer } from '../../src/testing/peers.js';
import { runAsync, sendOne, startTestReceiver } from './receiver-harness.js';

test('Python smtplib → local mailbox byte-exact (minus our Received header)', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const r = await startTestReceiver(t);
  // 8-bit UTF-8, a line starting with a dot, a long line, an empty last line before the end.
  const msg = Buffer.from('From: Sender <s@client.test>\r\nTo: alice@local.test\r\nSubject: exact\r\n\r\nline 1\r\n.dot line\r\n..two dots\r\nÄÖÜ äöü €\r\n' + 'x'.repeat(900) + '\r\n\r\n', 'utf8');
  const script = String.raw`
import smtplib, sys
port = int(sys.argv[1])
data = sys.stdin.buffer.read()
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
print(s.sendmail("s@client.test", ["Alice@LOCAL.test"], data, mail_options=["BODY=8BITMIME"]))
s.quit()
`;
  assert.equal((await runAsync(py, ['-c', script, String(r.port)], msg)).trim(), '{}');
  const list = await r.store.mailboxes.list('alice');
  assert.equal(list.length, 1);
  const stored = await r.store.mailboxes.read('alice', list[0]!.id);
  assert.ok(stored !== undefined);
  assert.match(stored.toString('latin1'), /^Received: from client\.test /);
  assert.ok(stripReceived(stored).equals(msg), 'byte-exact');
  assert.deepEqual(r.spoolFiles(), []);
});

test('unknown local user → 550 5.1.1; several local domains, case-insensitive; aliases', async (t) => {
  const r = await startTestReceiver(t);
  await r.store.users.addAlias('sales', 'bob');
  await r.store.users.addAlias('boss@second.test', 'alice');
  const msg = Buffer.from('Subject: hi\r\n\r\nhello\r\n');
  const cases: { rcpt: string; code: number; user?: string }[] = [
    { rcpt: 'nobody@local.test', code: 550 },
    { rcpt: 'alice@LOCAL.TEST', code: 250, user: 'alice' },
    { rcpt: 'bob@second.test', code: 250, user: 'bob' },
    { rcpt: 'sales@local.test', code: 250, user: 'bob' },
    { rcpt: 'boss@Second.Test', code: 250, user: 'alice' },
    { rcpt: 'boss@local.test', code: 550 },
    { rcpt: 'Postmaster', code: 550 },
  ];
  for (const c of cases) {
    const res = await sendOne(r.port, 's@client.test', [c.rcpt], msg);
    assert.equal(res.rcpts[0]!.code, c.code, `${c.rcpt}: ${res.rcpts[0]!.text}`);
    if (c.code === 550) assert.match(res.rcpts[0]!.text, /^5\.1\.1 /);
    else assert.equal(res.data?.code, 250);
  }
  assert.equal((await r.store.mailboxes.list('alice')).length, 2);
  assert.equal((await r.store.mailboxes.list('bob')).length, 2);
});

test('one message for two addresses of the same user is delivered once; journal trail', async (t) => {
  const r = await startTestReceiver(t);
  await r.store.users.addAlias('info', 'alice');
  const res = await sendOne(r.port, 's@client.test', ['alice@local.test', 'info@local.test', 'bob@local.test'], Buffer.from('Subject: multi\r\n\r\nx\r\n'));
  assert.equal(res.data?.code, 250);
  const id = /queued as (\S+)/.exec(res.data?.text ?? '')?.[1];
  assert.ok(id);
  assert.equal((await r.store.mailboxes.list('alice')).length, 1);
  assert.equal((await r.store.mailboxes.list('bob')).length, 1);
  const trail = await r.store.journal.query({ id });
  assert.deepEqual(trail.map((e) => `${e.type} ${e.to} ${e.detail?.slice(0, 2)}`), [
    'received alice@local.test 94', 'received info@local.test 94', 'received bob@local.test 94',
    'delivered alice@local.test B8', 'delivered info@local.test B8', 'delivered bob@local.test B8',
  ]);
});
