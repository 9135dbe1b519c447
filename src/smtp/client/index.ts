// smtp/client — one outbound SMTP session over TCP (optionally TLS after STARTTLS): greeting,
// EHLO/HELO, STARTTLS with certificate verification, AUTH PLAIN/LOGIN over TLS only, then
// messages with per-recipient outcomes, RSET between them, QUIT. Knows nothing of queues,
// targets or retries: the forwarder decides what an outcome means for the spool.
//
// Standards: RFC 5321 (client side), RFC 1870 SIZE, RFC 2920 PIPELINING, RFC 3207 STARTTLS,
// RFC 6152 8BITMIME, RFC 3461 DSN parameters, RFC 6531 SMTPUTF8, RFC 4954 AUTH (RFC 4616 PLAIN,
// LOGIN), RFC 3463 enhanced codes. Timeouts follow the CSSMTP Timeout statement (seed 000).
// Untrusted input: every byte the server sends (parsed by smtp/protocol ReplyParser, bounded;
// a malformed or unexpected reply marks the session broken).
// Persists nothing and logs nothing (an optional trace callback sees commands and replies, never
// AUTH secrets or message bodies). Safe to crash: an interrupted transaction is never reported
// as sent, so the forwarder retries it (a crash after the final dot may duplicate a message).
export { SmtpClientSession, DEFAULT_MESSAGE_SIZE } from './session.js';
export { DATA_BLOCK_BYTES } from './transaction.js';
export * from './types.js';
