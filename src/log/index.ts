// log — the operator log with CSSMTP's LogLevel bits, accounting records (SMF 119 analog) and
// the per-message journal. Reads no untrusted input. Persists log lines and accounting records
// as appended lines (a crash may lose the last unflushed line, never earlier ones). [P2] With
// Store Backend PostgreSQL accounting records go to a shared table (TableAccountingSink: queued in
// memory, bounded, inserted in batches; a crash loses at most the queued ones).
export * from './logger.js';
export * from './output.js';
