// [Q1] item 3 acceptance: each target carries its own connection settings. Two real SMTP servers
// (nodemailer's smtp-server, an independent implementation), each with its own CA, certificate
// name and AUTH credentials, behind a running gateway driven by `spoolgate modify ... REFRESH`.
// - REFRESH that swaps the two TargetServer blocks: every connection to each server afterwards
//   verifies that server's certificate with its own CA and name and authenticates with its own
//   credentials (the seed looked them up by block position); nothing lost or sent twice.
// - REFRESH that changes only B's password: B's connections restart with the new password; A's
//   connection, busy at the final dot during the REFRESH, stays open and carries the next mail.
// Every wait is on an event from the servers or the gateway, bounded; no sleeps.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startServices, type Services } from '../../src/main.js';
import { testCerts } from '../../src/testing/certs.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, spoolgateCli, submitText, writeConfig } from '../../src/testing/gateway.js';
import type { Config } from '../../src/config/index.js';

/**
 * Resolves waits when their condition holds, checked at every event; each wait has a bound. A
 * fault (e.g. a server saw a connection that never authenticated) fails every wait at once, so a
 * regression shows its cause instead of a time-out.
 */
class Events {
  private readonly waiters = new Set<{ cond: () => boolean; resolve: () => void; reject: (e: Error) => void }>();
  private readonly faults: (() => string | undefined)[] = [];

  failWhen(fault: () => string | undefined): void {
    this.faults.push(fault);
  }

  notify(): void {
    const fault = this.fault();
    for (const w of [...this.waiters]) {
      if (fault !== undefined) { this.waiters.delete(w); w.reject(new Error(fault)); } else if (w.cond()) { this.waiters.delete(w); w.resolve(); }
    }
  }

  private fault(): string | undefined {
    for (const f of this.faults) { const r = f(); if (r !== undefined) return r; }
    return undefined;
  }

  wait(what: string, cond: () => boolean, maxMs = 60_000): Promise<void> {
    const fault = this.fault();
    if (fault !== undefined) return Promise.reject(new Error(fault));
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        cond,
        resolve: () => { clearTimeout(limit); resolve(); },
        reject: (e: Error) => { clearTimeout(limit); reject(e); },
      };
      const limit = setTimeout(() => { this.waiters.delete(w); reject(new Error(`no event brought: ${what}`)); }, maxMs);
      this.waiters.add(w);
    });
  }
}

interface AuthSeen { readonly session: string; readonly user: string; readonly password: string; readonly accepted: boolean }
interface MessageSeen { readonly session: string; readonly subject: string }

/** One target: smtp-server with STARTTLS (its own CA and name) and AUTH PLAIN/LOGIN required. */
class AuthServer {
  readonly connections: string[] = [];
  readonly closed: string[] = [];
  /** SNI each TLS session asked for. */
  readonly serverNames: string[] = [];
  readonly auths: AuthSeen[] = [];
  readonly messages: MessageSeen[] = [];
  /** Messages held at the final dot; calling one answers 250. */
  readonly held: (() => void)[] = [];
  hold = false;
  port = 0;
  private readonly srv: SMTPServer;

  constructor(readonly name: string, public credentials: { user: string; password: string }, events: Events) {
    const certs = testCerts(name);
    events.failWhen(() => {
      const refused = this.auths.find((x) => !x.accepted);
      if (refused !== undefined) return `${name} refused AUTH as ${refused.user}`;
      const bare = this.closed.find((id) => !this.auths.some((x) => x.session === id && x.accepted));
      if (bare !== undefined) return `a connection to ${name} closed without authenticating (TLS with another target's CA or name?)`;
      return undefined;
    });
    this.srv = new SMTPServer({
      key: certs.key, cert: certs.cert, authMethods: ['PLAIN', 'LOGIN'], logger: false, hideSTARTTLS: false,
      onConnect: (session, cb) => { this.connections.push(session.id); events.notify(); cb(); },
      onSecure: (socket, _session, cb) => { this.serverNames.push(String((socket as TLSSocket).servername)); cb(); },
      onAuth: (auth, session, cb) => {
        const accepted = auth.username === this.credentials.user && auth.password === this.credentials.password;
        this.auths.push({ session: session.id, user: auth.username ?? '', password: auth.password ?? '', accepted });
        events.notify();
        if (accepted) cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onMailFrom: (_address, session, cb) => {
        // AUTH is required: smtp-server refuses MAIL before it; say so in the test's terms too.
        if (session.user === undefined) { cb(new Error('authentication required')); return; }
        cb();
      },
      onData: (stream, session, cb) => {
        const parts: Buffer[] = [];
        stream.on('data', (d: Buffer) => parts.push(d));
        stream.on('end', () => {
          const subject = /Subject: (\S+ message \d+)/.exec(Buffer.concat(parts).toString('latin1'))?.[1] ?? '?';
          const answer = (): void => { this.messages.push({ session: session.id, subject }); events.notify(); cb(null); };
          if (this.hold) { this.held.push(answer); events.notify(); } else answer();
        });
      },
      onClose: (session) => { this.closed.push(session.id); events.notify(); },
    });
  }

  get caFile(): string {
    return testCerts(this.name).caFile;
  }

  async start(t: TestContext): Promise<void> {
    await new Promise<void>((done) => this.srv.listen(0, '127.0.0.1', () => done()));
    const a = this.srv.server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
    t.after(() => new Promise<void>((done) => { this.release(); this.srv.close(() => done()); }));
  }

  release(): void {
    this.hold = false;
    for (const h of this.held.splice(0)) h();
  }

  subjects(): string[] {
    return this.messages.map((m) => m.subject);
  }
}

/** A TargetServer block with everything that makes this target itself. */
function block(s: AuthServer, extra: { password?: string; minVersion?: string; limit: number; maxMsgSent: number }): string {
  return `TargetServer { TargetIP 127.0.0.1 ConnectPort ${s.port} ConnectLimit ${extra.limit} MaxMsgSent ${extra.maxMsgSent} Secure YES `
    + `AuthUser ${s.credentials.user} AuthPassword ${extra.password ?? s.credentials.password} TlsCaFile ${s.caFile} TlsServerName ${s.name}`
    + `${extra.minVersion === undefined ? '' : ` TlsMinVersion ${extra.minVersion}`} }`;
}

const COMMON = 'Options { TLSEhlo YES }\nRetryLimit { Count 5 Interval 1 }\nLogLevel 255';

async function gateway(t: TestContext, dir: string, blocks: readonly string[], events: Events): Promise<{ services: Services; config: Config; path: string; logs: LogRecord[]; finished: () => number; outcomes: string[] }> {
  const { path, config } = writeConfig(dir, `${blocks.join('\n')}\n${COMMON}`);
  const logs: LogRecord[] = [];
  const outcomes: string[] = [];
  const services = await startServices(config, {
    log: Logger.create({ sink: { write: (r) => { logs.push(r); } }, instance: 'TEST', level: 255 }),
    onMailFinished: (_item, outcome) => { outcomes.push(outcome); events.notify(); },
  });
  t.after(() => services.stop());
  await services.gateway.forwarder.start();
  return { services, config, path, logs, finished: () => outcomes.length, outcomes };
}

async function refresh(dir: string, blocks: readonly string[]): Promise<void> {
  const { path } = writeConfig(dir, `${blocks.join('\n')}\n${COMMON}`);
  const r = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.ok(lines.includes('EZD1840I TEST UPDATED CONFIGURATION'), r.stdout);
  assert.equal(lines.at(-1), 'EZD1848I TEST MODIFY REFRESH COMMAND COMPLETED');
}

/** Each tagged message reached exactly one server exactly once. */
function assertEachOnce(servers: readonly AuthServer[], tags: readonly (readonly [string, number])[]): void {
  const seen = new Map<string, number>();
  for (const s of servers) for (const subject of s.subjects()) seen.set(subject, (seen.get(subject) ?? 0) + 1);
  const want = tags.flatMap(([tag, n]) => Array.from({ length: n }, (_, i) => `${tag} message ${i + 1}`));
  assert.deepEqual(want.filter((s) => !seen.has(s)), [], 'no message lost');
  assert.deepEqual([...seen.entries()].filter(([, n]) => n > 1), [], 'none sent twice');
  assert.equal(seen.size, want.length, 'nothing else arrived');
}

function assertNoSecretShown(where: string, text: string, secrets: readonly string[]): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${where} shows a password`);
}

test('REFRESH that swaps two TargetServer blocks: each server still gets its own TLS settings and credentials on every connection', async (t) => {
  const events = new Events();
  const a = new AuthServer('a.test', { user: 'alice', password: 'alice-pw-A' }, events);
  const b = new AuthServer('b.test', { user: 'bob', password: 'bob-pw-B' }, events);
  await a.start(t);
  await b.start(t);
  const dir = tempDir(t);
  // MaxMsgSent 1: every message on a new connection, so every message is a fresh TLS handshake and AUTH.
  const blockA = block(a, { limit: 2, maxMsgSent: 1 });
  const blockB = block(b, { limit: 2, maxMsgSent: 1, minVersion: 'TLSv1.3' });
  const g = await gateway(t, dir, [blockA, blockB], events);
  const gw = g.services.gateway;

  await submitText(g.config, batchFile('BEFORE', 6).text, 'BEFORE');
  await events.wait('6 messages delivered before the swap', () => g.finished() === 6);
  const before = { a: a.messages.length, b: b.messages.length };
  assert.ok(before.a > 0 && before.b > 0, `both targets used before the swap (${before.a}/${before.b})`);

  await refresh(dir, [blockB, blockA]);
  assert.equal(gw.config().targetServers[0]?.connectPort, b.port, 'the blocks are swapped in the configuration in force');
  assert.equal(gw.config().targetServers[0]?.authUser, 'bob');

  await submitText(g.config, batchFile('AFTER', 8).text, 'AFTER');
  await events.wait('8 more messages delivered after the swap', () => g.finished() === 14);
  await gw.forwarder.idle();
  assert.ok(a.messages.length > before.a && b.messages.length > before.b, `both targets used after the swap (${a.messages.length - before.a}/${b.messages.length - before.b})`);

  for (const s of [a, b]) {
    // Every connection verified this server's certificate (its CA file, its name) and authenticated
    // with this server's own credentials; none was refused or left unauthenticated.
    assert.deepEqual(s.auths.filter((x) => !x.accepted), [], `${s.name}: no refused AUTH`);
    assert.deepEqual(new Set(s.auths.map((x) => `${x.user}:${x.password}`)), new Set([`${s.credentials.user}:${s.credentials.password}`]), `${s.name}: only its own credentials`);
    assert.deepEqual(new Set(s.serverNames), new Set([s.name]), `${s.name}: only its own TLS server name`);
    assert.equal(s.auths.length, s.connections.length, `${s.name}: every connection authenticated`);
    assert.equal(s.serverNames.length, s.connections.length, `${s.name}: every connection used TLS`);
    assert.equal(s.messages.length, s.connections.length, `${s.name}: MaxMsgSent 1, one message per connection`);
    for (const m of s.messages) assert.ok(s.auths.some((x) => x.session === m.session && x.accepted), `${s.name}: ${m.subject} went over an authenticated session`);
  }
  assertEachOnce([a, b], [['BEFORE', 6], ['AFTER', 8]]);
  assert.deepEqual(new Set(g.outcomes), new Set(['delivered']));
  assert.equal(gw.forwarder.counters.undeliverable, 0);

  // The passwords were never written to the log (at LogLevel 255, with the SMTP dialog traced) nor
  // shown by the operator's displays.
  const secrets = ['alice-pw-A', 'bob-pw-B'];
  assertNoSecretShown('the log', JSON.stringify(g.logs), secrets);
  for (const cmd of ['D,TARGETS', 'D,CONFIG']) {
    const r = await spoolgateCli('modify', '--config', g.path, cmd);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertNoSecretShown(cmd, r.stdout + r.stderr, secrets);
  }
  assertNoSecretShown('the target list', JSON.stringify(gw.forwarder.listTargets().map((x) => x.addr)), secrets);
});

test('REFRESH that changes only B\'s password restarts B\'s connections; A\'s busy connection stays and carries the next mail', async (t) => {
  const events = new Events();
  const a = new AuthServer('a.test', { user: 'alice', password: 'alice-pw-A' }, events);
  const b = new AuthServer('b.test', { user: 'bob', password: 'bob-pw-1' }, events);
  await a.start(t);
  await b.start(t);
  const dir = tempDir(t);
  // One connection per target, kept for any number of messages.
  const blockA = block(a, { limit: 1, maxMsgSent: 0 });
  const g = await gateway(t, dir, [blockA, block(b, { limit: 1, maxMsgSent: 0 })], events);
  const gw = g.services.gateway;

  // Both connections busy: each server holds one message at the final dot.
  a.hold = true;
  b.hold = true;
  await submitText(g.config, batchFile('FIRST', 2).text, 'FIRST');
  await events.wait('one message held at each server', () => a.held.length === 1 && b.held.length === 1);
  const [sessionA] = a.connections;
  const [oldSessionB] = b.connections;
  assert.equal(a.connections.length, 1);
  assert.equal(b.connections.length, 1);

  // B's password changes on the server and in the configuration; nothing else changes.
  b.credentials = { user: 'bob', password: 'bob-pw-2' };
  await refresh(dir, [blockA, block(b, { limit: 1, maxMsgSent: 0 })]);
  assert.equal(gw.config().targetServers[1]?.authPassword, 'bob-pw-2');

  // New mail: B's new target opens a new connection with the new password (B's old one is still
  // busy, and retired); A is still busy, so its share waits for A's one connection.
  await submitText(g.config, batchFile('SECOND', 4).text, 'SECOND');
  await events.wait('a new connection to B (new password) holds a message', () => b.held.length === 2);
  assert.equal(b.connections.length, 2, 'B: a second connection after the REFRESH');
  a.release();
  b.release();
  await events.wait('the old B connection closes once its message is done', () => b.closed.includes(oldSessionB!));
  await events.wait('all 6 messages delivered', () => g.finished() === 6);
  await gw.forwarder.idle();

  // A: one connection through all of it, authenticated once, never closed by the REFRESH; the
  // mail after the REFRESH used it.
  assert.deepEqual(a.connections, [sessionA]);
  assert.deepEqual(a.auths, [{ session: sessionA, user: 'alice', password: 'alice-pw-A', accepted: true }]);
  assert.ok(a.messages.every((m) => m.session === sessionA));
  assert.ok(a.subjects().some((s) => s.startsWith('SECOND')), `A carried mail after the REFRESH on its kept connection (${a.subjects().join(', ')})`);

  // B: the old connection (old password) carried only its message from before the REFRESH and
  // closed; the new one authenticated with the new password and carried the rest.
  const newSessionB = b.connections[1]!;
  assert.deepEqual(b.auths, [
    { session: oldSessionB, user: 'bob', password: 'bob-pw-1', accepted: true },
    { session: newSessionB, user: 'bob', password: 'bob-pw-2', accepted: true },
  ]);
  assert.deepEqual(b.messages.filter((m) => m.session === oldSessionB).map((m) => m.subject.split(' ')[0]), ['FIRST']);
  assert.ok(b.messages.filter((m) => m.session === newSessionB).every((m) => m.subject.startsWith('SECOND')));
  assert.ok(b.closed.includes(oldSessionB!));
  assertEachOnce([a, b], [['FIRST', 2], ['SECOND', 4]]);
  assert.deepEqual(new Set(g.outcomes), new Set(['delivered']));

  const changed = g.logs.filter((r) => r.event === 'target.settings-changed');
  assert.equal(changed.length, 1, 'one target changed');
  assert.match(JSON.stringify(changed[0]), new RegExp(`127\\.0\\.0\\.1\\|${b.port}`));
  assert.match(JSON.stringify(changed[0]), /"changed":"auth"/);
  assertNoSecretShown('the log', JSON.stringify(g.logs), ['alice-pw-A', 'bob-pw-1', 'bob-pw-2']);
});
