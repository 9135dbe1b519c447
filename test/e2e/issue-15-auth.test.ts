// S2 #15 items 4 and 9 (authentication and secrets), against a real instance (startServices:
// receiver with STARTTLS, POP3, the one Authenticator main.ts wires) and real clients: Python
// smtplib and poplib, and raw sockets where a client must misbehave on purpose.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Logger } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { testCerts, type TestCerts } from '../../src/testing/certs.js';
import { spoolgateCli, writeConfig } from '../../src/testing/gateway.js';
import { findPeer, needPeer, tempDir } from '../../src/testing/peers.js';
import { Pop3TestClient } from '../../src/testing/pop3-client.js';
import { RawSmtp, runAsync } from './receiver-harness.js';

interface Instance {
  readonly services: Services;
  readonly path: string;
  readonly certs: TestCerts;
  readonly smtp: number;
  readonly pop3: number;
  /** Every operator log line written so far (LogLevel 255: the protocol traces too), as JSON. */
  readonly logLines: string[];
}

async function instance(t: TestContext): Promise<Instance> {
  const dir = tempDir(t, 'spoolgate-issue15-');
  const certs = testCerts();
  const { path, config } = writeConfig(dir, `LogLevel 255
TargetServer { TargetIP 127.0.0.1 }
Receiver {
 Listen 127.0.0.1:0
 HostName mx.local.test
 LocalDomain local.test
 TlsCert ${certs.certFile}
 TlsKey ${certs.keyFile}
}
Pop3 {
 Listen 127.0.0.1:0
 AllowPlaintext YES
 MaxFailedLogins 5
}`);
  const logLines: string[] = [];
  const log = Logger.create({ sink: { write: (r) => { logLines.push(JSON.stringify(r)); } }, instance: 'TEST', level: 255 });
  const services = await startServices(config, { log });
  t.after(() => services.stop());
  await services.store!.users.addUser('alice', 'secret-alice');
  await services.store!.users.addUser('bob', 'secret-bob');
  const port = (role: string): number => services.listening.find((l) => l.role === role)!.port;
  return { services, path, certs, smtp: port('smtp'), pop3: port('pop3'), logLines };
}

/** One AUTH PLAIN per connection over STARTTLS (smtplib); prints the reply code of each. */
const PY_AUTH = String.raw`
import base64, json, smtplib, ssl, sys
port, ca, attempts, source = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
out = []
for user, password in attempts:
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60, source_address=(source, 0))
    s.starttls(context=ctx)
    s.ehlo()
    # smtplib's own auth_plain encodes names as ASCII only; the same exchange, in UTF-8.
    code = s.docmd("AUTH", "PLAIN " + base64.b64encode(("\0" + user + "\0" + password).encode()).decode())[0]
    out.append(code)
    try:
        s.quit()
    except Exception:
        pass
print(json.dumps(out))
`;

const PY_POP = String.raw`
import poplib, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3("127.0.0.1", port, timeout=60)
try:
    p.user(user)
    print(p.pass_(password).decode())
    p.quit()
except poplib.error_proto as e:
    print(e.args[0].decode())
`;

/** from: the client's source address (any 127.x.y.z reaches the 127.0.0.1 listener on Linux). */
async function smtpAuth(py: string, i: Instance, attempts: [string, string][], from = '127.0.0.1'): Promise<number[]> {
  return JSON.parse(await runAsync(py, ['-c', PY_AUTH, String(i.smtp), i.certs.caFile, JSON.stringify(attempts), from])) as number[];
}

test('S2 #15: 30 wrong SMTP AUTH passwords, then the right one is refused, and so is POP3 from that address (one throttle)', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const i = await instance(t);
  const attempts: [string, string][] = [...Array.from({ length: 30 }, (_, n): [string, string] => ['alice', `guess-${n}`]), ['alice', 'secret-alice']];
  const codes = await smtpAuth(py, i, attempts);
  // MaxFailedLogins 5: five passwords are checked (535); then the address is refused unchecked (454).
  assert.deepEqual(codes.slice(0, 5), [535, 535, 535, 535, 535]);
  assert.deepEqual(new Set(codes.slice(5)), new Set([454]), `the right password at the end is refused too: ${codes.join(' ')}`);
  const pop = (await runAsync(py, ['-c', PY_POP, String(i.pop3), 'alice', 'secret-alice'])).trim();
  assert.equal(pop, '-ERR [SYS/TEMP] too many failed logins: try again later', 'POP3 shares the throttle');
  const failed = await i.services.store!.journal.query({ type: 'pop3.login-refused' });
  assert.deepEqual(failed.map((e) => [e.user, e.ip]), [['alice', '127.0.0.1']]);
  // No lockout a stranger can trigger: alice, from an address that has not been failing, gets in
  // (after the bounded per-name delay, at most 10 s).
  assert.deepEqual(await smtpAuth(py, i, [['alice', 'secret-alice']], '127.0.0.2'), [235]);
});

test('S2 #15: " alice", "alice\\u00a0" and "\\talice" do not log in as alice over SMTP AUTH', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const i = await instance(t);
  const codes = await smtpAuth(py, i, [[' alice', 'secret-alice'], ['alice\u00a0', 'secret-alice'], ['\talice', 'secret-alice'], ['ALICE', 'secret-alice']]);
  assert.deepEqual(codes, [535, 535, 535, 235]);
  assert.ok(i.logLines.some((l) => l.includes('"smtp.auth"') && l.includes('"user":"alice"') && l.includes('"ok":true')), 'authenticated as the canonical name');
});

test('S2 #15: after "spoolgate user remove", SMTP AUTH fails and an open session relays no more; POP3 still fetches the remaining mail', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const i = await instance(t);
  const { c } = await RawSmtp.open(i.smtp);
  t.after(() => c.destroy());
  await c.cmd('EHLO client.test');
  await c.startTls(i.certs.ca);
  await c.cmd('EHLO client.test');
  assert.equal((await c.cmd(`AUTH PLAIN ${Buffer.from('\0alice\0secret-alice').toString('base64')}`)).code, 235);
  const removed = await spoolgateCli('user', '--config', i.path, 'remove', 'alice');
  assert.equal(removed.code, 0, removed.stderr);
  // A removed user owns no address any more (SenderLoginMatch, S2 item 5): MAIL is refused
  // before any relay decision; with the sender check off, RCPT refuses the relay.
  assert.equal((await c.cmd('MAIL FROM:<alice@local.test>')).code, 553, 'the session authenticated before the removal may not send as alice');
  assert.equal((await c.cmd('MAIL FROM:<>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<x@far.test>')).code, 550, 'the session authenticated before the removal may not relay');
  await c.quit();
  assert.deepEqual(await smtpAuth(py, i, [['alice', 'secret-alice']]), [535]);
  assert.match((await runAsync(py, ['-c', PY_POP, String(i.pop3), 'alice', 'secret-alice'])).trim(), /^\+OK alice has 0 messages/, 'SPEC.md §6: the remaining mail can be fetched until purged');
});

test('S2 #15 item 9: no AUTH data in the log, whatever the separator, also SASL lines pipelined before TLS and after a refused AUTH', async (t) => {
  const py = needPeer(t, 'python3');
  if (!py) return;
  const i = await instance(t);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const secrets = ['secret-alice', 'secret-bob', b64('alice'), b64('secret-alice'), b64('\0alice\0secret-alice'), b64('\0bob\0secret-bob'), b64('\0alice\0wrong-one')];
  // Before TLS, pipelined: AUTH is refused (538) and its LOGIN responses arrive as "commands".
  const { c } = await RawSmtp.open(i.smtp);
  t.after(() => c.destroy());
  const codes = [(await c.send(Buffer.from(`EHLO client.test\r\nAUTH LOGIN\r\n${b64('alice')}\r\n${b64('secret-alice')}\r\nAUTH\tPLAIN\t${b64('\0alice\0secret-alice')}\r\nNOOP\r\n`))).code];
  for (let n = 0; n < 5; n++) codes.push((await c.next()).code);
  // AUTH<tab>PLAIN is not a command here (500), but its argument is a secret all the same.
  assert.deepEqual(codes, [250, 538, 500, 500, 500, 250]);
  // Over TLS: a wrong PLAIN with a tab separator, then LOGIN by smtplib.
  await c.startTls(i.certs.ca);
  await c.cmd('EHLO client.test');
  await c.cmd(`AUTH PLAIN\t${b64('\0alice\0wrong-one')}`);
  await c.quit();
  const script = String.raw`
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.test", timeout=60)
s.starttls(context=ssl.create_default_context(cafile=sys.argv[2]))
s.ehlo()
s.user, s.password = "bob", "secret-bob"
print(s.auth("LOGIN", s.auth_login)[0])
s.quit()
`;
  assert.equal((await runAsync(py, ['-c', script, String(i.smtp), i.certs.caFile])).trim(), '235');
  // swaks, AUTH LOGIN with a wrong password, when installed.
  const swaks = findPeer('swaks');
  if (swaks !== undefined) {
    // swaks exits non-zero when AUTH fails; its transcript (stdout) is what the test reads.
    const out = await runAsync('sh', ['-c', '"$0" "$@" || true', swaks, '--server', `127.0.0.1:${i.smtp}`, '--tls', '--tls-verify', '--tls-ca-path', i.certs.caFile,
      '--auth', 'LOGIN', '--auth-user', 'bob', '--auth-password', 'swaks-wrong-pw', '--quit-after', 'AUTH']);
    assert.match(out, /535 5\.7\.8/);
    secrets.push(b64('swaks-wrong-pw'), 'swaks-wrong-pw');
  }
  // POP3: USER/PASS (poplib), an AUTH the server refuses followed by its SASL line.
  assert.match((await runAsync(py, ['-c', PY_POP, String(i.pop3), 'bob', 'secret-bob'])).trim(), /^\+OK/);
  const p = await Pop3TestClient.connect(i.pop3);
  t.after(() => p.close());
  await p.readLine();
  assert.match(await p.cmd('AUTH CRAM-MD5'), /^-ERR/);
  assert.match(await p.cmd(b64('\0bob\0secret-bob')), /^-ERR/);
  assert.match(await p.cmd('PASS\tsecret-bob'), /^-ERR/);
  await p.cmd('QUIT');
  await p.closed;
  const journal = JSON.stringify(await i.services.store!.journal.query({}));
  for (const s of secrets) {
    assert.ok(!i.logLines.some((l) => l.includes(s)), `log holds ${s}: ${i.logLines.find((l) => l.includes(s))}`);
    assert.ok(!journal.includes(s), `journal holds ${s}`);
  }
  assert.ok(i.logLines.some((l) => l.includes('(authentication data hidden)')), 'the trace was on');
});

test('S2 #15 item 9: a production configuration with Users DefaultDomain gets no demo user; the shipped one says Demo YES', async (t) => {
  const dir = tempDir(t, 'spoolgate-issue15-demo-');
  const { config } = writeConfig(dir, 'TargetServer { TargetIP 127.0.0.1 }\nPop3 { Listen 127.0.0.1:0 AllowPlaintext YES }\nUsers { DefaultDomain corp.test }');
  const services = await startServices(config, { log: Logger.silent() });
  t.after(() => services.stop());
  assert.equal(services.demo, undefined);
  assert.deepEqual(await services.store!.users.listUsers(), []);
  assert.match(readFileSync('config/spoolgate.conf', 'utf8'), /^\s*Demo\s+YES\s*$/m, 'npm start keeps its README tour user');
});
