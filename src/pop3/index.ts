// pop3 — the POP3 server role: users fetch the mail delivered to their mailboxes.
// Standards: RFC 1939 (POP3), RFC 2449 (CAPA, RESP-CODES, PIPELINING), RFC 2595 (STLS),
// RFC 3206 (AUTH, SYS/TEMP, SYS/PERM), RFC 5034 (AUTH PLAIN); implicit TLS on a second
// listener is our extension (ext). The pure session is in ./protocol; this folder adds sockets,
// TLS, timers and the mailbox lock table; logins go through core's Authenticator (the throttle
// of failed logins shared with SMTP AUTH, core/login.ts).
// Untrusted input: every byte from clients (bounded 255-octet lines, validated arguments),
// TLS handshakes. Persists nothing itself: deletions go to the injected MailboxStore only in
// the UPDATE state after QUIT, and login events to the injected Journal. Safe to crash at any
// time: a lost session deletes nothing and its lock lives only in memory (with a shared store,
// the injected Pop3MaildropLocks holds the maildrop across nodes: store/pg/maildrop-locks.ts).
export * from './server.js';
export * from './protocol/index.js';
