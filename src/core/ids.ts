// Identifiers. Message ids are unique, sortable by creation time and safe as file names.
import { createHash, randomUUID } from 'node:crypto';

/** A 20-character id: 9 base-36 chars of time (ms) + 11 of randomness. Sortable by time. */
export function newId(nowMs: number = Date.now()): string {
  const time = nowMs.toString(36).padStart(9, '0');
  // randomUUID draws from Node's own entropy cache: one randomBytes call per id cost more than
  // the rest of parsing a small spooled message (docs/perf/parse-pop3-profile.md). Its first 8 and
  // last 8 hex digits are random; 11 base-36 digits: 7 from the first word (36^7 > 2^32), 4 from the last.
  const u = randomUUID();
  const hi = parseInt(u.slice(0, 8), 16);
  const lo = parseInt(u.slice(28, 36), 16);
  return time + hi.toString(36).padStart(7, '0') + (lo % 1679616).toString(36).padStart(4, '0');
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
