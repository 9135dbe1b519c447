// RFC 4954 AUTH with the PLAIN (RFC 4616) and LOGIN mechanisms, only over TLS (SPEC.md §5).
// Passwords go to the injected AuthChecker (core's Authenticator: canonical name, the failed-login
// throttle shared with POP3) and are never logged or traced; the session is authenticated as the
// canonical name the checker returns, never as the bytes the client sent.
import { describeError } from '../../core/errors.js';
import { canonicalLoginName, loggableLoginName } from '../../core/login.js';
import { Codes } from '../protocol/codes.js';
import type { CommandOf, SessionApi } from './state.js';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeB64(s: string): string | undefined {
  if (!B64.test(s) || s.length % 4 !== 0) return undefined;
  return Buffer.from(s, 'base64').toString('utf8');
}

export async function startAuth(s: SessionApi, cmd: CommandOf<'AUTH'>): Promise<void> {
  if (!s.opts.authChecker) {
    s.reply(Codes.C502NotImplemented, 'command not implemented');
    return;
  }
  // RFC 4954 §4 + SPEC.md §5: no plaintext passwords; AUTH needs TLS first.
  if (!s.tls) {
    s.reply(Codes.C538EncryptionRequired, 'encryption required for requested authentication mechanism');
    return;
  }
  if (s.authUser !== undefined) {
    s.reply(Codes.C503BadSequence, 'already authenticated');
    return;
  }
  const mechanism = cmd.mechanism;
  if (mechanism !== 'PLAIN' && mechanism !== 'LOGIN') {
    s.reply(Codes.C504ParameterNotImplemented, 'unrecognized authentication mechanism');
    return;
  }
  if (cmd.initial === undefined) {
    s.state = { kind: 'auth', mechanism };
    // RFC 4954 §4: an empty challenge for PLAIN; LOGIN asks "Username:" in base64.
    s.reply(Codes.C334AuthChallenge, mechanism === 'PLAIN' ? '' : 'VXNlcm5hbWU6', false);
    return;
  }
  await authResponse(s, mechanism, undefined, cmd.initial);
}

/** One client response line inside the SASL exchange (state 'auth'). */
export async function authLine(s: SessionApi, line: string): Promise<void> {
  const st = s.state;
  if (st.kind !== 'auth') return;
  await authResponse(s, st.mechanism, st.user, line.trim());
}

async function authResponse(s: SessionApi, mechanism: 'PLAIN' | 'LOGIN', user: string | undefined, response: string): Promise<void> {
  // RFC 4954 §4: "*" cancels the exchange.
  if (response === '*') {
    s.state = { kind: 'ready' };
    s.reply(Codes.C501ArgumentSyntax, 'authentication cancelled');
    return;
  }
  // RFC 4954 §4: "=" is an empty initial response.
  const decoded = response === '=' ? '' : decodeB64(response);
  if (decoded === undefined) {
    s.state = { kind: 'ready' };
    s.reply(Codes.C501ArgumentSyntax, 'cannot decode response');
    return;
  }
  let name: string;
  let password: string;
  if (mechanism === 'LOGIN') {
    if (user === undefined) {
      s.state = { kind: 'auth', mechanism, user: decoded };
      s.reply(Codes.C334AuthChallenge, 'UGFzc3dvcmQ6', false);
      return;
    }
    name = user;
    password = decoded;
  } else {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd. We do not let one user act for another.
    const parts = decoded.split('\0');
    if (parts.length !== 3 || (parts[0] !== '' && (canonicalLoginName(parts[0]!) ?? parts[0]) !== (canonicalLoginName(parts[1]!) ?? parts[1]))) {
      s.state = { kind: 'ready' };
      await failed(s, loggableLoginName(parts[1] ?? ''));
      return;
    }
    name = parts[1]!;
    password = parts[2]!;
  }
  s.state = { kind: 'ready' };
  if (name === '') {
    await failed(s, name);
    return;
  }
  let r: Awaited<ReturnType<NonNullable<typeof s.opts.authChecker>['login']>>;
  try {
    r = await s.opts.authChecker!.login(name, password, s.info().clientIp);
  } catch (e) {
    s.emit({ kind: 'policy-error', sessionId: s.sessionId, what: 'auth', detail: describeError(e) });
    s.reply(Codes.C454AuthTemporaryFailure, 'temporary authentication failure');
    return;
  }
  if (s.state.kind !== 'ready') return;
  if (!r.ok) {
    if (r.reason === 'unavailable') {
      s.emit({ kind: 'policy-error', sessionId: s.sessionId, what: 'auth', detail: r.detail ?? '' });
      s.reply(Codes.C454AuthTemporaryFailure, 'temporary authentication failure');
      return;
    }
    // RFC 4954 §6: 454 4.7.0 for a temporary refusal (the client address failed too often: the
    // password was not checked), 535 5.7.8 for wrong credentials. Both count towards the
    // session's AUTH failure limit.
    await failed(s, r.user, r.reason === 'throttled', r.detail);
    return;
  }
  s.authUser = r.user;
  s.emit({ kind: 'auth', sessionId: s.sessionId, clientIp: s.info().clientIp, user: r.user, ok: true });
  s.reply(Codes.C235AuthSucceeded, 'authentication successful');
}

/** user: canonical, or as loggableLoginName shows a name that cannot be. */
async function failed(s: SessionApi, user: string, throttled = false, reason?: string): Promise<void> {
  s.emit({ kind: 'auth', sessionId: s.sessionId, clientIp: s.info().clientIp, user: user.slice(0, 64), ok: false, ...(reason !== undefined ? { reason } : {}) });
  if (s.authFailed()) return;
  if (throttled) s.reply(Codes.C454AuthTemporaryFailure, 'temporary authentication failure');
  else s.reply(Codes.C535AuthFailed, 'authentication credentials invalid');
}
