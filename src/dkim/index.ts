// dkim — DKIM signing (RFC 6376) of outgoing mail, per From: domain, with keys from files
// (the Dkim statement; docs/dkim.md).
//
// The forwarder asks signMessage() for each message just before it is handed to a target, after
// the user exit and after every header the gateway adds (Received), and sends the returned
// DKIM-Signature field ahead of the message bytes: the signature covers exactly what the target
// receives. Mail already signed for its From: domain is not signed again.
// Standards: RFC 6376 (signing, relaxed/relaxed canonicalisation), RFC 8301 (rsa-sha256, keys of
//   at least 1024 bits), RFC 8463 (ed25519-sha256), RFC 7489 §3.1.1 (d= is the From: domain).
// Untrusted input: the message (its header section is read up to 1 MiB; anything else is not
//   signed), the key files (read by loadDkimKeys; any problem is a configuration error).
// Persists nothing. Safe to crash at any time. The private keys never appear in logs,
//   displays or errors (DkimKey prints as its domain and selector).
export { signMessage, fromDomain, DEFAULT_SIGNED_HEADERS, type SignResult, type SkipReason } from './sign.js';
export { loadDkimKeys, DkimKey, DkimKeyring, MIN_RSA_BITS, type LoadedKeys, type KeyFileReader } from './keys.js';
export { MAX_HEADER_SECTION_BYTES } from './canon.js';
