// Accounting, dead letters and HTTP tokens on both backends ([P2] #19): the contract
// (testing/records-contract.ts) on the files of one node and on the PostgreSQL tables, then what
// only the shared tables do — a second node sees the first node's records, letters and tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { accountingPath, FileAccountingSink, TableAccountingSink, Accounting, type AccountingRecord } from '../log/accounting.js';
import { DeadLetterStore, TableDeadLetters } from '../notify/deadletter.js';
import { localTokens, sharedTokens, TOKEN_LOOKUP_MS } from '../web/token.js';
import { tempDir } from '../testing/peers.js';
import { needPostgres, type TestDatabase } from '../testing/pg.js';
import { LETTER, recordsContract } from '../testing/records-contract.js';
import { migrate } from './pg/migrations.js';
import { PgAccountingTable, PgDeadLetterTable, PgHttpTokenTable } from './pg/records.js';

recordsContract({
  name: 'files',
  setup(t) {
    const dir = tempDir(t);
    return Promise.resolve({
      accounting: () => new FileAccountingSink(accountingPath(dir)),
      deadLetters: (clock) => DeadLetterStore.lazy(join(dir, 'deadletter'), clock),
      tokens: (path) => localTokens(path),
    });
  },
});

async function migrated(t: Parameters<typeof needPostgres>[0]): Promise<TestDatabase | undefined> {
  const tdb = await needPostgres(t);
  if (tdb === undefined) return undefined;
  await migrate(tdb.pool());
  return tdb;
}

recordsContract({
  name: 'PostgreSQL',
  async setup(t) {
    const tdb = await migrated(t);
    if (tdb === undefined) return undefined;
    const db = tdb.pool();
    // A wrong token waits for the next lookup (at most TOKEN_LOOKUP_MS): on this clock the wait moves time on at once.
    let now = 0;
    const tokenClock = { now: () => now, wait: (ms: number) => { now += ms; return Promise.resolve(); } };
    return {
      accounting: () => new TableAccountingSink(new PgAccountingTable(db, 'n1')),
      deadLetters: (clock) => new TableDeadLetters(new PgDeadLetterTable(db, 'n1'), clock),
      tokens: (path, kind) => sharedTokens(path, new PgHttpTokenTable(db, 'n1'), kind, tokenClock),
    };
  },
});

async function all(gen: AsyncIterable<AccountingRecord>): Promise<AccountingRecord[]> {
  const out: AccountingRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

const FLAGS = { config: true, connect: true, mail: true, spool: true, stats: true };

test('PostgreSQL: every node\'s accounting records are read on any node, with the node; retention prunes by age', async (t) => {
  const tdb = await migrated(t);
  if (tdb === undefined) return;
  const a = new Accounting({ sink: new TableAccountingSink(new PgAccountingTable(tdb.pool(), 'a')), instance: 'CSSMTP', enabled: () => FLAGS, now: () => new Date('2026-11-01T00:00:00Z') });
  const b = new Accounting({ sink: new TableAccountingSink(new PgAccountingTable(tdb.pool(), 'b')), instance: 'CSSMTP', enabled: () => FLAGS, now: () => new Date('2026-11-27T00:00:00Z') });
  a.record('MAIL', { jobName: 'OLD', jobId: 'JOB1', user: 'U', from: 'a@x', recipients: ['b@y'], size: 1, result: 'delivered' });
  b.record('MAIL', { jobName: 'NEW', jobId: 'JOB2', user: 'U', from: 'a@x', recipients: ['b@y'], size: 1, result: 'delivered' });
  await a.end();
  await b.end();
  const reader = new TableAccountingSink(new PgAccountingTable(tdb.pool(), 'c'));
  assert.deepEqual((await all(reader.read({}))).map((r) => [r.node, r.jobName]), [['a', 'OLD'], ['b', 'NEW']]);
  assert.equal(await reader.prune(Date.parse('2026-11-20T00:00:00Z'), 1000, 1, Date.now()), 1);
  assert.deepEqual((await all(reader.read({}))).map((r) => r.jobName), ['NEW']);
});

test('PostgreSQL: more records than one page are read in order (ids past 999 among equal times: ordered as numbers)', async (t) => {
  const tdb = await migrated(t);
  if (tdb === undefined) return;
  let i = 0;
  const acc = new Accounting({ sink: new TableAccountingSink(new PgAccountingTable(tdb.pool(), 'a')), instance: 'X', enabled: () => FLAGS, now: () => new Date(Date.UTC(2026, 10, 27) + (i < 1_500 ? 0 : Math.floor(i / 3))) });
  for (; i < 2_345; i++) acc.record('CONNECT', { address: '10.0.0.1', port: 25, result: 'ok', tls: false, esmtp: true, start: '2026-11-27T00:00:00Z', durationMs: i, messages: 1 });
  await acc.end();
  const got = await all(new TableAccountingSink(new PgAccountingTable(tdb.pool(), 'b')).read({}));
  assert.deepEqual(got.map((r) => r.durationMs), Array.from({ length: 2_345 }, (_, k) => k));
});

test('PostgreSQL: accounting waits for an unreachable database with a bounded queue, then writes what it kept', async (t) => {
  const tdb = await migrated(t);
  if (tdb === undefined) return;
  const real = new PgAccountingTable(tdb.pool(), 'a');
  let down = true;
  const errors: string[] = [];
  const table = { insert: (rows: Parameters<PgAccountingTable['insert']>[0]) => (down ? Promise.reject(new Error('connection refused')) : real.insert(rows)), select: real.select.bind(real), prune: real.prune.bind(real) };
  const sink = new TableAccountingSink(table, { limit: 5, onError: (e) => errors.push(String(e)) });
  const acc = new Accounting({ sink, instance: 'X', enabled: () => FLAGS });
  const taken = Array.from({ length: 8 }, (_, k) => acc.record('CONNECT', { address: '10.0.0.1', port: 25, result: 'ok', tls: false, esmtp: true, start: 'x', durationMs: k, messages: 0 }));
  assert.deepEqual(taken, [true, true, true, true, true, false, false, false], 'at most the limit waits; the rest is dropped, never blocking');
  await sink.flush();
  assert.equal(sink.pending(), 5);
  assert.ok(errors.some((e) => /connection refused/.test(e)));
  assert.ok(errors.some((e) => /dropped/.test(e)));
  down = false;
  await sink.flush();
  assert.equal(sink.pending(), 0);
  assert.ok(errors.some((e) => /3 records were dropped/.test(e)), errors.join('\n'));
  assert.deepEqual((await all(sink.read({}))).map((r) => r.durationMs), [0, 1, 2, 3, 4]);
  await acc.end();
});

test('PostgreSQL: a dead letter stored by one node is listed, read and removed on another', async (t) => {
  const tdb = await migrated(t);
  if (tdb === undefined) return;
  const a = new TableDeadLetters(new PgDeadLetterTable(tdb.pool(), 'a'), systemClock);
  const b = new TableDeadLetters(new PgDeadLetterTable(tdb.pool(), 'b'), systemClock);
  const stored = await a.store(LETTER);
  assert.equal(stored.path, `db:${stored.id}`);
  assert.deepEqual((await b.list()).letters.map((l) => l.id), [stored.id]);
  const r = await b.read(stored.id);
  assert.ok(r.ok);
  assert.deepEqual(r.value.data, LETTER.data);
  assert.equal(await b.remove(stored.id), true);
  assert.equal(await a.count(), 0);
  const chunks = await tdb.pool().query<{ n: string }>('SELECT count(*)::text AS n FROM dead_letter_chunks');
  assert.equal(chunks.rows[0]!.n, '0', 'the bytes go with the letter');
});

test('PostgreSQL: a token made on one node is accepted on another, only its hash is stored, and a replaced token stops working', async (t) => {
  const tdb = await migrated(t);
  if (tdb === undefined) return;
  const db = tdb.pool();
  // A clock of the test's own: a lookup's wait for its turn moves it on.
  let now = 0;
  const waits: number[] = [];
  const clock = { now: () => now, wait: (ms: number) => { waits.push(ms); now += ms; return Promise.resolve(); } };
  const a = await sharedTokens(join(tempDir(t), 'http.token'), new PgHttpTokenTable(db, 'a'), 'api', clock);
  const b = await sharedTokens(join(tempDir(t), 'http.token'), new PgHttpTokenTable(db, 'b'), 'api', clock);
  assert.notEqual(a.file.token, b.file.token, 'each node has its own token file');
  assert.equal(await b.matches(`Bearer ${a.file.token}`), true);
  // a looked the table up when it started, before b registered, and not a second later: b's token
  // waits for a's next lookup (one per TOKEN_LOOKUP_MS) and is accepted, not refused for being new
  // (that 401 made test/cluster/records.test.ts fail whenever B started within a second of A).
  assert.equal(await a.matches(`Bearer ${b.file.token}`), true, 'a learns of b\'s token at its next lookup');
  assert.deepEqual(waits, [TOKEN_LOOKUP_MS], 'that lookup waited for its turn');
  const rows = await db.query<{ node: string; hash: Buffer }>('SELECT node, hash FROM http_tokens ORDER BY node');
  assert.deepEqual(rows.rows.map((r) => r.node), ['a', 'b']);
  for (const r of rows.rows) {
    assert.equal(r.hash.length, 32);
    assert.ok(!r.hash.toString('latin1').includes(a.file.token) && !r.hash.toString('latin1').includes(b.file.token), 'never the token itself');
  }
  // The operator of a deletes its token file; a's restart makes a new one, replacing the hash.
  const path = join(tempDir(t), 'a2.token');
  const a2 = await sharedTokens(path, new PgHttpTokenTable(db, 'a'), 'api', { now: () => now });
  now += TOKEN_LOOKUP_MS;
  assert.equal(await b.matches(`Bearer ${a2.file.token}`), true);
  now += TOKEN_LOOKUP_MS;
  assert.equal(await b.matches(`Bearer ${a.file.token}`), false, 'the replaced token is refused');
  // Wrong tokens do not reach the database more than once per TOKEN_LOOKUP_MS.
  let lookups = 0;
  const real = new PgHttpTokenTable(db, 'c');
  const counting = { register: real.register.bind(real), hashes: (k: 'api' | 'send') => { lookups++; return real.hashes(k); } };
  const c = await sharedTokens(join(tempDir(t), 'c.token'), counting, 'api', clock);
  const before = lookups;
  const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => c.matches(`Bearer wrong-token-${i}-${'x'.repeat(30)}`)));
  assert.deepEqual(burst, Array.from({ length: 50 }, () => false));
  assert.equal(lookups - before, 1, `${lookups - before} lookups for 50 wrong tokens at once`);
  // One after the other, each wrong token waits for the next lookup: never two within TOKEN_LOOKUP_MS.
  const start = now;
  const first = lookups;
  for (let i = 0; i < 5; i++) assert.equal(await c.matches(`Bearer wrong-again-${i}-${'x'.repeat(30)}`), false);
  assert.ok(lookups - first <= 1 + (now - start) / TOKEN_LOOKUP_MS, `${lookups - first} lookups in ${now - start} ms`);
});
