// Deadlines, not idle timers (issue 15 item 3), and what happens to a client that never reads
// its replies (item 2). The session runs on a FakeClock over a real socket; the test listens to
// the server side of the socket after the session does, so it knows when a byte has been taken
// in, and moves time only then: it waits on events, never on the wall clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FakeClock } from '../../testing/clock.js';
import { RecordingSink, serverOptions } from '../../testing/dialog.js';
import { Session } from './session.js';
import type { ResolvedOptions } from './state.js';
import { DEFAULT_LIMITS, type ServerEvent } from './types.js';

/** Waits for a condition re-checked on every wake() (socket data, events). */
class Waiter {
  private wakers: (() => void)[] = [];
  wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.wakers.push(r));
  }
}

interface Harness {
  clock: FakeClock;
  events: ServerEvent[];
  /** Octets the session has taken in (counted after its own 'data' listener ran). */
  taken: () => number;
  client: Socket;
  /** Everything the client read so far. */
  read: () => string;
  closed: () => boolean;
  w: Waiter;
  server: Server;
}

async function harness(config: Record<string, string>): Promise<Harness> {
  const clock = new FakeClock();
  const events: ServerEvent[] = [];
  const w = new Waiter();
  const base = serverOptions(config, new RecordingSink(), { clock, onEvent: (e) => { events.push(e); w.wake(); } });
  const opts: ResolvedOptions = { ...base, limits: { ...DEFAULT_LIMITS, ...base.limits }, newSessionId: () => 'S1' };
  let taken = 0;
  const server = createServer((sock) => {
    const session = new Session(sock, opts, undefined);
    sock.on('data', (d: Buffer) => { taken += d.length; w.wake(); });
    void session.start();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port });
  let text = '';
  let closed = false;
  client.on('data', (d: Buffer) => { text += d.toString('latin1'); w.wake(); });
  client.on('close', () => { closed = true; w.wake(); });
  client.on('error', () => undefined);
  await w.until(() => text.includes('\r\n'));
  assert.match(text, /^220 /);
  return { clock, events, taken: () => taken, client, read: () => text, closed: () => closed, w, server };
}

/** Sends bytes and waits until the session has taken them in. */
async function send(h: Harness, s: string | Buffer): Promise<void> {
  const want = h.taken() + Buffer.byteLength(s);
  h.client.write(s);
  await h.w.until(() => h.taken() >= want);
}

function timeouts(h: Harness): ServerEvent[] {
  return h.events.filter((e) => e.kind === 'timeout');
}

async function done(h: Harness): Promise<void> {
  h.client.destroy();
  await new Promise<void>((r) => h.server.close(() => r()));
}

test('command deadline: one byte every timeout/4 does not keep a command open; 421 4.4.2 when the deadline passes', async () => {
  const h = await harness({ commandTimeoutMs: '1000' });
  try {
    const line = 'HELO dripping.test';
    for (let i = 0; i < 3; i++) {
      await send(h, line[i]!);
      h.clock.advance(250);
      assert.equal(timeouts(h).length, 0, `closed early, after ${(i + 1) * 250} ms`);
    }
    await send(h, line[3]!);
    h.clock.advance(250); // 1000 ms since we started waiting for this command
    assert.deepEqual(timeouts(h).map((e) => e.kind === 'timeout' && e.step), ['command']);
    await h.w.until(() => h.read().includes('421 4.4.2'));
    assert.match(h.read(), /\r\n421 4\.4\.2 mx\.test timeout, closing connection\r\n$/);
    h.clock.advance(5_000); // the linger after our end
    await h.w.until(() => h.closed());
  } finally {
    await done(h);
  }
});

test('command deadline: a complete command starts a new one (an interactive client is not cut)', async () => {
  const h = await harness({ commandTimeoutMs: '1000' });
  try {
    for (let i = 0; i < 5; i++) {
      h.clock.advance(900);
      const before = h.read().length;
      h.client.write('NOOP\r\n');
      await h.w.until(() => h.read().length > before && h.read().endsWith('\r\n'));
    }
    assert.equal(timeouts(h).length, 0);
    assert.equal(h.read().match(/^250 /gm)?.length, 5);
  } finally {
    await done(h);
  }
});

test('DATA minimum rate: a block of dataBlockOctets per dataTimeoutMs keeps DATA open; a drip is closed with 421 4.4.2', async () => {
  const h = await harness({ dataTimeoutMs: '1000', dataBlockOctets: '1024' });
  try {
    const before = h.read().length;
    h.client.write('EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n');
    await h.w.until(() => /^354 /m.test(h.read().slice(before)));
    // 1 KiB every 750 ms: over the rate, for three times the DATA timeout.
    const block = 'x'.repeat(1022) + '\r\n';
    for (let i = 0; i < 4; i++) {
      await send(h, block);
      h.clock.advance(750);
    }
    assert.equal(timeouts(h).length, 0, 'a client over the minimum rate was cut');
    // Then one byte every 250 ms: under the rate; the deadline of the block runs out.
    await send(h, block);
    for (let i = 0; i < 3; i++) {
      await send(h, 'y');
      h.clock.advance(250);
      assert.equal(timeouts(h).length, 0, `closed early, after ${(i + 1) * 250} ms`);
    }
    await send(h, 'y');
    h.clock.advance(250);
    assert.deepEqual(timeouts(h).map((e) => e.kind === 'timeout' && e.step), ['data']);
    await h.w.until(() => h.read().includes('421 4.4.2'));
  } finally {
    await done(h);
  }
});

// Before the fix the session kept reading and queued the replies (3.5 MB of them for 190 KB of
// HELP, when the loopback stalled); the test then never saw the session stop: hence the timeout.
test('a client that pipelines and never reads: reading stops, and the deadline closes the session', { timeout: 60_000 }, async () => {
  const h = await harness({ commandTimeoutMs: '1000' });
  try {
    h.client.pause();
    // Scans only the events that arrived since the last look (one per reply: a full scan each
    // time would be quadratic in the 100,000s of trace events).
    let seen = 0;
    let found = false;
    const blocked = (): boolean => {
      for (; !found && seen < h.events.length; seen++) {
        const e = h.events[seen]!;
        found = e.kind === 'trace' && e.line.startsWith('(client not reading replies');
      }
      return found;
    };
    // Far more replies than the output bound, in commands the session can take at once.
    h.client.write('HELP\r\n'.repeat(200_000));
    await h.w.until(() => blocked() || h.taken() === 200_000 * 6);
    assert.ok(blocked(), 'the session read every command although its replies were not read');
    // Blocked: no more input is taken while time passes, and then the deadline ends it.
    const taken = h.taken();
    assert.ok(taken < 200_000 * 6, `took ${taken} octets of ${200_000 * 6}`);
    h.clock.advance(1000);
    assert.deepEqual(timeouts(h).map((e) => e.kind === 'timeout' && e.step), ['command']);
    h.clock.advance(5_000);
    await h.w.until(() => h.events.some((e) => e.kind === 'disconnect'));
  } finally {
    await done(h);
  }
});
