// Retention (issue #18 item 7) through the running gateway (startServices) on a FakeClock: the
// pruning run at start removes the journal rows, dead letters, sysout reports and rotated
// accounting files older than their Retention ages; the next run comes after Retention Interval
// (the test advances the fake clock and waits on the `retention.pruned` log line); D,CONFIG shows
// the ages and the last run; REFRESH changes an age (0 = keep for ever); `spoolgate journal` and
// `spoolgate accounting` answer from what remains. Fails on the code before retention: no
// `retention.pruned` is ever logged and nothing is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../src/core/clock.js';
import { stateLayout } from '../../src/config/index.js';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { spoolLayout } from '../../src/spool/submit.js';
import { FakeClock } from '../../src/testing/clock.js';
import { tempDir } from '../../src/testing/peers.js';
import { spoolgateCli, writeConfig } from '../../src/testing/gateway.js';

const DAY = 86_400_000;

function aged(path: string, now: number, daysAgo: number, text = 'x\n'): void {
  writeFileSync(path, text);
  const t = (now - daysAgo * DAY) / 1000;
  utimesSync(path, t, t);
}

test('retention: pruned at start and after each interval; D,CONFIG shows it; REFRESH to 0 keeps; queries work on the rest', async (t) => {
  const clock = new FakeClock();
  const now = clock.now();
  const dir = tempDir(t, 'spoolgate-retention-');
  const retention = 'Retention {\n Journal 30\n Accounting 30\n DeadLetters 30\n Reports 30\n Interval 60\n}\n';
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\nReceiver {\n Listen 127.0.0.1:0\n LocalDomain local.test\n}\n${retention}`);

  // Before the start: journal rows 45 and 2 days old, dead letters 31 and 29 days old, a report
  // 40 days old, a held file 400 days old, a rotated accounting file last written 60 days ago.
  mkdirSync(config.stateDirectory, { recursive: true });
  let at = now;
  const stamp: Clock = { now: () => at, setTimer: (ms, fn) => clock.setTimer(ms, fn) };
  const db = openSqliteStore(stateLayout(config).database, { clock: stamp });
  at = now - 45 * DAY;
  await db.journal.record({ type: 'delivered', messageId: 'OLD', from: 'old@x.test' });
  at = now - 2 * DAY;
  await db.journal.record({ type: 'delivered', messageId: 'NEW', from: 'new@x.test' });
  await db.close();
  const dl = config.undeliverable.deadLetterDirectory;
  mkdirSync(dl, { recursive: true });
  aged(join(dl, `${'a'.repeat(20)}.dead`), now, 31);
  aged(join(dl, `${'b'.repeat(20)}.dead`), now, 29);
  const l = spoolLayout(config.spool.directory, config.extWrtName);
  mkdirSync(l.sysout, { recursive: true });
  mkdirSync(l.held, { recursive: true });
  aged(join(l.sysout, 'J1.e1.report.txt'), now, 40);
  aged(join(l.held, 'e9'), now, 400);
  const record = (job: string, time: number): string => JSON.stringify({ type: 50, name: 'MAIL', time: new Date(time).toISOString(), instance: 'test', jobName: job, user: 'u' }) + '\n';
  aged(join(config.stateDirectory, 'accounting-20260901T000000Z.jsonl'), now, 60, record('SEPT', Date.UTC(2026, 8, 1)));
  aged(join(config.stateDirectory, 'accounting.jsonl'), now, 0, record('NOV', now - 3600_000));

  const waiting: ((r: LogRecord) => void)[] = [];
  const log = Logger.create({ instance: 'TEST', level: 255, sink: { write: (r) => { if (r.event === 'retention.pruned') for (const w of waiting.splice(0)) w(r); } } });
  const pruned = (): Promise<LogRecord> => new Promise((resolve) => waiting.push(resolve));

  let run = pruned();
  const services = await startServices(config, { clock, log });
  t.after(() => services.stop());
  let rec = await run;
  assert.deepEqual({ ...rec.fields }, { journal: 1, accounting: 1, deadLetters: 1, reports: 1, more: null });
  assert.deepEqual(readdirSync(dl), [`${'b'.repeat(20)}.dead`], 'the 29-day-old dead letter stays');
  assert.deepEqual(readdirSync(l.sysout), []);
  assert.deepEqual(readdirSync(l.held), ['e9'], 'held files wait for the operator');
  assert.deepEqual(readdirSync(config.stateDirectory).filter((n) => n.startsWith('accounting')), ['accounting.jsonl']);

  // The queries answer from what remains.
  const journal = await spoolgateCli('journal', '--config', path);
  assert.equal(journal.code, 0, journal.stderr);
  assert.match(journal.stdout, /NEW/);
  assert.doesNotMatch(journal.stdout, /OLD/);
  const acct = await spoolgateCli('accounting', '--config', path);
  assert.equal(acct.code, 0, acct.stderr);
  assert.match(acct.stdout, /NOV/);
  assert.doesNotMatch(acct.stdout, /SEPT/);

  // D,CONFIG: the ages and what the last run pruned.
  const display = await spoolgateCli('modify', '--config', path, 'D,CONFIG');
  assert.equal(display.code, 0, display.stderr);
  assert.match(display.stdout, /RETENTION:/);
  assert.match(display.stdout, /^JOURNAL +: 30 +ACCOUNTING +: 30$/m);
  assert.match(display.stdout, /^LASTPRUNED +: 2026-11-22T12:00:00\.000Z$/m);
  assert.match(display.stdout, /^PRUNEDJOURNAL +: 1 +PRUNEDACCOUNTING +: 1$/m);
  assert.match(display.stdout, /^PRUNEDDEADLETTERS +: 1 +PRUNEDREPORTS +: 1$/m);

  // After the interval: a dead letter that has aged since goes.
  aged(join(dl, `${'c'.repeat(20)}.dead`), now, 50);
  run = pruned();
  clock.advance(60 * 60_000);
  rec = await run;
  assert.equal(rec.fields.deadLetters, 1);
  assert.deepEqual(readdirSync(dl), [`${'b'.repeat(20)}.dead`]);

  // REFRESH: DeadLetters 0 keeps them for ever from the next run on.
  writeFileSync(path, readFileSync(path, 'utf8').replace(' DeadLetters 30', ' DeadLetters 0'));
  const refreshed = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(refreshed.code, 0, refreshed.stdout + refreshed.stderr);
  assert.doesNotMatch(refreshed.stdout, /EZD1843I/, 'Retention is refreshable');
  aged(join(dl, `${'d'.repeat(20)}.dead`), now, 500);
  run = pruned();
  clock.advance(60 * 60_000);
  rec = await run;
  assert.equal(rec.fields.deadLetters, null);
  assert.deepEqual(readdirSync(dl).sort(), [`${'b'.repeat(20)}.dead`, `${'d'.repeat(20)}.dead`]);
  const after = await spoolgateCli('modify', '--config', path, 'D,CONFIG');
  assert.match(after.stdout, /^DEADLETTERS +: 0 +REPORTS +: 30$/m);
  assert.match(after.stdout, /^PRUNEDDEADLETTERS +: KEPT +PRUNEDREPORTS +: 0$/m);
});
