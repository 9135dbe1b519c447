// The SMTP listener: one or more TCP listeners (IPv4 and IPv6), connection limits, and one
// Session per accepted connection. Implicit TLS (port 465) is not offered; STARTTLS is.
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { newId } from '../../core/ids.js';
import { Codes, formatReply } from '../protocol/codes.js';
import { ConnectionCounter } from './limits.js';
import { Session } from './session.js';
import type { ResolvedOptions } from './state.js';
import { DEFAULT_LIMITS, type SmtpServerOptions } from './types.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The options REFRESH may change on a running server (see SmtpServer.apply). */
export type SmtpServerUpdate = Pick<SmtpServerOptions, 'hostName' | 'limits' | 'vrfy'>;

export class SmtpServer {
  private opts: ResolvedOptions;
  private readonly secureContext: SecureContext | undefined;
  private readonly counter: ConnectionCounter;
  private readonly servers: Server[] = [];
  private readonly sessions = new Set<Session>();
  private readonly sockets = new Set<Socket>();

  constructor(options: SmtpServerOptions) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.opts = { ...options, limits, newSessionId: options.newSessionId ?? (() => newId(options.clock.now())) };
    this.secureContext = options.tls ? createSecureContext({ cert: options.tls.cert, key: options.tls.key }) : undefined;
    this.counter = new ConnectionCounter(limits.maxConnections, limits.maxConnectionsPerIp);
  }

  /**
   * New host name, limits and VRFY policy (REFRESH). They apply from the next connection: a
   * session keeps the options it started with until it ends. The connection limits apply to the
   * next connection attempt (connections already open are never cut).
   */
  apply(update: SmtpServerUpdate): void {
    const limits = { ...DEFAULT_LIMITS, ...update.limits };
    this.opts = { ...this.opts, hostName: update.hostName, limits, vrfy: update.vrfy };
    this.counter.setLimits(limits.maxConnections, limits.maxConnectionsPerIp);
  }

  /** Starts listening on every address; resolves with the bound addresses (port 0 → real port). */
  async listen(addresses: readonly ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    for (const a of addresses) {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // ipv6Only so that "::" and "0.0.0.0" can be listed side by side.
        server.listen({ host: a.host, port: a.port, ipv6Only: a.host.includes(':') }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
      const addr = server.address();
      bound.push(typeof addr === 'object' && addr !== null ? { host: addr.address, port: addr.port } : a);
    }
    return bound;
  }

  /** Connections open right now (sockets not yet closed). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting, tells idle clients 421, and resolves when every connection has closed. */
  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    for (const s of this.sessions) s.shutdown();
    const gone = [...this.sockets].map((sock) => new Promise<void>((resolve) => {
      if (sock.destroyed) resolve();
      else sock.once('close', () => resolve());
    }));
    await Promise.all([...closing, ...gone]);
  }

  /**
   * Runs one session on a connection accepted elsewhere, with the same limits and shutdown as a
   * listened one: `sendmail -bs` bridges its standard input and output through a Unix socket in a
   * private directory (cli/sendmail-smtp.ts).
   */
  serve(socket: Socket): void {
    this.accept(socket);
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const verdict = this.counter.acquire(ip);
    if (!verdict.ok) {
      this.opts.onEvent?.({ kind: 'connection-refused', clientIp: ip, reason: verdict.reason });
      socket.on('error', () => socket.destroy());
      // SPEC.md §5 limits: refuse at connect with 421 4.7.0; the client retries later.
      socket.end(formatReply(Codes.C421TooManyConnections, 'too many connections, try again later'));
      // What the client still sends is read and dropped, so its end is seen and the socket closes
      // (unread, it stays half-open and close() waits on it until the timeout below).
      socket.resume();
      socket.setTimeout(5_000, () => socket.destroy());
      return;
    }
    const session = new Session(socket, this.opts, this.secureContext);
    this.sessions.add(session);
    socket.once('close', () => {
      this.sessions.delete(session);
      this.counter.release(ip);
    });
    // A session whose start fails (a bug: policy errors are answered inside) is dropped, not the process.
    void session.start().catch(() => socket.destroy());
  }
}
