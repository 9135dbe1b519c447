// The HTTP API's bearer token: created once, random, in `<StateDirectory>/http.token` (mode
// 0600, like the control socket and the demo password). Whoever can read the state directory
// is an operator; the token carries that to HTTP clients that are not the instance's user.
// [P2] #19: with Store Backend PostgreSQL each node still makes and keeps its own token file, and
// registers the token's SHA-256 (never the token) in a table the nodes share (sharedTokens): any
// node accepts a token any node made, so a client's token works on every node, and each node's
// operator reads the token file on their own node (docs/cluster.md). Without it: localTokens, the
// file alone, as before. Tokens are never logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SpoolgateError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { HttpTokenKind, HttpTokenTable } from '../store/records.js';

/** A token shorter than this (hand-written file) is refused: it could be guessed. */
export const MIN_TOKEN_CHARS = 16;

export class HttpTokenError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_HTTP_TOKEN', message, options);
  }
}

export interface TokenFile {
  readonly token: string;
  readonly created: boolean;
  /** The file's permission bits (a warning is due when group or others may read it). */
  readonly mode: number;
}

/** Reads the token file, or creates it (0600, 32 random bytes base64url) when it does not exist. */
export async function loadOrCreateToken(path: string): Promise<TokenFile> {
  try {
    // noReplace: never overwrite a token another start (or the operator) wrote; atomic, so a
    // crash never leaves a half-written token that the next start would refuse.
    const token = randomBytes(32).toString('base64url');
    await writeFileAtomic(dirname(path), basename(path), [token + '\n'], { mode: 0o600, noReplace: true });
    return { token, created: true, mode: statSync(path).mode & 0o777 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new HttpTokenError(`cannot create HTTP token file ${path}: ${describeError(e)}`, { cause: e });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HttpTokenError(`cannot read HTTP token file ${path}: ${describeError(e)}`, { cause: e });
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
    throw new HttpTokenError(`HTTP token file ${path} must hold one token of at least ${MIN_TOKEN_CHARS} characters without blanks (delete it to get a new one)`);
  }
  return { token, created: false, mode: statSync(path).mode & 0o777 };
}

/** Checks an Authorization header value against the token in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235 §2.1).
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (m === null) return false;
  // Hash both sides so the comparison has a fixed length and time whatever was sent.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** A bearer token longer than this is refused before it is hashed or looked up. */
export const MAX_TOKEN_CHARS = 512;

/** The tokens an instance accepts for one kind (the operator's API token, or the send-only token). */
export interface HttpTokens {
  /** This node's token file (made when missing): what the operator on this node reads. */
  readonly file: TokenFile;
  /** Does the Authorization header carry an accepted token? */
  matches(authorization: string | undefined): Promise<boolean>;
}

/** The token of `Bearer <token>`, or undefined for anything else (or a token over MAX_TOKEN_CHARS). */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (m === null || m[1]!.length > MAX_TOKEN_CHARS) return undefined;
  return m[1]!;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** One machine: the token file's token, nothing else. */
export async function localTokens(path: string): Promise<HttpTokens> {
  const file = await loadOrCreateToken(path);
  return { file, matches: (h) => Promise.resolve(bearerMatches(h, file.token)) };
}

/** A token not in the cache is looked up in the table at most this often. */
export const TOKEN_LOOKUP_MS = 1_000;

/**
 * A cluster: this node's token file as localTokens, its hash registered in the table; a token
 * that is not this node's is accepted when its hash is one of the table's. Unknown tokens cost at
 * most one query per TOKEN_LOOKUP_MS (a flood of wrong tokens does not reach the database more
 * often): a token not in the cache waits for the next lookup that starts after it arrived (at
 * most TOKEN_LOOKUP_MS, shared by every request waiting), so a token another node registered a
 * moment ago is accepted, never answered 401 for being new. With the database unreachable, this
 * node's own token still works; registration is tried again at the next lookup.
 */
export async function sharedTokens(path: string, table: HttpTokenTable, kind: HttpTokenKind, opts: { readonly now?: () => number; readonly wait?: (ms: number) => Promise<void>; readonly onError?: (e: unknown) => void } = {}): Promise<HttpTokens> {
  const file = await loadOrCreateToken(path);
  const now = opts.now ?? Date.now;
  const wait = opts.wait ?? ((ms: number) => delay(ms));
  const own = sha256(file.token);
  let registered = false;
  let known: Buffer[] = [];
  let lookedUp = -Infinity;
  const refresh = async (): Promise<void> => {
    lookedUp = now();
    try {
      if (!registered) { await table.register(kind, own); registered = true; }
      known = await table.hashes(kind);
    } catch (e) {
      opts.onError?.(e);
    }
  };
  const has = (hash: Buffer): boolean => {
    let found = false;
    // Every hash compared in constant time, all of them (no early exit).
    for (const k of known) if (k.length === hash.length && timingSafeEqual(k, hash)) found = true;
    return found;
  };
  let next: Promise<void> | undefined;
  // The first lookup to start after this call, TOKEN_LOOKUP_MS after the last one at the soonest
  // (the wait bounded by TOKEN_LOOKUP_MS whatever the clock does); every caller until it starts
  // shares it. A lookup already under way may have read the table before the token was registered.
  const lookupFromNow = (): Promise<void> => {
    if (next !== undefined) return next;
    const due = Math.min(TOKEN_LOOKUP_MS, lookedUp + TOKEN_LOOKUP_MS - now());
    // .then runs after `next` is set: callers from here until the lookup starts share it.
    next = (due > 0 ? wait(due).catch(() => undefined) : Promise.resolve()).then(() => { next = undefined; return refresh(); });
    return next;
  };
  await refresh();
  return {
    file,
    matches: async (h) => {
      if (bearerMatches(h, file.token)) return true;
      const token = bearerToken(h);
      if (token === undefined) return false;
      const hash = sha256(token);
      if (has(hash)) return true;
      await lookupFromNow();
      return has(hash);
    },
  };
}

/** The tokens of one kind for this instance: shared through `table` when given, else the file alone. */
export function httpTokens(path: string, kind: HttpTokenKind, table: HttpTokenTable | undefined, onError?: (e: unknown) => void): Promise<HttpTokens> {
  return table === undefined ? localTokens(path) : sharedTokens(path, table, kind, onError === undefined ? {} : { onError });
}
