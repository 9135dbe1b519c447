// spool — the forwarder's input (SPEC.md §1). Two kinds of entry arrive atomically in a writer's
// queue: `batch` entries (customer jobs) and `message` entries (the gateway's own mail: relayed,
// notifications, reports, note, sendmail; raw RFC 5322 bytes + envelope.json, enqueue.ts, passed
// through untouched). Batch entries are framed into records (text LF/CRLF, EBCDIC NL, fixed or variable records, translated with
// the `Translate` code page), parsed as batch SMTP into messages, and disposed of when done.
// Standards: RFC 5321 (batch SMTP commands and reply codes, §4.5.3.1 size limits), RFC 3463
// (enhanced codes in error reports), IBM JES SYSOUT conventions (record formats, attributes).
// Untrusted input: every byte of a spool file and its name/attrs.json (producers are any local
// user); the origin user comes from the file owner only. Records never throw: problems are
// returned as items with the record number, and files are streamed, never loaded whole.
// Persists: the spool directory itself (entries, held files, SYSOUT reports, the writer lock).
// Safe to crash at any point: arrival and disposition are renames, and a file stays in the queue
// until every message in it is finished.
export * from './records.js';
export * from './message-entry.js';
export { EnqueueGroup, enqueueMessage, enqueueNotifications, type EnqueueOptions } from './enqueue.js';
export {
  LocalMessageQueue, StoreMessageQueue, QueueUnavailableError, STORE_ENTRY_PREFIX, ENVELOPE_ATTRIBUTE, envelopeOfAttributes, storeJobId,
  type MessageQueue, type OwnMail, type QueuedMail, type LocalTarget,
} from './message-queue.js';
