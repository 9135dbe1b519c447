// SenderPolicy (SPEC.md §7, seed 002 "pretending to be someone else"): which envelope senders a
// local user may use. One rule for the submission tools (note, sendmail: the calling process's
// user) and for the spool reader (a spool file not written by the gateway: its owner, the one
// attribute a producer cannot forge — attributes.ts). Pure.
//
// Own: uid 0 may name any sender; any other user only `<user>@<domain>`, the local part compared
// case-sensitively (it is a login name) and the domain case-insensitively, where the domain is
// Users DefaultDomain, else HostName. The null reverse-path <> names nobody, so it passes
// off no one's mail as the user's: it is allowed (docs/submission.md). Any: every sender.
import { type Mailbox, type ReversePath } from '../core/address.js';
import type { SenderPolicy } from '../config/types.js';

/** Who asks: the process's user (submission tools) or a spool file's owner. */
export interface SenderIdentity {
  readonly uid: number;
  readonly user: string;
}

/** The local domain of submitted mail: Users DefaultDomain, else HostName. */
export function localDomain(c: { users: { defaultDomain: string | null }; hostName: string }): string {
  return c.users.defaultDomain ?? c.hostName;
}

/** Is `who` allowed to use `from` as envelope sender under `policy`? */
export function senderAllowed(policy: SenderPolicy, who: SenderIdentity, domain: string, from: ReversePath | Mailbox): boolean {
  if (policy === 'any' || who.uid === 0) return true;
  if ('kind' in from && from.kind === 'null') return true;
  const mb = 'kind' in from ? from.mailbox : from;
  return mb.local === who.user && mb.domain.toLowerCase() === domain.toLowerCase();
}
