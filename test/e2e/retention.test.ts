// Retention (issue #18 item 7) through the running gateway (startServices) on a FakeClock: the
// pruning run at start removes the journal rows, dead letters, sysout reports and rotated
// accounting files older than their Retention ages; the next run comes after Retention Interval
// (the test advances the fake clock and waits on the `retention.pruned` log line); D,CONFIG shows
// the ages and the last run; REFRESH changes an age (0 = keep for ever); `spoolgate journal` and
// `spoolgate accounting` answer from what remains. Fails on the code before retention: no
// `retention.pruned` is ever logged and nothing is removed. [P2] On both backends: the old rows
// are planted and counted through the gateway's interfaces (testing/records.ts) — the reports of
// bad spool files and the held file through HeldFiles (Gateway.held: sysout/ and held/, or the
// shared held tables) —, and with PostgreSQL a run also forgets this node's old arrival
// identities (pruneArrivals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseMailbox, type Mailbox } from '../../src/core/index.js';
import { Logger, type LogRecord } from '../../src/log/index.js';
import { startServices } from '../../src/main.js';
import type { DeadLetterInput } from '../../src/notify/deadletter.js';
import { spoolLayout, type SpoolEntryRef } from '../../src/spool/submit.js';
import { FakeClock } from '../../src/testing/clock.js';
import { tempDir } from '../../src/testing/peers.js';
import { TEST_BACKEND } from '../../src/testing/backend.js';
import { accountingRecords, arrivalIdentities, plantAccounting, plantArrival, plantDeadLetter, plantHeld, plantJournal, plantReport } from '../../src/testing/records.js';
import { spoolgateCli, writeConfig } from '../../src/testing/gateway.js';

const DAY = 86_400_000;

function mailbox(s: string): Mailbox {
  const m = parseMailbox(s);
  if (!m.ok) throw new Error(s);
  return m.value;
}

/** A dead letter of the kind retention prunes. */
function letter(tag: string): DeadLetterInput {
  return {
    kind: 'undeliverable', reason: `planted ${tag}`, data: Buffer.from(`Subject: ${tag}\r\n\r\nx\r\n`),
    envelope: { from: { kind: 'null' }, recipients: [{ mailbox: mailbox('x@y.test') }], requireTls: false },
  };
}

test('retention: pruned at start and after each interval; D,CONFIG shows it; REFRESH to 0 keeps; queries work on the rest', async (t) => {
  const clock = new FakeClock();
  const now = clock.now();
  const dir = tempDir(t, 'spoolgate-retention-');
  const retention = 'Retention {\n Journal 30\n Accounting 30\n DeadLetters 30\n Reports 30\n Interval 60\n}\n';
  const { path, config } = writeConfig(dir, `TargetServer { TargetIP 127.0.0.1 }\nReceiver {\n Listen 127.0.0.1:0\n LocalDomain local.test\n}\n${retention}`);
  const pg = TEST_BACKEND === 'postgresql';

  // Before the start, planted through the gateway's interfaces on its backend (testing/records.ts:
  // the SQLite journal or the shared table, the dead-letter directory or table, the accounting file
  // or table): journal rows 45 and 2 days old, dead letters 31 and 29 days old, an accounting
  // record 60 days old (with the file form in a rotated file) and one an hour old; with PostgreSQL
  // this node's arrival identities 45 and 2 days old. Through HeldFiles (sysout/ and held/, or the
  // shared held tables): reports of bad spool files 40 and 2 days old, a file held 400 days ago.
  mkdirSync(config.stateDirectory, { recursive: true });
  await plantJournal(config, now - 45 * DAY, [{ type: 'delivered', messageId: 'OLD', from: 'old@x.test' }]);
  await plantJournal(config, now - 2 * DAY, [{ type: 'delivered', messageId: 'NEW', from: 'new@x.test' }]);
  await plantDeadLetter(config, now - 31 * DAY, letter('a'));
  const keptLetter = await plantDeadLetter(config, now - 29 * DAY, letter('b'));
  const l = spoolLayout(config.spool.directory, config.extWrtName);
  const bad = (id: string, jobId: string): SpoolEntryRef => ({ id, attrs: { jobName: 'BADJOB', jobId, originUser: 'u' } });
  await plantReport(config, now - 40 * DAY, bad('e1', 'J1'), 'old report\n');
  await plantReport(config, now - 2 * DAY, bad('e2', 'J2'), 'new report\n');
  await plantHeld(config, now - 400 * DAY, bad('e9', 'J9'), 'x\n', 'planted bad file');
  const record = (job: string): Record<string, unknown> & { type: number } => ({ type: 50, name: 'MAIL', instance: 'test', jobName: job, user: 'u' });
  await plantAccounting(config, now - 60 * DAY, record('SEPT'), { rotated: true });
  await plantAccounting(config, now - 3600_000, record('NOV'));
  await plantArrival(config, now - 45 * DAY, 'old-identity');
  await plantArrival(config, now - 2 * DAY, 'new-identity');

  const waiting: ((r: LogRecord) => void)[] = [];
  const log = Logger.create({ instance: 'TEST', level: 255, sink: { write: (r) => { if (r.event === 'retention.pruned') for (const w of waiting.splice(0)) w(r); } } });
  const pruned = (): Promise<LogRecord> => new Promise((resolve) => waiting.push(resolve));
  const letters = async (): Promise<string[]> => (await services.gateway.deadLetters.list()).letters.map((x) => x.id).sort();

  let run = pruned();
  const services = await startServices(config, { clock, log });
  t.after(() => services.stop());
  let rec = await run;
  // arrivals: a cluster node's identities older than ARRIVALS_KEPT_DAYS (none with SQLite: null).
  assert.deepEqual({ ...rec.fields }, { journal: 1, accounting: 1, deadLetters: 1, reports: 1, arrivals: pg ? 1 : null, more: null });
  assert.deepEqual(await letters(), [keptLetter], 'the 29-day-old dead letter stays');
  assert.equal(await services.gateway.held.reportOf({ id: 'e1', jobId: 'J1' }), undefined, 'the 40-day-old report goes');
  assert.equal(await services.gateway.held.reportOf({ id: 'e2', jobId: 'J2' }), 'new report\n', 'the 2-day-old report stays');
  if (!pg) assert.deepEqual(readdirSync(l.sysout), ['J2.e2.report.txt']);
  assert.deepEqual((await services.gateway.held.list()).map((h) => h.id), ['e9'], 'held files wait for the operator');
  if (!pg) assert.deepEqual(readdirSync(l.held).sort(), ['e9', 'e9.reason.json']);
  assert.deepEqual(await arrivalIdentities(config), pg ? ['new-identity'] : undefined);

  // The queries answer from what remains.
  const journal = await spoolgateCli('journal', '--config', path);
  assert.equal(journal.code, 0, journal.stderr);
  assert.match(journal.stdout, /NEW/);
  assert.doesNotMatch(journal.stdout, /OLD/);
  assert.deepEqual((await accountingRecords(path, services.gateway.accounting, '--type', 'MAIL')).map((r) => r.jobName), ['NOV']);
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
  if (pg) assert.match(display.stdout, /^PRUNEDARRIVALS +: 1$/m);
  else assert.doesNotMatch(display.stdout, /PRUNEDARRIVALS/);

  // After the interval: a dead letter that has aged since goes.
  await plantDeadLetter(config, now - 50 * DAY, letter('c'));
  run = pruned();
  clock.advance(60 * 60_000);
  rec = await run;
  assert.equal(rec.fields.deadLetters, 1);
  assert.deepEqual(await letters(), [keptLetter]);

  // REFRESH: DeadLetters 0 keeps them for ever from the next run on.
  writeFileSync(path, readFileSync(path, 'utf8').replace(' DeadLetters 30', ' DeadLetters 0'));
  const refreshed = await spoolgateCli('modify', '--config', path, 'REFRESH');
  assert.equal(refreshed.code, 0, refreshed.stdout + refreshed.stderr);
  assert.doesNotMatch(refreshed.stdout, /EZD1843I/, 'Retention is refreshable');
  const ancient = await plantDeadLetter(config, now - 500 * DAY, letter('d'));
  run = pruned();
  clock.advance(60 * 60_000);
  rec = await run;
  assert.equal(rec.fields.deadLetters, null);
  assert.deepEqual(await letters(), [keptLetter, ancient].sort());
  const after = await spoolgateCli('modify', '--config', path, 'D,CONFIG');
  assert.match(after.stdout, /^DEADLETTERS +: 0 +REPORTS +: 30$/m);
  assert.match(after.stdout, /^PRUNEDDEADLETTERS +: KEPT +PRUNEDREPORTS +: 0$/m);
});
