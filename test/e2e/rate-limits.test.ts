// Issue 21 item 3 acceptance: smart-host rate limits against a real, independent sink
// (nodemailer's smtp-server on 127.0.0.1 port 0) that counts MAIL transactions by the second
// they arrive in, on the real clock — the way a cloud relay counts:
//   - MaxMsgPerSecond 20: 60 messages spread over at least 3 second-buckets, none above 20;
//   - MaxRcptPerMsg 10: a 25-recipient message arrives as 3 transactions, every recipient once;
//   - a sink that answers "451 4.7.0 rate limited" when MAIL comes too soon after the last one:
//     the gateway backs off (D,TARGETS shows it), and after one FLUSHRETRY all mail is there once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { Logger } from '../../src/log/index.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { tempDir } from '../../src/testing/peers.js';
import { batchFile, submitText, until, writeConfig } from '../../src/testing/gateway.js';
import { parseCommand } from '../../src/control/parse.js';
import { render, type DisplayCommand } from '../../src/control/render.js';
import { targetSnapshot, type Snapshot } from '../../src/control/snapshot.js';

interface Transaction { readonly second: number; readonly to: string[]; readonly messageId: string }

interface Sink {
  readonly port: number;
  /** MAIL commands accepted, by arrival second (epoch seconds). */
  readonly mailsBySecond: Map<number, number>;
  readonly delivered: Transaction[];
  rejected: number;
}

/**
 * A counting sink. `minGapMs` > 0 makes it a rate-limiting relay: a MAIL that comes less than
 * that long after the last accepted one is answered 451 4.7.0 rate limited.
 */
async function startSink(t: import('node:test').TestContext, minGapMs = 0): Promise<Sink> {
  const sink: { mailsBySecond: Map<number, number>; delivered: Transaction[]; rejected: number; port: number } = { mailsBySecond: new Map(), delivered: [], rejected: 0, port: 0 };
  let lastAccepted = -Infinity;
  const srv = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, logger: false,
    onMailFrom(_address, _session, cb) {
      const now = Date.now();
      if (minGapMs > 0 && now - lastAccepted < minGapMs) {
        sink.rejected++;
        const e = Object.assign(new Error('4.7.0 rate limited'), { responseCode: 451 });
        cb(e);
        return;
      }
      lastAccepted = now;
      const second = Math.floor(now / 1000);
      sink.mailsBySecond.set(second, (sink.mailsBySecond.get(second) ?? 0) + 1);
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const text = Buffer.concat(parts).toString('latin1');
        sink.delivered.push({ second: Math.floor(Date.now() / 1000), to: session.envelope.rcptTo.map((r) => r.address), messageId: /^Message-ID: (.*)$/im.exec(text)?.[1] ?? '' });
        cb(null);
      });
    },
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  const a = srv.server.address();
  sink.port = typeof a === 'object' && a !== null ? a.port : 0;
  return sink;
}

async function gateway(t: import('node:test').TestContext, sink: Sink, targetExtra: string, extra = '') {
  const dir = tempDir(t);
  const { config } = writeConfig(dir, `TargetServer {\n  TargetIP 127.0.0.1\n  ConnectPort ${sink.port}\n  ConnectLimit 5\n${targetExtra}\n}\n${extra}\nUndeliverable { DeadLetterDirectory ${join(dir, 'dead')} }`);
  const gw: Gateway = await startGateway(config, { log: Logger.silent() });
  await gw.forwarder.start();
  t.after(() => gw.stop());
  return { gw, config };
}

function displayTargets(gw: Gateway): string[] {
  const cmd = parseCommand('D,TARGETS');
  assert.ok(cmd.ok);
  const snap: Snapshot = {
    instance: 'TEST', logLevel: 7, userExit: null, suspendMode: 'none', tasks: [],
    counters: { mailSent: 0, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 },
    targets: gw.forwarder.listTargets().map(targetSnapshot),
  };
  return render(cmd.value as DisplayCommand, snap);
}

test('MaxMsgPerSecond 20: 60 messages arrive over at least 3 seconds, never more than 20 MAIL in one second', async (t) => {
  const sink = await startSink(t);
  const { gw, config } = await gateway(t, sink, '  MaxMsgPerSecond 20');
  await submitText(config, batchFile('RATE20', 60).text);
  await until('60 messages at the sink', () => sink.delivered.length >= 60, 60_000);
  const counts = [...sink.mailsBySecond.entries()].sort((a, b) => a[0] - b[0]);
  const shape = counts.map(([s, n]) => `${s}:${n}`).join(' ');
  assert.ok(counts.every(([, n]) => n <= 20), `at most 20 per second: ${shape}`);
  assert.ok(counts.length >= 3, `spread over at least 3 second-buckets: ${shape}`);
  assert.equal([...sink.mailsBySecond.values()].reduce((a, b) => a + b, 0), 60);
  assert.deepEqual(sink.delivered.map((d) => d.messageId).sort(), Array.from({ length: 60 }, (_, i) => `<RATE20.${i + 1}@corp.test>`).sort(), 'each message once');
  const lines = displayTargets(gw);
  assert.ok(lines.includes('RATE LIMIT   : 20/SEC'), lines.join('\n'));
  assert.ok(lines.some((l) => /^RATE NOW {5}: \d+\/SEC$/.test(l)), lines.join('\n'));
});

test('MaxRcptPerMsg 10: a 25-recipient message arrives as 3 transactions (10, 10, 5), every recipient exactly once', async (t) => {
  const sink = await startSink(t);
  const { gw, config } = await gateway(t, sink, '  MaxRcptPerMsg 10');
  const recipients = Array.from({ length: 25 }, (_, i) => `user${String(i + 1).padStart(2, '0')}@remote.test`);
  await submitText(config, batchFile('SPLIT', 1, recipients).text);
  await until('the message delivered', () => gw.forwarder.counters.delivered === 1, 30_000);
  assert.deepEqual(sink.delivered.map((d) => d.to.length), [10, 10, 5]);
  assert.deepEqual(sink.delivered.flatMap((d) => d.to).sort(), [...recipients].sort(), 'every recipient exactly once');
  assert.ok(sink.delivered.every((d) => d.messageId === '<SPLIT.1@corp.test>'), 'the same message each time');
  assert.equal(gw.forwarder.counters.mailSent, 1, 'one message sent, not three');
  assert.equal(gw.forwarder.counters.undeliver, 0);
  assert.ok(displayTargets(gw).includes('RATE LIMIT   : 10 RCPT/MSG'));
});

test('a relay answering "451 4.7.0 rate limited" is backed off: D,TARGETS shows it, and after one FLUSHRETRY all mail arrives once', async (t) => {
  // The sink takes one MAIL per 150 ms. The gateway has no limit configured (RateBackoff is on by
  // default) and 5 connections: its first burst is refused, then it spaces its transactions.
  const sink = await startSink(t, 150);
  const { gw, config } = await gateway(t, sink, '', 'RetryLimit { Count 3 Interval 1 }');
  const n = 20;
  await submitText(config, batchFile('BACKOFF', n).text);
  // Every message is delivered or in long retry (Interval 1 minute): in memory, or on PostgreSQL
  // released to the shared queue (CURRENT RETRY counts both).
  await until('every message delivered or in long retry', () => gw.forwarder.counters.delivered + gw.forwarder.counters.currentRetry === n, 60_000);
  assert.ok(sink.rejected > 0, 'the relay did refuse some');
  // Backed off: only the transactions already under way when the first refusal came are refused
  // (at most the 5 connections' worth); without the back-off nearly every one would be.
  assert.ok(sink.rejected <= 5 + 2, `refusals after the back-off began: ${sink.rejected}`);
  const lines = displayTargets(gw);
  const backoff = lines.find((l) => l.startsWith('BACKOFF'));
  assert.match(backoff ?? '', /^BACKOFF {6}: LEVEL [1-9]\d*, \d+ MS APART \(\d+ RATE REPLIES\)$/, lines.join('\n'));
  assert.ok(lines.includes('RATE REPLY   : 451 4.7.0 rate limited'), lines.join('\n'));
  // FLUSHRETRY: the refused ones go again, spaced, and are taken.
  await gw.forwarder.flushLongRetry(0);
  await until('all delivered', () => gw.forwarder.counters.delivered === n, 60_000);
  assert.deepEqual(sink.delivered.map((d) => d.messageId).sort(), Array.from({ length: n }, (_, i) => `<BACKOFF.${i + 1}@corp.test>`).sort(), 'each message exactly once');
});
