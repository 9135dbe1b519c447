// FakeConnector: a scripted Connector for forwarder unit tests (fault injection without
// sockets). Per target address: whether connect succeeds, the capabilities it learns, and a
// function deciding each message's outcome. End-to-end tests use the real client instead.
import type { Result } from '../core/index.js';
import { ok, err } from '../core/index.js';
import type { ConnectFailure, Connector, DeliveryConnection, LearnedCapabilities, MessageOutcome, OutboundMessage, TargetAddress } from '../forwarder/index.js';

export const ESMTP_CAPS: LearnedCapabilities = { esmtp: true, size: 0, startTls: true, pipelining: true, eightBitMime: true, auth: [] };

export interface FakeTargetScript {
  connect?: (tls: boolean) => ConnectFailure | undefined;
  capabilities?: LearnedCapabilities;
  send?: (m: OutboundMessage, n: number) => MessageOutcome;
}

export function allAccepted(m: OutboundMessage): MessageOutcome {
  return { status: 'sent', connectionUsable: true, detail: 'ok', recipients: m.envelope.recipients.map((recipient) => ({ recipient, status: 'accepted', reply: { code: 250, enhanced: '2.1.5', text: 'ok' } })) };
}

export function allWith(m: OutboundMessage, status: 'transient' | 'permanent', code: number, usable = true): MessageOutcome {
  return { status, connectionUsable: usable, detail: `${code}`, recipients: m.envelope.recipients.map((recipient) => ({ recipient, status, reply: { code, enhanced: `${String(code)[0]}.0.0`, text: 'scripted' } })) };
}

export class FakeConnector implements Connector {
  readonly scripts = new Map<string, FakeTargetScript>();
  readonly sent: { address: string; message: OutboundMessage }[] = [];
  connects = 0;
  open = 0;
  /** Messages sent per target address, across connections (the `n` passed to send scripts). */
  private readonly counts = new Map<string, number>();

  async connect(target: TargetAddress, opts: { tls: boolean }): Promise<Result<DeliveryConnection, ConnectFailure>> {
    this.connects++;
    const script = this.scripts.get(target.address) ?? {};
    const failure = script.connect?.(opts.tls);
    if (failure) return err(failure);
    const caps = script.capabilities ?? ESMTP_CAPS;
    if (opts.tls && !caps.startTls) return err({ reason: 'tls-unavailable', detail: 'STARTTLS not offered', capabilities: caps });
    this.open++;
    let broken = false;
    const conn: DeliveryConnection = {
      tls: opts.tls,
      capabilities: caps,
      get broken() { return broken; },
      send: async (m) => {
        this.sent.push({ address: target.address, message: m });
        const n = this.counts.get(target.address) ?? 0;
        this.counts.set(target.address, n + 1);
        const out = (script.send ?? allAccepted)(m, n);
        if (!out.connectionUsable) broken = true;
        return out;
      },
      quit: async () => { this.open--; },
      destroy: () => { this.open--; },
    };
    return ok(conn);
  }
}
