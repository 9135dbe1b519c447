// queue — the operator's view of every message that waits (docs/queue.md), as Postfix's
// mailq/postsuper/postcat/qshape: messages in memory (being sent, waiting for a target, long
// retry), the extended-retry mail directory, operator holds, held spool files, dead letters and
// the receiver's quarantine, each under one stable queue id (core/ids.ts queueIdFor); and the
// actions on them (hold, release, retry now, bounce, delete, requeue and purge dead letters,
// release and purge held spool files), each logged and journaled with the operator and reason.
// Dependencies point one way: queue uses forwarder, spool, notify and store; none of them imports
// queue (the forwarder sees holds only through its HoldCheck interface).
// Standards: none beyond the roles it uses (notifications are notify's RFC 3464).
// Untrusted input: queue ids, filters and reasons from HTTP and the control socket (checked in
// model.ts and by isQueueId before any look-up; never used as paths).
// Persists: the hold list (`<StateDirectory>/<WRITER>.holds.json`, atomic replace). Safe to crash
// at any point: see service.ts's header for each action.
export { HoldList, MAX_HOLDS, type Hold } from './holds.js';
export {
  QUEUE_STATES, SHAPE_BUCKETS, DEFAULT_LIMIT, MAX_LIMIT, MAX_FILTER_CHARS, parseFilter, matches, shape, domainOf,
  type QueueState, type QueueItem, type QueueRecipient, type QueueFilter, type Shape, type ShapeRow, type RecipientState,
} from './model.js';
export {
  QueueService, QUEUE_ACTIONS, headerSection,
  type QueueApi, type QueueAction, type Actor, type QueueError, type QueueDetail, type HeldFileItem, type QueueDeps,
} from './service.js';
