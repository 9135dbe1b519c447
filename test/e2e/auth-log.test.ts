// O2 #18 item 5: failed logins of SMTP AUTH, POP3 and HTTP are logged at the default LogLevel
// with the client address (auth.failed service=... ip=...), and the shipped fail2ban filter
// (examples/fail2ban/spoolgate.conf) finds that address in the real Text lines. Real clients:
// Python smtplib (STARTTLS + AUTH PLAIN) and poplib, curl with a wrong bearer token. The filter is
// applied as fail2ban applies it: read with configparser ('%%' -> '%'), the datepattern cut off
// the line, then failregex with <HOST> searched in the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Logger, textSink } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { testCerts } from '../../src/testing/certs.js';
import { writeConfig } from '../../src/testing/gateway.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { runAsync } from './receiver-harness.js';

const FILTER = fileURLToPath(new URL('../../examples/fail2ban/spoolgate.conf', import.meta.url));

const PY_SMTP = String.raw`
import base64, smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.test", timeout=60)
s.starttls(context=ssl.create_default_context(cafile=sys.argv[2]))
s.ehlo()
print(s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0wrong-password").decode())[0])
s.quit()
`;

const PY_POP = String.raw`
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
try:
    p.user(sys.argv[2])
    p.pass_("wrong-password")
    print("+OK")
except poplib.error_proto as e:
    print(e.args[0].decode())
`;

/** fail2ban's reading of a filter: prints one JSON [host, line] per line the filter matches. */
const PY_FAIL2BAN = String.raw`
import configparser, json, re, sys
cp = configparser.ConfigParser()
cp.read(sys.argv[1])
d = cp["Definition"]
# fail2ban's date directives, as far as the filter uses them.
dp = d["datepattern"].replace("%Y", r"\d{4}").replace("%m", r"\d{2}").replace("%d", r"\d{2}").replace("%H", r"\d{2}").replace("%M", r"\d{2}").replace("%S", r"\d{2}").replace("%f", r"\d{1,6}")
# fail2ban's <HOST> (IPv4, IPv6, an IPv4-mapped IPv6 address, or a name).
host = r"(?:::f{4,6}:)?(?P<host>[\w\-.^_]*\w|[0-9a-fA-F:]+)"
fr = [re.compile(l.strip().replace("<HOST>", host)) for l in d["failregex"].splitlines() if l.strip()]
for line in sys.stdin.read().splitlines():
    m = re.search(dp, line)
    if m is None:
        continue
    rest = line[:m.start()] + line[m.end():]
    for r in fr:
        h = r.search(rest)
        if h:
            print(json.dumps([h.group("host"), line]))
            break
`;

test('auth.failed: SMTP AUTH, POP3 and HTTP failures carry ip=, and the fail2ban filter finds it in the Text lines', async (t) => {
  const py = needPeer(t, 'python3');
  const curl = needPeer(t, 'curl');
  if (py === undefined || curl === undefined) return;
  const certs = testCerts();
  const { config } = writeConfig(tempDir(t), `TargetServer { TargetIP 127.0.0.1 }
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
}
Http { Listen 127.0.0.1:0 }`);
  let text = '';
  const out = { write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WritableStream;
  // The default LogLevel 7: error, warning, event.
  const log = Logger.create({ sink: textSink(out as never), instance: 'CSSMTP1', level: 7 });
  const services = await startServices(config, { log });
  t.after(() => services.stop());
  await services.store!.users.addUser('alice', 'secret-alice');
  const port = (role: string): number => services.listening.find((l) => l.role === role)!.port;

  assert.equal((await runAsync(py, ['-c', PY_SMTP, String(port('smtp')), certs.caFile])).trim(), '535');
  // A user name chosen to forge an address: it comes after ip=, quoted, and the filter ignores it.
  assert.match((await runAsync(py, ['-c', PY_POP, String(port('pop3')), 'ip=203.0.113.9'])).trim(), /^-ERR \[AUTH\]/);
  const code = await new Promise<string>((done, fail) => {
    execFile(curl, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '30', '-H', 'Authorization: Bearer not-the-token',
      `http://127.0.0.1:${port('http')}/api/v1/display/TARGETS`], { encoding: 'utf8' }, (e, o) => (e !== null ? fail(e) : done(o)));
  });
  assert.equal(code, '401');

  const failed = text.split('\n').filter((l) => l.includes(' auth.failed '));
  assert.equal(failed.length, 3, text);
  for (const service of ['smtp', 'pop3', 'http']) {
    assert.ok(failed.some((l) => new RegExp(`^\\S+Z CSSMTP1 warning auth\\.failed service=${service} ip=127\\.0\\.0\\.1 `).test(l)), `${service}: ${failed.join('\n')}`);
  }
  assert.ok(failed.some((l) => l.includes('service=smtp') && / session=\S+ user=alice reason=invalid$/.test(l)));

  const matched = (await runAsync(py, ['-c', PY_FAIL2BAN, FILTER], text)).trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as [string, string]);
  assert.deepEqual(matched.map(([, l]) => l).sort(), [...failed].sort(), 'the filter matches exactly the failed logins');
  assert.deepEqual(matched.map(([h]) => h), ['127.0.0.1', '127.0.0.1', '127.0.0.1'], 'the client address, never the forged one');
});
