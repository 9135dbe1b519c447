import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { testCerts } from '../testing/certs.js';
import { FakeClock, SignallingClock } from '../testing/clock.js';
import { Pop3TestClient } from '../testing/pop3-client.js';
import { Pop3Server, type Pop3ServerOptions } from './server.js';

const FAST = { N: 1024, r: 8, p: 1 };
const MSG1 = 'From: a@x.test\r\nSubject: one\r\n\r\nline 1\r\nline 2\r\nline 3\r\n';
const MSG2 = 'Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n';

async function setup(t: TestContext, opts: Partial<Pop3ServerOptions> = {}, messages: string[] = [MSG1, MSG2]): Promise<{ server: Pop3Server; port: number; store: SqliteStore; connect: (o?: { tls?: boolean; port?: number }) => Promise<Pop3TestClient> }> {
  const store = openSqliteStore(':memory:', { scrypt: FAST });
  await store.users.addUser('alice', 'secret pw');
  await store.users.addUser('bob', 'bobpw');
  for (const m of messages) await store.mailboxes.deliver('alice', Buffer.from(m, 'latin1'));
  const certs = testCerts();
  const server = new Pop3Server({
    users: store.users, mailboxes: store.mailboxes, journal: store.journal, hostName: 'pop.test',
    tls: { key: certs.key, cert: certs.cert }, throttle: { failDelayMs: 0 }, ...opts,
  });
  const { port } = await server.listen();
  const clients: Pop3TestClient[] = [];
  t.after(async () => {
    for (const c of clients) await c.close();
    await server.close();
    await store.close();
  });
  return {
    server, port, store,
    connect: async (o = {}) => {
      const c = await Pop3TestClient.connect(o.port ?? port, o.tls === true ? { tls: { ca: certs.ca } } : {});
      clients.push(c);
      return c;
    },
  };
}

async function loggedIn(t: TestContext, opts: Partial<Pop3ServerOptions> = {}, messages?: string[]) {
  const env = await setup(t, { allowPlaintext: true, ...opts }, messages);
  const c = await env.connect();
  await c.dialog(`
    S: +OK pop.test POP3 server ready
    C: USER alice
    S: +OK
    C: PASS secret pw
    S: +OK alice has 2 messages (${MSG1.length + MSG2.length} octets)
  `);
  return { ...env, c };
}

test('commands outside their state are refused by the dispatcher', async (t) => {
  const { c } = await loggedIn(t);
  const inTransaction = ['USER alice', 'PASS x', 'STLS', 'AUTH PLAIN'];
  for (const cmd of inTransaction) assert.match(await c.cmd(cmd), /^-ERR .* not allowed in the TRANSACTION state/, cmd);
  const { connect } = await setup(t, { allowPlaintext: true });
  const fresh = await connect();
  await fresh.readLine();
  for (const cmd of ['STAT', 'LIST', 'LIST 1', 'RETR 1', 'DELE 1', 'RSET', 'TOP 1 0', 'UIDL', 'NOOP']) {
    assert.match(await fresh.cmd(cmd), /^-ERR .* not allowed in the AUTHORIZATION state/, cmd);
  }
  assert.equal(await fresh.cmd('PASS x'), '-ERR give USER first');
  assert.equal(await fresh.cmd('XYZZY'), '-ERR unknown command');
  assert.equal(await fresh.cmd(''), '-ERR empty command');
  assert.equal(await fresh.cmd('USER a\u0001b'), '-ERR command contains invalid characters');
});

test('STAT, LIST, UIDL, NOOP and argument errors in the TRANSACTION state', async (t) => {
  const { c, store } = await loggedIn(t);
  const ids = (await store.mailboxes.list('alice')).map((m) => m.uidl);
  assert.equal(await c.cmd('STAT'), `+OK 2 ${MSG1.length + MSG2.length}`);
  const list = await c.multi('LIST');
  assert.equal(list.first, `+OK 2 messages (${MSG1.length + MSG2.length} octets)`);
  assert.deepEqual(list.lines, [`1 ${MSG1.length}`, `2 ${MSG2.length}`]);
  assert.equal(await c.cmd('LIST 2'), `+OK 2 ${MSG2.length}`);
  assert.deepEqual((await c.multi('UIDL')).lines, [`1 ${ids[0]}`, `2 ${ids[1]}`]);
  assert.equal(await c.cmd('uidl 1'), `+OK 1 ${ids[0]}`, 'keywords are case-insensitive');
  assert.equal(await c.cmd('NOOP'), '+OK ');
  const errors: [string, string][] = [
    ['LIST 3', '-ERR no such message: 3'],
    ['LIST 0', '-ERR no such message: 0'],
    ['LIST x', '-ERR invalid message number'],
    ['LIST 1 2', '-ERR LIST takes at most one argument'],
    ['RETR', '-ERR RETR takes one argument: the message number'],
    ['RETR -1', '-ERR invalid message number'],
    ['TOP 1', '-ERR TOP takes two arguments: message number and line count'],
    ['TOP 1 x', '-ERR invalid line count'],
    ['DELE 99999999999', '-ERR invalid message number'],
    ['STAT 1', '-ERR STAT takes no arguments'],
    ['NOOP x', '-ERR NOOP takes no arguments'],
    ['RSET 1', '-ERR RSET takes no arguments'],
  ];
  for (const [cmd, want] of errors) assert.equal(await c.cmd(cmd), want, cmd);
  assert.match(await c.cmd('QUIT'), /^\+OK pop.test POP3 server signing off \(2 messages left\)/);
  await c.closed;
});

test('RETR is byte-exact and byte-stuffed; TOP with 0 and n lines', async (t) => {
  const { c } = await loggedIn(t);
  const r1 = await c.multi('RETR 1');
  assert.equal(r1.first, `+OK ${MSG1.length} octets`);
  assert.equal(r1.raw.toString('latin1'), MSG1);
  c.write('RETR 2\r\n');
  assert.equal(await c.readLine(), `+OK ${MSG2.length} octets`);
  // RFC 1939 §3: every line starting with "." gets one more.
  assert.equal((await c.readMultiRaw()).toString('latin1'), 'Subject: dots\r\n\r\n..starts with a dot\r\n...two dots\r\n..\r\nend\r\n');
  assert.deepEqual((await c.multi('TOP 1 0')).lines, ['From: a@x.test', 'Subject: one', '']);
  assert.deepEqual((await c.multi('TOP 1 2')).lines, ['From: a@x.test', 'Subject: one', '', 'line 1', 'line 2']);
  assert.deepEqual((await c.multi('TOP 1 99')).lines, ['From: a@x.test', 'Subject: one', '', 'line 1', 'line 2', 'line 3']);
  c.write('TOP 2 1\r\n');
  assert.equal(await c.readLine(), '+OK top of message follows');
  assert.equal((await c.readMultiRaw()).toString('latin1'), 'Subject: dots\r\n\r\n..starts with a dot\r\n');
});

test('DELE marks, RSET undoes, QUIT applies deletions in UPDATE', async (t) => {
  const { c, connect, store } = await loggedIn(t);
  await c.dialog(`
    C: DELE 1
    S: +OK message 1 deleted
    C: DELE 1
    S: -ERR message 1 already deleted
    C: RETR 1
    S: -ERR message 1 already deleted
    C: STAT
    S: +OK 1 ${MSG2.length}
    C: RSET
    S: +OK maildrop has 2 messages
    C: STAT
    S: +OK 2 ${MSG1.length + MSG2.length}
    C: DELE 2
    S: +OK message 2 deleted
    C: LIST
    S: +OK 1 messages
    S: 1 ${MSG1.length}
    S: .
  `);
  assert.equal((await store.mailboxes.list('alice')).length, 2, 'nothing deleted before QUIT');
  assert.match(await c.cmd('QUIT'), /^\+OK .*\(1 message left\)/);
  await c.closed;
  const left = await store.mailboxes.list('alice');
  assert.equal(left.length, 1);
  const again = await connect();
  await again.dialog(`
    S: +OK
    C: USER alice
    S: +OK
    C: PASS secret pw
    S: +OK alice has 1 message (${MSG1.length} octets)
    C: UIDL 1
    S: +OK 1 ${left[0]!.uidl}
  `);
});

test('a dropped connection deletes nothing and frees the mailbox', async (t) => {
  const { c, connect, store, server } = await loggedIn(t);
  await c.cmd('DELE 1');
  await c.cmd('DELE 2');
  assert.deepEqual(server.lockedMailboxes(), ['alice']);
  await c.close();
  for (let i = 0; i < 50 && server.lockedMailboxes().length > 0; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(server.lockedMailboxes(), []);
  assert.equal((await store.mailboxes.list('alice')).length, 2);
  const c2 = await connect();
  await c2.dialog('S: +OK\nC: USER alice\nS: +OK\nC: PASS secret pw\nS: +OK alice has 2 messages');
});

test('a second concurrent login gets [IN-USE]', async (t) => {
  const { connect, c } = await loggedIn(t);
  const c2 = await connect();
  await c2.dialog(`
    S: +OK
    C: USER ALICE
    S: +OK
    C: PASS secret pw
    S: -ERR [IN-USE] mailbox is in use by another session
    C: USER bob
    S: +OK
    C: PASS bobpw
    S: +OK bob has 0 messages (0 octets)
  `);
  await c.cmd('QUIT');
  await c.closed;
  const c3 = await connect();
  await c3.dialog('S: +OK\nC: USER alice\nS: +OK\nC: PASS secret pw\nS: +OK alice has 2 messages');
});

test('failed logins are throttled per client address (doubling refusals) and journaled; the user name only waits', async (t) => {
  const clock = new SignallingClock();
  const { connect, store } = await setup(t, { allowPlaintext: true, clock, loginTimeoutMs: 3_600_000, idleTimeoutMs: 3_600_000, throttle: { maxFailures: 3, lockMs: 60_000, userDelayMs: 1000, maxUserDelayMs: 4000, failDelayMs: 0 } });
  const c = await connect();
  await c.readLine();
  for (let i = 0; i < 3; i++) {
    await c.cmd('USER alice');
    assert.equal(await c.cmd('PASS wrong'), '-ERR [AUTH] invalid user name or password');
  }
  await c.cmd('USER alice');
  assert.equal(await c.cmd('PASS secret pw'), '-ERR [SYS/TEMP] too many failed logins: try again later', 'refused even with the right password: not checked');
  await c.cmd('USER bob');
  assert.equal(await c.cmd('PASS bobpw'), '-ERR [SYS/TEMP] too many failed logins: try again later', 'the address is refused for every user');
  clock.advance(60_001);
  // One more failure: the refusal doubles (120 s); alice's name now also waits (1 s) before its check.
  await c.cmd('USER alice');
  const parked = clock.nextTimer();
  const answer = c.cmd('PASS wrong again');
  await parked;
  clock.advance(1000);
  assert.equal(await answer, '-ERR [AUTH] invalid user name or password');
  clock.advance(60_001);
  await c.cmd('USER bob');
  assert.equal(await c.cmd('PASS bobpw'), '-ERR [SYS/TEMP] too many failed logins: try again later', 'still refused after 60 s: the second refusal lasts 120 s');
  clock.advance(60_000);
  await c.cmd('USER bob');
  assert.match(await c.cmd('PASS bobpw'), /^\+OK bob has 0 messages/);
  const failed = await store.journal.query({ type: 'pop3.login-failed' });
  assert.equal(failed.length, 4);
  assert.deepEqual([failed[0]!.user, failed[0]!.ip], ['alice', '127.0.0.1']);
  assert.equal((await store.journal.query({ type: 'pop3.login-refused' })).length, 3);
});

test('S2 #15: 30 parallel logins from one address: no more than MaxFailedLogins passwords are checked (counted before the check)', async (t) => {
  const { connect, store } = await setup(t, { allowPlaintext: true, maxConnectionsPerIp: 40, throttle: { maxFailures: 5, failDelayMs: 0 } });
  const clients = await Promise.all(Array.from({ length: 30 }, () => connect()));
  await Promise.all(clients.map(async (c) => { await c.readLine(); await c.cmd('USER alice'); }));
  // All 30 PASS lines are sent before any answer is read: the scrypt checks would overlap.
  const answers = await Promise.all(clients.map((c, i) => c.cmd(`PASS wrong-${i}`)));
  assert.equal(answers.filter((a) => a.startsWith('-ERR [AUTH]')).length, 5, answers.join('\n'));
  assert.equal(answers.filter((a) => a.startsWith('-ERR [SYS/TEMP] too many failed logins')).length, 25);
  assert.equal((await store.journal.query({ type: 'pop3.login-failed' })).length, 5, 'only five passwords were checked');
});

test('S2 #15: a login name is canonical once: " alice", "alice\\u00a0", "\\talice" are not alice and do not get around [IN-USE]', async (t) => {
  const { connect, c, store } = await loggedIn(t, { throttle: { maxFailures: 100, failDelayMs: 0 } });
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  for (const name of [' alice', 'alice\u00a0', '\talice', 'al\u200bice']) {
    const other = await connect();
    await other.readLine();
    assert.equal(await other.cmd(`AUTH PLAIN ${b64(`\0${name}\0secret pw`)}`), '-ERR [AUTH] invalid user name or password', JSON.stringify(name));
  }
  // The canonical form of a differently written name is alice: the one lock answers.
  const upper = await connect();
  await upper.readLine();
  assert.equal(await upper.cmd(`AUTH PLAIN ${b64('\0ALICE\0secret pw')}`), '-ERR [IN-USE] mailbox is in use by another session');
  assert.deepEqual((await store.journal.query({ type: 'pop3.login-failed' })).map((e) => e.user), ['\\u0020alice', 'alice\\u00a0', '\\u0009alice', 'al\\u200bice', 'alice']);
  await c.cmd('QUIT');
});

test('plaintext login is refused before STLS; CAPA changes; STLS then login works', async (t) => {
  const { connect, store } = await setup(t);
  const c = await connect();
  await c.readLine();
  const capa = await c.multi('CAPA');
  assert.deepEqual(capa.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'STLS', 'IMPLEMENTATION spoolgate']);
  const refusal = '-ERR [AUTH] plaintext authentication is disabled on an unencrypted connection: use STLS first';
  assert.equal(await c.cmd('USER alice'), refusal);
  assert.equal(await c.cmd('AUTH PLAIN AGFsaWNlAHNlY3JldCBwdw=='), refusal);
  assert.equal(await c.stls(testCerts().ca), '+OK begin TLS negotiation');
  const capa2 = await c.multi('CAPA');
  assert.deepEqual(capa2.lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'USER', 'SASL PLAIN', 'IMPLEMENTATION spoolgate']);
  assert.equal(await c.cmd('STLS'), '-ERR TLS is already active');
  await c.dialog('C: USER alice\nS: +OK\nC: PASS secret pw\nS: +OK alice has 2 messages');
  assert.deepEqual((await c.multi('RETR 1')).raw.toString('latin1'), MSG1);
  const login = await store.journal.query({ type: 'pop3.login' });
  assert.equal(login[0]?.detail, 'USER tls messages=2');
});

test('commands pipelined behind STLS are discarded, not run after the handshake', async (t) => {
  const { connect } = await setup(t, { allowPlaintext: true });
  const c = await connect();
  await c.readLine();
  c.write('STLS\r\nUSER alice\r\n');
  assert.equal(await c.readLine(), '+OK begin TLS negotiation');
  await c.startTls(testCerts().ca);
  assert.equal(await c.cmd('PASS secret pw'), '-ERR give USER first', 'the pipelined USER was dropped and the state reset');
});

test('AUTH PLAIN with an initial response, a continuation, cancel and a foreign authzid', async (t) => {
  const { connect } = await setup(t, {}, [MSG1]);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const c = await connect({ tls: false });
  await c.readLine();
  await c.stls(testCerts().ca);
  await c.dialog(`
    C: AUTH
    S: +OK SASL mechanisms follow
    S: PLAIN
    S: .
    C: AUTH CRAM-MD5
    S: -ERR unsupported SASL mechanism
    C: AUTH PLAIN
    S: +${' '}
    C: *
    S: -ERR authentication cancelled
    C: AUTH PLAIN ${b64('bob\0alice\0secret pw')}
    S: -ERR [AUTH] acting as another user is not permitted
    C: AUTH PLAIN !!!
    S: -ERR [AUTH] malformed base64
    C: AUTH PLAIN ${b64('\0alice\0wrong')}
    S: -ERR [AUTH] invalid user name or password
    C: AUTH PLAIN
    S: +
    C: ${b64('Alice\0alice\0secret pw')}
    S: +OK alice has 1 message
    C: QUIT
    S: +OK
  `);
  const c2 = await connect();
  await c2.readLine();
  await c2.stls(testCerts().ca);
  await c2.dialog(`C: AUTH PLAIN ${b64('\0alice\0secret pw')}\nS: +OK alice has 1 message`);
});

test('implicit TLS listener (ext): TLS from the first byte, no STLS offered', async (t) => {
  const env = await setup(t);
  const { port } = await env.server.listen({ implicitTls: true });
  const c = await env.connect({ tls: true, port });
  assert.equal(await c.readLine(), '+OK pop.test POP3 server ready');
  const capa = await c.multi('CAPA');
  assert.ok(!capa.lines.includes('STLS') && capa.lines.includes('USER'));
  await c.dialog('C: USER alice\nS: +OK\nC: PASS secret pw\nS: +OK alice has 2 messages');
});

test('inactivity timeout ends the session without UPDATE', async (t) => {
  const clock = new FakeClock();
  const { c, server, store } = await loggedIn(t, { clock, idleTimeoutMs: 30_000 });
  await c.cmd('DELE 1');
  clock.advance(29_000);
  assert.equal(await c.cmd('NOOP'), '+OK ');
  clock.advance(30_000);
  assert.equal(await c.readLine(), '-ERR [SYS/TEMP] autologout: idle for too long');
  await c.closed;
  assert.deepEqual(server.lockedMailboxes(), []);
  assert.equal((await store.mailboxes.list('alice')).length, 2);
});

test('connections over MaxConnectionsPerIP from one address are refused with -ERR [SYS/TEMP] and closed; other addresses still get in', async (t) => {
  const { server, connect, port } = await setup(t, { allowPlaintext: true, maxConnectionsPerIp: 3 });
  const held: Pop3TestClient[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await connect();
    assert.match(await c.readLine(), /^\+OK pop\.test/);
    held.push(c);
  }
  const over = await connect();
  assert.equal(await over.readLine(), '-ERR [SYS/TEMP] too many connections from your address');
  await over.closed;
  assert.equal(server.connectionCount, 3);
  // Another loopback address is another client (Linux routes all of 127/8 to lo).
  const other = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    s.once('data', (d) => { resolve(d.toString('latin1')); s.destroy(); });
    s.once('error', reject);
  });
  assert.match(other, /^\+OK pop\.test/);
  // A slot freed by QUIT can be taken again (the server has finished the session once the client sees the close).
  assert.match(await held[0]!.cmd('QUIT'), /^\+OK/);
  await held[0]!.closed;
  const again = await connect();
  assert.match(await again.readLine(), /^\+OK pop\.test/);
});

// The timeout only turns a hang into a failure: close() used to wait for ever on a refused
// socket whose client had sent a command and half-closed (the refusal never read what came in,
// so it never saw the client's end). Its destroy timer does not keep the process alive.
test('close() ends while a refused client that sent a command and half-closed is still there', { timeout: 30_000 }, async (t) => {
  const { server, connect, port } = await setup(t, { allowPlaintext: true, maxConnectionsPerIp: 1 });
  const first = await connect();
  assert.match(await first.readLine(), /^\+OK pop\.test/);
  const over = net.connect(port, '127.0.0.1');
  over.on('error', () => undefined);
  const refusal = await new Promise<string>((resolve) => over.once('data', (d) => resolve(d.toString('latin1'))));
  assert.match(refusal, /^-ERR \[SYS\/TEMP\]/);
  over.end('USER alice\r\n');
  await new Promise((resolve) => over.once('close', resolve));
  await server.close();
  assert.equal(server.connectionCount, 0);
});

// The timeout only turns a hang (no login deadline: the -ERR never comes) into a failure.
test('a connection that does not log in within LoginTimeout is closed, however busy it keeps; a logged-in one is not', { timeout: 30_000 }, async (t) => {
  const clock = new FakeClock();
  const { server, connect } = await setup(t, { allowPlaintext: true, clock, loginTimeoutMs: 60_000, idleTimeoutMs: 600_000 });
  const idler = await connect();
  const user = await connect();
  await idler.readLine();
  await user.readLine();
  clock.advance(30_000);
  // Commands do not restart the login deadline: a client cannot hold a slot with CAPA or wrong logins.
  assert.equal((await idler.multi('CAPA')).first, '+OK capability list follows');
  assert.equal(await idler.cmd('USER nobody'), '+OK send your password');
  assert.equal(await user.cmd('USER alice'), '+OK send your password');
  assert.match(await user.cmd('PASS secret pw'), /^\+OK alice has 2 messages/);
  clock.advance(30_000);
  assert.equal(await idler.readLine(), '-ERR [SYS/TEMP] login timeout: not logged in in time');
  await idler.closed;
  assert.equal(await user.cmd('NOOP'), '+OK ', 'the post-login InactivityTimeout (RFC 1939 §3: 10 minutes) applies after login');
  assert.equal(server.connectionCount, 1);
  // REFRESH: a new LoginTimeout applies from the next connection.
  server.apply({ hostName: 'pop.test', allowPlaintext: true, idleTimeoutMs: 600_000, maxFailedLogins: 5, loginTimeoutMs: 10_000, maxConnectionsPerIp: 10 });
  const late = await connect();
  await late.readLine();
  clock.advance(10_000);
  assert.equal(await late.readLine(), '-ERR [SYS/TEMP] login timeout: not logged in in time');
});

test('over-long command lines are refused and their rest is not executed', async (t) => {
  const { connect } = await setup(t, { allowPlaintext: true });
  const c = await connect();
  await c.readLine();
  c.write('NOOP ' + 'x'.repeat(300) + ' QUIT\r\n');
  assert.equal(await c.readLine(), '-ERR command line too long');
  assert.equal(await c.cmd('USER ' + 'a'.repeat(248)), '+OK send your password', '255 octets with CRLF is allowed');
  assert.equal(await c.cmd('USER ' + 'a'.repeat(249)), '-ERR command line too long');
  assert.ok(!c.isClosed);
});

test('QUIT in AUTHORIZATION closes without touching mail; pipelined commands are answered in order', async (t) => {
  const { c } = await loggedIn(t);
  c.write('STAT\r\nLIST 1\r\nNOOP\r\n');
  assert.equal(await c.readLine(), `+OK 2 ${MSG1.length + MSG2.length}`);
  assert.equal(await c.readLine(), `+OK 1 ${MSG1.length}`);
  assert.equal(await c.readLine(), '+OK ');
  const env = await setup(t);
  const c2 = await env.connect();
  await c2.readLine();
  assert.equal(await c2.cmd('QUIT'), '+OK pop.test POP3 server signing off');
  await c2.closed;
});

test('CAPA in TRANSACTION; a failed UPDATE answers -ERR [SYS/TEMP] and keeps the mail; logout is journaled', async (t) => {
  const store = openSqliteStore(':memory:', { scrypt: FAST });
  t.after(() => store.close());
  await store.users.addUser('alice', 'pw');
  await store.mailboxes.deliver('alice', Buffer.from(MSG1));
  let failDelete = true;
  const mailboxes = {
    list: (u: string) => store.mailboxes.list(u),
    read: (u: string, id: string) => store.mailboxes.read(u, id),
    delete: async (u: string, ids: readonly string[]) => { if (failDelete) throw new Error('disk full'); return store.mailboxes.delete(u, ids); },
  };
  const server = new Pop3Server({ users: store.users, mailboxes, journal: store.journal, hostName: 'pop.test', allowPlaintext: true, throttle: { failDelayMs: 0 } });
  const { port } = await server.listen();
  t.after(() => server.close());
  const c = await Pop3TestClient.connect(port);
  await c.dialog('S: +OK\nC: USER alice\nS: +OK\nC: PASS pw\nS: +OK alice has 1 message');
  assert.deepEqual((await c.multi('CAPA')).lines, ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'IMPLEMENTATION spoolgate']);
  await c.dialog('C: DELE 1\nS: +OK\nC: QUIT\nS: -ERR [SYS/TEMP] some deleted messages were not removed');
  await c.closed;
  assert.equal((await store.mailboxes.list('alice')).length, 1);
  assert.deepEqual(server.lockedMailboxes(), []);
  failDelete = false;
  const c2 = await Pop3TestClient.connect(port);
  await c2.dialog('S: +OK\nC: USER alice\nS: +OK\nC: PASS pw\nS: +OK alice has 1 message\nC: DELE 1\nS: +OK\nC: QUIT\nS: +OK pop.test POP3 server signing off (0 messages left)');
  await c2.closed;
  assert.equal((await store.mailboxes.list('alice')).length, 0);
  assert.deepEqual((await store.journal.query({ type: 'pop3.logout' })).map((e) => e.detail), ['deleted=1']);
});

test('apply (REFRESH): AllowPlaintext and MaxFailedLogins from the next connection / failure; an open session keeps what it announced', async (t) => {
  const { server, connect } = await setup(t, { allowPlaintext: true, idleTimeoutMs: 600_000, throttle: { failDelayMs: 0, maxFailures: 5 } });
  const open = await connect();
  assert.match(await open.readLine(), /^\+OK/);
  server.apply({ hostName: 'new.test', allowPlaintext: false, idleTimeoutMs: 900_000, maxFailedLogins: 1, loginTimeoutMs: 60_000, maxConnectionsPerIp: 10 });
  assert.equal(server.idleTimeoutMs, 900_000);
  assert.equal(server.throttle.opts.maxFailures, 1);
  assert.equal(server.throttle.opts.failDelayMs, 0, 'the other throttle options stay');
  // The session opened before the change still allows USER/PASS in plain text.
  assert.equal(await open.cmd('USER bob'), '+OK send your password');
  assert.equal(await open.cmd('PASS wrong'), '-ERR [AUTH] invalid user name or password');
  // One failure now locks bob (MaxFailedLogins 1), whatever the password.
  assert.equal(await open.cmd('USER bob'), '+OK send your password');
  assert.equal(await open.cmd('PASS bobpw'), '-ERR [SYS/TEMP] too many failed logins: try again later');
  const next = await connect();
  assert.match(await next.readLine(), /^\+OK/);
  assert.equal(await next.cmd('USER alice'), '-ERR [AUTH] plaintext authentication is disabled on an unencrypted connection: use STLS first');
});
