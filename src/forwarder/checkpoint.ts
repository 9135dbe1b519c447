// Checkpoint (SPEC.md §2.2, ext mechanics with the seed's semantics): a durable record of which
// messages, and which recipients, of each in-process spool file are finished. A warm start
// re-reads unfinished spool files and skips what is recorded here; `-f` (cold start) discards it.
//
// Storage: one SQLite file per writer (`<StateDirectory>/<WRITER>.checkpoint.db`), WAL with
// synchronous=FULL, so a committed transaction survives power loss.
//
// Group commit off the JavaScript thread, by the store's one mechanism for it (CommitWorker,
// store/sqlite/commit-worker.ts, which the journal uses too): writes are queued; a worker thread
// with its own connection (also synchronous=FULL) commits them, one transaction per batch. While
// a commit (and its fsync) is in flight, new writes wait in the queue and go together in the
// next transaction, so the batch grows with the load without a timer, and the event loop (every
// SMTP connection) no longer stalls for the fsync. Every caller's promise resolves only after
// the worker reports that the transaction holding its write is committed. A crash therefore
// loses only writes whose promises had not resolved, i.e. messages still in flight — they are
// re-sent on warm start (the duplicates SPEC.md allows). Reads (load, entries) use the main
// thread's connection and see only committed data. flush()/close() are synchronous: they wait
// for the commit in flight and commit the rest on the main connection. If the worker cannot
// start or dies, commits fall back to the main thread.
//
// A failed recipient's reply is kept structured (columns code, enhanced, reply = the text), never
// as a line parsed back. Files written before that (schema version 0: the reply as one line
// "550 5.1.1 text") are migrated in place when opened, so a warm start after an upgrade keeps
// every mark.
//
// Corrupt or lost state is an operator message (R3 item 5), never a stack trace or a silent
// resend. A database SQLite cannot read stops a warm start with CheckpointError (what happened,
// and that `-f` discards it); `-f` (cold start) removes the files before opening, so it works on
// a corrupt file too. A generation file beside the database (`<db>.gen`: the database's random
// id, a generation number bumped at every open, and whether the gateway is running) tells a
// warm start that the database is missing or empty, was replaced, is older than the last run,
// or lost its WAL after a crash: `lost` lists those findings, and the gateway logs them before
// any spool file is read again (whatever is not recorded is sent again from the spool).
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { CommitWorker, type CommitStats, type Write } from '../store/sqlite/commit-worker.js';
import { Codes, localReply } from '../smtp/protocol/index.js';
import { replyFromLegacyLine } from './legacy-reply.js';
import type { ReplyInfo } from './types.js';
import type { RetryCommand, RetryView } from '../store/queue-store.js';

/** The checkpoint cannot be used as it is; the message says what the operator can do. */
export class CheckpointError extends Error {
  readonly code = 'ERR_CHECKPOINT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/** SQLite's result codes for a file that is not (or no longer) a database it can read. */
const CORRUPT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_IOERR_SHORT_READ']);

function isCorrupt(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (CORRUPT.has(code) || code.startsWith('SQLITE_CORRUPT'));
}

interface Generation {
  readonly id: string;
  readonly generation: number;
  readonly running: boolean;
}

function readGeneration(path: string): Generation | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<Generation>;
    if (typeof v.id === 'string' && typeof v.generation === 'number' && typeof v.running === 'boolean') return { id: v.id, generation: v.generation, running: v.running };
  } catch {
    // unreadable: treated as absent (a warm start then cannot check; it says nothing wrong)
  }
  return undefined;
}

/** Atomic and durable (temp, fsync, rename): the file is the old or the new generation. */
function writeGeneration(path: string, g: Generation): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(g) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function exists(path: string): boolean {
  return existsSync(path);
}

export type MessageFinal = 'delivered' | 'undeliverable' | 'extended' | 'rejected';

export type RecipientMark =
  | { readonly address: string; readonly outcome: 'accepted' }
  /** `reply`: the final reply that failed the recipient. */
  | { readonly address: string; readonly outcome: 'failed'; readonly reply: ReplyInfo };

/** A failed mark without a reply (not written by this version; defensive for hand-made rows). */
const NO_REPLY = localReply(Codes.C554TransactionFailed, 'failed before restart');

export interface FileCheckpoint {
  /** message number → final outcome */
  readonly messages: ReadonlyMap<number, MessageFinal>;
  /** message number → recipient address → mark */
  readonly recipients: ReadonlyMap<number, ReadonlyMap<string, RecipientMark>>;
  /**
   * message number → long-retry attempts made so far, for a file of the shared queue (its count
   * goes on over every node: CheckpointPort.deferRetry). The local checkpoint has none: a message
   * waits in memory there, and a restart begins its count again.
   */
  readonly attempts?: ReadonlyMap<number, number>;
  /** message number → an operator's bounce, delete or hold given while the message waited on the shared queue (store-source.ts). */
  readonly commands?: ReadonlyMap<number, RetryCommand>;
  /**
   * message number → when (this node's clock, ms) a message waiting in long retry on the shared
   * queue is due again by its own retry time; only the messages not due yet when the file was
   * claimed, without a command. A node that claimed the file before that — for an operator's
   * command on another of its messages — leaves them waiting, untried (keepWaiting).
   */
  readonly waitUntil?: ReadonlyMap<number, number>;
}

/** The checkpoint's writes: statement numbers for CommitWorker (the order of STATEMENTS). */
const INS_MSG = 0, INS_RCPT = 1, DEL_MSGS = 2, DEL_RCPTS = 3;
const STATEMENTS = [
  'INSERT OR REPLACE INTO messages (entry, no, outcome) VALUES (?, ?, ?)',
  'INSERT OR REPLACE INTO recipients (entry, no, address, outcome, reply, code, enhanced) VALUES (?, ?, ?, ?, ?, ?, ?)',
  'DELETE FROM messages WHERE entry = ?',
  'DELETE FROM recipients WHERE entry = ?',
];

interface RecipientRow {
  no: number;
  address: string;
  outcome: 'accepted' | 'failed';
  reply: string | null;
  code: number | null;
  enhanced: string | null;
}

/** Schema version (PRAGMA user_version): 1 = replies in columns code, enhanced, reply (text). */
const SCHEMA_VERSION = 1;

/**
 * Brings a checkpoint written by an older version up to SCHEMA_VERSION, in one transaction.
 * Version 0 kept a failed recipient's reply as one line (`lifecycle.replyText`: "550 5.1.1 text",
 * "451 text"); it is split into its columns here, once. A line that does not start with a reply
 * code keeps its text under 554 (the recipient failed; it is not sent again either way).
 */
function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA_VERSION) return;
  db.transaction(() => {
    const cols = new Set((db.prepare('PRAGMA table_info(recipients)').all() as { name: string }[]).map((c) => c.name));
    if (!cols.has('code')) db.exec('ALTER TABLE recipients ADD COLUMN code INTEGER');
    if (!cols.has('enhanced')) db.exec('ALTER TABLE recipients ADD COLUMN enhanced TEXT');
    const upd = db.prepare('UPDATE recipients SET reply = ?, code = ?, enhanced = ? WHERE entry = ? AND no = ? AND address = ?');
    const old = db.prepare('SELECT entry, no, address, reply FROM recipients WHERE code IS NULL AND reply IS NOT NULL').all() as { entry: string; no: number; address: string; reply: string }[];
    for (const r of old) {
      const reply = replyFromLegacyLine(r.reply, 554);
      upd.run(reply.text, reply.code, reply.enhanced ?? null, r.entry, r.no, r.address);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * What the forwarder needs of a checkpoint (the seam of [P2], docs/cluster.md): the local SQLite
 * Checkpoint below, or the shared store's checkpoint fenced by the entry's lease
 * (store-source.ts). The tasks and the lifecycle do not know which.
 */
export type CheckpointPort = Pick<Checkpoint, 'load' | 'markRecipient' | 'markMessage' | 'forget' | 'flush'> & {
  /**
   * Long retry as next_attempt (docs/cluster.md): message `no` of file `id` has now been tried
   * `attempts` times and its next attempt is due at `retryAt`. true: the port recorded it and the
   * file is released to that time for any node (the message leaves this node's memory); false or
   * absent: the message waits here in memory, as on one node (the local checkpoint). `view`: what
   * the queue tools show of the message while no node holds it (retry-view.ts).
   */
  deferRetry?(id: string, no: number, attempts: number, retryAt: Date, view?: RetryView): Promise<boolean>;
  /**
   * Message `no` of file `id` waits on the shared queue untried, its attempts, view and command
   * unchanged: held by the operator (`until` absent: a hold in FileCheckpoint.commands), or not due
   * until `until` (FileCheckpoint.waitUntil: the file was claimed early, for an operator's command
   * on another message). The file is released, not finished: to the earliest retry time of its
   * waiting messages, or HELD_RECHECK_MS when only held ones wait (a release makes it due now).
   */
  keepWaiting?(id: string, no: number, until?: number): void;
  /**
   * What to check when a write about file `id` fails, for the operator (checkpoint.failed, the
   * `checkpoint` fault): where that file's checkpoint is kept. Absent: CHECKPOINT_FAULT_HINT.
   */
  faultHint?(id: string): string;
};

/** The operator's hint when the local checkpoint cannot be written (it is a file in StateDirectory). */
export const CHECKPOINT_FAULT_HINT = 'StateDirectory full or unwritable?';

export class Checkpoint {
  private readonly db: Database.Database;
  /** Commits the writes (group commit on a worker thread); set by open() once the file is checked. */
  private writer!: CommitWorker;
  private readonly selMsgs: Database.Statement;
  private readonly selRcpts: Database.Statement;
  private readonly selEntries: Database.Statement;

  private constructor(private readonly path: string) {
    // Owner-only, created so before SQLite opens it: its -wal and -shm files take the database
    // file's mode (the checkpoint names every spool entry and recipient).
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS messages (entry TEXT NOT NULL, no INTEGER NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (entry, no));
      CREATE TABLE IF NOT EXISTS recipients (entry TEXT NOT NULL, no INTEGER NOT NULL, address TEXT NOT NULL, outcome TEXT NOT NULL, reply TEXT,
        code INTEGER, enhanced TEXT, PRIMARY KEY (entry, no, address));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    migrate(this.db);
    this.selMsgs = this.db.prepare('SELECT no, outcome FROM messages WHERE entry = ?');
    this.selRcpts = this.db.prepare('SELECT no, address, outcome, reply, code, enhanced FROM recipients WHERE entry = ?');
    this.selEntries = this.db.prepare('SELECT DISTINCT entry FROM messages UNION SELECT DISTINCT entry FROM recipients');
  }

  /**
   * Opens (creates) the checkpoint. batchMs (default 0): how long an idle checkpoint waits
   * before committing the first write, to collect more; under load the batch is whatever
   * queued while the previous commit was in flight. worker: false commits on the main thread.
   */
  static open(path: string, opts: { cold?: boolean; batchMs?: number; worker?: boolean } = {}): Checkpoint {
    const genPath = `${path}.gen`;
    // -f: the records are discarded anyway; removing the files first also clears a corrupt one.
    if (opts.cold) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    const before = readGeneration(genPath);
    const dbHadData = exists(path) && statSync(path).size > 0;
    const walExisted = exists(`${path}-wal`);
    let cp: Checkpoint;
    try {
      cp = new Checkpoint(path);
      const check = cp.db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    } catch (e) {
      if (!isCorrupt(e)) throw e;
      throw new CheckpointError(
        `checkpoint ${path} is corrupt (${e instanceof Error ? e.message : String(e)}); start once with -f (cold start) to discard it: ` +
        'files still in the spool are then read again from their first message (mail already sent from them is sent again)', { cause: e },
      );
    }
    const get = cp.db.prepare('SELECT value FROM meta WHERE key = ?');
    const put = cp.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const row = (k: string): string | undefined => (get.get(k) as { value: string } | undefined)?.value;
    const id = row('id');
    const generation = Number(row('generation') ?? '0');
    const lost: string[] = [];
    if (!opts.cold && before !== undefined) {
      if (!dbHadData || id === undefined) lost.push(`checkpoint ${path} is missing or empty, but ${genPath} says generation ${before.generation} was in use`);
      else if (id !== before.id) lost.push(`checkpoint ${path} is not the database of the last run (id ${id}, expected ${before.id}): it was replaced`);
      else if (generation < before.generation) lost.push(`checkpoint ${path} is at generation ${generation}, older than the last run's ${before.generation}: it lost its last transactions (WAL lost, or restored from an older copy)`);
      else if (before.running && !walExisted) lost.push(`checkpoint ${path}: the last run ended without a clean stop and its write-ahead log (${path}-wal) is gone: the transactions in it are lost`);
    }
    const next: Generation = { id: id ?? randomBytes(8).toString('hex'), generation: Math.max(generation, before?.generation ?? 0) + 1, running: true };
    cp.db.transaction(() => { put.run('id', next.id); put.run('generation', String(next.generation)); })();
    writeGeneration(genPath, next);
    cp.generation = next;
    cp.lost = lost;
    cp.writer = new CommitWorker(cp.db, STATEMENTS, { worker: opts.worker, batchMs: opts.batchMs, label: 'checkpoint' });
    return cp;
  }

  /** What a warm start found missing (log it before any file is read again); [] when nothing. */
  lost: readonly string[] = [];
  private generation: Generation | undefined;

  load(entry: string): FileCheckpoint {
    const messages = new Map<number, MessageFinal>();
    for (const r of this.selMsgs.all(entry) as { no: number; outcome: MessageFinal }[]) messages.set(r.no, r.outcome);
    const recipients = new Map<number, Map<string, RecipientMark>>();
    for (const r of this.selRcpts.all(entry) as RecipientRow[]) {
      let m = recipients.get(r.no);
      if (!m) recipients.set(r.no, (m = new Map()));
      if (r.outcome !== 'failed') { m.set(r.address, { address: r.address, outcome: 'accepted' }); continue; }
      const reply: ReplyInfo = r.code === null ? NO_REPLY : { code: r.code, ...(r.enhanced !== null ? { enhanced: r.enhanced } : {}), text: r.reply ?? '' };
      m.set(r.address, { address: r.address, outcome: 'failed', reply });
    }
    return { messages, recipients };
  }

  /** Entries with checkpoint records (for diagnostics and cleanup of vanished files). */
  entries(): string[] {
    return (this.selEntries.all() as { entry: string }[]).map((r) => r.entry);
  }

  markRecipient(entry: string, no: number, mark: RecipientMark): Promise<void> {
    const r = mark.outcome === 'failed' ? mark.reply : undefined;
    return this.writer.run([INS_RCPT, [entry, no, mark.address, mark.outcome, r?.text ?? null, r?.code ?? null, r?.enhanced ?? null]]);
  }

  markMessage(entry: string, no: number, outcome: MessageFinal): Promise<void> {
    return this.writer.run([INS_MSG, [entry, no, outcome]]);
  }

  /** The spool file is finished and deleted: its records are no longer needed. */
  forget(entry: string): Promise<void> {
    const writes: readonly Write[] = [[DEL_MSGS, [entry]], [DEL_RCPTS, [entry]]];
    return this.writer.runAll(writes);
  }

  /** Batches committed so far and the writes they held (the group commit's batch sizes). */
  get commits(): Readonly<CommitStats> {
    return this.writer.stats;
  }

  /** Synchronously commits everything queued: waits for the commit in flight, then commits the rest here. */
  flush(): void {
    this.writer.flush();
  }

  close(): void {
    this.flush();
    // A clean stop: the next start does not look for this run's WAL.
    if (this.generation !== undefined) {
      try {
        writeGeneration(`${this.path}.gen`, { ...this.generation, running: false });
      } catch {
        // the next start then checks for the WAL, which a clean close leaves or removes: at worst
        // a warning about a WAL that was checkpointed
      }
    }
    this.writer.close();
    this.db.close();
  }
}
