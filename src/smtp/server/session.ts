// One inbound SMTP connection: socket I/O, framing (line reader / DATA reader), the dispatcher
// over the verb table, timers, STARTTLS upgrade and the hand-off of a finished message to the
// sink. Commands are processed strictly one at a time in arrival order (RFC 2920 pipelining).
//
// Memory per connection is bounded whatever the client does (issue 15 item 2):
// - input: reading stops while more than MAX_INPUT_HELD octets wait to be processed (chunks not
//   yet framed plus a partial command line), and resumes when they are consumed;
// - output: a client that pipelines commands and never reads the replies would make us queue
//   replies without end. While more than MAX_UNSENT_OUTPUT octets are unsent (socket
//   writableLength), no further command is processed and reading stops; both resume on 'drain'.
//   The command deadline keeps running, so a client that never reads is closed in the end;
// - DATA keeps at most the size limit (data-reader.ts); past it, octets are only counted.
//
// Deadlines, not idle timers (issue 15 item 3; Postfix's smtpd_per_record_deadline):
// - command: once we wait for a command, its whole line must arrive within commandTimeoutMs.
//   Bytes that do not complete a line do not extend it, so a client that drips one byte now and
//   then is closed with 421 4.4.2 when the deadline passes;
// - DATA: a minimum rate, like Postfix's smtpd_min_data_rate: each dataBlockOctets of content
//   must arrive within dataTimeoutMs of the previous block (or of the 354). With the defaults
//   (64 KiB per 3 minutes, or per DataTimeout) that is about 360 octets/s, far below any real
//   client, and a dripping client is closed with 421 4.4.2.
// - while we work (policy look-ups, the sink) no deadline runs against the client.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { formatMailbox, formatPath } from '../../core/address.js';
import type { Timer } from '../../core/clock.js';
import type { Envelope } from '../../core/envelope.js';
import { describeError } from '../../core/errors.js';
import { TraceMask } from '../../core/login.js';
import { type ReplyCode, Codes, formatReply } from '../protocol/codes.js';
import type { DataResult } from '../protocol/data-reader.js';
import { LineReader, type LineItem } from '../protocol/line-reader.js';
import { type CommandSyntaxError, type Command, parseCommand } from '../protocol/parse-command.js';
import { authLine } from './auth.js';
import { receivedHeader } from './received.js';
import type { ResolvedOptions, SessionApi, SessionState, Transaction } from './state.js';
import type { ServerEvent, SessionInfo, ViolationKind } from './types.js';
import { VERB_TABLE, type VerbEntry } from './verbs.js';

/** Stop reading from the socket while this much input waits to be processed. */
export const MAX_INPUT_HELD = 64 * 1024;
/** Stop processing commands and reading while this much output is not sent yet. */
export const MAX_UNSENT_OUTPUT = 64 * 1024;
/** After we end a connection, how long the client has to close before we destroy it. */
const LINGER_MS = 5_000;
/** RFC 7230 request methods: an HTTP client talking to the SMTP port (SPEC.md §5 hardening). */
const HTTP_REQUEST = /^(GET|POST|HEAD|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH) /i;

export class Session implements SessionApi {
  state: SessionState = { kind: 'greeting' };
  heloName = '';
  esmtp = false;
  tls = false;
  authUser: string | undefined;
  readonly sessionId: string;
  readonly clientIp: string;
  private readonly clientPort: number;

  private io: Socket;
  private readonly lines: LineReader;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private greeted = false;
  private earlyBytes = 0;
  private pumping = false;
  /** Shutdown came while a command was being processed: answer it, then 421 and close. */
  private shutdownAfterCommand = false;
  private seenLine = false;
  private badCommands = 0;
  private authFailures = 0;
  /** SPEC.md §10: AUTH arguments and the SASL lines after an AUTH never reach the trace. */
  private readonly traceMask = new TraceMask(new Set(Object.keys(VERB_TABLE)));
  private messages = 0;
  private timer: Timer | undefined;
  /** Waiting for 'drain': the client does not read its replies. */
  private outputBlocked = false;
  private reportedBlocked = false;
  /** DATA octets (as sent) so far, and where the current block of the minimum rate began. */
  private dataOctets = 0;
  private dataBlockStart = 0;
  private readonly onData = (chunk: Buffer) => this.input(chunk);

  constructor(
    private readonly raw: Socket,
    readonly opts: ResolvedOptions,
    private readonly secureContext: SecureContext | undefined,
  ) {
    this.io = raw;
    this.clientIp = raw.remoteAddress ?? '';
    this.clientPort = raw.remotePort ?? 0;
    this.sessionId = opts.newSessionId!();
    this.lines = new LineReader({ maxLength: opts.limits.maxLineLength });
    raw.on('data', this.onData);
    raw.on('error', (e) => this.onSocketError(e));
    raw.once('close', () => this.onClosed());
  }


  get canStartTls(): boolean {
    return this.secureContext !== undefined && !this.tls;
  }

  info(): SessionInfo {
    return {
      sessionId: this.sessionId,
      clientIp: this.clientIp,
      clientPort: this.clientPort,
      heloName: this.heloName,
      esmtp: this.esmtp,
      tls: this.tls,
      ...(this.authUser !== undefined ? { authUser: this.authUser } : {}),
    };
  }

  emit(event: ServerEvent): void {
    this.opts.onEvent?.(event);
  }

  /** Runs the connection policy, then greets (or refuses). */
  async start(): Promise<void> {
    const ip = this.clientIp;
    this.emit({ kind: 'connect', sessionId: this.sessionId, clientIp: ip });
    if (this.opts.connectionPolicy) {
      let verdict;
      try {
        verdict = await this.opts.connectionPolicy.check(ip);
      } catch (e) {
        this.emit({ kind: 'policy-error', sessionId: this.sessionId, what: 'connection', detail: describeError(e) });
        verdict = { ok: false as const, reply: { code: Codes.C421ServiceClosing, text: 'service not available, try again later' }, logReason: 'connection policy failed' };
      }
      if (this.state.kind === 'closing') return;
      if (!verdict.ok) {
        this.emit({ kind: 'connection-refused', sessionId: this.sessionId, clientIp: ip, reason: verdict.logReason });
        this.reply(verdict.reply.code, verdict.reply.text);
        this.close();
        return;
      }
    }
    // Early talker: the client sent before our greeting (SPEC.md §5 hardening; RFC 5321 §4.3.1:
    // the client waits for the 220 greeting). The pre-greeting pause gives it the chance; it
    // ends at once when the client talks or goes.
    await this.greetPause();
    if (this.state.kind === 'closing') return;
    if (this.earlyBytes > 0) {
      this.violation('early-talker', `${this.earlyBytes} octets before the greeting`);
      this.reply(Codes.C554ProtocolViolation, 'protocol error: client sent data before the greeting');
      this.close();
      return;
    }
    this.reply(Codes.C220ServiceReady, `${this.opts.hostName} ESMTP spoolgate`);
    this.greeted = true;
    this.armTimer();
  }

  reply(code: ReplyCode, text: string | readonly string[], enhanced = true): void {
    if (this.io.destroyed || this.io.writableEnded) return;
    const wire = formatReply(code, text, enhanced);
    if (this.opts.onEvent) for (const l of wire.split('\r\n')) if (l !== '') this.emit({ kind: 'trace', sessionId: this.sessionId, direction: 'out', line: l });
    this.io.write(wire);
  }

  close(): void {
    if (this.state.kind !== 'closing') this.state = { kind: 'closing' };
    this.timer?.cancel();
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.io.destroyed && !this.io.writableEnded) this.io.end();
    // A client that never closes its side is cut off after a short linger.
    this.timer = this.opts.clock.setTimer(LINGER_MS, () => this.destroy());
  }

  /** Closes at once (server shutdown, socket errors). */
  destroy(): void {
    this.state = { kind: 'closing' };
    this.timer?.cancel();
    this.io.destroy();
    this.raw.destroy();
  }

  /**
   * Server shutdown: 421 and end (RFC 5321 §3.8), also mid-DATA. A command being processed (the
   * sink storing a message) finishes first and its reply is sent, so a client is never left
   * without the answer to a message that was stored.
   */
  shutdown(): void {
    if (this.state.kind === 'closing') return;
    if (this.pumping) { this.shutdownAfterCommand = true; return; }
    if (this.greeted) this.reply(Codes.C421ServiceClosing, `${this.opts.hostName} shutting down`);
    this.close();
  }

  authFailed(): boolean {
    this.authFailures++;
    if (this.authFailures < this.opts.limits.maxAuthFailures) return false;
    this.violation('too-many-auth-failures', `${this.authFailures} failed AUTH attempts`);
    this.reply(Codes.C421TooManyErrors, 'too many failed authentication attempts');
    this.close();
    return true;
  }

  startTls(): void {
    // RFC 3207 §4.2 / CVE-2011-0411 class: plaintext pipelined after STARTTLS is discarded, never
    // read as if it had come over TLS.
    const discarded = this.lines.drain().length + this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (discarded > 0) this.violation('pipelined-after-starttls', `${discarded} octets discarded`);
    const raw = this.raw;
    raw.removeListener('data', this.onData);
    raw.uncork(); // the 220 must leave before the handshake starts
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.secureContext! });
    this.io = secure;
    this.armTimer();
    secure.on('data', this.onData);
    secure.once('secure', () => {
      this.tls = true;
      const cipher = secure.getCipher();
      this.emit({ kind: 'tls', sessionId: this.sessionId, protocol: secure.getProtocol() ?? '', cipher: cipher.name });
    });
    secure.on('error', (e) => {
      if (!this.tls) this.emit({ kind: 'tls-failed', sessionId: this.sessionId, reason: describeError(e) });
      this.destroy();
    });
    secure.once('close', () => this.destroy());
  }

  // --- input --------------------------------------------------------------------------------

  private input(chunk: Buffer): void {
    if (this.state.kind === 'closing') return;
    if (!this.greeted) {
      this.earlyBytes += chunk.length;
      this.wakeGreeting?.();
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.updateFlow();
    // eslint-disable-next-line no-restricted-syntax -- pump() catches, answers 451 and closes the session itself
    void this.pump();
  }

  /** Reads from the socket only while little input is held and the client takes its replies. */
  private updateFlow(): void {
    const io = this.io;
    if (io.destroyed) return;
    const held = this.pendingBytes + this.lines.buffered;
    const read = this.state.kind !== 'closing' && !this.outputBlocked && held <= MAX_INPUT_HELD;
    if (read && io.isPaused()) io.resume();
    else if (!read && !io.isPaused()) io.pause();
  }

  /**
   * Waits until the unsent output is under the bound (or the socket closed). Meanwhile nothing
   * is read and the command deadline runs: a client that never reads is closed when it passes.
   */
  private async flushOutput(): Promise<void> {
    const io = this.io;
    if (io.writableLength <= MAX_UNSENT_OUTPUT) return;
    // Send what is corked, and cork again as deep as before (after STARTTLS io is a new socket).
    const corked = io.writableCorked;
    for (let i = 0; i < corked; i++) io.uncork();
    if (io.writableLength > MAX_UNSENT_OUTPUT && !io.destroyed && !io.writableEnded) {
      if (!this.reportedBlocked) {
        this.reportedBlocked = true;
        this.emit({ kind: 'trace', sessionId: this.sessionId, direction: 'out', line: `(client not reading replies: ${io.writableLength} octets unsent, input paused)` });
      }
      this.outputBlocked = true;
      this.updateFlow();
      this.armTimer();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          io.off('drain', done);
          io.off('close', done);
          resolve();
        };
        io.on('drain', done);
        io.on('close', done);
      });
      this.outputBlocked = false;
      // After a timeout the timer is close()'s linger, which must stay.
      if (this.state.kind !== 'closing') this.stopDeadline();
    }
    for (let i = 0; i < corked; i++) io.cork();
  }

  private takePending(): Buffer {
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return b;
  }

  /** Processes buffered input in order; one command (or DATA chunk) at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const io = this.io;
    io.cork();
    /** A command or a DATA block was completed: the next deadline starts afresh. */
    let progressed = false;
    try {
      for (;;) {
        const st = this.state;
        if (st.kind === 'closing' || this.shutdownAfterCommand) break;
        if (st.kind === 'data') {
          if (this.pendingBytes === 0) break;
          const r = st.reader.push(this.takePending());
          this.dataOctets += r.consumed;
          if (this.dataOctets - this.dataBlockStart >= this.opts.limits.dataBlockOctets) {
            // Minimum data rate: a full block arrived in time; the next one gets a new deadline.
            this.dataBlockStart = this.dataOctets;
            progressed = true;
          }
          if (!r.done) continue;
          if (r.leftover && r.leftover.length > 0) this.unshiftPending(r.leftover);
          this.stopDeadline();
          progressed = true;
          io.uncork(); // flush replies before waiting for the sink
          io.cork();
          await this.finishData(st.tx, st.reader.result());
          await this.flushOutput();
          continue;
        }
        if (this.pendingBytes > 0) this.lines.feed(this.takePending());
        const item = this.lines.next();
        if (item === undefined) break;
        // A whole line: the deadline stops while we process it (policies, sink).
        this.stopDeadline();
        progressed = true;
        await this.onLine(item);
        if ((this.state.kind as string) === 'data') {
          // DATA was accepted: what follows the command line is message content.
          const rest = this.lines.drain();
          if (rest.length > 0) this.unshiftPending(rest);
          this.dataOctets = 0;
          this.dataBlockStart = 0;
        }
        await this.flushOutput();
      }
    } catch (e) {
      this.emit({ kind: 'policy-error', sessionId: this.sessionId, what: 'sink', detail: describeError(e) });
      this.reply(Codes.C451LocalError, 'local error in processing');
      this.close();
    } finally {
      this.pumping = false;
      if (this.shutdownAfterCommand) {
        this.shutdownAfterCommand = false;
        this.shutdown();
      }
      if (!io.destroyed) io.uncork();
      if (this.state.kind !== 'closing') {
        // Deadlines, not idle timers: input that completes nothing leaves the deadline as it is.
        if (progressed || this.timer === undefined) this.armTimer();
        this.updateFlow();
      }
    }
  }

  private unshiftPending(b: Buffer): void {
    this.pending.unshift(b);
    this.pendingBytes += b.length;
  }

  private async onLine(item: LineItem): Promise<void> {
    if (this.state.kind === 'auth') {
      this.emit({ kind: 'trace', sessionId: this.sessionId, direction: 'in', line: '(authentication data hidden)' });
      if (item.kind === 'too-long') {
        this.state = { kind: 'ready' };
        this.reply(Codes.C500LineTooLong, 'line too long');
        return;
      }
      await authLine(this, item.text);
      return;
    }
    if (item.kind === 'too-long') {
      this.violation('line-too-long', `${item.octets} octets`);
      // RFC 5321 §4.5.3.1.4 / §4.2.2: 500 5.5.6 for an over-long line (RFC 3463 X.5.6 is not
      // defined; Codes.C500LineTooLong carries 5.5.6 as widely used by Postfix).
      this.badCommand(Codes.C500LineTooLong, 'line too long');
      return;
    }
    const first = !this.seenLine;
    this.seenLine = true;
    if (first && HTTP_REQUEST.test(item.text)) {
      this.violation('http', item.text.slice(0, 64));
      this.reply(Codes.C554ProtocolViolation, 'this is an SMTP server, not an HTTP server');
      this.close();
      return;
    }
    this.emit({ kind: 'trace', sessionId: this.sessionId, direction: 'in', line: this.traceMask.show(item.text) });
    const tx = this.currentTx();
    const parsed = parseCommand(item.text, { utf8: tx?.params.smtputf8 ?? false });
    if (!parsed.ok) {
      this.syntaxError(parsed.error);
      return;
    }
    const cmd = parsed.value;
    const entry = VERB_TABLE[cmd.verb] as VerbEntry<Command['verb']>;
    if (!entry.allowedIn.includes(this.state.kind)) {
      this.badCommand(Codes.C503BadSequence, entry.sequenceText?.[this.state.kind] ?? 'bad sequence of commands');
      return;
    }
    // The table maps each verb to a handler of exactly that command; TypeScript cannot correlate
    // the indexed entry with the narrowed command, hence the widening.
    await (entry.handle as (s: SessionApi, c: Command) => Promise<void> | void)(this, cmd);
  }

  private currentTx(): Transaction | undefined {
    const st = this.state;
    return st.kind === 'mail' || st.kind === 'rcpt' || st.kind === 'data' ? st.tx : undefined;
  }

  private syntaxError(e: CommandSyntaxError): void {
    switch (e.kind) {
      case 'unknown-command':
        this.badCommand(Codes.C500SyntaxError, 'command not recognized');
        return;
      case 'syntax':
        this.badCommand(Codes.C501ArgumentSyntax, e.text);
        return;
      case 'bad-address':
        this.badCommand(e.verb === 'MAIL' ? Codes.C501BadSenderAddress : Codes.C501BadAddress, 'bad address syntax');
        return;
      case 'bad-parameter':
        this.badCommand(Codes.C501ArgumentSyntax, e.text);
        return;
      case 'unknown-parameter':
        this.badCommand(Codes.C555ParameterNotRecognized, `parameter ${e.keyword} not recognized`);
        return;
    }
  }

  /** Answers a bad command, or 421 and close once the limit is reached. */
  private badCommand(code: ReplyCode, text: string): void {
    this.badCommands++;
    if (this.badCommands >= this.opts.limits.maxBadCommands) {
      this.violation('too-many-bad-commands', `${this.badCommands} bad commands`);
      this.reply(Codes.C421TooManyErrors, 'too many errors, closing connection');
      this.close();
      return;
    }
    this.reply(code, text);
  }

  private violation(violation: ViolationKind, detail: string): void {
    this.emit({ kind: 'violation', sessionId: this.sessionId, clientIp: this.clientIp, violation, detail });
  }

  // --- end of DATA --------------------------------------------------------------------------

  private async finishData(tx: Transaction, res: DataResult): Promise<void> {
    this.state = { kind: 'ready' };
    const from = formatPath(tx.from);
    const rcpts = tx.recipients.map((r) => formatMailbox(r.mailbox));
    const rejected = (code: ReplyCode, text: string, reason: string) => {
      this.emit({ kind: 'message-rejected', sessionId: this.sessionId, from, recipients: rcpts, size: res.size, code: code.code, reason });
      this.reply(code, text);
    };
    // RFC 5321 §2.3.8: CR and LF only as CRLF. Rejected after the real final dot (smuggling).
    if (res.bareLf || res.bareCr) {
      rejected(Codes.C554BareLineEnding, 'message contains bare CR or LF; lines must end with CRLF', res.bareLf ? 'bare LF in DATA' : 'bare CR in DATA');
      return;
    }
    if (res.tooBig) {
      rejected(Codes.C552MessageTooBig, 'message size exceeds fixed maximum message size', `${res.size} octets over limit`);
      return;
    }
    const envelope: Envelope = {
      from: tx.from,
      recipients: [...tx.recipients],
      requireTls: false,
      ...(tx.params.ret !== undefined || tx.params.envid !== undefined
        ? { dsn: { ...(tx.params.ret ? { ret: tx.params.ret } : {}), ...(tx.params.envid !== undefined ? { envid: tx.params.envid } : {}) } }
        : {}),
      ...(tx.params.body === '8BITMIME' ? { body8bit: true } : {}),
      ...(tx.params.smtputf8 ? { smtputf8: true } : {}),
    };
    const header = receivedHeader({
      heloName: this.heloName,
      clientIp: this.clientIp,
      hostName: this.opts.hostName,
      esmtp: this.esmtp,
      tls: this.tls,
      authenticated: this.authUser !== undefined,
      smtputf8: tx.params.smtputf8 ?? false,
      id: this.sessionId,
      ...(rcpts.length === 1 ? { forRecipient: `<${rcpts[0]}>` } : {}),
      dateMs: this.opts.clock.now(),
    });
    let result;
    try {
      result = await this.opts.sink.accept({
        envelope,
        data: Buffer.concat([header, res.data]),
        sessionId: this.sessionId,
        clientIp: this.clientIp,
        heloName: this.heloName,
        tls: this.tls,
        ...(this.authUser !== undefined ? { authUser: this.authUser } : {}),
      });
    } catch (e) {
      this.emit({ kind: 'policy-error', sessionId: this.sessionId, what: 'sink', detail: describeError(e) });
      result = { ok: false as const, reply: { code: Codes.C451LocalError, text: 'local error in processing' } };
    }
    if (!result.ok) {
      rejected(result.reply.code, typeof result.reply.text === 'string' ? result.reply.text : result.reply.text.join(' '), 'refused by sink');
      return;
    }
    this.messages++;
    this.emit({ kind: 'message-accepted', sessionId: this.sessionId, id: result.id, from, recipients: rcpts, size: res.size });
    // RFC 5321 §4.1.1.4 / SPEC.md §5: 250 only now, after the sink made the message durable.
    this.reply(Codes.C250MessageAccepted, `ok, queued as ${result.id}`);
  }

  // --- timers and socket end ----------------------------------------------------------------

  private stopDeadline(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** A fresh deadline: the next command line (or DATA block) must be complete within it. */
  private armTimer(): void {
    this.timer?.cancel();
    const inData = this.state.kind === 'data';
    const ms = inData ? this.opts.limits.dataTimeoutMs : this.opts.limits.commandTimeoutMs;
    this.timer = this.opts.clock.setTimer(ms, () => {
      if (this.state.kind === 'closing') return;
      this.emit({ kind: 'timeout', sessionId: this.sessionId, clientIp: this.clientIp, step: inData ? 'data' : 'command' });
      // RFC 5321 §4.5.3.2: the server may close after its timeout; 421 4.4.2 tells why.
      this.reply(Codes.C421Timeout, `${this.opts.hostName} timeout, closing connection`);
      this.close();
    });
  }

  private onSocketError(e: Error): void {
    // A reset by the peer is normal end-of-life for SMTP connections; anything else is traced.
    this.emit({ kind: 'trace', sessionId: this.sessionId, direction: 'in', line: `(socket error: ${describeError(e)})` });
    this.destroy();
  }

  private closedOnce = false;

  /** Waits greetPauseMs, or less when the client talks or closes first. */
  private greetPause(): Promise<void> {
    const ms = this.opts.limits.greetPauseMs;
    if (ms <= 0 || this.earlyBytes > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.opts.clock.setTimer(ms, () => { this.wakeGreeting = undefined; resolve(); });
      this.wakeGreeting = () => { this.wakeGreeting = undefined; t.cancel(); resolve(); };
    });
  }

  private wakeGreeting: (() => void) | undefined;

  private onClosed(): void {
    if (this.closedOnce) return;
    this.closedOnce = true;
    this.timer?.cancel();
    this.state = { kind: 'closing' };
    this.wakeGreeting?.();
    this.emit({ kind: 'disconnect', sessionId: this.sessionId, clientIp: this.clientIp, messages: this.messages });
  }
}
