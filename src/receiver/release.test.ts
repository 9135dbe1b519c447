// The release and bounce of quarantined mail (release.ts) over the real pieces: a quarantine
// directory, the SQLite mailbox store and journal, the spool's one writer of message entries.
// Crashes are injected by throwing from the fault hooks (afterStep, the spool's beforeRename):
// what a kill -9 leaves on disk is the same, and recover() must finish it with no copy twice.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMailbox, type Mailbox } from '../core/address.js';
import type { Envelope } from '../core/envelope.js';
import { systemClock } from '../core/clock.js';
import { Logger } from '../log/index.js';
import { enqueueMessage } from '../spool/enqueue.js';
import { commitStaged, spoolLayout } from '../spool/submit.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { tempDir } from '../testing/peers.js';
import { ReceiverJournal } from './journal.js';
import { Quarantine } from './quarantine.js';
import { QuarantineRelease } from './release.js';
import { ReceiverSink, type SpoolSubmit } from './sink.js';

const mb = (a: string): Mailbox => { const r = parseMailbox(a); assert.ok(r.ok); return r.value; };
const ID = 'mkq1x2y3z4a5b6c7d8e9';
const DATA = Buffer.from('Received: from client\r\nFrom: eve@far.test\r\nSubject: ILOVEYOU\r\n\r\nkept body \u00e9\r\n', 'utf8');

interface Rig {
  readonly q: Quarantine;
  readonly release: (opts?: { crashAt?: string; crashStaged?: boolean }) => QuarantineRelease;
  readonly entries: () => string[];
  readonly staged: () => string[];
  readonly restoreStaged: () => void;
  readonly mailbox: () => Promise<Buffer[]>;
  readonly notices: { envelope: Envelope; data: Buffer }[];
}

async function rig(t: TestContext): Promise<Rig> {
  const dir = tempDir(t);
  const root = join(dir, 'spool');
  const store = openSqliteStore(join(dir, 'spoolgate.db'));
  t.after(() => store.close());
  assert.ok((await store.users.addUser('anna', 'pw-anna-1234', { domain: 'local.test' })).ok);
  const q = new Quarantine(join(dir, 'quarantine'));
  const log = Logger.silent();
  const notices: { envelope: Envelope; data: Buffer }[] = [];
  const make = (opts: { crashAt?: string; crashStaged?: boolean } = {}): QuarantineRelease => {
    const spoolSubmit: SpoolSubmit = async (m) => {
      const e = await enqueueMessage({
        root, writer: 'TESTW', envelope: m.envelope, data: m.data, origin: { kind: 'receiver', ...m.origin }, jobName: 'RECEIVER',
        // The crash between "staged and recorded" and the rename into incoming/: what a kill -9
        // leaves (tmp/<id> complete) is put back after submitEntry's clean-up of the throw.
        ...(m.beforeRename === undefined ? {} : {
          beforeRename: async (id: string) => {
            await m.beforeRename!(id);
            if (opts.crashStaged !== true) return;
            cpSync(join(root, 'tmp', id), join(dir, 'staged', id), { recursive: true });
            throw new Error('crash after staging');
          },
        }),
      });
      return e.id;
    };
    const sink = new ReceiverSink({
      clock: systemClock, log, journal: new ReceiverJournal(store.journal, log), mailboxes: store.mailboxes,
      resolveUser: (a) => store.users.resolve(a),
      classify: (m) => (m.domain === 'local.test' ? { kind: 'local', lookup: `${m.local}@${m.domain}` } : { kind: 'relay', domain: m.domain }),
      spoolSubmit, spoolCommit: (id) => commitStaged(root, 'TESTW', id),
      filters: () => [], quarantine: q, maxReceivedHeaders: () => 30,
    });
    return new QuarantineRelease({
      quarantine: q, sink, log, clock: systemClock, reportingMta: () => 'mx.gw.test',
      noticeSubmit: async (m) => { notices.push(m); },
      ...(opts.crashAt === undefined ? {} : { afterStep: async (s: string) => { if (s === opts.crashAt) throw new Error(`crash at ${s}`); } }),
    });
  };
  const l = spoolLayout(root, 'TESTW');
  const names = (d: string): string[] => (existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith('.')) : []);
  return {
    q, release: make, notices,
    entries: () => names(l.incoming), staged: () => names(l.tmp),
    restoreStaged: () => { for (const n of names(join(dir, 'staged'))) cpSync(join(dir, 'staged', n), join(l.tmp, n), { recursive: true }); },
    mailbox: async () => Promise.all((await store.mailboxes.list('anna')).map(async (m) => (await store.mailboxes.read('anna', m.id))!)),
  };
}

async function keep(q: Quarantine, to: readonly string[], from = 'eve@far.test'): Promise<void> {
  const envelope: Envelope = { from: { kind: 'mailbox', mailbox: mb(from) }, recipients: to.map((a) => ({ mailbox: mb(a), notify: { kind: 'on', success: false, failure: true, delay: false } })), requireTls: false, dsn: { envid: 'ENV-7' } };
  const { envelopeToJson } = await import('../core/envelope-json.js');
  await q.keep(ID, DATA, { id: ID, from: `<${from}>`, recipients: [...to], clientIp: '192.0.2.9', heloName: 'client.test', received: '2026-11-27T12:00:00.000Z', envelope: envelopeToJson(envelope), session: 's1', tls: true, rules: [] });
}

test('release: a local copy into the mailbox, the relay copy as one message entry with the envelope kept, then the files go', async (t) => {
  const r = await rig(t);
  await keep(r.q, ['anna@local.test', 'bob@remote.test']);
  const out = await r.release().release(ID, { operator: 'ops', reason: 'false positive' });
  assert.ok(out.ok, JSON.stringify(out));
  assert.match(out.value, /mailbox of anna, spool entry [0-9a-z]{20}/);
  const box = await r.mailbox();
  assert.equal(box.length, 1);
  assert.ok(box[0]!.includes(DATA), 'the mailbox copy is the kept bytes');
  const entries = r.entries();
  assert.equal(entries.length, 1);
  const root = join(r.q.dir, '..', 'spool', 'TESTW', 'incoming', entries[0]!);
  assert.deepEqual(readFileSync(join(root, 'data')), DATA, 'the relay copy is byte-exact');
  const env = JSON.parse(readFileSync(join(root, 'envelope.json'), 'utf8')) as { recipients: { to: string; notify?: string }[]; envid?: string; origin: { kind: string; client: string; tls: boolean } };
  assert.deepEqual(env.recipients, [{ to: 'bob@remote.test', notify: 'FAILURE' }], 'relay recipients only, NOTIFY kept');
  assert.equal(env.envid, 'ENV-7');
  assert.deepEqual([env.origin.kind, env.origin.client, env.origin.tls], ['receiver', '192.0.2.9', true]);
  assert.deepEqual(readdirSync(r.q.dir), [], 'the .eml, .json and marker are gone');
});

test('release refused before any copy: a local recipient that is no longer a user keeps the message as it was', async (t) => {
  const r = await rig(t);
  await keep(r.q, ['gone@local.test', 'bob@remote.test']);
  const out = await r.release().release(ID, { operator: 'ops', reason: 'x' });
  assert.ok(!out.ok);
  assert.equal(out.error.status, 409);
  assert.match(out.error.error, /gone@local\.test .*delete or bounce it/);
  assert.deepEqual(readdirSync(r.q.dir).sort(), [`${ID}.eml`, `${ID}.json`]);
  assert.deepEqual(r.entries(), []);
});

// Each crash point: the first release dies there; recover() (the next start) finishes it.
for (const c of [
  { name: 'after the marker', crashAt: 'marked' },
  { name: 'after the relay copy was staged, before its rename', crashStaged: true },
  { name: 'after every copy, before the files went', crashAt: 'copies' },
] as const) {
  test(`release cut short ${c.name}: recover() finishes it, one mailbox copy and one entry`, async (t) => {
    const r = await rig(t);
    await keep(r.q, ['anna@local.test', 'bob@remote.test']);
    const first = await r.release(c).release(ID, { operator: 'ops', reason: 'crash' });
    assert.ok(!first.ok, 'the injected crash');
    assert.ok(existsSync(join(r.q.dir, `${ID}.release`)), 'the marker stays for the next start');
    if ('crashStaged' in c) {
      r.restoreStaged();
      assert.equal(r.staged().length, 1);
      assert.deepEqual(r.entries(), []);
    }
    assert.equal(await r.release().recover(), 1);
    assert.equal((await r.mailbox()).length, 1, 'one mailbox copy');
    assert.equal(r.entries().length, 1, 'one relay entry');
    assert.deepEqual(r.staged(), []);
    assert.deepEqual(readdirSync(r.q.dir), []);
    assert.equal(await r.release().recover(), 0, 'nothing left to finish');
  });
}

test('bounce: the sender gets one failure notice naming the operator\'s reason; files gone; a second try is a 404', async (t) => {
  const r = await rig(t);
  await keep(r.q, ['anna@local.test', 'bob@remote.test']);
  const out = await r.release().bounce(ID, { operator: 'ops', reason: 'phishing' });
  assert.ok(out.ok);
  assert.match(out.value, /sender is notified/);
  assert.equal(r.notices.length, 1);
  assert.equal(formatTo(r.notices[0]!.envelope), 'eve@far.test');
  assert.match(r.notices[0]!.data.toString('utf8'), /5\.7\.1[\s\S]*phishing/);
  assert.deepEqual(readdirSync(r.q.dir), []);
  assert.equal((await r.mailbox()).length, 0);
  assert.deepEqual(r.entries(), []);
  // A message that is no longer there (deleted meanwhile) is a 404, not a new copy.
  const r2 = await r.release().release(ID, { operator: 'ops', reason: 'again' });
  assert.ok(!r2.ok);
  assert.equal(r2.error.status, 404);
});

function formatTo(e: Envelope): string {
  return e.recipients.map((x) => `${x.mailbox.local}@${x.mailbox.domain}`).join(',');
}
