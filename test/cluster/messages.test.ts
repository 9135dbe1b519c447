// [P2] message entries on the shared queue (real PostgreSQL 15, real peers): the receiver's
// relayed mail and the gateway's DSNs are written straight to the database, and any node claims,
// sends and takes them over (spool/message-queue.ts, forwarder/store-source.ts).
//
// - node A's receiver accepts mail from python's smtplib; the 250 comes after the commit; the
//   mail reaches a real target (nodemailer smtp-server) byte-exact;
// - A killed with -9 after its 250 and before it could send (its own target refuses
//   connections): node B takes the entry over after the lease time and sends it, 0 lost;
// - a recipient refused 5xx: the DSN made by the node that got the refusal is a message entry of
//   the shared queue (seen in queue_entries while it is being sent) and reaches the sender;
// - the database unreachable (a TCP proxy in front of PostgreSQL cut): the receiver answers
//   451 4.3.0 with a text naming the queue, and accepts again once it is back, by itself.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../../src/testing/peers.js';
import { needPostgres, type TestDatabase } from '../../src/testing/pg.js';
import { until } from '../../src/testing/gateway.js';
import { migrate } from '../../src/store/pg/migrations.js';

const WRITER = 'MSGW';

interface Got { readonly from: string; readonly to: readonly string[]; readonly data: Buffer; readonly node: string }

interface Target { readonly port: number; readonly got: Got[]; holdNull?: () => Promise<void> }

/** smtp-server recording envelope, bytes and the sending node (its EHLO name); `refuse` addresses get 550. */
async function target(t: TestContext, refuse: readonly string[] = []): Promise<Target> {
  const tg: Target = { port: 0, got: [] };
  const srv = new SMTPServer({
    logger: false, authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], size: 10_000_000,
    onRcptTo(address, _s, cb) {
      if (!refuse.includes(address.address)) { cb(); return; }
      cb(Object.assign(new Error('no such user here'), { responseCode: 550 }));
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const e = session.envelope;
        const from = e.mailFrom === false ? '' : e.mailFrom.address;
        tg.got.push({ from, to: e.rcptTo.map((r) => r.address), data: Buffer.concat(parts), node: session.hostNameAppearsAs.replace(/\.test$/, '') });
        // A notification's 250 may wait for the test (which looks at the queue meanwhile).
        const hold = from === '' ? tg.holdNull : undefined;
        if (hold === undefined) cb(null);
        else hold().then(() => cb(null), (err: unknown) => cb(err as Error));
      });
    },
  });
  srv.on('error', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  return Object.assign(tg, { port: (srv.server.address() as import('node:net').AddressInfo).port });
}

/** A port nothing listens on (connections refused): a node whose only target is this cannot send. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function split(url: string): { host: string; port: number; url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { host: u.hostname, port: Number(u.port || 5432), url: u.toString(), password };
}

interface Node { readonly name: string; readonly config: string; proc: ChildProcess; log: string[]; smtpPort: number }

function makeNode(t: TestContext, tdb: TestDatabase, name: string, targetPort: number, opts: { url?: string; receiver?: boolean } = {}): Node {
  const dir = join(tempDir(t), name);
  mkdirSync(dir, { recursive: true });
  const pw = join(dir, 'db.password');
  writeFileSync(pw, split(tdb.url).password + '\n', { mode: 0o600 });
  const config = join(dir, 'spoolgate.conf');
  writeFileSync(config, [
    `Instance ${name.toUpperCase()}`, `ExtWrtName ${WRITER}`, `StateDirectory ${join(dir, 'state')}`,
    `Spool { Directory ${join(dir, 'spool')} RescanInterval 1 }`, `HostName ${name}.test`, 'LogFormat Json',
    `TargetServer { TargetIP 127.0.0.1 ConnectPort ${targetPort} ConnectLimit 2 }`,
    'RetryLimit { Count 20 Interval 1 }',
    ...(opts.receiver === false ? [] : ['Receiver {', '  Listen 127.0.0.1:0', `  HostName mx.${name}.test`, '  LocalDomain local.test', '  RelayMode AddressList', '  RelayAddress 127.0.0.1/32', '}']),
    `Store { Backend PostgreSQL Url ${opts.url ?? split(tdb.url).url} PasswordFile ${pw} Schema ${tdb.schema} Node ${name} LeaseTime 5 Heartbeat 2 PoolSize 4 ConnectTimeout 3 }`, '',
  ].join('\n'));
  const node: Node = { name, config, proc: undefined as unknown as ChildProcess, log: [], smtpPort: 0 };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let rest = '';
  const take = (d: Buffer): void => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      const m = /"listener\.started".*"role":"smtp".*"port":(\d+)|"role":"smtp".*"port":(\d+).*"listener\.started"/.exec(l);
      if (m !== null && node.smtpPort === 0) node.smtpPort = Number(m[1] ?? m[2]);
    }
    node.log = [...node.log, ...lines].slice(-60);
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  node.proc = proc;
  return node;
}

/** Resolves when the node's receiver listens; rejects at once (with its log) when it exited instead. */
async function listening(n: Node): Promise<void> {
  await until(`${n.name} listening`, () => {
    if (n.proc.exitCode !== null || n.proc.signalCode !== null) throw new Error(`${n.name} exited\n${logs([n])}`);
    return n.smtpPort !== 0;
  }, 60_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([n])}`); });
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });
}

async function stop(nodes: readonly Node[]): Promise<void> {
  for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
  await Promise.all(nodes.map((n) => exited(n.proc)));
}

function logs(nodes: readonly Node[]): string {
  return nodes.map((n) => `--- ${n.name}\n${n.log.join('\n')}`).join('\n');
}

/** The message as the client sends it (8-bit, a leading dot, a line over 998 octets, trailing blanks). */
function message(tag: string): Buffer {
  return Buffer.concat([
    Buffer.from(`From: eve@far.test\r\nTo: bob@remote.test\r\nSubject: ${tag}  \r\nMessage-ID: <${tag}@far.test>\r\n\r\n`, 'latin1'),
    Buffer.from('Gr\u00fc\u00dfe\r\n.a line that starts with a dot\r\n', 'utf8'),
    Buffer.from(`${'x'.repeat(1200)}\r\nend ${tag}   \r\n`, 'latin1'),
  ]);
}

/**
 * python3's smtplib as the client: EHLO, MAIL, RCPT, DATA of the file's bytes (smtplib
 * dot-stuffs). Prints the final reply "code text" (or the refusal's) on one line.
 */
async function pySend(port: number, to: string, data: Buffer): Promise<{ code: number; text: string }> {
  const script = [
    'import smtplib, sys',
    'data = sys.stdin.buffer.read()',
    `s = smtplib.SMTP('127.0.0.1', ${port}, local_hostname='client.test', timeout=60)`,
    's.ehlo()',
    `code, resp = s.mail('eve@far.test')`,
    `code, resp = s.rcpt('${to}')`,
    'try:',
    '    code, resp = s.data(data)',
    'except smtplib.SMTPDataError as e:',
    '    code, resp = e.smtp_code, e.smtp_error',
    'print(code, resp.decode("latin1").replace("\\n", " "))',
    'try:',
    '    s.quit()',
    'except Exception:',
    '    pass',
  ].join('\n');
  // Asynchronous: the test process serves the database proxy and the target meanwhile.
  const p = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr.on('data', (d: Buffer) => errOut.push(d));
  p.stdin.end(data);
  const killer = setTimeout(() => p.kill('SIGKILL'), 90_000);
  await new Promise<void>((r) => p.once('close', () => r()));
  clearTimeout(killer);
  const text = Buffer.concat(out).toString().trim();
  const m = /^(\d{3}) (.*)$/s.exec(text);
  if (m === null) throw new Error(`python3 smtplib: ${text} ${Buffer.concat(errOut).toString()}`);
  return { code: Number(m[1]), text: m[2]! };
}

/** The bytes the target got, minus nothing: a message entry is sent as accepted, our Received on top. */
function belowOurReceived(data: Buffer): Buffer {
  const s = data.toString('latin1');
  const m = /^Received: [^\r]*(?:\r\n[ \t][^\r]*)*\r\n/.exec(s);
  return m === null ? data : data.subarray(m[0].length);
}

test('relayed by node A\'s receiver: committed in the shared queue before the 250, byte-exact at the target; A killed -9 before it could send: B sends it', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const tg = await target(t);
  // A's only target refuses connections: A holds the entry (retrying) and cannot send it.
  const a = makeNode(t, tdb, 'a', await closedPort());
  await listening(a);
  const body = message('relay-1');
  const r = await pySend(a.smtpPort, 'bob@remote.test', body);
  assert.equal(r.code, 250, r.text);
  // The 250 came after the commit: the entry is in the database now (not in A's spool).
  const rows = await db.query<{ kind: string; job: string; node: string }>(`SELECT kind, attributes->>'jobName' AS job, arrived_node AS node FROM queue_entries`);
  assert.deepEqual(rows.rows, [{ kind: 'message', job: 'RECEIVER', node: 'a' }]);
  // A claimed it and is retrying against its dead target; then it is killed.
  await until('A holds the entry', async () => (await db.query(`SELECT 1 FROM queue_entries WHERE lease_node = 'a'`)).rowCount === 1, 30_000);
  a.proc.kill('SIGKILL');
  await exited(a.proc);
  assert.equal(tg.got.length, 0);
  // B, with a working target, takes it over after A's lease ran out and sends it.
  const b = makeNode(t, tdb, 'b', tg.port, { receiver: false });
  await until('B sent it', () => tg.got.length >= 1, 90_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([a, b])}`); });
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 30_000);
  const got = tg.got[0]!;
  assert.equal(got.node, 'b');
  assert.equal(got.from, 'eve@far.test');
  assert.deepEqual(got.to, ['bob@remote.test']);
  assert.deepEqual(belowOurReceived(got.data), body, 'the accepted bytes, byte for byte');
  assert.match(got.data.toString('latin1'), /^Received: from client\.test /, 'A\'s receiver\'s Received field on top');
  assert.ok(b.log.some((l) => l.includes('spool.taken-over')), 'B logged the takeover');

  // With both nodes up, more mail through a new A: each message once, byte-exact, by whichever node claims it.
  const a2 = makeNode(t, tdb, 'a2', tg.port);
  await listening(a2);
  const sent = new Map<string, Buffer>();
  for (let i = 0; i < 6; i++) {
    const m = message(`relay-${i + 2}`);
    sent.set(`relay-${i + 2}`, m);
    const rr = await pySend(a2.smtpPort, 'bob@remote.test', m);
    assert.equal(rr.code, 250, rr.text);
  }
  await until('all at the target', () => tg.got.length >= 7, 90_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([a2, b])}`); });
  await stop([a2, b]);
  const bySubject = new Map<string, Got[]>();
  for (const g of tg.got.slice(1)) {
    const s = /Subject: (\S+)/.exec(g.data.toString('latin1'))![1]!;
    bySubject.set(s, [...(bySubject.get(s) ?? []), g]);
  }
  assert.equal(bySubject.size, 6);
  for (const [s, gs] of bySubject) {
    assert.equal(gs.length, 1, `${s} once`);
    assert.deepEqual(belowOurReceived(gs[0]!.data), sent.get(s), `${s} byte-exact`);
  }
  t.diagnostic(`senders: ${tg.got.map((g) => g.node).join(' ')}`);
});

test('a recipient refused 5xx: the DSN is a message entry of the shared queue and reaches the sender', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const tg = await target(t, ['nobody@remote.test']);
  // While the notification is being sent, the test looks at the queue: the DSN is an entry there.
  let seen: { kind: string; job: string; node: string } | undefined;
  tg.holdNull = async () => {
    await until('the DSN in queue_entries', async () => {
      const r = await db.query<{ kind: string; job: string; node: string }>(`SELECT kind, attributes->>'jobName' AS job, arrived_node AS node FROM queue_entries WHERE attributes->>'jobName' = 'SGNOTIFY'`);
      seen = r.rows[0];
      return seen !== undefined;
    }, 30_000);
  };
  const a = makeNode(t, tdb, 'da', tg.port);
  const b = makeNode(t, tdb, 'db', tg.port, { receiver: false });
  await listening(a);
  const r = await pySend(a.smtpPort, 'nobody@remote.test', message('bounce-1'));
  assert.equal(r.code, 250, r.text);
  await until('the DSN at the target', () => tg.got.some((g) => g.from === ''), 90_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([a, b])}`); });
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 30_000);
  await stop([a, b]);
  const dsn = tg.got.find((g) => g.from === '')!;
  assert.deepEqual(dsn.to, ['eve@far.test']);
  const text = dsn.data.toString('latin1');
  assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/i);
  assert.match(text, /Final-Recipient: rfc822; ?nobody@remote\.test/i);
  assert.match(text, /Status: 5\.\d\.\d/);
  assert.equal(seen?.kind, 'message');
  assert.ok(seen !== undefined && ['da', 'db'].includes(seen.node));
  t.diagnostic(`DSN written by ${seen?.node}, sent by ${dsn.node}`);
  assert.equal(tg.got.filter((g) => g.from === '').length, 1, 'one DSN');
});

/** A TCP proxy in front of PostgreSQL that the test can cut (every connection reset, new ones too) and restore. */
async function proxy(t: TestContext, host: string, port: number): Promise<{ port: number; cut(): void; restore(): void }> {
  let down = false;
  const open = new Set<Socket>();
  const srv: Server = createServer((c) => {
    if (down) { c.destroy(); return; }
    const u = connect(port, host);
    open.add(c); open.add(u);
    const end = (): void => { c.destroy(); u.destroy(); open.delete(c); open.delete(u); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    c.pipe(u); u.pipe(c);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of open) s.destroy(); return new Promise<void>((r) => srv.close(() => r())); });
  return {
    port: (srv.address() as import('node:net').AddressInfo).port,
    cut: () => { down = true; for (const s of open) s.destroy(); open.clear(); },
    restore: () => { down = false; },
  };
}

test('the database unreachable: the receiver answers 451 4.3.0 naming the queue, and accepts again by itself once it is back; nothing lost', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool();
  await migrate(db);
  const tg = await target(t);
  const pg = split(tdb.url);
  const px = await proxy(t, pg.host, pg.port);
  const u = new URL(pg.url);
  u.hostname = '127.0.0.1';
  u.port = String(px.port);
  const a = makeNode(t, tdb, 'oa', tg.port, { url: u.toString() });
  await listening(a);
  const before = message('outage-0');
  assert.equal((await pySend(a.smtpPort, 'bob@remote.test', before)).code, 250);
  await until('the first at the target', () => tg.got.length === 1, 60_000);
  // Its checkpoint written and the entry completed (a cut in the middle would make it mail in flight).
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 30_000);

  px.cut();
  const during = message('outage-1');
  const refused = await pySend(a.smtpPort, 'bob@remote.test', during);
  assert.equal(refused.code, 451, refused.text);
  assert.match(refused.text, /^4\.3\.0 mail queue unavailable \(database unreachable\), try again later/);
  assert.ok(a.log.some((l) => l.includes('receiver.queue-unavailable')), logs([a]));

  px.restore();
  // The client tries again (as an MTA does after a 4xx): accepted once the database answers.
  await until('accepted again', async () => (await pySend(a.smtpPort, 'bob@remote.test', during)).code === 250, 60_000);
  const after = message('outage-2');
  assert.equal((await pySend(a.smtpPort, 'bob@remote.test', after)).code, 250);
  await until('all at the target', () => tg.got.length >= 3, 90_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${logs([a])}`); });
  await until('queue empty', async () => (await db.query('SELECT 1 FROM queue_entries')).rowCount === 0, 30_000);
  await stop([a]);
  const subjects = tg.got.map((g) => /Subject: (\S+)/.exec(g.data.toString('latin1'))![1]).sort();
  assert.deepEqual(subjects, ['outage-0', 'outage-1', 'outage-2'], 'each accepted message once, the refused one only after its retry');
  for (const g of tg.got) {
    const s = /Subject: (\S+)/.exec(g.data.toString('latin1'))![1]!;
    assert.deepEqual(belowOurReceived(g.data), message(s));
  }
});
