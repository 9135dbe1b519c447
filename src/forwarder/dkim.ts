// DKIM signing in the forwarder (docs/dkim.md): each message is signed when it is handed to a
// target — after the user exit and after every header the gateway adds, on the exact bytes the
// target receives — with the key of its From: domain (src/dkim). The signature is sent on top of
// the message (OutboundMessage.prefix), so the message is never copied.
//
// Which mail: every message the forwarder sends (customer jobs, relayed receiver mail, local
// submissions, and the gateway's own notifications and reports) whose From: domain has a Dkim
// statement. Relay is open only to clients the operator trusts (RelayMode, AUTH), which is who
// a signing gateway vouches for; see docs/dkim.md.
//
// One signature per message and key set: a retry (long retry, another target) sends the same
// signature; a REFRESH (new keys) signs again at the next attempt. Extended-retry mail is read
// back from the mail directory unsigned and is signed at each attempt.
import { describeError } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { signMessage, type DkimKeyring } from '../dkim/index.js';

export interface DkimSigning {
  /** The keys in force (REFRESH replaces them). */
  readonly keyring: () => DkimKeyring;
  readonly now: () => Date;
  readonly log: Logger;
}

export class DkimStage {
  /** The signature of a message (by its bytes) made with a key set; null = not signed. */
  private readonly signed = new WeakMap<Buffer, { readonly keys: DkimKeyring; readonly field: Buffer | null }>();

  constructor(private readonly o: DkimSigning) {}

  /** The DKIM-Signature field to send on top of `data`, or undefined. `key` names the message in logs. */
  prefixFor(data: Buffer, key: string): Buffer | undefined {
    const keys = this.o.keyring();
    if (keys.size === 0) return undefined;
    const known = this.signed.get(data);
    if (known !== undefined && known.keys === keys) return known.field ?? undefined;
    let field: Buffer | null = null;
    try {
      const r = signMessage(data, keys, this.o.now());
      if (r.kind === 'signed') {
        field = r.field;
        this.o.log.debug('mail.dkim-signed', { key, domain: r.domain, selector: r.selector });
      } else if (r.reason !== 'no-key') {
        // Mail of a signing domain (or that could not be read) leaves unsigned: say why.
        this.o.log.info('mail.dkim-unsigned', { key, reason: r.reason, ...(r.domain === undefined ? {} : { domain: r.domain }) });
      }
    } catch (e) {
      // A signing failure (a bug, or a key the crypto library refuses) sends the mail unsigned
      // rather than holding it; the error names no key material.
      this.o.log.error('mail.dkim-failed', { key, error: describeError(e) });
    }
    this.signed.set(data, { keys, field });
    return field ?? undefined;
  }
}
