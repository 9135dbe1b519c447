// What a gateway has durably recorded of its spool work, read the way the gateway itself opens its
// state for its configuration, so a kill test counts "recorded" and "left" the same way on both
// backends ([P2] #19; test/e2e/crash.test.ts, pdf-spool-crash.test.ts):
//
//   Backend SQLite       the entries still in <writer>/incoming/, and the local checkpoint
//                        (stateLayout(config).checkpoint) read-only: Checkpoint.open is the
//                        gateway's writer (it bumps the generation a warm start checks), so a test
//                        polling it beside a running gateway must not use it.
//   Backend PostgreSQL   the pool from the Store statement (pgOptions), the writer's rows of the
//                        shared queue (OperatorStore.entries) and each row's checkpoint
//                        (QueueStore.loadCheckpoint); plus the files still in incoming/ that have
//                        not arrived (nothing of them is sent before they are stored).
//
// Either way a message counts as recorded once its final outcome is committed (fsynced on SQLite,
// committed on PostgreSQL): the durability rule the kill tests check. An entry that is no longer
// queued is finished (its file deleted, its row completed), every message of it recorded.
import { existsSync, readdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Config } from '../config/index.js';
import { stateLayout } from '../config/state.js';
import { spoolLayout } from '../spool/submit.js';
import { STORE_ENTRY_PREFIX } from '../spool/message-queue.js';
import { checkpointFromRows, type MessageFinal } from '../store/queue-store.js';
import { pgOptions, PgOperatorStore, PgPool, PgQueueStore } from '../store/pg/index.js';

export interface QueuedEntry {
  /** The spool entry id the job (or the gateway) gave it in incoming/. */
  readonly spoolId: string;
  /** The id the forwarder's tasks know it by: the spool entry id, or db-<row> on the shared queue. */
  readonly taskId: string;
  /** Message number → the final outcome committed to the checkpoint. */
  readonly finished: ReadonlyMap<number, MessageFinal>;
}

export interface RecordedState {
  /** Every entry of the writer still queued, by spool entry id. */
  readonly queued: ReadonlyMap<string, QueuedEntry>;
  /** Whether message `no` of the spool entry `spoolId` is finished on the record (its entry gone, or its outcome committed). */
  recorded(spoolId: string, no: number): boolean;
}

/** Most rows of the shared queue read at once (the kill tests queue a few hundred entries). */
const MAX_ROWS = 100_000;

function incomingIds(config: Config): string[] {
  const dir = spoolLayout(config.spool.directory, config.extWrtName).incoming;
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
}

function stateOf(queued: Map<string, QueuedEntry>): RecordedState {
  return {
    queued,
    recorded: (spoolId, no) => {
      const q = queued.get(spoolId);
      return q === undefined || q.finished.has(no);
    },
  };
}

/** Which entries' checkpoints to read: all (the default), or only these spool entry ids (the others are listed with none). */
export interface ReadOptions { readonly only?: ReadonlySet<string> }

function sqliteState(config: Config, o: ReadOptions): RecordedState {
  const path = stateLayout(config).checkpoint;
  const db = existsSync(path) ? new Database(path, { readonly: true, fileMustExist: true }) : undefined;
  try {
    const queued = new Map<string, QueuedEntry>();
    for (const id of incomingIds(config)) {
      let rows: { no: number; outcome: MessageFinal }[] = [];
      try {
        if (o.only === undefined || o.only.has(id)) rows = (db?.prepare('SELECT no, outcome FROM messages WHERE entry = ?').all(id) ?? []) as typeof rows;
      } catch (e) {
        if (!/no such table/.test(String(e))) throw e; // a gateway that has not made its tables yet
      }
      queued.set(id, { spoolId: id, taskId: id, finished: checkpointFromRows(rows, []).messages });
    }
    return stateOf(queued);
  } finally {
    db?.close();
  }
}

async function postgresState(config: Config, db: PgPool, o: ReadOptions): Promise<RecordedState> {
  const pgc = config.store.postgres!;
  const queue = new PgQueueStore(db, { node: pgc.node, leaseSeconds: pgc.leaseTime });
  // Listed first, then the rows: a file that arrives in between is in both (the row wins), and
  // one stored before is a row (nothing of a file is sent before it is stored).
  const local = incomingIds(config);
  const rows = await new PgOperatorStore(db, pgc.node).entries(config.extWrtName, MAX_ROWS);
  const queued = new Map<string, QueuedEntry>();
  for (const r of rows) {
    const file = r.attributes.file;
    const spoolId = typeof file === 'string' && file !== '' ? file : `${STORE_ENTRY_PREFIX}${r.id}`;
    const finished = o.only === undefined || o.only.has(spoolId) ? (await queue.loadCheckpoint(r.id)).messages : new Map<number, MessageFinal>();
    queued.set(spoolId, { spoolId, taskId: `${STORE_ENTRY_PREFIX}${r.id}`, finished });
  }
  for (const id of local) if (!queued.has(id)) queued.set(id, { spoolId: id, taskId: id, finished: new Map() });
  return stateOf(queued);
}

export interface RecordedStateReader {
  read(o?: ReadOptions): Promise<RecordedState>;
  close(): Promise<void>;
}

/**
 * A reader of the writer's queued entries and their committed outcomes, on the configuration's
 * backend: for a test that polls (one pool of one connection, opened at the first read).
 */
export function recordedStateReader(config: Config): RecordedStateReader {
  const pgc = config.store.postgres;
  if (config.store.backend !== 'postgresql' || pgc === null) return { read: (o = {}) => Promise.resolve(sqliteState(config, o)), close: () => Promise.resolve() };
  let db: Promise<PgPool> | undefined;
  const pool = (): Promise<PgPool> => (db ??= pgOptions(pgc, process.env).then(({ options }) => new PgPool({ ...options, poolSize: 1, applicationName: 'spoolgate-test recorded-state' })));
  return {
    read: async (o = {}) => postgresState(config, await pool(), o),
    close: async () => { if (db !== undefined) await (await db).close(); },
  };
}

/** The writer's queued entries and their committed outcomes, on the configuration's backend (one read). */
export async function recordedState(config: Config): Promise<RecordedState> {
  const r = recordedStateReader(config);
  try {
    return await r.read();
  } finally {
    await r.close();
  }
}
