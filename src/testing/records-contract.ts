// The behaviour both forms of accounting, dead letters and HTTP tokens keep ([P2] #19): the files
// of one node (the default) and the tables a cluster shares on PostgreSQL. store/records.test.ts
// runs recordsContract() with each backend's fixture, so the two are held to one set of tests.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { Accounting, type AccountingRecord, type AccountingSink, type Smf119Flags } from '../log/accounting.js';
import { DeadLetterError, type DeadLetterInput, type DeadLetters } from '../notify/deadletter.js';
import type { HttpTokens } from '../web/token.js';
import type { HttpTokenKind } from '../store/records.js';
import { tempDir } from './peers.js';

export interface RecordsFixture {
  /** This node's accounting sink. */
  accounting(): AccountingSink;
  deadLetters(clock: Clock): DeadLetters;
  /** This node's tokens of a kind, its token file at `path`. */
  tokens(path: string, kind: HttpTokenKind): Promise<HttpTokens>;
}

export interface RecordsBackend {
  readonly name: string;
  /** Empty records for one test; undefined after the test was skipped. */
  setup(t: TestContext): Promise<RecordsFixture | undefined>;
}

const ALL: Smf119Flags = { config: true, connect: true, mail: true, spool: true, stats: true };

export const LETTER: DeadLetterInput = {
  reason: '550 5.1.1 <batch@mvs.example.com>: user unknown (notification undeliverable)',
  kind: 'notification',
  envelope: {
    from: { kind: 'null' },
    recipients: [{ mailbox: { local: 'batch', domain: 'mvs.example.com' }, notify: { kind: 'never' }, orcpt: { type: 'rfc822', address: 'Batch@MVS.example.com' } }],
    requireTls: true,
    dsn: { ret: 'HDRS', envid: 'E1' },
    body8bit: true,
  },
  data: Buffer.from('Subject: x\r\n\r\nline one\r\n\u00e9\n{"not":"a header"}\r\n', 'utf8'),
  jobName: 'PAYROLL',
  jobId: 'JOB00042',
};

/** Ids an operator or client might send that are not dead-letter ids: each is refused before any path or query. */
export const HOSTILE_IDS = ['12345', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', "x'; DROP TABLE dead_letters; --", '', 'A'.repeat(20), '0'.repeat(19) + '/', '0'.repeat(10_000)];

async function all(gen: AsyncIterable<AccountingRecord>): Promise<AccountingRecord[]> {
  const out: AccountingRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

export function recordsContract(backend: RecordsBackend): void {
  const it = (name: string, fn: (t: TestContext, f: RecordsFixture) => Promise<void>): void => {
    test(`${backend.name}: ${name}`, async (t) => {
      const f = await backend.setup(t);
      if (f !== undefined) await fn(t, f);
    }).catch((e: unknown) => { console.error(e); });
  };

  it('accounting: records are read back in order with their fields, filtered by type, time, user and job', async (_t, f) => {
    const sink = f.accounting();
    let now = new Date('2026-11-27T10:00:00.000Z');
    const acc = new Accounting({ sink, instance: 'CSSMTP', enabled: () => ALL, now: () => now });
    acc.record('CONFIG', { reason: 'start', configFile: '/etc/spoolgate.conf', logLevel: 1, userExit: null });
    now = new Date('2026-11-27T11:00:00.000Z');
    acc.record('MAIL', { jobName: 'PAYRUN', jobId: 'JOB00001', user: 'PAYROLL', from: 'a@x', recipients: ['b@y', 'c@y'], size: 100, result: 'delivered', subject: 'Löhne "Nov"' });
    now = new Date('2026-11-27T12:00:00.000Z');
    acc.record('MAIL', { jobName: 'BILLING', jobId: 'JOB00002', user: 'ACCT', from: 'a@x', recipients: ['d@y'], size: 50, result: 'undeliverable' });
    await sink.flush();
    const every = await all(sink.read({}));
    assert.deepEqual(every.map((r) => r.name), ['CONFIG', 'MAIL', 'MAIL']);
    assert.equal(every[1]!.subject, 'Löhne "Nov"');
    assert.deepEqual(every[1]!.recipients, ['b@y', 'c@y']);
    assert.equal(every[1]!.time, '2026-11-27T11:00:00.000Z');
    assert.equal(every[1]!.instance, 'CSSMTP');
    // The fields keep the order the file form writes them in.
    assert.deepEqual(Object.keys(every[1]!).slice(0, 5), ['type', 'name', 'time', 'instance', 'jobName']);
    assert.deepEqual((await all(sink.read({ types: ['MAIL'] }))).map((r) => r.jobName), ['PAYRUN', 'BILLING']);
    assert.deepEqual((await all(sink.read({ since: new Date('2026-11-27T11:30:00Z') }))).map((r) => r.jobName), ['BILLING']);
    assert.deepEqual((await all(sink.read({ user: 'payroll' }))).map((r) => r.jobName), ['PAYRUN']);
    assert.deepEqual((await all(sink.read({ job: 'BILL*' }))).map((r) => r.jobName), ['BILLING']);
    // Retention: nothing is younger than a cutoff a day before the records.
    assert.equal(await sink.prune(Date.parse('2026-11-26T00:00:00Z'), 1000, 100, Date.parse('2026-11-27T12:00:00Z')), 0);
    assert.equal((await all(sink.read({}))).length, 3);
    await acc.end();
    assert.equal(acc.record('CONFIG', { reason: 'refresh', configFile: 'x', logLevel: 1, userExit: null }), false, 'nothing is recorded after end()');
  });

  it('dead letters: store / list / read / remove, byte-exact, oldest first', async (_t, f) => {
    const dl = f.deadLetters(systemClock);
    assert.equal(await dl.check(), undefined);
    const a = await dl.store(LETTER);
    const big = { ...LETTER, kind: 'null-sender' as const, reason: 'null sender', jobName: undefined, jobId: undefined, data: Buffer.alloc(700 * 1024, 0xa5) };
    const b = await dl.store(big);
    assert.equal(await dl.count(), 2);
    const { letters, corrupt } = await dl.list();
    assert.deepEqual(corrupt, []);
    assert.deepEqual(letters.map((l) => l.id).sort(), [a.id, b.id].sort());
    const first = letters.find((l) => l.id === a.id)!;
    assert.equal(first.kind, 'notification');
    assert.equal(first.reason, LETTER.reason);
    assert.equal(first.jobName, 'PAYROLL');
    assert.deepEqual(first.envelope, LETTER.envelope);
    assert.equal(letters.find((l) => l.id === b.id)!.jobName, undefined);
    const r = await dl.read(a.id);
    assert.ok(r.ok);
    assert.deepEqual(r.value.data, LETTER.data);
    const rb = await dl.read(b.id);
    assert.ok(rb.ok);
    assert.ok(rb.value.data.equals(big.data), 'a letter of several chunks comes back byte-exact');
    assert.equal(await dl.remove(a.id), true);
    assert.equal(await dl.remove(a.id), false);
    assert.deepEqual((await dl.list()).letters.map((l) => l.id), [b.id]);
    assert.equal((await dl.read(a.id)).ok, false);
    // Retention by the time stored: a cutoff before it keeps the letter, one after removes it.
    assert.equal(await dl.prune(Date.now() - 86_400_000, 100, 10), 0);
    assert.equal(await dl.prune(Date.now() + 60_000, 100, 10), 1);
    assert.equal(await dl.count(), 0);
  });

  it('dead letters: an id that is not one (a number, a path, SQL) is refused before any file or query', async (_t, f) => {
    const dl = f.deadLetters(systemClock);
    const kept = await dl.store(LETTER);
    for (const id of HOSTILE_IDS) {
      const r = await dl.read(id);
      assert.equal(r.ok, false, id);
      if (!r.ok) assert.match(r.error.message, /not a dead letter id/);
      await assert.rejects(() => dl.remove(id), DeadLetterError, id);
    }
    assert.deepEqual((await dl.list()).letters.map((l) => l.id), [kept.id], 'nothing else was touched');
  });

  it('HTTP tokens: the token file is made once and its token is accepted; others, malformed or over-long ones are not', async (t, f) => {
    const path = join(tempDir(t), 'http.token');
    const tk = await f.tokens(path, 'api');
    assert.equal(tk.file.created, true);
    assert.equal(tk.file.mode, 0o600);
    assert.equal(await tk.matches(`Bearer ${tk.file.token}`), true);
    assert.equal(await tk.matches(`bearer   ${tk.file.token}`), true);
    const again = await f.tokens(path, 'api');
    assert.equal(again.file.created, false);
    assert.equal(again.file.token, tk.file.token, 'a restart keeps the token');
    for (const h of [undefined, '', 'Bearer', `Basic ${tk.file.token}`, `Bearer ${tk.file.token.slice(0, -1)}`, `Bearer ${tk.file.token}x`, 'Bearer abc',
      `Bearer ${'A'.repeat(10_000)}`, `Bearer ${tk.file.token} ${tk.file.token}`, `Bearer ${'\u00e9'.repeat(43)}`]) {
      assert.equal(await tk.matches(h), false, String(h).slice(0, 40));
    }
    // The send token is another kind: not accepted where the API token is asked for.
    const send = await f.tokens(join(tempDir(t), 'http-send.token'), 'send');
    assert.equal(await tk.matches(`Bearer ${send.file.token}`), false);
    assert.equal(await send.matches(`Bearer ${tk.file.token}`), false);
  });
}
