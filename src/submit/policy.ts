// Sender policy for submission (SPEC.md §7, seed 002 "pretending to be someone else"): the sender
// defaults to the calling user at the local domain; with SenderPolicy Own only a privileged user
// may name another sender. Pure: the caller passes the uid and user name it obtained. The rule
// itself is spool/sender-policy.ts, shared with the spool reader, which applies it to spool files
// by their owner.
import { type Mailbox, parseMailbox, describeAddressProblem, type Result, err } from '../core/index.js';
import type { SenderPolicy } from '../config/index.js';
import { localDomain, senderAllowed, type SenderIdentity } from '../spool/sender-policy.js';

export { localDomain };

export type Caller = SenderIdentity;

export interface SenderRefusal {
  readonly code: 'SG_NOTE_SENDER_NOT_ALLOWED' | 'SG_NOTE_BAD_SENDER';
  readonly message: string;
}

/**
 * The envelope sender of a note. `from` is what the caller asked for (undefined = default).
 * Policy Own: a caller other than uid 0 may only use its own address (user@domain, compared with
 * the local part case-sensitively and the domain case-insensitively).
 */
export function decideSender(opts: { policy: SenderPolicy; caller: Caller; domain: string; from?: string }): Result<Mailbox, SenderRefusal> {
  const own = parseMailbox(`${opts.caller.user}@${opts.domain}`);
  if (opts.from === undefined) {
    if (!own.ok) return err({ code: 'SG_NOTE_BAD_SENDER', message: `the default sender ${opts.caller.user}@${opts.domain} is not a valid address: ${describeAddressProblem(own.error)}` });
    return own;
  }
  const asked = parseMailbox(opts.from);
  if (!asked.ok) return err({ code: 'SG_NOTE_BAD_SENDER', message: `--from ${opts.from}: ${describeAddressProblem(asked.error)}` });
  if (senderAllowed(opts.policy, opts.caller, opts.domain, asked.value)) return asked;
  return err({
    code: 'SG_NOTE_SENDER_NOT_ALLOWED',
    message: `user ${opts.caller.user} may not send as ${opts.from}: SenderPolicy Own allows only ${opts.caller.user}@${opts.domain}`,
  });
}
