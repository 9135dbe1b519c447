import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RecordingSink, serverOptions, stripReceived } from '../../testing/dialog.js';
import { testCerts } from '../../testing/certs.js';
import { SmtpServer } from './listener.js';
import { Codes } from '../protocol/codes.js';
import type { ServerEvent } from './types.js';
import { prng } from '../../testing/prng.js';

/** Minimal line client for tests. */
class Client {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(public sock: Socket) {
    this.attach(sock);
  }
  attach(sock: Socket): void {
    this.sock = sock;
    sock.on('data', (d: Buffer) => { this.buf += d.toString('utf8'); this.wake(); });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', () => { this.closed = true; this.wake(); });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Reads one complete (possibly multi-line) reply. */
  async reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return m[0];
      }
      if (this.closed) return '(closed)';
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  send(s: string): void {
    this.sock.write(s);
  }
  async cmd(s: string): Promise<string> {
    this.send(s + '\r\n');
    return this.reply();
  }
}

/** The server's events; seen() waits for them instead of a sleep. */
class EventLog {
  readonly all: ServerEvent[] = [];
  private wake: (() => void)[] = [];
  push(e: ServerEvent): void {
    this.all.push(e);
    for (const w of this.wake.splice(0)) w();
  }
  /** Resolves once `n` events match, counting those already seen. */
  async seen(match: (e: ServerEvent) => boolean, n = 1): Promise<void> {
    while (this.all.filter(match).length < n) await new Promise<void>((r) => this.wake.push(r));
  }
}

async function start(config: Record<string, string>, events: ServerEvent[] = []) {
  const sink = new RecordingSink();
  const log = new EventLog();
  const server = new SmtpServer(serverOptions(config, sink, { onEvent: (e) => { events.push(e); log.push(e); } }));
  const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  return { server, sink, port: addr!.port, events, log };
}

async function open(port: number, host = '127.0.0.1'): Promise<Client> {
  const sock = connect({ host, port });
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  return new Client(sock);
}

test('STARTTLS: plaintext pipelined after STARTTLS is discarded (RFC 3207 §4.2)', async () => {
  const { server, sink, port, events } = await start({ tls: 'on', auth: 'on' });
  try {
    const c = await open(port);
    assert.match(await c.reply(), /^220 /);
    assert.match(await c.cmd('EHLO c'), /250-STARTTLS/);
    // One packet: STARTTLS plus an injected MAIL.
    c.send('STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n');
    assert.match(await c.reply(), /^220 /);
    const secure = tlsConnect({ socket: c.sock, ca: testCerts().ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    const t = new Client(secure);
    // Nothing pipelined in plaintext may have been answered or kept.
    const ehlo = await t.cmd('EHLO c');
    assert.match(ehlo, /250-AUTH PLAIN LOGIN/);
    assert.doesNotMatch(ehlo, /STARTTLS/);
    assert.match(await t.cmd('RCPT TO:<b@y.test>'), /^503 5\.5\.1 need MAIL/);
    assert.match(await t.cmd('STARTTLS'), /^503 5\.5\.1 TLS already active/);
    assert.ok(events.some((e) => e.kind === 'violation' && e.violation === 'pipelined-after-starttls'));
    // AUTH over TLS: bad password, then LOGIN, then a message.
    assert.match(await t.cmd(`AUTH PLAIN ${Buffer.from('\0u\0wrong').toString('base64')}`), /^535 5\.7\.8/);
    assert.match(await t.cmd('AUTH LOGIN'), /^334 VXNlcm5hbWU6/);
    assert.match(await t.cmd(Buffer.from('u').toString('base64')), /^334 UGFzc3dvcmQ6/);
    assert.match(await t.cmd(Buffer.from('p').toString('base64')), /^235 2\.7\.0/);
    assert.match(await t.cmd('AUTH PLAIN'), /^503/);
    assert.match(await t.cmd('MAIL FROM:<a@x.test>'), /^250/);
    assert.match(await t.cmd('RCPT TO:<b@y.test>'), /^250/);
    assert.match(await t.cmd('DATA'), /^354/);
    assert.match(await t.cmd('Subject: t\r\n\r\nhello\r\n.'), /^250 2\.0\.0/);
    assert.equal(sink.messages.length, 1);
    const m = sink.messages[0]!;
    assert.equal(m.tls, true);
    assert.equal(m.authUser, 'u');
    assert.match(m.data.toString(), /^Received: from c \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(spoolgate\) with ESMTPSA id /);
    assert.equal(stripReceived(m.data).toString(), 'Subject: t\r\n\r\nhello\r\n');
    assert.match(await t.cmd('QUIT'), /^221/);
  } finally {
    await server.close();
  }
  assert.equal(server.connectionCount, 0);
});

test('AUTH PLAIN with a 334 challenge, cancel, and the failure limit', async () => {
  const { server, port } = await start({ tls: 'on', auth: 'on', maxAuthFailures: '2' });
  try {
    const c = await open(port);
    await c.reply();
    await c.cmd('EHLO c');
    c.send('STARTTLS\r\n');
    await c.reply();
    const secure = tlsConnect({ socket: c.sock, ca: testCerts().ca, servername: 'localhost' });
    await new Promise<void>((resolve) => secure.once('secureConnect', resolve));
    const t = new Client(secure);
    await t.cmd('EHLO c');
    assert.match(await t.cmd('AUTH PLAIN'), /^334 \r\n$/);
    assert.match(await t.cmd('*'), /^501 5\.5\.4 authentication cancelled/);
    assert.match(await t.cmd('AUTH CRAM-MD5'), /^504/);
    assert.match(await t.cmd('AUTH PLAIN'), /^334/);
    assert.match(await t.cmd(Buffer.from('\0u\0x').toString('base64')), /^535/);
    assert.match(await t.cmd(`AUTH PLAIN ${Buffer.from('\0u\0y').toString('base64')}`), /^421 4\.7\.0/);
  } finally {
    await server.close();
  }
});

test('apply (REFRESH): new limits and host name from the next connection; open sessions keep theirs', async () => {
  const { server, port } = await start({ maxConnectionsPerIp: '3' });
  try {
    const a = await open(port);
    const b = await open(port);
    assert.match(await a.reply(), /^220 /);
    assert.match(await b.reply(), /^220 /);
    server.apply({ hostName: 'new.test', limits: { maxConnectionsPerIp: 2, maxRecipients: 1 } });
    const c = await open(port);
    assert.match(await c.reply(), /^421 4\.7\.0 too many connections/, 'the lower per-IP limit refuses the third connection');
    // The open session keeps the options it started with (greeting name, MaxRecipients 100).
    assert.match(await a.cmd('EHLO client.test'), /^250-/);
    assert.match(await a.cmd('MAIL FROM:<s@client.test>'), /^250 /);
    assert.match(await a.cmd('RCPT TO:<x1@local.test>'), /^250 /);
    assert.match(await a.cmd('RCPT TO:<x2@local.test>'), /^250 /);
    // A later REFRESH raises the per-IP limit again: the next connection is let in.
    server.apply({ hostName: 'new.test', limits: { maxConnectionsPerIp: 3, maxRecipients: 1 } });
    const d = await open(port);
    assert.match(await d.reply(), /^220 new\.test /, 'the next connection greets with the new name');
    assert.match(await d.cmd('EHLO client.test'), /^250-/);
    assert.match(await d.cmd('MAIL FROM:<s@client.test>'), /^250 /);
    assert.match(await d.cmd('RCPT TO:<x1@local.test>'), /^250 /);
    assert.match(await d.cmd('RCPT TO:<x2@local.test>'), /^452 /, 'and the new MaxRecipients');
    a.sock.destroy();
    b.sock.destroy();
    d.sock.destroy();
  } finally {
    await server.close();
  }
});

// The timeout only turns a hang into a failure: close() waited for a refused socket whose client
// had sent a command and half-closed (the refusal never read it, so never saw the end), and the
// socket's own timeout does not keep the process alive.
test('close() ends while a refused client that sent a command and half-closed is still there', { timeout: 30_000 }, async () => {
  const { server, port } = await start({ maxConnectionsPerIp: '1' });
  const a = await open(port);
  assert.match(await a.reply(), /^220/);
  const over = connect({ host: '127.0.0.1', port });
  over.on('error', () => undefined);
  const refusal = await new Promise<string>((resolve) => over.once('data', (d) => resolve(d.toString('latin1'))));
  assert.match(refusal, /^421 4\.7\.0/);
  over.end('EHLO c\r\n');
  await new Promise((resolve) => over.once('close', resolve));
  a.sock.destroy();
  await server.close();
  assert.equal(server.connectionCount, 0);
});

test('connection limits: total and per IP answer 421 4.7.0 at connect', async () => {
  const events: ServerEvent[] = [];
  const { server, port, log } = await start({ maxConnectionsPerIp: '2' }, events);
  try {
    const a = await open(port);
    const b = await open(port);
    assert.match(await a.reply(), /^220/);
    assert.match(await b.reply(), /^220/);
    const c = await open(port);
    assert.match(await c.reply(), /^421 4\.7\.0 too many connections/);
    assert.equal(await c.reply(), '(closed)');
    await a.cmd('QUIT');
    // The server has closed a's session (and released its slot, in the same 'close' event).
    await log.seen((e) => e.kind === 'disconnect');
    const d = await open(port);
    assert.match(await d.reply(), /^220/);
    assert.ok(events.some((e) => e.kind === 'connection-refused'));
    b.sock.destroy();
    d.sock.destroy();
  } finally {
    await server.close();
  }
  assert.equal(server.connectionCount, 0);
});

test('IPv6 and IPv4 listeners side by side', async (t) => {
  const sink = new RecordingSink();
  const server = new SmtpServer(serverOptions({}, sink));
  let bound;
  try {
    bound = await server.listen([{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }]);
  } catch (e) {
    await server.close();
    t.skip(`no IPv6 loopback: ${String(e)}`);
    return;
  }
  try {
    for (const b of bound) {
      const c = await open(b.port, b.host);
      assert.match(await c.reply(), /^220 mx\.test/);
      await c.cmd('HELO v');
      await c.cmd('MAIL FROM:<a@x.test>');
      await c.cmd('RCPT TO:<b@y.test>');
      await c.cmd('DATA');
      assert.match(await c.cmd('x\r\n.'), /^250/);
      await c.cmd('QUIT');
    }
    assert.match(sink.messages[1]!.data.toString(), /\(\[IPv6:::1\]\)/);
  } finally {
    await server.close();
  }
});

test('shutdown: idle clients get 421 and every connection closes', async () => {
  const { server, port } = await start({});
  const c = await open(port);
  await c.reply();
  await server.close();
  assert.match(await c.reply(), /^421 4\.4\.2 mx\.test shutting down/);
  assert.equal(server.connectionCount, 0);
});


const FRAGMENTS = [
  'EHLO c\r\n', 'HELO c\r\n', 'MAIL FROM:<a@x.test>\r\n', 'MAIL FROM:<a@x.test> SIZE=99999999999\r\n', 'RCPT TO:<b@y.test>\r\n',
  'RCPT TO:<b@y.test> NOTIFY=NEVER ORCPT=rfc822;x+41\r\n', 'DATA\r\n', 'body\r\n', '.\r\n', '\r\n.\r\n', '..x\r\n', '\n.\n', '\r.\r',
  'RSET\r\n', 'NOOP\r\n', 'VRFY x\r\n', 'HELP\r\n', 'STARTTLS\r\n', 'AUTH PLAIN\r\n', 'AUTH LOGIN\r\n', '*\r\n', 'QUIT\r\n',
  'GET / HTTP/1.1\r\n', 'MAIL FROM:<\r\n', 'RCPT TO:<"a\\"@b>\r\n', '\x00\xff\xfe', 'x'.repeat(700), '\r', '\n', 'XYZ\r\n',
];

test('fuzz: random and state-aware input never crashes the server or leaks a connection', { timeout: 120_000 }, async () => {
  const { server, port, log } = await start({ tls: 'on', auth: 'on', maxBadCommands: '1000', maxMessageSize: '200', commandTimeoutMs: '2000' });
  const rnd = prng(20261122);
  try {
    for (let round = 0; round < 60; round++) {
      const c = await open(port);
      await c.reply();
      const parts: Buffer[] = [];
      const n = 1 + Math.floor(rnd() * 25);
      for (let i = 0; i < n; i++) {
        if (rnd() < 0.15) {
          const len = Math.floor(rnd() * 80);
          parts.push(Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256))));
        } else {
          parts.push(Buffer.from(FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)]!, 'latin1'));
        }
      }
      const all = Buffer.concat(parts);
      // Split at random boundaries to exercise framing.
      let pos = 0;
      while (pos < all.length && !c.closed) {
        const len = 1 + Math.floor(rnd() * 64);
        c.sock.write(all.subarray(pos, pos + len));
        pos += len;
      }
      if (rnd() < 0.5) c.sock.end();
      else c.sock.destroy();
    }
    // Every connection must go away once clients are gone: one disconnect per round (some only
    // at the 2 s command timeout, after a half-close in the middle of a TLS handshake).
    await log.seen((e) => e.kind === 'disconnect', 60);
    assert.equal(server.connectionCount, 0);
    // And the server still works.
    const c = await open(port);
    assert.match(await c.reply(), /^220/);
    assert.match(await c.cmd('HELO ok'), /^250/);
    await c.cmd('QUIT');
  } finally {
    await server.close();
  }
});

test('SenderPolicy at MAIL: a refusal is answered with its reply and leaves no transaction (a pipelined RCPT gets 503); a throwing policy gives 451', async () => {
  const events: ServerEvent[] = [];
  const sink = new RecordingSink();
  const server = new SmtpServer(serverOptions({}, sink, {
    onEvent: (e) => events.push(e),
    senderPolicy: {
      checkSender: async (_s, from) => {
        if (from.kind === 'mailbox' && from.mailbox.local === 'boom') throw new Error('directory down');
        return from.kind === 'mailbox' && from.mailbox.local === 'forged'
          ? { kind: 'reject', reply: { code: Codes.C553SenderNotOwned, text: 'sender address not owned by the authenticated user' }, logReason: 'test' }
          : { kind: 'accept' };
      },
    },
  }));
  const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  try {
    const c = await open(addr!.port);
    assert.match(await c.reply(), /^220 /);
    await c.cmd('EHLO c');
    c.send('MAIL FROM:<forged@x.test>\r\nRCPT TO:<b@y.test>\r\n');
    assert.equal(await c.reply(), '553 5.7.1 sender address not owned by the authenticated user\r\n');
    assert.match(await c.reply(), /^503 5\.5\.1 need MAIL before RCPT/);
    assert.match(await c.cmd('MAIL FROM:<boom@x.test>'), /^451 4\.3\.0/);
    assert.match(await c.cmd('MAIL FROM:<a@x.test>'), /^250 /);
    assert.match(await c.cmd('QUIT'), /^221/);
    assert.ok(events.some((e) => e.kind === 'sender-rejected' && e.from === '<forged@x.test>' && e.code === 553));
    assert.ok(events.some((e) => e.kind === 'policy-error' && e.what === 'sender'));
  } finally {
    await server.close();
  }
});

test('shutdown mid-DATA: the client gets 421 (not a silent close), nothing is stored', async () => {
  const { server, sink, port } = await start({});
  const c = await open(port);
  await c.reply();
  await c.cmd('HELO v');
  await c.cmd('MAIL FROM:<a@x.test>');
  await c.cmd('RCPT TO:<b@y.test>');
  assert.match(await c.cmd('DATA'), /^354/);
  c.send('Subject: half\r\n\r\nthe first half of the body\r\n');
  await server.close();
  assert.match(await c.reply(), /^421 4\.4\.2 mx\.test shutting down/);
  assert.equal(sink.messages.length, 0);
});

test('shutdown while a message is being stored: the client gets the 250 for it, then 421', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let storing!: () => void;
  const started = new Promise<void>((r) => { storing = r; });
  class SlowSink extends RecordingSink {
    override async accept(m: Parameters<RecordingSink['accept']>[0]): ReturnType<RecordingSink['accept']> {
      storing();
      await gate;
      return super.accept(m);
    }
  }
  const sink = new SlowSink();
  const server = new SmtpServer(serverOptions({}, sink));
  const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  const c = await open(addr!.port);
  await c.reply();
  await c.cmd('HELO v');
  await c.cmd('MAIL FROM:<a@x.test>');
  await c.cmd('RCPT TO:<b@y.test>');
  await c.cmd('DATA');
  c.send('Subject: stored\r\n\r\nbody\r\n.\r\n');
  await started;
  const closed = server.close();
  release();
  assert.match(await c.reply(), /^250 /, 'the stored message is confirmed');
  assert.match(await c.reply(), /^421 4\.4\.2 mx\.test shutting down/);
  await closed;
  assert.equal(sink.messages.length, 1);
});
