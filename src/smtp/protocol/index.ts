// smtp/protocol — the pure part of SMTP shared by the client (smtp/client) and the server
// (smtp/server): reply codes and reply formatting, reply parsing, command formatting and
// parsing, EHLO capabilities, line and DATA framing, dot-stuffing. No sockets, no files, no
// clock (enforced by src/architecture.test.ts), so every function here is fuzzable in isolation.
//
// Standards: RFC 5321 (§2.3.8 line ends, §4.1 commands, §4.2 replies, §4.5.2 transparency,
// §4.5.3.1 size limits), RFC 1870 SIZE, RFC 2034/3463 enhanced status codes, RFC 2920
// PIPELINING, RFC 3207 STARTTLS, RFC 3461 DSN parameters and xtext, RFC 4954 AUTH (RFC 4616
// PLAIN, LOGIN), RFC 6152 8BITMIME, RFC 6531 SMTPUTF8.
// Untrusted input: bytes from SMTP peers (replies for the client, commands and DATA for the
// server); every parser is incremental, bounded, and reports malformed input as a typed value.
// Persists nothing; holds no state beyond the parser objects its callers own. Safe to crash.

// client side (client engineer)
export * from './reply.js';
export * from './ehlo.js';
export * from './dot-stuff.js';
// Command formatting as a namespace (Cmd.mailFrom, Cmd.DATA, Cmd.xtextEncode) so its short names
// cannot clash with the server's command parser.
export * as Cmd from './command.js';
export * from './codes.js';
// server side (server engineer): line-reader.js, data-reader.js, parse-command.js
