// The HTTP API's bearer token: created once, random, in `<StateDirectory>/http.token` (mode
// 0600, like the control socket and the demo password). Whoever can read the state directory
// is an operator; the token carries that to HTTP clients that are not the instance's user.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { SpoolgateError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';

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
