// The envelope of one message as it travels from a producer (spool file, receiver, submission)
// to the forwarder and notifications.
import type { ReversePath, Mailbox } from './address.js';

/** RFC 3461 §4.1 NOTIFY values for one recipient. */
export type DsnNotify = { readonly kind: 'never' } | { readonly kind: 'on'; readonly success: boolean; readonly failure: boolean; readonly delay: boolean };

export interface Recipient {
  readonly mailbox: Mailbox;
  /** RFC 3461 §4.1 NOTIFY; absent = the default (failure, and delay at the MTA's discretion). */
  readonly notify?: DsnNotify;
  /** RFC 3461 §4.2 ORCPT: addr-type and xtext-decoded original recipient. */
  readonly orcpt?: { readonly type: string; readonly address: string };
}

export interface Envelope {
  readonly from: ReversePath;
  readonly recipients: readonly Recipient[];
  /** The job issued STARTTLS before this mail (SPEC.md §2.1 TLS table): send only over TLS. */
  readonly requireTls: boolean;
  /** RFC 3461 §4.3 RET and §4.4 ENVID. */
  readonly dsn?: { readonly ret?: 'FULL' | 'HDRS'; readonly envid?: string };
  /** RFC 6152 / RFC 6531 body hints learned from the producer. */
  readonly body8bit?: boolean;
  readonly smtputf8?: boolean;
}
