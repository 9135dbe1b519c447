// Which recipients we take (SPEC.md §5): local domains (enrolled users and aliases) and relay
// under one of the five iSeries relay restrictions. Every relay trick is refused before any
// domain matching, so no spelling of an address can turn a refused relay into an accepted one.
import { domainKey, formatMailbox, type Mailbox } from '../core/address.js';
import type { ReceiverConfig } from '../config/types.js';
import type { EnvelopeSoFar, RecipientDecision, RecipientPolicy, SessionInfo } from '../smtp/server/types.js';
import { Codes } from '../smtp/protocol/codes.js';
import { isIP } from 'node:net';
import { inAnyCidr } from './cidr.js';

/**
 * The key a domain is compared with: domainKey, and for an address literal (RFC 5321 §4.1.3) the
 * canonical address, so [IPv6:2001:DB8:0::1] and [IPv6:2001:db8::1] are the same LocalDomain.
 */
export function domainMatchKey(domain: string): string {
  const d = domainKey(domain);
  if (!d.startsWith('[') || !d.endsWith(']')) return d;
  const inner = d.slice(1, -1);
  if (isIP(inner) === 4) return d;
  const v6 = inner.startsWith('ipv6:') ? inner.slice(5) : inner;
  return isIP(v6) === 6 ? `[ipv6:${new URL(`http://[${v6}]/`).hostname.slice(1, -1)}]` : d;
}

/** What a recipient address is to us. */
export type RecipientClass =
  | { readonly kind: 'local'; readonly lookup: string }
  | { readonly kind: 'relay'; readonly domain: string }
  | { readonly kind: 'trick'; readonly why: string };

/** The local part without its quotes (RFC 5321 §4.1.2 Quoted-string with quoted-pairs undone). */
export function unquoteLocal(local: string): string {
  if (!local.startsWith('"') || !local.endsWith('"') || local.length < 2) return local;
  return local.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * Classifies a recipient. Refused outright as routing tricks, whatever the domain:
 * - "%" in the local part (the percent hack: a%b@us would go on to b),
 * - "!" (UUCP bang paths: b!a@us would go on to b),
 * - "@" or ":" or "," inside a quoted local part ("a@b"@us, source-route text),
 * - a domain that is empty (other than the bare Postmaster) or has an empty label.
 * A trailing dot in a domain is the same domain (RFC 1034 absolute name) and is compared without it.
 */
export function classifyRecipient(mailbox: Mailbox, localDomains: ReadonlySet<string>): RecipientClass {
  const local = unquoteLocal(mailbox.local);
  if (/[%!]/.test(local)) return { kind: 'trick', why: 'routing character in local part' };
  if (/[@:,]/.test(local)) return { kind: 'trick', why: 'address or route inside local part' };
  if (/[\s"\\]/.test(local)) return { kind: 'trick', why: 'quoted special characters in local part' };
  // RFC 5321 §4.1.1.3: "<Postmaster>" with no domain is always ours.
  if (mailbox.domain === '') return local.toLowerCase() === 'postmaster' ? { kind: 'local', lookup: 'postmaster' } : { kind: 'trick', why: 'no domain' };
  const domain = domainMatchKey(mailbox.domain);
  if (domain === '' || domain.split('.').some((l) => l === '')) return { kind: 'trick', why: 'empty domain label' };
  // Address literals ([192.0.2.1], [IPv6:...]) are local only when listed as a LocalDomain.
  if (localDomains.has(domain)) return { kind: 'local', lookup: domain.startsWith('[') ? local.toLowerCase() : `${local.toLowerCase()}@${domain}` };
  return { kind: 'relay', domain };
}

/** RelayMode NearDomains: the recipient's domain is a near domain or a subdomain of one. */
export function isNearDomain(domain: string, nearDomains: readonly string[]): boolean {
  if (domain.startsWith('[')) return false;
  return nearDomains.some((n) => {
    const k = domainKey(n);
    return domain === k || domain.endsWith('.' + k);
  });
}

export type RelayVerdict = { readonly allowed: true; readonly why: string } | { readonly allowed: false; readonly why: string };

/**
 * The five relay restrictions of the iSeries SMTP server, plus: an authenticated session
 * (RFC 4954) may always relay. "both" accepts when either list allows (recipient in the near
 * domains list OR client in the address relay list).
 */
export function relayAllowed(cfg: Pick<ReceiverConfig, 'relayMode' | 'nearDomains' | 'relayAddresses'>, session: Pick<SessionInfo, 'clientIp' | 'authUser'>, domain: string): RelayVerdict {
  if (session.authUser !== undefined) return { allowed: true, why: `authenticated as ${session.authUser}` };
  const near = (): boolean => isNearDomain(domain, cfg.nearDomains);
  const listed = (): boolean => inAnyCidr(cfg.relayAddresses, session.clientIp) !== undefined;
  switch (cfg.relayMode) {
    case 'all': return { allowed: true, why: 'relay mode all' };
    case 'none': return { allowed: false, why: 'relay mode none' };
    case 'nearDomains': return near() ? { allowed: true, why: 'near domain' } : { allowed: false, why: 'recipient not in near domains' };
    case 'addressList': return listed() ? { allowed: true, why: 'client in relay address list' } : { allowed: false, why: 'client not in relay address list' };
    case 'both':
      if (near()) return { allowed: true, why: 'near domain' };
      if (listed()) return { allowed: true, why: 'client in relay address list' };
      return { allowed: false, why: 'recipient not in near domains and client not in relay address list' };
  }
}

export interface RecipientEvents {
  relayRefused(session: SessionInfo, from: string, to: string, why: string): void;
}

export const RELAY_DENIED = { code: Codes.C550RelayDenied, text: 'relaying denied' } as const;
export const NO_SUCH_USER = { code: Codes.C550MailboxUnavailable, text: 'no such user here' } as const;

/**
 * The RecipientPolicy the SMTP server asks at each RCPT. It reads the local domains and relay
 * settings in force at that moment, so a REFRESH applies from the next RCPT command.
 */
export class ReceiverRecipientPolicy implements RecipientPolicy {
  private domains: { readonly from: readonly string[]; readonly keys: ReadonlySet<string> } = { from: [], keys: new Set() };

  constructor(
    private readonly cfg: () => Pick<ReceiverConfig, 'relayMode' | 'nearDomains' | 'relayAddresses' | 'localDomains'>,
    private readonly resolveUser: (address: string) => Promise<string | undefined>,
    private readonly events: RecipientEvents,
  ) {}

  /** The LocalDomain keys, rebuilt only when the configured list changed. */
  private localDomains(): ReadonlySet<string> {
    const from = this.cfg().localDomains;
    if (from !== this.domains.from) this.domains = { from, keys: new Set(from.map(domainMatchKey)) };
    return this.domains.keys;
  }

  classify(mailbox: Mailbox): RecipientClass {
    return classifyRecipient(mailbox, this.localDomains());
  }

  async checkRecipient(session: SessionInfo, envelope: EnvelopeSoFar, mailbox: Mailbox): Promise<RecipientDecision> {
    const to = mailbox.domain === '' ? mailbox.local : `${mailbox.local}@${mailbox.domain}`;
    const from = envelope.from.kind === 'mailbox' ? formatMailbox(envelope.from.mailbox) : '';
    const c = this.classify(mailbox);
    if (c.kind === 'trick') {
      this.events.relayRefused(session, from, to, c.why);
      return { kind: 'reject', reply: RELAY_DENIED, logReason: `relay trick: ${c.why}` };
    }
    if (c.kind === 'local') {
      // SPEC.md §5: a local recipient must be an enrolled user or alias.
      const user = await this.resolveUser(c.lookup);
      return user === undefined ? { kind: 'reject', reply: NO_SUCH_USER, logReason: 'unknown local user' } : { kind: 'accept' };
    }
    // An authentication counts only while the account is active: a user removed after logging in
    // relays no more from the next RCPT (the store is asked each time, nothing is cached).
    const authValid = session.authUser === undefined || (await this.resolveUser(session.authUser)) !== undefined;
    const v = relayAllowed(this.cfg(), authValid ? session : { clientIp: session.clientIp }, c.domain);
    if (v.allowed) return { kind: 'accept' };
    this.events.relayRefused(session, from, to, v.why);
    return { kind: 'reject', reply: RELAY_DENIED, logReason: `relay refused: ${v.why}` };
  }
}
