// pop3/protocol — the pure half of the POP3 server: command-line framing (255-octet limit),
// command parsing, the AUTHORIZATION/TRANSACTION/UPDATE state machine with its verb table, and
// byte-stuffing for RETR/TOP. No sockets, files or timers.
// Standards: RFC 1939 (POP3), RFC 2449 (CAPA, RESP-CODES, 255-octet lines), RFC 2595 (STLS),
// RFC 3206 (AUTH and SYS response codes), RFC 5034 + RFC 4616 (AUTH PLAIN).
// Untrusted input: every byte a client sends; lines are length-bounded, decoded as printable
// UTF-8 and parsed into values, never thrown on.
// Persists nothing; safe to crash (the Maildrop's owner decides what a lost session means).
export * from './command.js';
export * from './line-reader.js';
export * from './message.js';
export * from './session.js';
