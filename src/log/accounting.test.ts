import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import { Accounting, accountingPath, parseAccountingType, readAccounting, summarizeSenders, type MailFields, type Smf119Flags } from './accounting.js';

const ALL: Smf119Flags = { config: true, connect: true, mail: true, spool: true, stats: true };

function mail(user: string, jobName: string, extra: Partial<MailFields> = {}): MailFields {
  return { jobName, jobId: 'JOB00001', user, from: `${user}@corp.test`, recipients: ['a@x.test', 'b@x.test'], size: 1000, result: 'delivered', ...extra };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('writes one JSON line per record with type number, name, time, instance; file mode 0600', (t) => {
  const dir = tempDir(t);
  const path = accountingPath(join(dir, 'state'));
  const acc = new Accounting({ path, instance: 'TEST', enabled: () => ALL, now: () => new Date('2026-11-22T12:00:00Z') });
  assert.equal(acc.record('MAIL', mail('alice', 'PAYROLL')), true);
  assert.equal(acc.record('CONFIG', { reason: 'loglevel', configFile: '/etc/sg.conf', logLevel: 15, userExit: null }), true);
  acc.close();
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines[0], { type: 50, name: 'MAIL', time: '2026-11-22T12:00:00.000Z', instance: 'TEST', ...mail('alice', 'PAYROLL') });
  assert.equal(lines[1]?.type, 48);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(acc.record('MAIL', mail('x', 'Y')), false, 'closed');
});


test('each type is written only when its SMF119 flag is YES, read at every record (REFRESH)', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'accounting.jsonl');
  let flags: Smf119Flags = { config: false, connect: false, mail: false, spool: false, stats: false };
  const acc = new Accounting({ path, instance: 'T', enabled: () => flags });
  assert.equal(acc.record('MAIL', mail('a', 'J')), false);
  assert.equal(existsSync(path), false, 'nothing enabled: no file');
  flags = { ...flags, mail: true };
  assert.equal(acc.record('MAIL', mail('a', 'J')), true);
  assert.equal(acc.record('SPOOL', { jobName: 'J', jobId: 'J1', user: 'a', tkid: 1, spoolId: 's', taskType: 'WRITER', mailRead: 1, undeliverable: 0, problems: 0, disposition: 'finished' }), false);
  acc.close();
  assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 1);
});

test('a write failure is reported, not thrown', (t) => {
  const dir = tempDir(t);
  const errors: unknown[] = [];
  const acc = new Accounting({ path: join(dir, 'accounting.jsonl', 'not-a-dir', 'x'), instance: 'T', enabled: () => ALL, onError: (e) => errors.push(e) });
  appendFileSync(join(dir, 'accounting.jsonl'), 'a file where a directory should be\n');
  assert.equal(acc.record('MAIL', mail('a', 'J')), false);
  assert.equal(errors.length, 1);
});

test('STATS every interval on the injected clock, and at shutdown', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'accounting.jsonl');
  const clock = new FakeClock();
  const acc = new Accounting({ path, instance: 'T', enabled: () => ALL, now: () => new Date(clock.now()) });
  let sent = 0;
  const counters = () => ({ mailSent: sent, totalRetry: 0, currentRetry: 0, deadLetter: 0, undeliver: 0, extendedCurrent: 0, extendedTotal: 0 });
  const stats = acc.scheduleStats(clock, () => 30, () => ({ counters: counters(), targets: [] }));
  sent = 5;
  clock.advance(30 * 60_000);
  sent = 9;
  clock.advance(29 * 60_000);
  stats.stop(true);
  clock.advance(60 * 60_000);
  acc.close();
  const recs = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: number; reason: string; counters: { mailSent: number } });
  assert.deepEqual(recs.map((r) => [r.type, r.reason, r.counters.mailSent]), [[52, 'interval', 5], [52, 'shutdown', 9]]);
});

test('query: --since, --user, --job (glob), --type; torn lines skipped; missing file is empty', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'accounting.jsonl');
  let now = new Date('2026-11-20T00:00:00Z');
  const acc = new Accounting({ path, instance: 'T', enabled: () => ALL, now: () => now });
  acc.record('MAIL', mail('alice', 'PAYROLL'));
  now = new Date('2026-11-22T00:00:00Z');
  acc.record('MAIL', mail('bob', 'BILLING', { size: 500, recipients: ['c@x.test'] }));
  acc.record('MAIL', mail('alice', 'PAYROLL2', { result: 'undeliverable' }));
  acc.record('MAIL', mail('alice', 'PAYROLL2', { result: 'retry' }));
  acc.record('SPOOL', { jobName: 'PAYROLL2', jobId: 'JOB2', user: 'alice', tkid: 1, spoolId: 's1', taskType: 'WRITER', mailRead: 1, undeliverable: 1, problems: 0, disposition: 'finished' });
  acc.close();
  appendFileSync(path, '{"type":50,"name":"MAIL","ti');
  const all = await collect(readAccounting(path));
  assert.equal(all.length, 5);
  assert.equal((await collect(readAccounting(path, { since: new Date('2026-11-21T00:00:00Z') }))).length, 4);
  assert.deepEqual((await collect(readAccounting(path, { user: 'ALICE', types: ['MAIL'] }))).map((r) => r.jobName), ['PAYROLL', 'PAYROLL2', 'PAYROLL2']);
  assert.deepEqual((await collect(readAccounting(path, { job: 'pay*2' }))).map((r) => r.name), ['MAIL', 'MAIL', 'SPOOL']);
  assert.deepEqual((await collect(readAccounting(path, { types: ['SPOOL'] }))).map((r) => r.type), [51]);
  assert.deepEqual(await collect(readAccounting(join(dir, 'none.jsonl'))), []);
  assert.deepEqual(summarizeSenders(all), [
    { user: 'alice', messages: 2, recipients: 4, bytes: 2000, undeliverable: 1 },
    { user: 'bob', messages: 1, recipients: 1, bytes: 500, undeliverable: 0 },
  ]);
});

test('parseAccountingType accepts names and SMF subtype numbers', () => {
  assert.equal(parseAccountingType('mail'), 'MAIL');
  assert.equal(parseAccountingType('49'), 'CONNECT');
  assert.equal(parseAccountingType('53'), undefined);
  assert.equal(parseAccountingType('toString'), undefined);
});
