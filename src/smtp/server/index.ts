// smtp/server — the receiver's ESMTP protocol engine (SPEC.md §5).
// What it does: accepts SMTP connections, runs one typed state machine per connection
//   (state.ts, verbs.ts, session.ts), and hands each complete message to an injected InboundSink.
//   Local domains, relay rules, connection restrictions, passwords and storage are injected
//   (types.ts); this folder knows nothing of the store, the spool or the configuration.
// Standards: RFC 5321 (SMTP), RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 2920 (PIPELINING),
//   RFC 2034 (ENHANCEDSTATUSCODES), RFC 3207 (STARTTLS), RFC 3461 (DSN parameters), RFC 4954
//   (AUTH PLAIN/LOGIN, only over TLS), RFC 6531 (SMTPUTF8 addresses), RFC 3848 (Received "with").
// Untrusted input: every byte from the network. Command lines are bounded (512 octets), DATA is
//   bounded by the size limit but read to the final dot, bare CR/LF in DATA is rejected
//   (smuggling), early talkers and HTTP requests are refused, plaintext pipelined after
//   STARTTLS is discarded, and bad commands, AUTH failures and connections are limited.
// Memory and time per connection are bounded (session.ts header): input held is at most 64 KiB;
//   while 64 KiB of replies are unsent (a client that pipelines and does not read) no command is
//   processed and nothing is read until 'drain'. Timeouts are deadlines, not idle timers: a
//   command line must be complete within commandTimeoutMs of our waiting for it, and DATA must
//   bring dataBlockOctets (64 KiB) per dataTimeoutMs (Postfix's smtpd_per_record_deadline and
//   smtpd_min_data_rate); a byte now and then extends neither. 421 4.4.2 when one passes.
// Persists: nothing itself. A message is acknowledged with 250 only after the sink resolved
//   (the sink must make it durable first), so it is safe to crash at any time: a message not yet
//   acknowledged is the client's to retry.
// VRFY: off by default → "252 2.5.0 cannot VRFY user" (RFC 5321 §3.5.3 allows 252 for a server
//   that will not verify); on → the injected VrfyPolicy answers.
export { SmtpServer, type ListenAddress, type SmtpServerUpdate } from './listener.js';
export { receivedHeader, rfc5322Date } from './received.js';
export * from './types.js';
