// forwarder — the gateway's outbound role (SPEC.md §2): spool tasks read spool entries and hand
// each message to its lifecycle, which delivers it through the targets (1–4 TargetServer blocks,
// their addresses, connection pools) with retry, extended retry, notifications and dead letters.
//
// Entries: a `batch` entry (a customer job) is decoded into records and parsed as batch SMTP
//   under the JES rules; a `message` entry (the gateway's own mail) is one message, its bytes and
//   envelope untouched (docs/flow.md).
// Queue states of a message: reading (task READ) → in flight to a target → delivered | long retry
//   (in memory, spool file kept: RetryLimit Count × Interval) → extended retry (the mail
//   directory, ExtendedRetry Interval/Age; the spool file is released) → undeliverable (one DSN to
//   MAIL FROM, or a dead letter). A permanent reply goes straight to undeliverable.
//   NOTIFY=SUCCESS to a target without DSN brings a "relayed" notice, NOTIFY=DELAY a "delayed"
//   one after Undeliverable DelayNotice (status-notices.ts); every attempt and outcome is also a
//   journal row (journal.ts).
// Retry schedule: long retry every RetryLimit Interval minutes, Count times; extended retry every
//   ExtendedRetry Interval minutes until Age days; FLUSHRETRY makes them due now.
// Standards: RFC 5321 (client side, via smtp/client), RFC 3461/3464 (DSN, via notify),
//   RFC 3207 (STARTTLS per target and per job), RFC 6152/6531 (8BITMIME, SMTPUTF8 kept),
//   RFC 6376 (DKIM: each message signed for its From: domain as it is sent, via dkim/; dkim.ts).
// Untrusted input: spool entries (through spool/), target replies (through smtp/client).
// Persists: the checkpoint (SQLite, per message and recipient), the mail directory (extended
//   retry), dead letters, notifications (as message entries), journal rows (best effort: a write
//   that fails is logged, never waited for). Crash safety: every recipient's
//   final reply is checkpointed before anything depends on it, and a spool entry is deleted only
//   after every message in it is finished; a warm start resumes from the checkpoint and resends
//   at most the messages in flight at the crash (never loses one).
// With Store Backend PostgreSQL ([P2], store-source.ts) spool files come from the shared queue
//   (claimed under leases) and their checkpoint is the store's, fenced by the lease; the tasks
//   and the lifecycle see the same SpoolSource and CheckpointPort either way.
// Other roles import the forwarder only through this file.
export { Forwarder, type ForwarderSettings, type SpoolSource, type SuspendMode } from './forwarder.js';
export { Checkpoint, type CheckpointPort } from './checkpoint.js';
export { attributesOf } from './spool-source.js';
export { storeSource, type StoreSource, type StoreSourceOptions } from './store-source.js';
export { ExtendedRetry, extendedQueueId } from './extended.js';
export { MailDirectory, StoreMailDirectory, type MailDirectoryRecord, type RecordDirectory } from './mail-directory.js';
export { SmtpConnector } from './smtp-connector.js';
export { NotifyingUndeliverable } from './undeliverable.js';
export { DsnStatusNotices } from './status-notices.js';
export { forwarderJournal } from './journal.js';
export { NotificationBatcher, type NotificationMail } from './notify-batch.js';
export { forwarderSettings, clientTimeouts, targetSpecs } from './settings.js';
export { openRegular } from './task.js';
export { spoolSource, type QueueSource } from './spool-source.js';
export { forwarderAccounting, type ForwarderAccounting } from './accounting.js';
export type { FinalOutcome, GlobalCounters, WorkItem, HoldCheck, OperatorCommand, LiveEntry, LivePhase } from './lifecycle.js';
export { queueIdOf, replyText } from './lifecycle.js';
export { Secret } from './types.js';
export type {
  ConnectFailure, Connector, DeliveryConnection, LearnedCapabilities, MessageOutcome, OutboundMessage, TargetAddress, TargetServerSpec,
} from './types.js';
export type { RateSnapshot } from './rate.js';
