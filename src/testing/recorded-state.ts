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

function sqliteState(config: Config): RecordedState {
  const path = stateLayout(config).checkpoint;
  const db = existsSync(path) ? new Database(path, { readonly: true, fileMustExist: true }) : undefined;
  try {
    const queued = new Map<string, QueuedEntry>();
    for (const id of incomingIds(config)) {
      let rows: { no: number; outcome: MessageFinal }[] = [];
      try {
        rows = (db?.prepare('SELECT no, outcome FROM messages WHERE entry = ?').all(id) ?? []) as typeof rows;
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

async function postgresState(config: Config): Promise<RecordedState> {
  const pgc = config.store.postgres!;
  const { options } = await pgOptions(pgc, process.env);
  const db = new PgPool({ ...options, poolSize: 1, applicationName: 'spoolgate-test recorded-state' });
  const queue = new PgQueueStore(db, { node: pgc.node, leaseSeconds: pgc.leaseTime });
  try {
    // Listed first, then the rows: a file that arrives in between is in neither list as unsent
    // (it is stored before anything of it is sent).
    const local = incomingIds(config);
    const rows = await new PgOperatorStore(db, pgc.node).entries(config.extWrtName, MAX_ROWS);
    const queued = new Map<string, QueuedEntry>();
    for (const r of rows) {
      const file = r.attributes.file;
      const spoolId = typeof file === 'string' && file !== '' ? file : `${STORE_ENTRY_PREFIX}${r.id}`;
      queued.set(spoolId, { spoolId, taskId: `${STORE_ENTRY_PREFIX}${r.id}`, finished: (await queue.loadCheckpoint(r.id)).messages });
    }
    for (const id of local) if (!queued.has(id)) queued.set(id, { spoolId: id, taskId: id, finished: new Map() });
    return stateOf(queued);
  } finally {
    await queue.close();
  }
}

/** The writer's queued entries and their committed outcomes, on the configuration's backend. */
export function recordedState(config: Config): Promise<RecordedState> {
  return config.store.backend === 'postgresql' ? postgresState(config) : Promise.resolve(sqliteState(config));
}
