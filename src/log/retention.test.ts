// Retention (issue #18 item 7) on real parts: a real SQLite journal with rows of several ages (the
// journal stamps rows with the fake clock), real dead-letter, report and accounting files with
// back-dated mtimes (utimes). The Retention runner is driven by a FakeClock; tests wait on the
// `retention.pruned` log event, never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { FakeClock } from '../testing/clock.js';
import { tempDir } from '../testing/peers.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { Logger, type LogRecord } from './logger.js';
import { Retention, formatRetentionRun, pruneOldFiles, type RetentionAges } from './retention.js';
import { Accounting, accountingPath, accountingRetention, readAccounting } from './accounting.js';
import { DeadLetterStore } from '../notify/deadletter.js';
import { pruneSysoutReports } from '../spool/disposition.js';
import { spoolLayout } from '../spool/submit.js';

const DAY = 86_400_000;

function capture(): { log: Logger; next(event: string): Promise<LogRecord> } {
  const waiting: { event: string; resolve: (r: LogRecord) => void }[] = [];
  const log = Logger.create({
    instance: 'TEST', level: 255,
    sink: {
      write: (r) => {
        const hit = waiting.filter((w) => w.event === r.event);
        waiting.splice(0, waiting.length, ...waiting.filter((w) => w.event !== r.event));
        for (const w of hit) w.resolve(r);
      },
    },
  });
  return { log, next: (event) => new Promise((resolve) => waiting.push({ event, resolve })) };
}

/** Writes a file last modified `daysAgo` days before `now`. */
function fileAged(path: string, now: number, daysAgo: number, text = 'x'): void {
  writeFileSync(path, text);
  const t = (now - daysAgo * DAY) / 1000;
  utimesSync(path, t, t);
}

const ages = (a: Partial<RetentionAges>): RetentionAges => ({ journal: 30, accounting: 400, deadLetters: 30, reports: 30, interval: 60, ...a });

/** A clock whose wall time the test sets: the journal stamps each row with it. */
function settable(clock: FakeClock): { clock: Clock; set(ms: number): void } {
  let at = clock.now();
  return { clock: { now: () => at, setTimer: (ms, fn) => clock.setTimer(ms, fn) }, set: (ms) => { at = ms; } };
}

test('journal: rows older than the age go, younger rows stay, and queries work on what remains', async (t) => {
  const clock = new FakeClock();
  const dir = tempDir(t, 'retention-journal-');
  const stamp = settable(clock);
  const store = openSqliteStore(join(dir, 'spoolgate.db'), { clock: stamp.clock });
  t.after(() => store.close());
  // Rows 40, 31, 29 and 1 days old.
  const start = clock.now();
  for (const [days, id] of [[40, 'a'], [31, 'b'], [29, 'c'], [1, 'd']] as const) {
    stamp.set(start - days * DAY);
    await store.journal.record({ type: 'delivered', messageId: id, from: 'x@y.test' });
  }
  const n = await store.journal.prune(clock.now() - 30 * DAY, 1000, 500);
  assert.equal(n, 2);
  assert.deepEqual((await store.journal.query({ from: 'x@y.test' })).map((e) => e.messageId), ['c', 'd']);
});

test('journal: one run is bounded (max per run), in batches; the rest goes at the next run', async (t) => {
  const clock = new FakeClock();
  const dir = tempDir(t, 'retention-bound-');
  const stamp = settable(clock);
  const store = openSqliteStore(join(dir, 'spoolgate.db'), { clock: stamp.clock });
  t.after(() => store.close());
  stamp.set(clock.now() - 100 * DAY);
  await Promise.all(Array.from({ length: 25 }, (_, i) => store.journal.record({ type: 'delivered', messageId: `m${i}` })));
  const { log, next } = capture();
  const r = new Retention({ clock, log, ages: () => ages({}), kinds: { journal: store.journal }, maxPerKind: 10, batch: 3 });
  const first = next('retention.pruned');
  r.start();
  const rec = await first;
  assert.equal(rec.fields.journal, 10);
  assert.equal(rec.fields.more, 'journal');
  assert.equal((await store.journal.query({})).length, 15);
  assert.match(formatRetentionRun(r.last()).join('\n'), /MORETOPRUNE +: JOURNAL/);
  const second = next('retention.pruned');
  clock.advance(60 * 60_000);
  assert.equal((await second).fields.journal, 10);
  assert.equal((await store.journal.query({})).length, 5);
  await r.stop();
});

test('dead letters and sysout reports: back-dated files go, young files, held files and temp files stay', async (t) => {
  const clock = new FakeClock();
  const now = clock.now();
  const dir = tempDir(t, 'retention-files-');
  const dl = await DeadLetterStore.open(join(dir, 'deadletter'), clock);
  const oldId = 'a'.repeat(20), youngId = 'b'.repeat(20);
  fileAged(join(dl.dir, `${oldId}.dead`), now, 31);
  fileAged(join(dl.dir, `${youngId}.dead`), now, 29);
  fileAged(join(dl.dir, '.tmp-zzz'), now, 400);
  fileAged(join(dl.dir, 'notes.txt'), now, 400);
  const l = spoolLayout(join(dir, 'spool'), 'W');
  mkdirSync(l.sysout, { recursive: true });
  mkdirSync(l.held, { recursive: true });
  fileAged(join(l.sysout, 'JOB1.e1.report.txt'), now, 45);
  fileAged(join(l.sysout, 'JOB2.e2.report.txt'), now, 2);
  fileAged(join(l.held, 'e3'), now, 900);
  const { log, next } = capture();
  const r = new Retention({
    clock, log, ages: () => ages({}),
    kinds: { deadLetters: dl, reports: { prune: (c, m, b) => pruneSysoutReports(l, c, m, b) } },
  });
  const ran = next('retention.pruned');
  r.start();
  const rec = await ran;
  assert.equal(rec.fields.deadLetters, 1);
  assert.equal(rec.fields.reports, 1);
  assert.equal(rec.fields.journal, null, 'no journal here');
  assert.deepEqual(readdirSync(dl.dir).sort(), ['.tmp-zzz', `${youngId}.dead`, 'notes.txt']);
  assert.deepEqual(readdirSync(l.sysout), ['JOB2.e2.report.txt']);
  assert.deepEqual(readdirSync(l.held), ['e3'], 'held files wait for the operator');
  await r.stop();
});

test('age 0 keeps for ever; a changed age applies at the next run (ages are read each run)', async (t) => {
  const clock = new FakeClock();
  const now = clock.now();
  const dir = tempDir(t, 'retention-zero-');
  fileAged(join(dir, 'old.report.txt'), now, 3000);
  let current = ages({ reports: 0 });
  const { log, next } = capture();
  const r = new Retention({ clock, log, ages: () => current, kinds: { reports: { prune: (c, m, b) => pruneOldFiles(dir, (n) => n.endsWith('.report.txt'), c, m, b) } } });
  let ran = next('retention.pruned');
  r.start();
  assert.equal((await ran).fields.reports, null, 'kept for ever: not even looked at');
  assert.deepEqual(readdirSync(dir), ['old.report.txt']);
  assert.match(formatRetentionRun(r.last()).join('\n'), /PRUNEDREPORTS +: KEPT/);
  current = ages({ reports: 30, interval: 5 });
  ran = next('retention.pruned');
  clock.advance(60 * 60_000); // the timer armed with the old interval
  assert.equal((await ran).fields.reports, 1);
  assert.deepEqual(readdirSync(dir), []);
  // The next run comes after the new interval (5 minutes).
  ran = next('retention.pruned');
  clock.advance(5 * 60_000);
  await ran;
  await r.stop();
});

test('accounting: the file rotates once it holds a day; rotated files age out; the current file stays; queries read what remains', async (t) => {
  const clock = new FakeClock();
  const dir = tempDir(t, 'retention-acct-');
  const path = accountingPath(dir);
  const flags = { config: true, connect: true, mail: true, spool: true, stats: true };
  const acct = new Accounting({ path, instance: 'TEST', enabled: () => flags, now: () => new Date(clock.now()) });
  t.after(() => acct.close());
  const prunable = accountingRetention(acct, () => clock.now());
  const record = (jobName: string): void => void acct.record('MAIL', { jobName, jobId: 'J1', user: 'u', from: 'a@b.test', recipients: ['c@d.test'], size: 1, result: 'delivered' });
  const cutoff = (days: number): number => clock.now() - days * DAY;

  record('DAY0');
  assert.equal(await prunable.prune(cutoff(1), 100, 10), 0);
  assert.deepEqual(readdirSync(dir), ['accounting.jsonl'], 'less than a day old: not rotated');
  clock.advance(DAY + 1000);
  record('DAY1');
  assert.equal(await prunable.prune(cutoff(1), 100, 10), 0, 'the rotated file was written just now');
  const rotated = readdirSync(dir).filter((n) => n !== 'accounting.jsonl');
  assert.equal(rotated.length, 1);
  assert.match(rotated[0]!, /^accounting-20261122T120000Z\.jsonl$/);
  record('DAY1B');
  const jobs = async (): Promise<string[]> => { const out: string[] = []; for await (const r of readAccounting(path)) out.push(String(r.jobName)); return out; };
  assert.deepEqual(await jobs(), ['DAY0', 'DAY1', 'DAY1B'], 'the rotated file is read first, then the current one');
  // Back-date the rotated file: its last record is older than the age now.
  const p = join(dir, rotated[0]!);
  utimesSync(p, (clock.now() - 10 * DAY) / 1000, (clock.now() - 10 * DAY) / 1000);
  assert.equal(await prunable.prune(cutoff(5), 100, 10), 1);
  assert.deepEqual(readdirSync(dir), ['accounting.jsonl']);
  assert.deepEqual(await jobs(), ['DAY1B']);
  // The current file is never removed, however old its mtime.
  utimesSync(path, (clock.now() - 1000 * DAY) / 1000, (clock.now() - 1000 * DAY) / 1000);
  assert.equal(await prunable.prune(cutoff(5), 100, 10), 0);
  assert.ok(readdirSync(dir).includes('accounting.jsonl'));
});
