// Reading back and planting what a gateway records — accounting, journal, dead letters — through
// the gateway's own interfaces, so one behaviour test runs on either store backend ([P2] #19,
// testing/backend.ts): the accounting file or the shared table, the SQLite journal or the shared
// one, the dead-letter directory or the shared table. A test never opens the file or the table
// itself; these helpers choose by the configuration, as the gateway does.
import { appendFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { stateLayout, type Config } from '../config/index.js';
import { accountingPath, TableAccountingSink, type Accounting, type AccountingRecord } from '../log/accounting.js';
import { DeadLetterStore, TableDeadLetters, type DeadLetterInput } from '../notify/deadletter.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { openPgStore, pgOptions, PgAccountingTable, PgDeadLetterTable, PgHeldTable, PgPool, PgQueueStore } from '../store/pg/index.js';
import { DirectoryHeldFiles, TableHeldFiles, type HeldFiles } from '../spool/held-files.js';
import { spoolLayout, type SpoolEntryRef } from '../spool/submit.js';
import type { EnvelopeJson } from '../core/index.js';
import type { Gateway } from '../gateway.js';
import { ENVELOPE_ATTRIBUTE } from '../spool/message-queue.js';
import type { ScryptParams } from '../store/password.js';
import type { JournalEvent, Store } from '../store/types.js';
import { spoolgateCli } from './gateway.js';

/**
 * Every accounting record of the configuration at `path`, oldest first, as `spoolgate accounting
 * --json` answers (the file, or with Store Backend PostgreSQL the shared table: each record then
 * names its node). `accounting`: a running gateway's, whose queued records are written first (the
 * table form inserts in the background; the file form writes at once).
 */
export async function accountingRecords(path: string, accounting?: Accounting, ...args: string[]): Promise<(AccountingRecord & Record<string, unknown>)[]> {
  await accounting?.sink.flush();
  const r = await spoolgateCli('accounting', '--config', path, '--json', ...args);
  if (r.code !== 0) throw new Error(`spoolgate accounting --config ${path}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AccountingRecord & Record<string, unknown>);
}

/** The database side of a PostgreSQL configuration, for the planting helpers; close() ends it. */
async function pgPool(config: Config, poolSize = 1): Promise<PgPool> {
  const pgc = config.store.postgres!;
  const { options } = await pgOptions(pgc, process.env);
  return new PgPool({ ...options, poolSize });
}

/**
 * The mailbox store (users, mailboxes, journal) of the configuration, as the gateway opens it:
 * <StateDirectory>/spoolgate.db, or with Store Backend PostgreSQL the shared schema (its own
 * pool, ended by close()). For harnesses that run a role without the whole gateway.
 */
export async function openConfiguredStore(config: Config, opts: { readonly scrypt?: ScryptParams; readonly clock?: Clock } = {}): Promise<Store> {
  if (config.store.backend !== 'postgresql') return openSqliteStore(stateLayout(config).database, opts);
  const pool = await pgPool(config, 4);
  const s = openPgStore(pool, opts);
  return { users: s.users, mailboxes: s.mailboxes, journal: s.journal, close: async () => { await s.close(); await pool.close(); } };
}

/** A clock stuck at `at` (what a record is stamped with), timers on the real one. */
function stampedAt(at: number): Clock {
  return { now: () => at, setTimer: () => { throw new Error('a planting clock has no timers'); } };
}

/**
 * Writes journal entries stamped `at` (epoch ms) into the configuration's journal (SQLite file or
 * shared table), as the gateway would have at that time. Before the gateway starts or beside it.
 */
export async function plantJournal(config: Config, at: number, events: readonly JournalEvent[]): Promise<void> {
  const clock = stampedAt(at);
  if (config.store.backend !== 'postgresql') {
    const db = openSqliteStore(stateLayout(config).database, { clock });
    try { for (const e of events) await db.journal.record(e); } finally { await db.close(); }
    return;
  }
  const pool = await pgPool(config);
  try {
    const s = openPgStore(pool, { clock });
    for (const e of events) await s.journal.record(e);
    await s.close();
  } finally {
    await pool.close();
  }
}

/**
 * Stores a dead letter as if it had been stored at `at` (epoch ms), through the dead-letter
 * interface of the configuration's backend; returns its id. The file form ages by the file's
 * modification time (its retention rule), so the file is given that time too.
 */
export async function plantDeadLetter(config: Config, at: number, letter: DeadLetterInput): Promise<string> {
  const clock = stampedAt(at);
  if (config.store.backend !== 'postgresql') {
    const stored = await (await DeadLetterStore.open(config.undeliverable.deadLetterDirectory, clock)).store(letter);
    utimesSync(stored.path, at / 1000, at / 1000);
    return stored.id;
  }
  const pool = await pgPool(config);
  try {
    return (await new TableDeadLetters(new PgDeadLetterTable(pool, config.store.postgres!.node), clock).store(letter)).id;
  } finally {
    await pool.close();
  }
}

/**
 * An accounting record written at `at` (epoch ms). The file form: with `rotated`, a rotated file
 * `accounting-<time>.jsonl` last written then (what retention ages by), else appended to the
 * current accounting.jsonl; the shared table: a row of that time either way.
 */
export async function plantAccounting(config: Config, at: number, record: Record<string, unknown> & { readonly type: number }, opts: { readonly rotated?: boolean } = {}): Promise<void> {
  const line = JSON.stringify({ ...record, time: new Date(at).toISOString() });
  if (config.store.backend !== 'postgresql') {
    const current = accountingPath(config.stateDirectory);
    mkdirSync(config.stateDirectory, { recursive: true });
    if (opts.rotated !== true) { appendFileSync(current, line + '\n'); return; }
    const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const file = current.replace(/accounting\.jsonl$/, `accounting-${stamp}.jsonl`);
    writeFileSync(file, line + '\n');
    utimesSync(file, at / 1000, at / 1000);
    return;
  }
  const pool = await pgPool(config);
  try {
    const sink = new TableAccountingSink(new PgAccountingTable(pool, config.store.postgres!.node));
    sink.write({ time: new Date(at), type: record.type, line });
    await sink.close();
  } finally {
    await pool.close();
  }
}

/**
 * With Store Backend PostgreSQL: an arrival identity this node stored at `at` (epoch ms), and how
 * many this node has. The store stamps arrivals with the database's clock, so an old one cannot be
 * made through QueueStore: the row is written directly. With SQLite there are none (undefined).
 */
export async function plantArrival(config: Config, at: number, identity: string): Promise<void> {
  if (config.store.backend !== 'postgresql') return;
  const pool = await pgPool(config);
  try {
    await pool.query('INSERT INTO arrivals (node, identity, entry_id, arrived_at) VALUES ($1, $2, 0, $3)', [config.store.postgres!.node, identity, new Date(at)]);
  } finally {
    await pool.close();
  }
}

export async function arrivalIdentities(config: Config): Promise<string[] | undefined> {
  if (config.store.backend !== 'postgresql') return undefined;
  const pool = await pgPool(config);
  try {
    return (await pool.query<{ identity: string }>('SELECT identity FROM arrivals WHERE node = $1 ORDER BY identity', [config.store.postgres!.node])).rows.map((r) => r.identity);
  } finally {
    await pool.close();
  }
}

/**
 * Runs `act` on the held files and reports of the configuration, as the gateway opens them
 * (Gateway.held): this node's held/ and sysout/ directories, or with Store Backend PostgreSQL the
 * shared held tables (its own pool, ended after `act`).
 */
async function withHeldFiles<T>(config: Config, act: (held: HeldFiles, directory: boolean) => Promise<T>): Promise<T> {
  const layout = spoolLayout(config.spool.directory, config.extWrtName);
  if (config.store.backend !== 'postgresql') {
    mkdirSync(layout.held, { recursive: true });
    mkdirSync(layout.sysout, { recursive: true });
    return act(new DirectoryHeldFiles(layout), true);
  }
  const pool = await pgPool(config);
  try {
    return await act(new TableHeldFiles(new PgHeldTable(pool, config.store.postgres!.node), layout), false);
  } finally {
    await pool.close();
  }
}

/**
 * Writes a report of bad spool file `entry` as if `Report Sysout` had written it at `at` (epoch ms),
 * through HeldFiles.writeReport of the configuration's backend: the sysout/ file (given that
 * modification time, what its retention ages by) or a held_reports row written then.
 */
export async function plantReport(config: Config, at: number, entry: SpoolEntryRef, text: string): Promise<void> {
  await withHeldFiles(config, async (held, directory) => {
    const where = await held.writeReport(entry, text, new Date(at));
    if (directory) utimesSync(where, at / 1000, at / 1000);
  });
}

/**
 * Holds a spool file `entry` with `bytes` as if it had been held at `at` (epoch ms), through
 * HeldFiles.hold of the configuration's backend (the file is written to incoming/ first, where a
 * hold finds it); the held/ file also gets that modification time. Before the gateway starts.
 */
export async function plantHeld(config: Config, at: number, entry: SpoolEntryRef, bytes: string, reason: string): Promise<string> {
  const layout = spoolLayout(config.spool.directory, config.extWrtName);
  return withHeldFiles(config, async (held, directory) => {
    mkdirSync(layout.incoming, { recursive: true });
    writeFileSync(join(layout.incoming, entry.id), bytes);
    const attributes = { jobName: entry.attrs.jobName, jobId: entry.attrs.jobId, originUser: entry.attrs.originUser };
    const name = await held.hold({ entry, kind: 'spool', attributes }, reason, new Date(at));
    if (directory) utimesSync(join(layout.held, name), at / 1000, at / 1000);
    return name;
  });
}

/** One of the gateway's own mails waiting in its queue (a message entry), as it was stored. */
export interface QueuedOwnMail {
  readonly id: string;
  readonly jobName: string;
  /** envelope.json as stored (origin included). */
  readonly envelope: EnvelopeJson & { readonly origin: { readonly kind: string } };
  /** The stored bytes, exactly. */
  read(): Promise<Buffer>;
}

/**
 * The message entries waiting in the gateway's queue: with Store Backend SQLite the entries of its
 * spool (envelope.json and the data file); with PostgreSQL the message rows of the shared queue
 * (gw.cluster.queuePort: the envelope attribute) and their chunks through QueueStore.read.
 */
export async function queuedOwnMail(gw: Gateway, config: Config): Promise<QueuedOwnMail[]> {
  type Env = QueuedOwnMail['envelope'];
  if (gw.cluster === undefined) {
    // An entry listed a moment ago may be finished (and gone) by the time its envelope is read.
    return (await gw.queue.list()).filter((e) => e.message !== undefined).flatMap((e) => {
      let envelope: Env;
      try {
        envelope = JSON.parse(readFileSync(join(dirname(e.path), 'envelope.json'), 'utf8')) as Env;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return [{ id: e.id, jobName: e.attrs.jobName, envelope, read: () => Promise.resolve(readFileSync(e.path)) }];
    });
  }
  const rows = (await gw.cluster.queuePort.entries(10_000)).filter((r) => r.kind === 'message');
  return rows.map((r) => ({
    id: r.id, jobName: String(r.attributes.jobName),
    envelope: JSON.parse(String(r.attributes[ENVELOPE_ATTRIBUTE])) as Env,
    read: async () => {
      const pool = await pgPool(config);
      try {
        const parts: Buffer[] = [];
        for await (const c of new PgQueueStore(pool, { node: config.store.postgres!.node, leaseSeconds: config.store.postgres!.leaseTime }).read(r.id)) parts.push(c);
        return Buffer.concat(parts);
      } finally {
        await pool.close();
      }
    },
  }));
}
