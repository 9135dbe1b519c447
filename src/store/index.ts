// store — persistence behind interfaces (SPEC.md §6, §8, §9): users with scrypt password hashes
// and aliases, mailboxes of CRLF-normalised messages with stable unique ids, and the journal of
// per-message events. Implementations: sqlite/ (embedded default), pg/ (ext, [P2]: so far
// the shared work queue of queue-store.ts and its schema; docs/cluster.md).
// Standards: RFC 1939 §7 (UIDL: unique, stable), RFC 7914 (scrypt).
// Untrusted input: message bytes (stored as opaque blobs), user names and addresses (validated
// in names.ts), passwords (only ever hashed).
// Persists: everything it is given, durably before the returned promise resolves; safe to crash
// at any point (each write is one transaction).
export * from './types.js';
export * from './password.js';
export * from './names.js';
export { ensureDemoUser, type DemoUser } from './demo.js';
export * from './atomic.js';
