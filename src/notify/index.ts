// notify — what happens to mail that cannot be delivered (SPEC.md §2.2, §1.2 Report Admin):
// builds delivery status notifications to the original sender and keeps dead letters. (The
// Report Admin mail is built by the spool: spool/report.ts.) Never generates a
// notification about a notification (null sender, multipart/report, Auto-Submitted).
// Standards: RFC 3464 (DSN format), RFC 3462 (multipart/report), RFC 3461 §4 (NOTIFY, RET,
// ENVID, ORCPT), RFC 5321 §4.5.5 (null reverse-path), RFC 3834 (Auto-Submitted), RFC 5322
// (message format, 998-octet lines), RFC 2045/2046 (MIME, quoted-printable), RFC 6533 §3
// (utf-8 address type, partial).
// Untrusted input: original message bytes (only their header section is parsed, leniently),
// remote reply texts (reduced to printable ASCII and truncated), dead-letter files on disk
// (re-validated when listed or read).
// Persists: dead letters, one `<id>.dead` file each in the DeadLetterDirectory, created atomically
// (store/atomic.ts: temp + fsync + rename + fsync dir). Safe to crash at any point: a crash leaves at most a
// ".tmp-" file, which is never listed. Building mails is pure and persists nothing.
// [P2] With Store Backend PostgreSQL: dead letters are rows of the shared database instead
// (TableDeadLetters over store/records.ts), each stored in one transaction.
export * from './dsn.js';
export * from './deadletter.js';
export * from './mime.js';
