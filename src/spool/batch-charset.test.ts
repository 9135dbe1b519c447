// translatedCharset 'UTF-8' (records translated from a DBCS page, docs/codepages.md): the MIME
// fields are added only when the message has none, and 8-bit mail asks for BODY=8BITMIME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../testing/clock.js';
import { BatchParser, type BatchEvent } from './batch.js';
import { baseOptions, toItems } from './batch-testutil.js';
import type { RecordProblem } from './records.js';

const utf8Line = (s: string): string => Buffer.from(s, 'utf8').toString('latin1'); // records are byte strings

function run(lines: Line[], translated: boolean): BatchEvent[] {
  const p = new BatchParser(baseOptions(new FakeClock(Date.UTC(2026, 10, 27)), translated ? { translatedCharset: 'UTF-8' } : {}));
  return [...p.push(toItems(lines)), ...p.end()];
}
type Line = string | { error: RecordProblem };
const mail = (...data: Line[]): Line[] => ['HELO h', 'MAIL FROM:<a@corp.example>', 'RCPT TO:<b@corp.example>', 'DATA', ...data, '.', 'QUIT'];
function message(events: BatchEvent[]): { data: string; body8bit: boolean | undefined } {
  const m = events.find((e) => e.kind === 'message');
  assert.ok(m !== undefined && m.kind === 'message', JSON.stringify(events));
  return { data: m.message.data.toString('utf8'), body8bit: m.message.envelope.body8bit };
}

test('UTF-8 translated mail without MIME fields gets them, and body8bit', () => {
  const { data, body8bit } = message(run(mail('Subject: report', '', utf8Line('東京本社')), true));
  assert.match(data, /\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n東京本社\r\n$/);
  assert.equal(body8bit, true);
});

test('a message with its own Content-Type or MIME-Version keeps it; ASCII-only mail is not marked 8-bit', () => {
  for (const own of ['Content-Type: text/plain; charset=UTF-8', 'MIME-Version: 1.0', 'content-type: text/html; charset=utf-8']) {
    const { data, body8bit } = message(run(mail(own, '', 'plain ascii'), true));
    assert.equal(data.match(/^(content-type|mime-version):/gim)?.length, 1, own);
    assert.equal(body8bit, undefined, own);
  }
});

test('without translatedCharset (single-byte pages) nothing is added, as before', () => {
  const { data, body8bit } = message(run(mail('Subject: x', '', 'caf\u00e9'), false));
  assert.doesNotMatch(data, /MIME-Version|Content-Type/);
  assert.equal(body8bit, undefined);
});

test("an 'invalid-dbcs' record inside DATA rejects the message with its own text", () => {
  const events = run(mail('Subject: x', '', { error: 'invalid-dbcs' }), true);
  assert.ok(!events.some((e) => e.kind === 'message'));
  assert.ok(events.some((e) => e.kind === 'problem' && e.problem.text.includes('JES Invalid double-byte data in record')), JSON.stringify(events));
});
