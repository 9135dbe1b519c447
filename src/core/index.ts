// core — leaf types shared by every role: addresses, envelopes, ids, time, DNS, errors and
// results, and the one door for password logins (login.ts: canonical login names, the failed-login
// throttle shared by SMTP AUTH and POP3, the trace mask for AUTH lines). Imports only node:
// built-ins (checked by src/architecture.test.ts).
// Standards: RFC 5321 §4.1.2 (paths), §4.5.3.1 (size limits), RFC 3461 (DSN envelope fields).
// Untrusted input: address strings (parsed into Result values, never thrown).
// Persists nothing.
export * from './address.js';
export * from './clock.js';
export * from './envelope.js';
export * from './envelope-json.js';
export * from './errors.js';
export * from './ids.js';
export * from './resolver.js';
export * from './result.js';
export * from './shutdown.js';
export * from './login.js';
export * from './health.js';
export * from './service-counters.js';
