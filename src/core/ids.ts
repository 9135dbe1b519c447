// Identifiers. Message ids are unique, sortable by creation time and safe as file names.
import { createHash, randomFillSync } from 'node:crypto';

// Random bits for ids, drawn from the CSPRNG 4 KB at a time (512 ids): one randomBytes call per
// id cost more than the rest of parsing a small spooled message, and randomUUID's string still
// had to be cut and parsed back (1.4 µs per id; this way 0.5 µs: docs/perf/parse-pop3-profile.md).
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
// The time part changes once per millisecond: formatted once for the ids of the same one.
let lastMs = NaN;
let lastTime = '';

/** A 20-character id: 9 base-36 chars of time (ms) + 11 of randomness. Sortable by time. */
export function newId(nowMs: number = Date.now()): string {
  if (nowMs !== lastMs) { lastMs = nowMs; lastTime = nowMs.toString(36).padStart(9, '0'); }
  if (poolAt >= POOL.length) { randomFillSync(POOL); poolAt = 0; }
  // 11 base-36 digits: 7 from one random word (36^7 > 2^32), 4 from another (36^4 = 1679616).
  const hi = POOL.readUInt32LE(poolAt);
  const lo = POOL.readUInt32LE(poolAt + 4);
  poolAt += 8;
  return lastTime + hi.toString(36).padStart(7, '0') + (lo % 1679616).toString(36).padStart(4, '0');
}

/** RFC 5322 §3.6.4 msg-id for a generated Message-ID header: <id@host>. */
export function newMessageIdHeader(host: string, nowMs: number = Date.now()): string {
  return `<${newId(nowMs)}.spoolgate@${host}>`;
}

/**
 * The stable queue id of one message (docs/queue.md): 12 hex digits naming the spool file (a hash
 * of its entry name and job id, so a warm start that reads the file again finds the same ids)
 * and the message's number in the file: `3f9a0c12b7d4-2`. It travels with the message into long
 * retry, the extended-retry mail directory, a hold and a dead letter, and is the `qid` field of
 * the logs, the journal and the accounting MAIL records. Number 0 names a whole spool file (a
 * held file, whose messages are not read yet).
 */
export function queueIdFor(entryId: string, jobId: string, messageNo: number): string {
  const h = createHash('sha256').update(`${entryId}\0${jobId}`).digest('hex').slice(0, 12);
  return `${h}-${messageNo}`;
}

/** The form of a queue id: anything else (a path, a wildcard) is refused before any look-up. */
export const QUEUE_ID = /^[0-9a-f]{12}-[0-9]{1,7}$/;

export function isQueueId(s: string): boolean {
  return QUEUE_ID.test(s);
}
