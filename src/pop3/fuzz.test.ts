// Fuzz of the POP3 command parser and session (STYLE.md §6): random bytes and state-aware
// command sequences, seeded and bounded, split at random byte boundaries. Nothing may throw, and
// once every connection is gone no mailbox lock may remain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { openSqliteStore } from '../store/sqlite/index.js';
import { LineReader } from './protocol/line-reader.js';
import { Pop3Session, type Maildrop, type Pop3Backend } from './protocol/session.js';
import { Pop3Server } from './server.js';
import { prng } from '../testing/prng.js';
import { Logger } from '../log/index.js';


const WORDS = ['USER', 'PASS', 'STAT', 'LIST', 'RETR', 'DELE', 'RSET', 'TOP', 'UIDL', 'NOOP', 'QUIT', 'CAPA', 'STLS', 'AUTH', 'AUTH PLAIN', 'list', 'XTND'];
const ARGS = ['', '1', '2', '0', '-1', '99999999999', 'alice', 'pw', 'x y', '*', '=', 'AGFsaWNlAHB3', '!!', '1 0', '1 5', '\u00e9', ' '];

function randomLine(r: () => number): Buffer {
  const kind = r();
  if (kind < 0.2) return Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
  const w = WORDS[Math.floor(r() * WORDS.length)]!;
  const a = ARGS[Math.floor(r() * ARGS.length)]!;
  return Buffer.from(a === '' ? w : `${w} ${a}`, 'utf8');
}

function fakeBackend(held: Set<string>): Pop3Backend {
  return {
    async login(user, password) {
      if (password !== 'pw' || user !== 'alice') return { ok: false, code: 'AUTH', text: 'no' };
      if (held.has(user)) return { ok: false, code: 'IN-USE', text: 'busy' };
      held.add(user);
      let released = false;
      const drop: Maildrop = {
        messages: [{ uidl: 'a', size: 12 }, { uidl: 'b', size: 7 }],
        read: async (i) => Buffer.from(i === 0 ? 'H: x\r\n\r\n.b\r\n' : 'H: y\r\n'),
        commit: async () => true,
        release: () => { assert.equal(released, false, 'released twice'); released = true; held.delete(user); },
      };
      return { ok: true, maildrop: drop };
    },
  };
}

test('session fuzz: random and state-aware input never throws; locks are balanced', async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = prng(seed);
    const held = new Set<string>();
    const s = new Pop3Session({ hostName: 'h', implementation: 'x', allowPlaintext: r() < 0.7, tlsAvailable: r() < 0.5, tlsActive: false }, fakeBackend(held));
    const reader = new LineReader();
    // A state-aware prefix logs in most of the time, so TRANSACTION commands get exercised.
    const prefix = r() < 0.7 ? 'USER alice\r\nPASS pw\r\n' : '';
    const stream = Buffer.concat([Buffer.from(prefix), ...Array.from({ length: 40 }, () => Buffer.concat([randomLine(r), Buffer.from(r() < 0.9 ? '\r\n' : '\n')]))]);
    let closed = false;
    for (let i = 0; i < stream.length && !closed;) {
      const n = 1 + Math.floor(r() * 64);
      for (const item of reader.push(stream.subarray(i, i + n))) {
        const out = item.kind === 'line' ? await s.handle(item.line) : s.tooLong();
        assert.match(out.data.toString('latin1'), /^(\+OK|-ERR|\+ )/, `seed ${seed}`);
        if (out.after === 'close') { closed = true; break; }
        if (out.after === 'starttls') s.tlsStarted();
      }
      i += n;
    }
    s.close();
    assert.equal(held.size, 0, `seed ${seed}: lock leaked`);
  }
});

test('server fuzz over sockets: every lock is released when the connections are gone', async (t) => {
  const store = openSqliteStore(':memory:', { scrypt: { N: 1024, r: 8, p: 1 } });
  await store.users.addUser('alice', 'pw');
  for (let i = 0; i < 3; i++) await store.mailboxes.deliver('alice', Buffer.from(`Subject: ${i}\r\n\r\n.dot\r\nbody\r\n`));
  // The server's own events tell when it has let go of each connection: 'pop3.disconnect' for a
  // session, 'pop3.refused' for one over MaxConnectionsPerIP (10 by default; 24 clients connect at
  // once, and on a slow machine more than 10 of them are open together).
  let gone = 0;
  let wake = (): void => {};
  const logger = Logger.create({ instance: 'fuzz', level: 0xff, sink: { write: (l) => { if (l.event === 'pop3.disconnect' || l.event === 'pop3.refused') { gone++; wake(); } } } });
  const server = new Pop3Server({ users: store.users, mailboxes: store.mailboxes, journal: store.journal, allowPlaintext: true, hostName: 'fuzz', throttle: { failDelayMs: 0, maxFailures: 1000 }, logger });
  const { port } = await server.listen();
  t.after(async () => { await server.close(); await store.close(); });
  const sessions = Array.from({ length: 24 }, (_, k) => (async () => {
    const r = prng(1000 + k);
    const sock = net.connect(port, '127.0.0.1');
    sock.on('data', () => undefined);
    await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    const closed = new Promise<void>((res) => sock.once('close', () => res()));
    sock.on('error', () => undefined);
    const lines = Array.from({ length: 30 }, () => Buffer.concat([randomLine(r), Buffer.from('\r\n')]));
    const stream = Buffer.concat([Buffer.from(r() < 0.8 ? 'USER alice\r\nPASS pw\r\n' : ''), ...lines]);
    for (let i = 0; i < stream.length; i += 50) {
      if (sock.destroyed) break;
      sock.write(stream.subarray(i, i + 50));
      await new Promise((res) => setImmediate(res));
    }
    // Half the clients vanish abruptly, the rest half-close and wait.
    if (r() < 0.5) sock.destroy(); else sock.end();
    await closed;
  })());
  await Promise.all(sessions);
  // One disconnect or refusal per connection (logged as the connection is dropped and its locks
  // released); bounded, so a lost event fails here instead of hanging the run.
  await new Promise<void>((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error(`${gone} of ${sessions.length} connections let go after 60 s`)), 60_000);
    wake = () => { if (gone >= sessions.length) { clearTimeout(bound); resolve(); } };
    wake();
  });
  assert.equal(server.connectionCount, 0);
  // A login under way when its client vanished still ends, and its session gives back the lock:
  // close() waits for those logins.
  await server.close();
  assert.deepEqual(server.lockedMailboxes(), []);
  // The mailbox is still usable afterwards.
  const left = await store.mailboxes.list('alice');
  assert.ok(left.length <= 3);
});
