// One outbound SMTP session: connect, greeting, EHLO (HELO fallback), STARTTLS, AUTH, then any
// number of messages (RSET between them), QUIT. Outcomes are values; errors are classified once,
// here, at the edge (STYLE.md §4).
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type SecureVersion } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../../core/clock.js';
import { ProtocolError, SpoolgateError, TimeoutError, TransportError, describeError } from '../../core/errors.js';
import { type Result, ok, err } from '../../core/result.js';
import { Codes, classOf } from '../protocol/codes.js';
import { parseEhlo, heloCapabilities, type Capabilities } from '../protocol/ehlo.js';
import { describeReply, localReply, type Reply } from '../protocol/reply.js';
import * as Cmd from '../protocol/command.js';
import { Wire } from './wire.js';
import { sendMessage } from './transaction.js';
import {
  DEFAULT_TIMEOUTS, type ClientOptions, type ClientTimeouts, type ConnectFailure, type ConnectStage,
  type MessageOutcome, type OutboundMessage,
} from './types.js';

/** SPEC.md §2.1 MessageSize default: the limit for plain-SMTP targets. */
export const DEFAULT_MESSAGE_SIZE = 524288;

class StageFailure extends SpoolgateError {
  readonly failure: ConnectFailure;
  constructor(f: ConnectFailure) {
    super('ERR_SMTP_CONNECT', f.detail);
    this.failure = f;
  }
}

function replyFailure(stage: ConnectStage, what: string, r: Reply): StageFailure {
  return new StageFailure({ stage, permanent: classOf(r.code) === 'permanent', reply: r, detail: `${what}: ${describeReply(r)}` });
}

export class SmtpClientSession {
  private readonly wire: Wire;
  private readonly opts: ClientOptions;
  private readonly t: ClientTimeouts;
  private caps: Capabilities = heloCapabilities();
  private tlsOn = false;
  private tlsNote = 'not attempted';
  private transactions = 0;
  private busy = false;

  private constructor(wire: Wire, opts: ClientOptions, t: ClientTimeouts) {
    this.wire = wire;
    this.opts = opts;
    this.t = t;
  }

  /** What the server offered (after TLS only when tlsEhlo is set, else from before TLS). */
  get capabilities(): Capabilities { return this.caps; }
  /** STARTTLS succeeded on this connection. */
  get tls(): boolean { return this.tlsOn; }
  /** Why the connection has or has no TLS: 'TLSv1.3', 'not offered', 'STARTTLS refused: 454 ...'. */
  get tlsDetail(): string { return this.tlsNote; }
  get esmtp(): boolean { return this.caps.esmtp; }
  /** After a desync, timeout or socket error every call fails fast. */
  get broken(): boolean { return this.wire.broken; }
  /** Transactions started on this connection (for MaxMsgSent). */
  get messageCount(): number { return this.transactions; }

  static async connect(opts: ClientOptions): Promise<Result<SmtpClientSession, ConnectFailure>> {
    const t: ClientTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    const clock = opts.clock ?? systemClock;
    const sock = await openSocket(opts, t.connect, clock);
    if (!sock.ok) return err({ stage: 'connect', permanent: false, detail: sock.error.message, error: sock.error });
    const s = new SmtpClientSession(new Wire(sock.value, clock, opts.trace), opts, t);
    try {
      await s.handshake();
      return ok(s);
    } catch (e) {
      const f = e instanceof StageFailure ? e.failure : classifyConnectError(e, s.stageNow);
      // RFC 5321 §3.1: after a refusing greeting the client SHOULD send QUIT; done politely.
      if (f.reply !== undefined && !s.wire.broken) await s.quit();
      else s.destroy();
      return err(f);
    }
  }

  private stageNow: ConnectStage = 'greeting';

  private async handshake(): Promise<void> {
    const greeting = await this.wire.read('InitialMsg', this.t.initialMsg);
    if (greeting.code !== 220) throw replyFailure('greeting', 'server refused the connection', greeting);
    this.stageNow = 'ehlo';
    this.caps = await this.hello();
    if (this.opts.startTls !== false && this.caps.starttls) await this.startTls();
    else this.tlsNote = this.opts.startTls === false ? 'STARTTLS disabled' : 'STARTTLS not offered';
    if (this.opts.auth) await this.authenticate(this.opts.auth);
  }

  private async hello(): Promise<Capabilities> {
    const r = await this.wire.command(Cmd.ehlo(this.opts.heloName), 'AnyCmd', this.t.anyCmd);
    if (r.code === 250) return parseEhlo(r);
    // SPEC.md §2.1: on 500/502 fall back to HELO (the target is then ESMTP: NO).
    if (r.code !== 500 && r.code !== 502) throw replyFailure('ehlo', 'EHLO refused', r);
    const h = await this.wire.command(Cmd.helo(this.opts.heloName), 'AnyCmd', this.t.anyCmd);
    if (h.code !== 250) throw replyFailure('ehlo', 'HELO refused', h);
    return heloCapabilities(h.lines[0]?.split(' ')[0] ?? '');
  }

  private async startTls(): Promise<void> {
    this.stageNow = 'tls';
    const r = await this.wire.command(Cmd.STARTTLS, 'AnyCmd', this.t.anyCmd);
    if (r.code !== 220) {
      // RFC 3207 §4: after a refusal the session continues without TLS; messages that need
      // TLS are then refused by send() and the forwarder picks another target.
      if (r.code === 421) throw replyFailure('tls', 'STARTTLS refused and the server is closing', r);
      this.tlsNote = `STARTTLS refused: ${describeReply(r)}`;
      return;
    }
    const tlsOpts = this.opts.tls ?? {};
    let ca: (string | Buffer)[] | undefined;
    try {
      if (tlsOpts.caFile !== undefined) ca = [await readFile(tlsOpts.caFile)];
    } catch (e) {
      throw new StageFailure({ stage: 'tls', permanent: false, detail: `cannot read TLS CA file ${tlsOpts.caFile}: ${describeError(e)}` });
    }
    if (tlsOpts.ca !== undefined) ca = [...(ca ?? []), tlsOpts.ca];
    const plain = this.wire.detach();
    const servername = tlsOpts.servername ?? (isIP(this.opts.host) === 0 ? this.opts.host : undefined);
    const secured = await handshakeTls(plain, {
      host: this.opts.host, servername, ca, minVersion: tlsOpts.minVersion,
      rejectUnauthorized: tlsOpts.rejectUnauthorized ?? true,
    }, this.t.anyCmd, this.opts.clock ?? systemClock);
    if (!secured.ok) {
      this.wire.fail(secured.error);
      throw new StageFailure({ stage: 'tls', permanent: false, detail: `TLS handshake with ${this.opts.host} failed: ${secured.error.message}`, error: secured.error });
    }
    this.wire.resume(secured.value);
    this.tlsOn = true;
    this.tlsNote = secured.value.getProtocol() ?? 'TLS';
    // RFC 3207 §4.2 says the client SHOULD send EHLO again; CSSMTP's TLSEhlo (default NO) makes
    // it optional because some servers do not expect it. Without it the pre-TLS capabilities stay.
    if (this.opts.tlsEhlo === true) {
      this.stageNow = 'ehlo';
      this.caps = await this.hello();
    }
  }

  private async authenticate(a: { user: string; password: string }): Promise<void> {
    this.stageNow = 'auth';
    // SPEC.md §2.1 (ext): credentials only ever travel over TLS.
    if (!this.tlsOn) throw new StageFailure({ stage: 'auth', permanent: false, detail: `AUTH is configured but the connection has no TLS (${this.tlsNote}); credentials not sent` });
    const offered = this.caps.auth;
    const mech = offered.includes('PLAIN') || offered.length === 0 ? 'PLAIN' : offered.includes('LOGIN') ? 'LOGIN' : undefined;
    if (mech === undefined) throw new StageFailure({ stage: 'auth', permanent: false, detail: `server offers AUTH ${offered.join(' ')}, none of PLAIN/LOGIN` });
    let r: Reply;
    if (mech === 'PLAIN') {
      r = await this.wire.command(Cmd.authPlain(a.user, a.password), 'AnyCmd', this.t.anyCmd, true);
    } else {
      r = await this.wire.command(Cmd.AUTH_LOGIN, 'AnyCmd', this.t.anyCmd);
      if (r.code === 334) r = await this.wire.command(Cmd.authResponse(a.user), 'AnyCmd', this.t.anyCmd, true);
      if (r.code === 334) r = await this.wire.command(Cmd.authResponse(a.password), 'AnyCmd', this.t.anyCmd, true);
    }
    // RFC 4954 §6: 235 = authenticated.
    if (r.code !== 235) throw replyFailure('auth', `AUTH ${mech} failed`, r);
  }

  /** Sends one message. Never throws; per-recipient outcomes are in the result. */
  async send(m: OutboundMessage): Promise<MessageOutcome> {
    if (this.busy) return refuse(m, 'transient', localReply(Codes.C451LocalError, 'session busy with another message'), 'send() called while a message is in progress', true);
    if (this.wire.broken) {
      return refuse(m, 'transient', localReply(Codes.C451ConnectionFailed, 'connection not usable'), `connection not usable: ${this.wire.error?.message ?? 'broken'}`, false);
    }
    // SPEC.md §2.1 / seed table 2: a job STARTTLS or Secure YES needs TLS; never downgrade.
    if ((m.envelope.requireTls || this.opts.secure === true) && !this.tlsOn) {
      const why = m.envelope.requireTls ? 'the job asked for STARTTLS' : 'the target is Secure YES';
      return refuse(m, 'transient', localReply(Codes.C451TlsRequired, 'TLS required but not available on this connection'),
        `message requires TLS (${why}) but this connection has none (${this.tlsNote})`, true);
    }
    const limit = this.sizeLimit();
    // RFC 1870 §6 / SPEC.md §2.1: a message larger than the target takes is not sent there.
    if (limit > 0 && m.size > limit) {
      return refuse(m, 'permanent', localReply(Codes.C552MessageTooBig, 'message size exceeds fixed maximum message size'),
        `message size ${m.size} exceeds the target's size limit ${limit} (${this.caps.esmtp && this.caps.size !== undefined ? 'SIZE' : 'MessageSize'})`, true);
    }
    // RFC 6531 §3.4: an SMTPUTF8 message cannot go to a server that does not offer it.
    if (m.envelope.smtputf8 === true && !this.caps.smtputf8) {
      return refuse(m, 'permanent', localReply(Codes.C553SmtpUtf8NotSupported, 'SMTPUTF8 not supported by the target'), 'message needs SMTPUTF8 but the target does not offer it', true);
    }
    this.busy = true;
    try {
      const reuse = this.transactions > 0;
      this.transactions++;
      return await sendMessage(this.wire, m, {
        caps: this.caps, timeouts: this.t, rsetFirst: reuse, pipelining: this.opts.pipelining !== false,
        tlsWithoutEhlo: this.tlsOn && this.opts.tlsEhlo !== true,
      }, this.opts.trace);
    } finally {
      this.busy = false;
    }
  }

  /** 0 = no limit. ESMTP with SIZE: the announced value; plain SMTP: MessageSize. */
  sizeLimit(): number {
    if (this.caps.esmtp) return this.caps.size ?? 0;
    return this.opts.messageSize ?? DEFAULT_MESSAGE_SIZE;
  }

  /** QUIT and close; never throws. A broken connection is just closed. */
  async quit(): Promise<void> {
    if (this.wire.broken) return;
    try {
      await this.wire.command(Cmd.QUIT, 'AnyCmd', this.t.anyCmd);
      this.wire.end(this.t.anyCmd);
    } catch (e) {
      // A server that drops the connection on QUIT without 221 is harmless: the wire is closed.
      this.opts.trace?.('S', `(no reply to QUIT: ${describeError(e)})`);
      this.wire.destroy();
    }
  }

  destroy(): void {
    this.wire.destroy();
  }
}

function refuse(m: OutboundMessage, status: 'transient' | 'permanent', reply: Reply, detail: string, usable: boolean): MessageOutcome {
  return { status, recipients: m.envelope.recipients.map((recipient) => ({ recipient, status, reply })), reply, detail, connectionUsable: usable };
}

function classifyConnectError(e: unknown, stage: ConnectStage): ConnectFailure {
  if (e instanceof TimeoutError) return { stage, permanent: false, detail: `no reply from server: ${e.message} (${e.step})`, error: e };
  if (e instanceof SpoolgateError) return { stage, permanent: false, detail: e.message, error: e };
  return { stage, permanent: false, detail: describeError(e), error: new ProtocolError(describeError(e), { cause: e }) };
}

function openSocket(opts: ClientOptions, ms: number, clock: Clock): Promise<Result<Socket, TransportError | TimeoutError>> {
  return new Promise((resolve) => {
    const s = netConnect({ host: opts.host, port: opts.port, ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}) });
    s.setNoDelay(true);
    const timer = clock.setTimer(ms, () => {
      s.destroy();
      resolve(err(new TimeoutError('connect', ms)));
    });
    const onError = (e: Error): void => {
      timer.cancel();
      resolve(err(new TransportError(`cannot connect to ${opts.host} port ${opts.port}: ${e.message}`, { cause: e })));
    };
    s.once('error', onError);
    s.once('connect', () => {
      timer.cancel();
      s.off('error', onError);
      resolve(ok(s));
    });
  });
}

interface TlsParams {
  host: string;
  servername: string | undefined;
  ca: (string | Buffer)[] | undefined;
  minVersion: SecureVersion | undefined;
  rejectUnauthorized: boolean;
}

function handshakeTls(plain: Socket, p: TlsParams, ms: number, clock: Clock): Promise<Result<TLSSocket, TransportError | TimeoutError>> {
  return new Promise((resolve) => {
    const s = tlsConnect({
      socket: plain, host: p.host, rejectUnauthorized: p.rejectUnauthorized,
      ...(p.servername !== undefined ? { servername: p.servername } : {}),
      ...(p.ca !== undefined ? { ca: p.ca } : {}),
      ...(p.minVersion !== undefined ? { minVersion: p.minVersion } : {}),
    });
    const timer = clock.setTimer(ms, () => {
      s.destroy();
      resolve(err(new TimeoutError('TLS handshake', ms)));
    });
    const onError = (e: Error): void => {
      timer.cancel();
      s.destroy();
      resolve(err(new TransportError(e.message, { cause: e })));
    };
    s.once('error', onError);
    s.once('secureConnect', () => {
      timer.cancel();
      s.off('error', onError);
      resolve(ok(s));
    });
  });
}
