// The verb table (STYLE.md §3): for every SMTP verb, the states it is allowed in and its handler.
// The dispatcher in session.ts answers out-of-sequence commands (503 5.5.1) from `allowedIn`,
// so handlers only ever see commands that are in sequence.
import { formatPath, formatMailbox } from '../../core/address.js';
import { describeError } from '../../core/errors.js';
import type { Recipient } from '../../core/envelope.js';
import { Codes } from '../protocol/codes.js';
import { DataReader } from '../protocol/data-reader.js';
import type { Verb } from '../protocol/parse-command.js';
import { startAuth } from './auth.js';
import type { CommandOf, SessionApi, StateKind } from './state.js';

export interface VerbEntry<V extends Verb> {
  readonly allowedIn: readonly StateKind[];
  /** Text of the 503 reply per state the verb is not allowed in (default: generic). */
  readonly sequenceText?: Partial<Record<StateKind, string>>;
  readonly handle: (s: SessionApi, cmd: CommandOf<V>) => Promise<void> | void;
}

export type VerbTable = { readonly [V in Verb]: VerbEntry<V> };

const SESSION: readonly StateKind[] = ['greeting', 'ready', 'mail', 'rcpt'];
const NEED_HELO = 'send EHLO or HELO first';

function notImplemented(s: SessionApi): void {
  s.reply(Codes.C502NotImplemented, 'command not implemented');
}

/** RFC 5321 §4.1.4: EHLO/HELO (and RSET) abort a transaction in progress. */
function resetTo(s: SessionApi): void {
  s.state = s.heloName === '' ? { kind: 'greeting' } : { kind: 'ready' };
}

function ehloLines(s: SessionApi): string[] {
  const { limits } = s.opts;
  const lines = [`${s.opts.hostName} greets ${s.heloName}`, 'PIPELINING'];
  // RFC 1870 §4: "SIZE" with the fixed maximum, or no number when there is no limit.
  lines.push(limits.maxMessageSize > 0 ? `SIZE ${limits.maxMessageSize}` : 'SIZE');
  lines.push('8BITMIME', 'ENHANCEDSTATUSCODES', 'DSN', 'SMTPUTF8');
  if (s.canStartTls) lines.push('STARTTLS');
  // RFC 4954 §4 + SPEC.md §5: AUTH only over TLS; not advertised before it.
  if (s.tls && s.opts.authChecker && s.authUser === undefined) lines.push('AUTH PLAIN LOGIN');
  lines.push('HELP');
  return lines;
}

export const VERB_TABLE: VerbTable = {
  EHLO: {
    allowedIn: SESSION,
    handle(s, cmd) {
      s.heloName = cmd.domain;
      s.esmtp = true;
      s.state = { kind: 'ready' };
      s.reply(Codes.C250Ok, ehloLines(s), false);
    },
  },
  HELO: {
    allowedIn: SESSION,
    handle(s, cmd) {
      s.heloName = cmd.domain;
      s.esmtp = false;
      s.state = { kind: 'ready' };
      s.reply(Codes.C250Ok, `${s.opts.hostName}`, false);
    },
  },
  MAIL: {
    allowedIn: ['ready'],
    sequenceText: { greeting: NEED_HELO, mail: 'sender already given', rcpt: 'sender already given' },
    async handle(s, cmd) {
      const st = s.state;
      const max = s.opts.limits.maxMessageSize;
      // RFC 1870 §6.2: a declared SIZE over the fixed limit is refused at MAIL with 552.
      if (max > 0 && cmd.params.size !== undefined && cmd.params.size > max) {
        s.reply(Codes.C552MessageTooBig, 'message size exceeds fixed maximum message size');
        return;
      }
      const policy = s.opts.senderPolicy;
      if (policy !== undefined) {
        let decision;
        try {
          decision = await policy.checkSender(s.info(), cmd.from);
        } catch (e) {
          s.emit({ kind: 'policy-error', sessionId: s.sessionId, what: 'sender', detail: describeError(e) });
          s.reply(Codes.C451LocalError, 'local error in processing');
          return;
        }
        if (s.state !== st) return; // closed meanwhile
        if (decision.kind === 'reject') {
          s.emit({ kind: 'sender-rejected', sessionId: s.sessionId, from: formatPath(cmd.from), code: decision.reply.code.code, reason: decision.logReason ?? 'rejected by sender policy' });
          s.reply(decision.reply.code, decision.reply.text);
          return;
        }
      }
      s.state = { kind: 'mail', tx: { from: cmd.from, params: cmd.params, recipients: [] } };
      s.reply(Codes.C250SenderOk, 'sender ok');
    },
  },
  RCPT: {
    allowedIn: ['mail', 'rcpt'],
    sequenceText: { greeting: NEED_HELO, ready: 'need MAIL before RCPT' },
    async handle(s, cmd) {
      const st = s.state;
      if (st.kind !== 'mail' && st.kind !== 'rcpt') return;
      const tx = st.tx;
      // RFC 5321 §4.5.3.1.10: too many recipients → 452, the client retries the rest later.
      if (tx.recipients.length >= s.opts.limits.maxRecipients) {
        s.reply(Codes.C452TooManyRecipients, 'too many recipients');
        return;
      }
      let decision;
      try {
        decision = await s.opts.recipientPolicy.checkRecipient(s.info(), { from: tx.from, recipients: [...tx.recipients] }, cmd.to);
      } catch (e) {
        s.emit({ kind: 'recipient-rejected', sessionId: s.sessionId, from: formatPath(tx.from), recipient: formatMailbox(cmd.to), code: 451, reason: `policy error: ${describeError(e)}` });
        s.reply(Codes.C451LocalError, 'local error in processing');
        return;
      }
      if (s.state !== st) return; // closed meanwhile
      if (decision.kind === 'reject') {
        s.emit({ kind: 'recipient-rejected', sessionId: s.sessionId, from: formatPath(tx.from), recipient: formatMailbox(cmd.to), code: decision.reply.code.code, reason: decision.logReason ?? 'rejected by recipient policy' });
        s.reply(decision.reply.code, decision.reply.text);
        return;
      }
      const r: Recipient = {
        mailbox: cmd.to,
        ...(cmd.params.notify ? { notify: cmd.params.notify } : {}),
        ...(cmd.params.orcpt ? { orcpt: cmd.params.orcpt } : {}),
      };
      tx.recipients.push(r);
      s.state = { kind: 'rcpt', tx };
      s.reply(Codes.C250RecipientOk, 'recipient ok');
    },
  },
  DATA: {
    allowedIn: ['rcpt'],
    sequenceText: { greeting: NEED_HELO, ready: 'need MAIL before DATA', mail: 'need RCPT before DATA' },
    handle(s) {
      const st = s.state;
      if (st.kind !== 'rcpt') return;
      s.state = { kind: 'data', tx: st.tx, reader: new DataReader({ maxBytes: s.opts.limits.maxMessageSize }) };
      s.reply(Codes.C354StartData, 'end data with <CR><LF>.<CR><LF>');
    },
  },
  RSET: {
    allowedIn: SESSION,
    handle(s) {
      resetTo(s);
      s.reply(Codes.C250Ok, 'reset');
    },
  },
  NOOP: {
    allowedIn: SESSION,
    handle(s) {
      s.reply(Codes.C250Ok, 'ok');
    },
  },
  QUIT: {
    allowedIn: SESSION,
    handle(s) {
      s.reply(Codes.C221Closing, `${s.opts.hostName} closing connection`);
      s.close();
    },
  },
  HELP: {
    allowedIn: SESSION,
    handle(s) {
      s.reply(Codes.C214Help, ['commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY STARTTLS AUTH', 'see RFC 5321']);
    },
  },
  VRFY: {
    allowedIn: SESSION,
    async handle(s, cmd) {
      // RFC 5321 §3.5.3: a server that does not verify answers 252 ("cannot VRFY user, but will
      // accept message"). VRFY is off by default (SPEC.md §5: privacy).
      if (!s.opts.vrfy) {
        s.reply(Codes.C252VrfyDisabled, 'cannot VRFY user, but will accept message and attempt delivery');
        return;
      }
      let r;
      try {
        r = await s.opts.vrfy.verify(s.info(), cmd.arg);
      } catch (e) {
        s.emit({ kind: 'policy-error', sessionId: s.sessionId, what: 'vrfy', detail: describeError(e) });
        s.reply(Codes.C451LocalError, 'local error in processing');
        return;
      }
      s.reply(r.code, r.text);
    },
  },
  // RFC 5321 §3.5.3 / §4.5.1: EXPN need not be implemented; TURN, SEND, SOML, SAML are obsolete.
  EXPN: { allowedIn: SESSION, handle: notImplemented },
  TURN: { allowedIn: SESSION, handle: notImplemented },
  SEND: { allowedIn: SESSION, handle: notImplemented },
  SOML: { allowedIn: SESSION, handle: notImplemented },
  SAML: { allowedIn: SESSION, handle: notImplemented },
  STARTTLS: {
    // RFC 3207 §4: STARTTLS comes after EHLO; not inside a transaction.
    allowedIn: ['greeting', 'ready'],
    handle(s) {
      if (!s.canStartTls) {
        if (s.tls) s.reply(Codes.C503BadSequence, 'TLS already active');
        else notImplemented(s);
        return;
      }
      s.reply(Codes.C220ServiceReady, 'ready to start TLS');
      // RFC 3207 §4.2: forget everything learned before TLS; the client must send EHLO again.
      s.heloName = '';
      s.esmtp = false;
      s.state = { kind: 'greeting' };
      s.startTls();
    },
  },
  AUTH: {
    // RFC 4954 §4: not during a mail transaction, not twice.
    allowedIn: ['ready'],
    sequenceText: { greeting: NEED_HELO, mail: 'not during a mail transaction', rcpt: 'not during a mail transaction' },
    handle: startAuth,
  },
};
