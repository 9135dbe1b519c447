// R1 acceptance: the receiver is not an open relay. Classic relay tricks are sent over real SMTP
// (Python smtplib) to a receiver with the default configuration (RelayMode None): none may reach
// the spool. Then each relay mode accepts exactly what it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testCerts } from '../../src/testing/certs.js';
import { needPeer } from '../../src/testing/peers.js';
import { PY_SMTPLIB_DRIVER, runAsync, sendOne, startTestReceiver, type PyOutcome } from './receiver-harness.js';

// Each row is the raw argument of RCPT TO.
const TRICKS: readonly string[] = [
  '<victim@remote.test>',                          // plain relay
  '<victim@REMOTE.TEST>',                          // case variant
  '<victim%remote.test@local.test>',               // percent hack
  '<VICTIM%REMOTE.TEST@LOCAL.TEST>',               // percent hack, case variant
  '<victim%remote.test%local.test@local.test>',    // double percent hack
  '<victim%remote.test@[127.0.0.1]>',              // percent hack via literal
  '<"victim@remote.test"@local.test>',             // quoted "@" in local part
  '<"victim%remote.test"@local.test>',             // quoted "%" in local part
  '<"victim\\@remote.test"@local.test>',           // quoted-pair "@"
  '<"victim@remote.test">',                        // quoted address without domain
  '<remote.test!victim@local.test>',               // UUCP bang path
  '<remote.test!victim>',                          // bare bang path
  '<@local.test:victim@remote.test>',              // source route
  '<@local.test,@mx.local.test:victim@remote.test>', // multi-hop source route
  '<victim@remote.test@local.test>',               // two "@"
  '<victim@local.test@remote.test>',               // two "@", local first
  '<victim@[192.0.2.1]>',                          // IP literal
  '<victim@[127.0.0.1]>',                          // our own loopback literal
  '<victim@[IPv6:::1]>',                           // IPv6 literal
  '<victim@localhost>',                            // localhost
  '<victim@remote.test.>',                         // trailing dot
  '<victim@local.test.remote.test>',               // local domain as a prefix
  '<victim@evil.local.test>',                      // subdomain of a local domain
  '<victim@remote.test> NOTIFY=NEVER',             // with DSN parameters
  '<"victim"@remote.test>',                        // quoted remote local part
  '<postmaster@remote.test>',                      // remote postmaster
  'victim@remote.test',                            // no angle brackets
  '<victim@remote.test',                           // unbalanced bracket
  '<remote.test:victim@local.test>',               // colon in local part
  '<victim@local..test>',                          // empty label
];

async function runPython(py: string, port: number, transactions: unknown[]): Promise<PyOutcome[]> {
  const out = await runAsync(py, ['-c', PY_SMTPLIB_DRIVER], JSON.stringify({ host: '127.0.0.1', port, transactions }));
  return JSON.parse(out) as PyOutcome[];
}

test(`default configuration: ${TRICKS.length} relay tricks over smtplib, nothing relayed`, async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const r = await startTestReceiver(t);
  const body = 'From: spammer@remote.test\r\nSubject: relay test\r\n\r\nbuy now\r\n';
  // Each trick comes with a valid local recipient so the message body really is sent: it must
  // end up in alice's mailbox only.
  const txs = TRICKS.map((trick, i) => ({ from: i % 2 ? 'spammer@remote.test' : 'alice@local.test', rcpts: [trick, '<alice@local.test>'], data: body }));
  const res = await runPython(py, r.port, txs);
  assert.equal(res.length, TRICKS.length);
  res.forEach((o, i) => {
    const trick = o.rcpts[0]!;
    assert.ok(trick[0] >= 500 && trick[0] < 600, `${TRICKS[i]} got ${trick[0]} ${trick[1]}`);
    assert.equal(o.rcpts[1]![0], 250, `local recipient beside ${TRICKS[i]}`);
    assert.equal(o.data?.[0], 250, `DATA beside ${TRICKS[i]}`);
  });
  assert.deepEqual(r.spoolFiles(), [], 'nothing reached the spool');
  assert.equal((await r.store.mailboxes.list('alice')).length, TRICKS.length);
  // Syntactically valid tricks reach the relay policy: 550 5.7.1, journaled as 9V. The others
  // are refused by the command parser (501) before any policy is asked.
  const policy = res.map((o) => o.rcpts[0]!).filter(([c]) => c === 550);
  assert.ok(policy.every(([, m]) => /5\.7\.1 relaying denied/.test(m)));
  assert.ok(policy.length >= 15, `policy refusals: ${policy.length}`);
  const refused = await r.store.journal.query({ type: 'relay-refused' });
  assert.equal(refused.length, policy.length);
  assert.ok(refused.every((e) => e.detail?.startsWith('9V RELAY REFUSED 127.0.0.1')));
  t.diagnostic(res.map((o, i) => `${TRICKS[i]} → ${o.rcpts[0]![0]} ${o.rcpts[0]![1]}`).join('\n'));
});

interface ModeRow { mode: string; relayAddress?: string; nearDomain?: string; rcpt: string; want: boolean }

const MODE_TABLE: readonly ModeRow[] = [
  { mode: 'None', rcpt: 'x@far.test', want: false },
  { mode: 'None', relayAddress: '127.0.0.0/8', nearDomain: 'near.test', rcpt: 'x@near.test', want: false },
  { mode: 'All', rcpt: 'x@far.test', want: true },
  { mode: 'All', rcpt: 'x%far.test@local.test', want: false },
  { mode: 'NearDomains', nearDomain: 'near.test', rcpt: 'x@near.test', want: true },
  { mode: 'NearDomains', nearDomain: 'near.test', rcpt: 'x@mx.NEAR.test', want: true },
  { mode: 'NearDomains', nearDomain: 'near.test', rcpt: 'x@far.test', want: false },
  { mode: 'NearDomains', nearDomain: 'near.test', rcpt: 'x@notnear.test', want: false },
  { mode: 'NearDomains', nearDomain: 'near.test', relayAddress: '127.0.0.0/8', rcpt: 'x@far.test', want: false },
  { mode: 'AddressList', relayAddress: '127.0.0.0/8', rcpt: 'x@far.test', want: true },
  { mode: 'AddressList', relayAddress: '192.0.2.0/24', rcpt: 'x@far.test', want: false },
  { mode: 'AddressList', relayAddress: '192.0.2.0/24', nearDomain: 'near.test', rcpt: 'x@near.test', want: false },
  { mode: 'Both', relayAddress: '127.0.0.1', nearDomain: 'near.test', rcpt: 'x@far.test', want: true },
  { mode: 'Both', relayAddress: '192.0.2.0/24', nearDomain: 'near.test', rcpt: 'x@near.test', want: true },
  { mode: 'Both', relayAddress: '192.0.2.0/24', nearDomain: 'near.test', rcpt: 'x@far.test', want: false },
  { mode: 'Both', relayAddress: '192.0.2.0/24', nearDomain: 'near.test', rcpt: 'x!far.test@local.test', want: false },
];

test('relay modes: each accepts exactly what it should (table)', async (t) => {
  const msg = Buffer.from('Subject: mode\r\n\r\nbody\r\n');
  for (const row of MODE_TABLE) {
    await t.test(`${row.mode} ${row.relayAddress ?? '-'} ${row.nearDomain ?? '-'} → ${row.rcpt}`, async (st) => {
      const body = [`RelayMode ${row.mode}`, row.relayAddress ? `RelayAddress ${row.relayAddress}` : '', row.nearDomain ? `NearDomain ${row.nearDomain}` : ''].join('\n ');
      const r = await startTestReceiver(st, body);
      const res = await sendOne(r.port, 'sender@client.test', [row.rcpt], msg);
      assert.equal(res.rcpts[0]!.code === 250, row.want, `${res.rcpts[0]!.code} ${res.rcpts[0]!.text}`);
      const files = r.spoolFiles();
      assert.equal(files.length, row.want ? 1 : 0);
      if (row.want) {
        assert.equal(res.data?.code, 250);
        assert.deepEqual(files[0]!.rcpts, [row.rcpt]);
        assert.ok(files[0]!.data.subarray(files[0]!.data.length - msg.length).equals(msg), 'the message below our Received field is as sent');
      } else assert.ok(res.rcpts[0]!.code >= 550);
    });
  }
});

test('mixed local and relay recipients: local copy in the mailbox, one spool entry with only the relay recipients and their DSN fields', async (t) => {
  const r = await startTestReceiver(t, 'RelayMode All');
  const { RawSmtp } = await import('./receiver-harness.js');
  const { c } = await RawSmtp.open(r.port);
  await c.cmd('EHLO client.test');
  assert.equal((await c.cmd('MAIL FROM:<s@client.test> RET=HDRS ENVID=env42')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<alice@local.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<x@far.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@far.test')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<y@other.test>')).code, 250);
  assert.equal((await c.data(Buffer.from('Subject: mixed\r\n\r\nhello\r\n'))).code, 250);
  await c.quit();
  assert.equal((await r.store.mailboxes.list('alice')).length, 1);
  const files = r.spoolFiles();
  assert.equal(files.length, 1);
  const f = files[0]!.envelope;
  assert.equal(f.from, 's@client.test');
  assert.equal(f.ret, 'HDRS');
  assert.equal(f.envid, 'env42');
  assert.deepEqual(f.recipients, [
    { to: 'x@far.test', notify: 'SUCCESS,FAILURE', orcpt: { type: 'rfc822', address: 'x@far.test' } },
    { to: 'y@other.test' },
  ], 'only the relay recipients, with their DSN fields');
  assert.equal(f.origin.kind, 'receiver');
  assert.equal(f.origin.client, '127.0.0.1');
  assert.equal(f.origin.helo, 'client.test');
  const trail = await r.store.journal.query({ to: 'x@far.test' });
  assert.deepEqual(trail.map((e) => e.type), ['received-relay', 'queued']);
});

test('authenticated sessions may relay in mode None (AUTH over STARTTLS, smtplib)', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const certs = testCerts();
  const r = await startTestReceiver(t, '', '', { tls: { cert: certs.cert, key: certs.key } });
  const script = String.raw`
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo()
before = s.docmd("MAIL FROM:<alice@local.test>"), s.docmd("RCPT TO:<x@far.test>")
s.rset()
s.login("alice", "secret-alice")
s.sendmail("alice@local.test", ["x@far.test"], b"Subject: authed\r\n\r\nhi\r\n")
s.quit()
print(before[1][0])
`;
  const out = await runAsync(py, ['-c', script, String(r.port), certs.caFile]);
  assert.equal(out.trim(), '550', 'refused before AUTH');
  assert.equal(r.spoolFiles().length, 1, 'relayed after AUTH');
});
