// [P2] acceptance on the real PostgreSQL 15: users, mailboxes and POP3 across nodes. Two
// `spoolgate start` processes (A and B, each its own state directory, one database schema), each
// with a Receiver and POP3:
// - a user added on A (`spoolgate user add` with A's configuration) logs in on B;
// - mail received by A's receiver (python smtplib) is read over POP3 on B (python poplib),
//   byte-exact: the bytes sent end the message B's RETR returns, which is what the database holds;
// - [IN-USE] across nodes: while a session on A holds the maildrop, a login on B is refused with
//   [IN-USE]; after A's session QUITs B logs in; and after A is killed with -9 while holding it,
//   B logs in once A's hold has run out (LeaseTime; the time it took is reported);
// - hostile input: an oversize message is refused by A's receiver and stored nowhere; bad and
//   SQL-ish user names are refused by the CLI, by POP3 and by the receiver, and change nothing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needPeer, tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { runCli } from '../../src/testing/cli.js';
import { migrate } from '../../src/store/pg/migrations.js';
import { openPgStore } from '../../src/store/pg/store.js';
import { run as userCli } from '../../src/cli/user.js';
import { run as journalCli } from '../../src/cli/journal.js';

const LEASE_TIME = 6;
const MAX_SIZE = 4096;

interface Node { readonly name: string; readonly config: string; proc: ChildProcess; log: string[]; ports: Map<string, number> }

function split(url: string): { url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

/** A node (child process); resolves once its SMTP and POP3 listeners are up. */
async function startNode(t: TestContext, tdb: TestDatabase, name: string): Promise<Node> {
  const dir = join(tempDir(t), name);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'spoolgate.conf');
  writeFileSync(config, [
    `Instance ${name.toUpperCase()}`, 'ExtWrtName POPW', `StateDirectory ${join(dir, 'state')}`,
    `Spool { Directory ${join(dir, 'spool')} RecordFormat Text RescanInterval 1 }`, 'Translate ISO8859-1', `HostName ${name}.test`,
    'TargetServer { TargetIP 127.0.0.1 ConnectPort 9 }',
    `Receiver { Listen 127.0.0.1:0 HostName ${name}.local.test LocalDomain local.test MaxMessageSize ${MAX_SIZE} }`,
    'Pop3 { Listen 127.0.0.1:0 AllowPlaintext YES }',
    `Store { Backend PostgreSQL Url ${split(tdb.url).url} Schema ${tdb.schema} Node ${name} LeaseTime ${LEASE_TIME} Heartbeat 2 PoolSize 4 }`, '',
  ].join('\n'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SPOOLGATE_STORE_PASSWORD: split(tdb.url).password },
  });
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  const node: Node = { name, config, proc, log: [], ports: new Map() };
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      const lines = d.toString().split('\n');
      node.log = [...node.log, ...lines].slice(-60);
      for (const l of lines) {
        if (!l.includes('listener.started')) continue;
        const role = /role[=:]"?(\w+)/.exec(l)?.[1];
        const port = /port[=:]"?(\d+)/.exec(l)?.[1];
        if (role !== undefined && port !== undefined) node.ports.set(role, Number(port));
      }
      if (node.ports.has('smtp') && node.ports.has('pop3')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`node ${name} exited (${String(code)}) before listening:\n${node.log.join('\n')}`)));
  });
  return node;
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

function python(py: string, script: string, args: readonly (string | number)[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(py, ['-c', script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`python exited ${String(code)}: ${err}`))));
    p.stdin.end(stdin);
  });
}

const SMTP = `
import smtplib, sys
port, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, 'rb').read()
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.test')
try:
    s.sendmail('sender@far.test', [rcpt], data)
    print('250')
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
try:
    s.quit()
except Exception:
    pass
`;

/** One POP3 login: prints the server's answer; with 'fetch' then every message (base64), with 'hold' waits for a line on stdin first. */
const POP = `
import base64, json, poplib, sys
port, user, pw, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
p = poplib.POP3('127.0.0.1', port, timeout=30)
try:
    p.user(user)
    p.pass_(pw)
except poplib.error_proto as e:
    print(json.dumps({'login': e.args[0].decode('latin1')}))
    sys.exit(0)
if mode == 'hold':
    print(json.dumps({'login': '+OK'}))
    sys.stdout.flush()
    sys.stdin.readline()
    try:
        p.quit()
    except Exception:
        pass
    sys.exit(0)
msgs = []
if mode == 'fetch':
    count, _ = p.stat()
    for i in range(1, count + 1):
        msgs.append(base64.b64encode(b''.join(l + b'\\r\\n' for l in p.retr(i)[1])).decode())
p.quit()
print(json.dumps({'login': '+OK', 'messages': msgs}))
`;

interface PopAnswer { readonly login: string; readonly messages?: string[] }

async function pop(py: string, node: Node, user: string, pw: string, mode: 'try' | 'fetch' = 'try'): Promise<PopAnswer> {
  return JSON.parse(await python(py, POP, [node.ports.get('pop3')!, user, pw, mode])) as PopAnswer;
}

/** A session that holds the maildrop until release() (it QUITs) or its node dies. */
async function hold(t: TestContext, py: string, node: Node, user: string, pw: string): Promise<{ release(): Promise<void> }> {
  const p = spawn(py, ['-c', POP, String(node.ports.get('pop3')!), user, pw, 'hold'], { stdio: ['pipe', 'pipe', 'ignore'] });
  // A failing test does not wait for a session it never released.
  t.after(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
  const first = await new Promise<string>((resolve, reject) => {
    p.stdout.once('data', (d: Buffer) => resolve(d.toString()));
    p.once('exit', (code) => reject(new Error(`hold exited ${String(code)}`)));
  });
  assert.equal((JSON.parse(first) as PopAnswer).login, '+OK', `the holding session on ${node.name} logged in`);
  return { release: async () => { p.stdin.end('quit\n'); await exited(p); } };
}

/** Logs in on `node` until it is no longer [IN-USE] (the other hold is released or ran out); returns the ms it took. */
async function loginOnceFree(py: string, node: Node, user: string, pw: string, boundMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const r = await pop(py, node, user, pw);
    if (r.login === '+OK') return Date.now() - start;
    assert.match(r.login, /^-ERR \[IN-USE\]/);
    if (Date.now() - start > boundMs) throw new Error(`still [IN-USE] on ${node.name} after ${boundMs} ms`);
  }
}

test('two nodes on one PostgreSQL: a user added on A logs in on B, mail received by A is read on B byte-exact, [IN-USE] holds across nodes and a killed node frees it', async (t) => {
  const py = needPeer(t, 'python3');
  if (py === undefined) return;
  const tdb = await needPostgres(t);
  if (!tdb) return;
  await migrate(tdb.pool());
  const env = { ...process.env, SPOOLGATE_STORE_PASSWORD: split(tdb.url).password };
  const [a, b] = await Promise.all([startNode(t, tdb, 'a'), startNode(t, tdb, 'b')]);
  const logs = (): string => [a, b].map((n) => `--- ${n.name}\n${n.log.join('\n')}`).join('\n');

  // A user added on A, through the CLI with A's configuration (the shared database).
  const added = await runCli(userCli, ['add', 'alice', '--config', a.config, '--password-stdin'], { stdin: 'pw-alice\n', env });
  assert.equal(added.code, 0, added.stderr);
  for (const bad of ['a b', "x';DROP TABLE mail_users;--", 'u'.repeat(65), '.dot']) {
    const r = await runCli(userCli, ['add', bad, '--config', a.config, '--password-stdin'], { stdin: 'pw\n', env });
    assert.equal(r.code, 1, `${bad}: refused`);
    assert.match(r.stderr, /is not valid/);
  }
  const listed = await runCli(userCli, ['list', '--json', '--config', b.config], { env });
  assert.deepEqual((JSON.parse(listed.stdout) as { name: string }[]).map((u) => u.name), ['alice'], 'B sees the one user');
  assert.equal((await pop(py, b, 'alice', 'pw-alice')).login, '+OK', 'the user added on A logs in on B');
  assert.match((await pop(py, b, 'alice', 'wrong')).login, /^-ERR \[AUTH\]/);
  assert.match((await pop(py, b, "alice'OR'1'='1", 'pw-alice')).login, /^-ERR \[AUTH\]/, 'an SQL-ish name is just a wrong name');
  assert.match((await pop(py, b, 'alice', "'OR'1'='1")).login, /^-ERR \[AUTH\]/, 'and an SQL-ish password a wrong password');

  // Mail received by A's receiver, read on B: 8-bit bytes, leading dots, a long line.
  const dir = tempDir(t);
  const sent = Buffer.concat([
    Buffer.from('From: sender@far.test\r\nTo: alice@local.test\r\nSubject: across nodes\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n', 'latin1'),
    Buffer.from([0xe4, 0xf6, 0xfc, 0x20, 0xdf, 0x0d, 0x0a]),
    Buffer.from('.a line with a leading dot\r\n..two dots\r\n' + 'y'.repeat(990) + '\r\nlast line\r\n', 'latin1'),
  ]);
  writeFileSync(join(dir, 'm.eml'), sent);
  assert.equal(await python(py, SMTP, [a.ports.get('smtp')!, 'alice@local.test', join(dir, 'm.eml')]), '250');
  // Hostile: larger than MaxMessageSize (refused, stored nowhere); an SQL-ish recipient (unknown).
  writeFileSync(join(dir, 'big.eml'), Buffer.from(`Subject: big\r\n\r\n${'z'.repeat(200)}\r\n`.repeat(Math.ceil((MAX_SIZE * 3) / 200))));
  assert.equal(await python(py, SMTP, [a.ports.get('smtp')!, 'alice@local.test', join(dir, 'big.eml')]), '552');
  assert.match(await python(py, SMTP, [a.ports.get('smtp')!, "alice'--@local.test", join(dir, 'm.eml')]), /^5\d\d$/);

  const fetched = await pop(py, b, 'alice', 'pw-alice', 'fetch');
  assert.equal(fetched.messages?.length, 1, `one message on B (the oversize one is nowhere)\n${logs()}`);
  const got = Buffer.from(fetched.messages[0]!, 'base64');
  assert.ok(got.subarray(got.length - sent.length).equals(sent), 'the bytes sent end the message B returns (A added only trace headers above them)');
  const store = openPgStore(tdb.pool());
  const [m] = await store.mailboxes.list('alice');
  assert.ok((await store.mailboxes.read('alice', m!.id))!.equals(got), 'B returned exactly what the database holds');

  // One journal for every node: B's POP3 logins, read with `spoolgate journal` and A's configuration.
  const journal = await runCli(journalCli, ['--config', a.config, '--type', 'pop3.login', '--json'], { env });
  assert.equal(journal.code, 0, journal.stderr);
  assert.ok(journal.stdout.trim().split('\n').length >= 2, `B's logins in the shared journal:\n${journal.stdout}`);

  // [IN-USE] across nodes: a session on A holds the maildrop.
  const h1 = await hold(t, py, a, 'alice', 'pw-alice');
  assert.match((await pop(py, b, 'alice', 'pw-alice')).login, /^-ERR \[IN-USE\]/, 'B refuses while A holds it');
  assert.match((await pop(py, a, 'alice', 'pw-alice')).login, /^-ERR \[IN-USE\]/, 'as A does for a second session');
  await h1.release();
  await loginOnceFree(py, b, 'alice', 'pw-alice', 30_000);

  // A killed with -9 while its session holds the maildrop: B logs in once the hold ran out.
  const h2 = await hold(t, py, a, 'alice', 'pw-alice');
  assert.match((await pop(py, b, 'alice', 'pw-alice')).login, /^-ERR \[IN-USE\]/);
  a.proc.kill('SIGKILL');
  await exited(a.proc);
  const took = await loginOnceFree(py, b, 'alice', 'pw-alice', (LEASE_TIME + 30) * 1000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs()}`); });
  t.diagnostic(`after kill -9 of the holding node, B logged in ${took} ms later (LeaseTime ${LEASE_TIME} s)`);
  await h2.release();
  const after = await pop(py, b, 'alice', 'pw-alice', 'fetch');
  assert.equal(after.messages?.length, 1, 'nothing was deleted by the killed session');
  b.proc.kill('SIGTERM');
  await exited(b.proc);
});
