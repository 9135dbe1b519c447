// Adapts the SMTP client (src/smtp/client) to the forwarder's Connector interface: one TCP
// session per lease, TLS when the message or target needs it (seed table 2), per-command
// timeouts from the Timeout statement. SourceIP, AUTH and TLS verification come from the target
// address being connected to (its TargetServer statement travels with it), never from a lookup.
import type { Result } from '../core/index.js';
import { ok, err, newId } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { SmtpClientSession } from '../smtp/client/index.js';
import type { ClientTimeouts, ClientTlsOptions } from '../smtp/client/index.js';
import type { Capabilities } from '../smtp/protocol/ehlo.js';
import type { ConnectFailure, Connector, DeliveryConnection, LearnedCapabilities, MessageOutcome, TargetAddress, TargetTlsSettings } from './types.js';

export interface SmtpConnectorOptions {
  readonly heloName: () => string;
  readonly timeouts: () => ClientTimeouts;
  readonly tlsEhlo: () => boolean;
  readonly log: Logger;
}

/** The client's TLS options for a target's TlsCaFile / TlsServerName / TlsMinVersion / TlsVerify. */
export function clientTls(t: TargetTlsSettings): ClientTlsOptions {
  return { caFile: t.caFile ?? undefined, servername: t.servername ?? undefined, minVersion: t.minVersion, rejectUnauthorized: t.verify };
}

/**
 * What the forwarder learns about a target from one session. RFC 3207 §4.2: the EHLO after TLS
 * (TLSEhlo YES) must not list STARTTLS again, so a session that is already in TLS proves the
 * target offers STARTTLS; reading only the last EHLO would mark it unable to take TLS mail.
 */
export function learned(c: Capabilities, tls: boolean): LearnedCapabilities {
  return { esmtp: c.esmtp, size: c.size, startTls: tls || c.starttls, pipelining: c.pipelining, eightBitMime: c.eightBitMime, auth: c.auth, dsn: c.dsn };
}

export class SmtpConnector implements Connector {
  constructor(private readonly o: SmtpConnectorOptions) {}

  async connect(target: TargetAddress, opts: { tls: boolean }): Promise<Result<DeliveryConnection, ConnectFailure>> {
    const server = target.server;
    const log = this.o.log;
    // LogLevel 32 lines of one connection share a session id (grep one dialog out of many).
    const session = newId();
    const r = await SmtpClientSession.connect({
      host: target.address,
      port: target.port,
      localAddress: server.sourceIp ?? undefined,
      heloName: this.o.heloName(),
      timeouts: this.o.timeouts(),
      startTls: opts.tls,
      secure: server.secure,
      tls: clientTls(server.tls),
      tlsEhlo: this.o.tlsEhlo(),
      messageSize: server.messageSize,
      // The secret leaves its wrapper here, for the wire only; the client never traces AUTH.
      auth: opts.tls && server.auth !== null ? { user: server.auth.user, password: server.auth.password.reveal() } : undefined,
      // LogLevel 32: the SMTP dialog. The client never passes AUTH secrets or bodies here.
      trace: log.enabled('network') ? (dir, line) => log.network('smtp.dialog', { session, target: `${target.address}:${target.port}`, dir, line }) : undefined,
    });
    if (!r.ok) {
      const f = r.error;
      const reason: ConnectFailure['reason'] = f.stage === 'connect' ? 'connect' : f.stage === 'greeting' ? 'greeting' : f.stage === 'tls' ? 'tls-failed' : f.stage === 'auth' ? 'auth' : 'protocol';
      return err({ reason, detail: f.detail });
    }
    const s = r.value;
    const caps = learned(s.capabilities, s.tls);
    if (opts.tls && !s.tls) {
      await s.quit();
      return err({ reason: 'tls-unavailable', detail: `TLS required but not established (${s.tlsDetail})`, capabilities: caps });
    }
    return ok({
      tls: s.tls,
      capabilities: caps,
      get broken() { return s.broken; },
      send: async (m): Promise<MessageOutcome> => {
        const out = await s.send(m);
        return {
          status: out.status,
          detail: out.detail,
          connectionUsable: out.connectionUsable,
          // The client names a reply that did not come in time as "timeout (<step>): ...".
          ...(out.connectionUsable ? {} : { lost: out.detail.startsWith('timeout (') ? 'timeout' as const : 'closed' as const }),
          reply: out.reply && { code: out.reply.code, enhanced: out.reply.enhanced, text: out.reply.text },
          recipients: out.recipients.map((x) => ({ recipient: x.recipient, status: x.status, reply: { code: x.reply.code, enhanced: x.reply.enhanced, text: x.reply.text } })),
        };
      },
      quit: () => s.quit(),
      destroy: () => s.destroy(),
    });
  }
}
