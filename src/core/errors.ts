// One base error class with a literal `code` and a `cause` (STYLE.md §4, modelled on undici).
// Subclasses narrow `code`; callers branch on `code`, never on message text.
export class SpoolgateError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration problem: names file, line, statement and parameter (see src/config). */
export class ConfigError extends SpoolgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
  }
}

/** A network or socket failure. Always transient (SPEC.md §2.1). */
export class TransportError extends SpoolgateError {
  readonly permanent = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRANSPORT', message, options);
  }
}

/** The peer broke the protocol (malformed reply, desync). Transient for delivery purposes. */
export class ProtocolError extends SpoolgateError {
  readonly permanent = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** A timer fired: which step and how many milliseconds it allowed. */
export class TimeoutError extends SpoolgateError {
  readonly permanent = false;
  readonly step: string;
  readonly ms: number;
  constructor(step: string, ms: number) {
    super('ERR_TIMEOUT', `timed out after ${ms} ms waiting for ${step}`);
    this.step = step;
    this.ms = ms;
  }
}

/** Human-readable text of any thrown value, for logs and reports. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
