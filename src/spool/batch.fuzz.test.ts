// Fuzz: random and mutated spool files never make the parser throw or hang, and every MAIL is
// accounted for: emitted as a message, rejected with a problem naming its number, or reset by RSET.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../testing/clock.js';
import { BatchParser, type BatchEvent } from './batch.js';
import type { RecordItem, RecordProblem } from './records.js';
import { toItems, baseOptions } from './batch-testutil.js';
import { prng } from '../testing/prng.js';


const VOCAB = [
  'HELO h', 'EHLO h.example', 'HELO', 'HELO a b', 'STARTTLS', 'STARTTLS x', 'MAIL FROM:<a@b.example>', 'MAIL FROM:<>',
  'MAIL FROM:<a@b.example> SIZE=10', 'MAIL FROM:<a@b.example> SIZE=99999999', 'MAIL FROM:<bad', 'MAIL FROM:<a§b.example>', 'MAIL TO:<x@y>',
  'RCPT TO:<c@d.example>', 'RCPT TO:<e@d.example> NOTIFY=NEVER', 'RCPT TO:<bad>', 'RCPT TO:<c@d.example> ORCPT=rfc822;+ZZ', 'RCPT',
  'DATA', 'DATA x', '.', '..', '...x', '', 'Subject: x', ' folded', 'body text', 'RSET', 'NOOP', 'QUIT', 'VRFY x', 'BDAT 1',
  'FOO', 'Date: now', 'Message-ID: <m@x>', 'x'.repeat(999), 'NOOP ' + 'y'.repeat(506), 'MAIL FROM:<' + 'l'.repeat(65) + '@x.example>',
];
const PROBLEMS: RecordProblem[] = ['control-character', 'record-too-long', 'bad-rdw', 'truncated-record'];

function randomBytes(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 40);
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

function randomFile(r: () => number): (string | { error: RecordProblem })[] {
  const n = Math.floor(r() * 60);
  const out: (string | { error: RecordProblem })[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.05) out.push({ error: PROBLEMS[Math.floor(r() * PROBLEMS.length)]! });
    else if (x < 0.15) out.push(randomBytes(r));
    else out.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
  }
  return out;
}

const VALID = ['HELO h', 'STARTTLS', 'MAIL FROM:<a@b.example>', 'RCPT TO:<c@d.example>', 'RCPT TO:<e@d.example>', 'DATA', 'Subject: s', '', '..dot', 'b', '.',
  'MAIL FROM:<>', 'RCPT TO:<f@d.example>', 'DATA', 'no header', '.', 'QUIT'];

function mutate(r: () => number): (string | { error: RecordProblem })[] {
  const f: (string | { error: RecordProblem })[] = [...VALID];
  const k = 1 + Math.floor(r() * 4);
  for (let i = 0; i < k; i++) {
    const at = Math.floor(r() * (f.length + 1));
    const op = r();
    if (op < 0.3) f.splice(at, 1);
    else if (op < 0.55) f.splice(at, 0, f[Math.floor(r() * f.length)] ?? '.');
    else if (op < 0.8) f.splice(at, 0, VOCAB[Math.floor(r() * VOCAB.length)]!);
    else if (op < 0.9) f.splice(at, 0, { error: PROBLEMS[Math.floor(r() * PROBLEMS.length)]! });
    else f.splice(at, 1, randomBytes(r));
  }
  return f;
}

function check(seed: number, records: (string | { error: RecordProblem })[], r: () => number): void {
  const opts = baseOptions(new FakeClock(), {
    syntaxErrorLimit: Math.floor(r() * 4), msgSizeKB: r() < 0.2 ? 1 : 0, jobSizeKB: r() < 0.1 ? 2 : 0,
    atSign: r() < 0.3 ? '§' : '@', header: { date: r() < 0.5, userInfo: r() < 0.5 },
  });
  const p = new BatchParser(opts);
  const items: RecordItem[] = toItems(records);
  const events: BatchEvent[] = [];
  // Split the items into random batches (records arrive per chunk).
  for (let i = 0; i < items.length;) {
    const n = 1 + Math.floor(r() * 8);
    events.push(...p.push(items.slice(i, i + n)));
    i += n;
  }
  events.push(...p.end());
  const ctx = `seed ${seed}: ${JSON.stringify(records).slice(0, 400)}`;
  const s = p.stats;
  assert.equal(s.mailCommands, s.messagesEmitted + s.messagesRejected + s.messagesReset, ctx);
  const emitted = new Set<number>();
  const withProblem = new Set<number>();
  let stoppedAt = -1;
  events.forEach((e, i) => {
    if (e.kind === 'message') {
      assert.ok(!emitted.has(e.message.messageNo), ctx);
      emitted.add(e.message.messageNo);
      assert.equal(e.message.size, e.message.data.length, ctx);
      assert.ok(e.message.envelope.recipients.length > 0, ctx);
      assert.ok(e.message.data.subarray(-2).equals(Buffer.from('\r\n')), ctx);
    } else {
      withProblem.add(e.problem.messageNo);
      if (e.kind === 'stopped') stoppedAt = i;
    }
  });
  if (stoppedAt >= 0) assert.equal(stoppedAt, events.length - 1, `nothing after stopped: ${ctx}`);
  assert.equal(emitted.size, s.messagesEmitted, ctx);
  let unaccounted = 0;
  for (let n = 1; n <= s.mailCommands; n++) {
    if (!emitted.has(n) && !withProblem.has(n)) unaccounted++;
  }
  assert.ok(unaccounted <= s.messagesReset, `unaccounted messages: ${ctx}`);
}

test('fuzz: random spool files', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = prng(seed);
    check(seed, randomFile(r), r);
  }
});

test('fuzz: mutated valid spool files', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = prng(100_000 + seed);
    check(seed, mutate(r), r);
  }
});
