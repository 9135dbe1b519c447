// Sender identity for authenticated submission (ext, Receiver SenderLoginMatch, default YES; as
// Postfix's reject_sender_login_mismatch): a client that authenticated (RFC 4954) may name as
// MAIL FROM only an address that delivers to its own mailbox — its user name at a local domain,
// or one of its aliases — so a login cannot be used to send as someone else. The address is
// resolved exactly as a local recipient would be (classifyRecipient + UserDirectory.resolve),
// so "owned by" and "delivered to" are one rule.
// Decision: the null reverse-path <> is accepted from an authenticated user. It names nobody, so
// it cannot pass the mail off as someone else's; mail clients send RFC 3834 auto-replies and read
// receipts with it; the AUTH identity stays with the message (ESMTPSA in our Received field,
// the message entry's origin, the journal). Unauthenticated sessions are not judged here: they
// may only reach local mailboxes unless RelayMode lets them relay.
import { formatMailbox } from '../core/address.js';
import type { ReversePath } from '../core/address.js';
import type { ReceiverConfig } from '../config/types.js';
import { Codes } from '../smtp/protocol/codes.js';
import type { SenderDecision, SenderPolicy, SessionInfo } from '../smtp/server/types.js';
import { canonicalUser } from '../store/names.js';
import type { RecipientClass } from './recipients.js';

export const SENDER_NOT_OWNED = { code: Codes.C553SenderNotOwned, text: 'sender address not owned by the authenticated user' } as const;

const ACCEPT: SenderDecision = { kind: 'accept' };

/** The SenderPolicy the SMTP server asks at each MAIL; reads SenderLoginMatch at that moment (REFRESH: the next MAIL). */
export class ReceiverSenderPolicy implements SenderPolicy {
  constructor(
    private readonly cfg: () => Pick<ReceiverConfig, 'senderLoginMatch'>,
    private readonly classify: (mailbox: { local: string; domain: string }) => RecipientClass,
    private readonly resolveUser: (address: string) => Promise<string | undefined>,
  ) {}

  async checkSender(session: SessionInfo, from: ReversePath): Promise<SenderDecision> {
    if (session.authUser === undefined || !this.cfg().senderLoginMatch) return ACCEPT;
    if (from.kind === 'null') return ACCEPT;
    const me = canonicalUser(session.authUser);
    const address = formatMailbox(from.mailbox);
    const c = this.classify(from.mailbox);
    if (c.kind !== 'local') {
      return { kind: 'reject', reply: SENDER_NOT_OWNED, logReason: `authenticated as ${me ?? '?'}: ${address} is not an address of a local domain` };
    }
    const owner = await this.resolveUser(c.lookup);
    if (me === undefined || owner !== me) {
      return { kind: 'reject', reply: SENDER_NOT_OWNED, logReason: `authenticated as ${me ?? '?'}: ${address} ${owner === undefined ? 'belongs to no user' : `belongs to ${owner}`}` };
    }
    return ACCEPT;
  }
}
