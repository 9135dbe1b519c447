// Connection restrictions (SPEC.md §5, the iSeries "Restrict connections"): clients whose address
// is in a DenyAddress range, or listed by a DNS block list zone, are refused with 554 5.7.1 before
// any mail is accepted (RFC 5321 §3.1: a server may answer 554 instead of the 220 greeting).
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Resolver } from '../core/resolver.js';
import type { ReceiverConfig } from '../config/types.js';
import { Codes } from '../smtp/protocol/codes.js';
import type { ConnectionPolicy, ServerReply } from '../smtp/server/types.js';
import { dnsblQueryName, inAnyCidr } from './cidr.js';

export const CONNECTION_REFUSED: ServerReply = { code: Codes.C554ConnectionRefused, text: 'connection refused' };

export interface ConnectionEvents {
  /** cause: a DenyAddress range or a DNSBL listing (counted apart in /metrics). */
  refused(ip: string, reason: string, cause: 'deny' | 'dnsbl'): void;
  /** A DNSBL lookup failed or timed out: the client is let in (fail open) and the problem logged. */
  lookupFailed(ip: string, zone: string, detail: string): void;
}

/** Reads the deny list and DNSBL zones in force at each connection (REFRESH applies to the next one). */
export class ReceiverConnectionPolicy implements ConnectionPolicy {
  constructor(
    private readonly cfg: () => Pick<ReceiverConfig, 'denyAddresses' | 'dnsbl'>,
    private readonly resolver: Resolver,
    private readonly clock: Clock,
    private readonly events: ConnectionEvents,
    private readonly dnsblTimeoutMs = 5_000,
  ) {}

  async check(ip: string): Promise<{ ok: true } | { ok: false; reply: ServerReply; logReason: string }> {
    const cfg = this.cfg();
    const denied = inAnyCidr(cfg.denyAddresses, ip);
    if (denied !== undefined) return this.refuse(ip, `deny list ${denied.address}/${denied.prefix}`, 'deny');
    // All zones are asked at once; any answer (conventionally 127.0.0.x) means "listed".
    const answers = await Promise.all(cfg.dnsbl.map(async (zone) => ({ zone, listed: await this.listed(ip, zone) })));
    const hit = answers.find((a) => a.listed !== undefined);
    if (hit !== undefined) return this.refuse(ip, `DNSBL ${hit.zone} answered ${hit.listed}`, 'dnsbl');
    return { ok: true };
  }

  private refuse(ip: string, reason: string, cause: 'deny' | 'dnsbl'): { ok: false; reply: ServerReply; logReason: string } {
    this.events.refused(ip, reason, cause);
    return { ok: false, reply: CONNECTION_REFUSED, logReason: reason };
  }

  private async listed(ip: string, zone: string): Promise<string | undefined> {
    const name = dnsblQueryName(ip, zone);
    if (name === undefined) return undefined;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = this.clock.setTimer(this.dnsblTimeoutMs, () => resolve('timeout')); });
    try {
      const r = await Promise.race([this.resolver.resolve4(name), timeout]);
      if (r === 'timeout') {
        this.events.lookupFailed(ip, zone, `no answer within ${this.dnsblTimeoutMs} ms`);
        return undefined;
      }
      return r.length > 0 ? r.join(',') : undefined;
    } catch (e) {
      // NXDOMAIN (not listed) is an empty answer from the Resolver; anything thrown is a failure.
      this.events.lookupFailed(ip, zone, describeError(e));
      return undefined;
    } finally {
      timer?.cancel();
    }
  }
}
