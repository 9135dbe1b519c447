// Real POP3 clients nobody here wrote, against our server: each retrieves byte-exact and deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCerts } from '../../src/testing/certs.js';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { MESSAGES, poplib, runAsync, startSpoolgatePop3 } from './pop3-fixture.js';

test('Python poplib with STLS retrieves byte-exact and deletes', async (t) => {
  const py = needPeer(t, 'python3');
  if (py === undefined) return;
  const { port, store } = await startSpoolgatePop3(t);
  const r = await poplib(py, port, { delete: true });
  assert.ok(r.capaBefore.includes('STLS') && !r.capaBefore.includes('USER'), 'USER is hidden before STLS');
  assert.ok(r.capaAfter.includes('USER') && !r.capaAfter.includes('STLS'));
  assert.deepEqual(r.stat, [3, MESSAGES.reduce((s, m) => s + m.length, 0)]);
  assert.deepEqual(r.list, MESSAGES.map((m, i) => `${i + 1} ${m.length}`));
  assert.deepEqual(r.retrs, MESSAGES);
  assert.equal(r.tops[0], MESSAGES[0]!.slice(0, MESSAGES[0]!.indexOf('\r\n\r\n') + 4));
  assert.equal(r.uidls.length, 3);
  assert.equal((await store.mailboxes.list('alice')).length, 0, 'deleted after QUIT');
});

const POPLIB_LIMITS = `
import json, poplib, sys
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {}
if mode == 'per-ip':
    held = [poplib.POP3(host, port, timeout=30) for _ in range(10)]
    out['welcomes'] = [p.getwelcome().decode() for p in held]
    try:
        poplib.POP3(host, port, timeout=30)
        out['eleventh'] = 'accepted'
    except poplib.error_proto as e:
        out['eleventh'] = e.args[0].decode()
    held[0].quit()
    again = poplib.POP3(host, port, timeout=30)
    out['again'] = again.getwelcome().decode()
    again.quit()
    for p in held[1:]:
        p.quit()
else:
    p = poplib.POP3(host, port, timeout=30)
    p.capa()
    # Wait for the server: the next line it sends unasked is the login deadline.
    out['unasked'] = p.file.readline().decode().rstrip()
    out['eof'] = p.file.readline() == b''
print(json.dumps(out))
`;

test('Python poplib: the 11th connection from one address gets -ERR [SYS/TEMP]; one that never logs in is cut at the login deadline', async (t) => {
  const py = needPeer(t, 'python3');
  if (py === undefined) return;
  const { port } = await startSpoolgatePop3(t);
  const r = await runAsync(py, ['-c', POPLIB_LIMITS, '127.0.0.1', String(port), 'per-ip']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.toString()) as { welcomes: string[]; eleventh: string; again: string };
  assert.equal(j.welcomes.length, 10);
  for (const w of j.welcomes) assert.match(w, /^\+OK localhost POP3 server ready/);
  assert.equal(j.eleventh, '-ERR [SYS/TEMP] too many connections from your address');
  assert.match(j.again, /^\+OK/, 'a slot freed by QUIT is usable again');
  const short = await startSpoolgatePop3(t, { loginTimeoutMs: 300 });
  const idle = await runAsync(py, ['-c', POPLIB_LIMITS, '127.0.0.1', String(short.port), 'login-deadline']);
  assert.equal(idle.code, 0, idle.stderr);
  assert.deepEqual(JSON.parse(idle.stdout.toString()), { unasked: '-ERR [SYS/TEMP] login timeout: not logged in in time', eof: true });
});

test('curl pop3 with --ssl-reqd: LIST, UIDL, RETR byte-exact, DELE', async (t) => {
  const curl = needPeer(t, 'curl');
  if (curl === undefined) return;
  const { port, store } = await startSpoolgatePop3(t);
  const base = ['-sS', '--ssl-reqd', '--cacert', testCerts().caFile, '--resolve', `localhost:${port}:127.0.0.1`, '--user', 'alice:secret'];
  const url = `pop3://localhost:${port}/`;
  const list = await runAsync(curl, [...base, url]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout.toString(), MESSAGES.map((m, i) => `${i + 1} ${m.length}\r\n`).join(''));
  const uidl = await runAsync(curl, [...base, '-X', 'UIDL', url]);
  const ids = (await store.mailboxes.list('alice')).map((m, i) => `${i + 1} ${m.uidl}\r\n`).join('');
  assert.equal(uidl.stdout.toString(), ids);
  for (let i = 0; i < MESSAGES.length; i++) {
    const r = await runAsync(curl, [...base, `${url}${i + 1}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString('latin1'), MESSAGES[i], `message ${i + 1}`);
  }
  const dele = await runAsync(curl, [...base, '-X', 'DELE 1', '-I', url]);
  assert.equal(dele.code, 0, dele.stderr);
  assert.equal((await store.mailboxes.list('alice')).length, 2);
  const plain = await runAsync(curl, ['-sS', '--user', 'alice:secret', `pop3://127.0.0.1:${port}/`]);
  assert.notEqual(plain.code, 0, 'without TLS the login is refused');
});

test('fetchmail (UIDL mode, STLS, certificate check) fetches byte-exact and deletes', async (t) => {
  const fetchmail = needPeer(t, 'fetchmail');
  if (fetchmail === undefined) return;
  const { port, store } = await startSpoolgatePop3(t);
  const dir = tempDir(t);
  const out = join(dir, 'out');
  mkdirSync(out);
  const rc = join(dir, 'fetchmailrc');
  writeFileSync(rc, `set invisible
poll 127.0.0.1 protocol POP3 port ${port} uidl
  user "alice" password "secret" is "root" here
  sslproto "TLS1.2+" sslcertck sslcertfile "${testCerts().caFile}" sslcommonname "localhost"
  no keep no rewrite
  mda "/bin/sh -c 'cat > ${out}/m.$$'"
`, { mode: 0o600 });
  const r = await runAsync(fetchmail, ['-v', '-f', rc, '--idfile', join(dir, 'ids'), '--nodetach'], { env: { ...process.env, FETCHMAILHOME: dir } });
  assert.equal(r.code, 0, r.stderr + r.stdout.toString());
  assert.match(r.stderr + r.stdout.toString(), /STLS/);
  // fetchmail hands messages to an MDA with local (LF) line ends; otherwise unchanged.
  const got = readdirSync(out).map((f) => readFileSync(join(out, f), 'latin1')).sort();
  const want = MESSAGES.map((m) => m.replace(/\r\n/g, '\n')).sort();
  assert.deepEqual(got, want);
  assert.equal((await store.mailboxes.list('alice')).length, 0);
});
