// [S2] #15 item 5: an authenticated client (AUTH over STARTTLS) may name as MAIL FROM only its own
// address at a local domain or one of its aliases (Receiver SenderLoginMatch, default YES; as
// Postfix's reject_sender_login_mismatch). Anything else is 553 5.7.1 at MAIL, so nothing is
// queued. The null sender is accepted (receiver.md says why). Driven by Python smtplib, a client
// nobody here wrote. On the code before this change every MAIL FROM got 250 and "bob" and
// "ceo@example.test" were relayed under alice's login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testCerts } from '../../src/testing/certs.js';
import { needPeer } from '../../src/testing/peers.js';
import { runAsync, startTestReceiver } from './receiver-harness.js';

/** One AUTH session: for each sender, the MAIL reply, then RSET. Prints [[code, text], ...]. */
const SCRIPT = String.raw`
import json, smtplib, ssl, sys
port, ca, user, senders = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo()
out = []
if user != "":
    s.login(user, "secret-" + user)
for f in senders:
    code, text = s.docmd("MAIL FROM:<%s>" % f)
    out.append([code, text.decode("latin-1")])
    if code == 250:
        code, text = s.docmd("RCPT TO:<x@far.test>")
        out.append([code, text.decode("latin-1")])
        if code == 250:
            code, text = s.data(b"Subject: sender check\r\n\r\nhi\r\n")
            out.append([code, text.decode("latin-1")])
        else:
            s.rset()
            out.append([0, "no DATA"])
    else:
        s.rset()
s.quit()
print(json.dumps(out))
`;

type Step = [number, string];

async function session(py: string, port: number, user: string, senders: string[]): Promise<Step[][]> {
  const certs = testCerts();
  const out = JSON.parse(await runAsync(py, ['-c', SCRIPT, String(port), certs.caFile, user, JSON.stringify(senders)])) as Step[];
  // Group per sender: a refused MAIL is one step, an accepted one three (MAIL, RCPT, final dot).
  const per: Step[][] = [];
  for (let i = 0; i < out.length;) {
    const n = out[i]![0] === 250 ? 3 : 1;
    per.push(out.slice(i, i + n));
    i += n;
  }
  return per;
}

test('SenderLoginMatch (default YES): an authenticated user sends only as itself or its aliases; others get 553 5.7.1 at MAIL', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const certs = testCerts();
  const r = await startTestReceiver(t, '', '', { tls: { cert: certs.cert, key: certs.key } });
  await r.store.users.addAlias('sales', 'alice');
  await r.store.users.addAlias('boss@second.test', 'alice');
  await r.store.users.addAlias('info', 'bob');
  const cases: { from: string; ok: boolean }[] = [
    { from: 'alice@local.test', ok: true },
    { from: 'Alice@LOCAL.TEST', ok: true },
    { from: 'sales@local.test', ok: true },
    { from: 'boss@second.test', ok: true },
    { from: '', ok: true }, // the null sender: accepted (receiver.md)
    { from: 'bob@local.test', ok: false },
    { from: 'info@local.test', ok: false }, // bob's alias
    { from: 'boss@local.test', ok: false }, // the alias is for second.test only
    { from: 'nobody@local.test', ok: false },
    { from: 'ceo@example.test', ok: false }, // not a local domain
    { from: 'alice@example.test', ok: false },
  ];
  const got = await session(py, r.port, 'alice', cases.map((c) => c.from));
  assert.equal(got.length, cases.length);
  let relayed = 0;
  for (const [i, c] of cases.entries()) {
    const steps = got[i]!;
    if (c.ok) {
      assert.deepEqual(steps.map((s) => s[0]), [250, 250, 250], `<${c.from}>: ${JSON.stringify(steps)}`);
      relayed++;
    } else {
      assert.equal(steps.length, 1);
      assert.equal(steps[0]![0], 553, `<${c.from}>: ${JSON.stringify(steps)}`);
      assert.equal(steps[0]![1], '5.7.1 sender address not owned by the authenticated user');
    }
  }
  const spooled = r.spoolFiles();
  assert.equal(spooled.length, relayed, 'only the accepted senders were queued');
  assert.deepEqual(spooled.map((f) => f.envelope.from).sort(), ['', 'Alice@LOCAL.TEST', 'alice@local.test', 'boss@second.test', 'sales@local.test'].sort());
  for (const f of spooled) assert.equal(f.envelope.origin.auth, 'alice');
});

test('SenderLoginMatch NO lets an authenticated user name any sender; unauthenticated sessions are not judged by it', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const certs = testCerts();
  const off = await startTestReceiver(t, 'SenderLoginMatch NO', '', { tls: { cert: certs.cert, key: certs.key } });
  const got = await session(py, off.port, 'alice', ['bob@local.test', 'ceo@example.test']);
  assert.deepEqual(got.map((s) => s[0]![0]), [250, 250]);
  assert.equal(off.spoolFiles().length, 2);

  // Without AUTH (RelayMode None) the sender is not judged; the relay recipient is refused instead.
  const on = await startTestReceiver(t, '', '', { tls: { cert: certs.cert, key: certs.key } });
  const anon = await session(py, on.port, '', ['bob@local.test']);
  assert.equal(anon[0]![0]![0], 250);
  assert.equal(anon[0]![1]![0], 550, 'relay refused without AUTH');
});
