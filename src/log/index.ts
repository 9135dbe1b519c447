// log — the operator log with CSSMTP's LogLevel bits, accounting records (SMF 119 analog) and
// the per-message journal. Reads no untrusted input. Persists log lines and accounting records
// as appended lines (a crash may lose the last unflushed line, never earlier ones).
export * from './logger.js';
export * from './output.js';
