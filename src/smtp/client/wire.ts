// One socket, one reply reader. Every command goes through command()/send()+read(); replies are
// matched to commands by counting (RFC 2920 §3.1: replies come in command order), so a reply
// that nobody asked for is a desync. Any failure — socket error, close, timeout, malformed or
// unexpected reply — is stored once and makes every later call fail fast (`broken`).
import type { Socket } from 'node:net';
import type { Clock, Timer } from '../../core/clock.js';
import { ProtocolError, TimeoutError, TransportError, type SpoolgateError } from '../../core/errors.js';
import { ReplyParser, type Reply } from '../protocol/reply.js';
import { traceable } from '../protocol/command.js';
import type { TraceFn } from './types.js';

interface Pending {
  resolve: () => void;
  reject: (e: SpoolgateError) => void;
}

export class Wire {
  private socket: Socket;
  private parser = new ReplyParser();
  private readonly ready: Reply[] = [];
  /** Replies we are owed for commands written (the greeting counts as one). */
  private owed = 1;
  private failure: SpoolgateError | undefined;
  private pending: Pending | undefined;
  private readonly clock: Clock;
  private readonly trace: TraceFn | undefined;

  constructor(socket: Socket, clock: Clock, trace: TraceFn | undefined) {
    this.socket = socket;
    this.clock = clock;
    this.trace = trace;
    this.attach(socket);
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  get error(): SpoolgateError | undefined {
    return this.failure;
  }

  private readonly onData = (chunk: Buffer): void => {
    const r = this.parser.push(chunk);
    for (const reply of r.replies) {
      if (this.trace) for (const l of reply.lines) this.trace('S', `${reply.code} ${reply.enhanced !== undefined ? reply.enhanced + ' ' : ''}${l}`);
      if (this.owed === 0) {
        this.fail(new ProtocolError(`server sent a reply nobody asked for (${reply.code} ${reply.text.slice(0, 100)}): out of step`));
        return;
      }
      this.owed--;
      this.ready.push(reply);
    }
    if (r.error) { this.fail(r.error); return; }
    this.wake();
  };

  private readonly onError = (e: Error): void => {
    this.fail(new TransportError(`connection error: ${e.message}`, { cause: e }));
  };

  private readonly onClose = (): void => {
    this.fail(new TransportError('connection closed by the server'));
  };

  private readonly onDrain = (): void => {
    this.wake();
  };

  private attach(s: Socket): void {
    s.on('data', this.onData);
    s.on('error', this.onError);
    s.on('close', this.onClose);
    s.on('drain', this.onDrain);
  }

  /**
   * Hands the raw socket over for a TLS upgrade. RFC 3207 §4.2 / CVE-2011-0411: anything the
   * server sent after its 220 to STARTTLS would be read as if it came over TLS — refuse it.
   */
  detach(): Socket {
    this.check();
    if (this.ready.length > 0 || this.parser.buffered > 0) {
      const e = new ProtocolError('server sent data after its STARTTLS reply before the TLS handshake (injection attempt?)');
      this.fail(e);
      throw e;
    }
    const s = this.socket;
    s.off('data', this.onData);
    s.off('error', this.onError);
    s.off('close', this.onClose);
    s.off('drain', this.onDrain);
    return s;
  }

  /** Continues on the TLS socket after a successful handshake: a fresh parser, nothing owed. */
  resume(s: Socket): void {
    this.socket = s;
    this.parser = new ReplyParser();
    this.owed = 0;
    this.attach(s);
    if (s.destroyed) this.fail(new TransportError('connection closed during the TLS handshake'));
  }

  private wake(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    if (this.failure) p.reject(this.failure);
    else p.resolve();
  }

  /** Records the first failure, closes the socket and wakes whoever waits. Later failures are ignored. */
  fail(e: SpoolgateError): void {
    if (this.failure) return;
    this.failure = e;
    this.socket.destroy();
    this.wake();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Writes command lines (one write: RFC 2920 batches) that each expect one reply. */
  send(lines: readonly string[], secret = false): void {
    this.check();
    if (this.trace) for (const l of lines) this.trace('C', traceable(l, secret));
    this.owed += lines.length;
    this.socket.write(Buffer.from(lines.join(''), 'utf8'));
  }

  /** The next reply, waiting at most ms (step names the Timeout for the error). */
  async read(step: string, ms: number): Promise<Reply> {
    for (;;) {
      this.check();
      const r = this.ready.shift();
      if (r !== undefined) return r;
      await this.wait(step, ms);
    }
  }

  async command(line: string, step: string, ms: number, secret = false): Promise<Reply> {
    this.send([line], secret);
    return this.read(step, ms);
  }

  /**
   * Writes one block of message data, given as buffers (the dot-stuffer's views), in one
   * gathered write (cork/uncork: one writev, not a syscall per buffer). With `terminator` the
   * block ends with the data's final ".\r\n", whose reply is then owed. Waits for the socket to
   * drain when its buffer is full (`step`/`ms`: the DataBlock timeout).
   */
  async writeData(block: readonly Buffer[], terminator: boolean, step: string, ms: number): Promise<void> {
    this.check();
    const s = this.socket;
    if (terminator && this.trace) this.trace('C', '.');
    s.cork();
    for (const b of block) s.write(b);
    if (terminator) this.owed++;
    s.uncork();
    while (s.writableNeedDrain) {
      await this.wait(step, ms);
      this.check();
    }
  }

  private wait(step: string, ms: number): Promise<void> {
    if (this.pending) throw new ProtocolError('two concurrent reads on one SMTP connection');
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = this.clock.setTimer(ms, () => {
        this.fail(new TimeoutError(step, ms));
      });
      this.pending = {
        resolve: () => { timer.cancel(); resolve(); },
        reject: (e) => { timer.cancel(); reject(e); },
      };
    });
  }

  /** Half-closes politely; the socket is destroyed if the server does not close within ms. */
  end(ms: number): void {
    const s = this.socket;
    s.end();
    const t = this.clock.setTimer(ms, () => s.destroy());
    s.once('close', () => t.cancel());
  }

  destroy(): void {
    this.fail(new TransportError('connection closed by the client'));
  }
}
