// Message entries as the queue reads them back: hold/release keep the kind and the envelope; a
// hostile or broken envelope.json makes a bad entry with a reason, never a crash or a message.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/peers.js';
import { FakeClock } from '../testing/clock.js';
import type { Envelope } from '../core/index.js';
import { SpoolQueue } from './queue.js';
import { enqueueMessage, enqueueNotifications } from './enqueue.js';
import { ENVELOPE_FILE, formatEnvelopeFile, parseEnvelopeFile } from './message-entry.js';

const ENVELOPE: Envelope = {
  from: { kind: 'mailbox', mailbox: { local: 'jörg', domain: 'clïent.test' } },
  recipients: [
    { mailbox: { local: 'a', domain: 'far.test' }, notify: { kind: 'on', success: true, failure: true, delay: false }, orcpt: { type: 'rfc822', address: 'a+x@far.test' } },
    { mailbox: { local: '"b c"', domain: 'far.test' }, notify: { kind: 'never' } },
  ],
  requireTls: true, dsn: { ret: 'HDRS', envid: 'env-1' }, body8bit: true, smtputf8: true,
};

async function open(t: TestContext, gatewayUid?: number): Promise<{ root: string; q: SpoolQueue }> {
  const root = tempDir(t);
  const r = await SpoolQueue.open({ root, writer: 'W1', clock: new FakeClock(), rescanMs: 3_600_000, hostName: 'gw.test', ...(gatewayUid === undefined ? {} : { gatewayUid }) });
  assert.ok(r.ok);
  t.after(() => r.value.close());
  return { root, q: r.value };
}

test('a message entry is listed with its envelope and origin; hold and release keep both', async (t) => {
  const { root, q } = await open(t);
  const data = Buffer.from('Subject: x   \r\n\r\n' + 'y'.repeat(79) + '<\r\n\x1b$B\x0c\r\n');
  const made = await enqueueMessage({ root, writer: 'W1', envelope: ENVELOPE, data, origin: { kind: 'receiver', client: '192.0.2.7', helo: 'mx\x00 bad', auth: null, tls: true, session: 's-1' }, jobName: 'RECEIVER' });
  const [e] = await q.list();
  assert.equal(e?.id, made.id);
  assert.equal(e.kind, 'message');
  assert.equal(e.problem, undefined);
  assert.deepEqual(e.message?.envelope, ENVELOPE);
  // What a client said is recorded as printable ASCII only.
  assert.deepEqual(e.message?.origin, { kind: 'receiver', client: '192.0.2.7', helo: 'mx??bad', auth: null, tls: true, session: 's-1' });
  assert.equal(e.attrs.jobName, 'RECEIVER');
  assert.equal(e.attrs.taskType, 'DEST');
  assert.ok((await readFile(e.path)).equals(data), 'the data file holds the bytes as given');
  await q.hold(e, 'operator test');
  assert.deepEqual(await q.list(), []);
  const held = await q.listHeld();
  assert.equal(held.length, 1);
  const released = await q.release(held[0]!.id);
  assert.ok(released.ok);
  const [back] = await q.list();
  assert.equal(back?.kind, 'message');
  assert.deepEqual(back.message, e.message);
});

test('a gateway-only origin in an entry of another uid is a bad entry (a local producer forging relayed mail)', async (t) => {
  const uid = process.getuid!();
  const { root, q } = await open(t, uid + 1);
  await enqueueMessage({ root, writer: 'W1', envelope: ENVELOPE, data: Buffer.from('x\r\n'), origin: { kind: 'notification' } });
  await enqueueMessage({ root, writer: 'W1', envelope: ENVELOPE, data: Buffer.from('x\r\n'), origin: { kind: 'submission', tool: 'sendmail' } });
  const listed = await q.list();
  assert.equal(listed.length, 2);
  const forged = listed.find((x) => x.problem !== undefined);
  assert.match(forged?.problem?.reason ?? '', /claims a notification origin but the entry belongs to uid \d+, not the gateway's uid/);
  const own = listed.find((x) => x.problem === undefined);
  assert.deepEqual(own?.message?.origin, { kind: 'submission', tool: 'sendmail' });
});

test('a broken envelope.json makes a bad entry with a reason', async (t) => {
  const { root, q } = await open(t);
  const e = await enqueueMessage({ root, writer: 'W1', envelope: ENVELOPE, data: Buffer.from('x\r\n'), origin: { kind: 'report' } });
  const file = join(root, 'W1', 'incoming', e.id, ENVELOPE_FILE);
  const good = await readFile(file, 'utf8');
  const cases: [string, string | (() => Promise<void>), RegExp][] = [
    ['not JSON', '{', /not valid JSON/],
    ['version 2', good.replace('"v":1', '"v":2'), /version 2 is not 1/],
    ['no recipients', JSON.stringify({ ...JSON.parse(good), recipients: [] }), /no recipients/],
    ['a recipient with CRLF', JSON.stringify({ ...JSON.parse(good), recipients: [{ to: 'a@b.test>\r\nRCPT TO:<c@d.test' }] }), /bad recipient address/],
    ['UTF-8 without smtputf8', JSON.stringify({ ...JSON.parse(good), smtputf8: false }), /bad sender address/],
    ['an ENVID over 100 octets', JSON.stringify({ ...JSON.parse(good), envid: 'e'.repeat(101) }), /bad envid/],
    ['an unknown origin', JSON.stringify({ ...JSON.parse(good), origin: { kind: 'root' } }), /origin.kind "root" is not/],
    ['a receiver origin without a client address', JSON.stringify({ ...JSON.parse(good), origin: { kind: 'receiver', client: 'x y', helo: '', auth: null, tls: false, session: 's' } }), /origin.client/],
    ['a symbolic link', () => symlink('/etc/passwd', file), /is a symbolic link/],
  ];
  for (const [name, content, want] of cases) {
    await unlink(file).catch(() => undefined);
    if (typeof content === 'string') await writeFile(file, content);
    else await content();
    const [listed] = await q.list();
    assert.match(listed?.problem?.reason ?? 'no problem', want, name);
    assert.equal(listed?.kind, 'batch', `${name}: not read as a message`);
  }
});

test('formatEnvelopeFile and parseEnvelopeFile agree; the file is bounded', () => {
  const m = { envelope: ENVELOPE, origin: { kind: 'submission' as const, tool: 'note' as const }, receivedAt: new Date('2026-11-27T10:00:00.000Z') };
  const text = formatEnvelopeFile(m);
  assert.deepEqual(parseEnvelopeFile(Buffer.from(text)), { ok: true, value: m });
  const big = parseEnvelopeFile(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
  assert.ok(!big.ok && /limit/.test(big.error));
});

test('R3 item 7: notifications written together are one entry whose parts keep each envelope and its bytes; parts only for notifications', async (t) => {
  const { root, q } = await open(t);
  const dsn = (to: string, text: string): { envelope: Envelope; data: Buffer } => ({
    envelope: { from: { kind: 'null' }, recipients: [{ mailbox: { local: to, domain: 'corp.test' } }], requireTls: false },
    data: Buffer.from(text, 'latin1'),
  });
  const mails = [dsn('a', 'Subject: one\r\n\r\nfirst\r\n'), dsn('b', 'Subject: two\r\n\r\nsecond, longer\r\n'), dsn('c', 'Subject: three\r\n\r\n.\r\n')];
  const made = await enqueueNotifications({ root, writer: 'W1', mails, jobName: 'SGNOTIFY' });
  const [e] = await q.list();
  assert.equal(e?.id, made.id);
  assert.equal(e.problem, undefined);
  assert.equal(e.attrs.jobName, 'SGNOTIFY');
  assert.deepEqual(e.message?.origin, { kind: 'notification' });
  assert.deepEqual(e.message?.parts?.map((p) => p.envelope), mails.map((m) => m.envelope));
  assert.deepEqual(e.message?.parts?.map((p) => p.octets), mails.map((m) => m.data.length));
  assert.deepEqual(e.message?.envelope, mails[0]!.envelope, 'the entry\'s envelope is its first message\'s');
  assert.ok((await readFile(e.path)).equals(Buffer.concat(mails.map((m) => m.data))));
  // One notification alone is a plain message entry.
  const one = await enqueueNotifications({ root, writer: 'W1', mails: [mails[0]!], jobName: 'SGNOTIFY' });
  assert.equal((await q.list()).find((x) => x.id === one.id)?.message?.parts, undefined);
  // Parts are refused for any other origin (a batch is the gateway's own, and only of DSNs).
  const forged = JSON.parse(formatEnvelopeFile({ envelope: mails[0]!.envelope, origin: { kind: 'submission', tool: 'note' }, receivedAt: new Date(0) })) as Record<string, unknown>;
  forged.parts = [{ from: '', recipients: [{ to: 'a@corp.test' }], requireTls: false, octets: 5 }];
  const r = parseEnvelopeFile(Buffer.from(JSON.stringify(forged)));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /only notifications are batched/);
  forged.origin = { kind: 'notification' };
  forged.parts = [{ from: '', recipients: [{ to: 'a@corp.test' }], requireTls: false, octets: 0 }];
  assert.equal(parseEnvelopeFile(Buffer.from(JSON.stringify(forged))).ok, false, 'an empty part');
});
