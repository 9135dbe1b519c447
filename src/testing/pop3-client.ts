// A small POP3 test client for dialog tests: raw line access (nothing hidden or corrected), STLS,
// multi-line responses as raw bytes, and a C:/S: dialog runner.
import net from 'node:net';
import tls from 'node:tls';

export class Pop3TestClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  private constructor(private socket: net.Socket) {
    this.closed = new Promise((r) => { this.markClosed = r; });
    this.hook(socket);
  }

  static connect(port: number, opts: { host?: string; tls?: { ca: Buffer } } = {}): Promise<Pop3TestClient> {
    const host = opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const s = opts.tls === undefined
        ? net.connect(port, host)
        : tls.connect({ port, host, ca: opts.tls.ca, servername: 'localhost' });
      s.once(opts.tls === undefined ? 'connect' : 'secureConnect', () => { s.off('error', reject); resolve(new Pop3TestClient(s)); });
      s.once('error', reject);
    });
  }

  private hook(s: net.Socket): void {
    s.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    s.on('close', () => { this.ended = true; this.wake(); this.markClosed(); });
    s.on('error', () => { this.ended = true; this.wake(); });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitFor<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  get isClosed(): boolean { return this.ended; }

  write(data: string | Buffer): void { this.socket.write(data); }

  /** Next reply line without CRLF. */
  readLine(): Promise<string> {
    return this.waitFor(() => {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) return undefined;
      const l = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + 2);
      return l;
    });
  }

  /** The body of a multi-line response after its first line, raw (still dot-stuffed), up to and excluding ".\r\n". */
  readMultiRaw(): Promise<Buffer> {
    return this.waitFor(() => {
      if (this.buf.subarray(0, 3).equals(Buffer.from('.\r\n'))) { this.buf = this.buf.subarray(3); return Buffer.alloc(0); }
      const i = this.buf.indexOf('\r\n.\r\n');
      if (i < 0) return undefined;
      const body = this.buf.subarray(0, i + 2);
      this.buf = this.buf.subarray(i + 5);
      return Buffer.from(body);
    });
  }

  async cmd(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.readLine();
  }

  /** Sends a command expecting a multi-line answer: first line plus the un-stuffed body lines. */
  async multi(line: string): Promise<{ first: string; lines: string[]; raw: Buffer }> {
    this.write(line + '\r\n');
    const first = await this.readLine();
    if (!first.startsWith('+OK')) return { first, lines: [], raw: Buffer.alloc(0) };
    const raw = await this.readMultiRaw();
    const lines = raw.length === 0 ? [] : raw.toString('latin1').replace(/\r\n$/, '').split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l));
    return { first, lines, raw };
  }

  async stls(ca: Buffer): Promise<string> {
    const r = await this.cmd('STLS');
    if (r.startsWith('+OK')) await this.startTls(ca);
    return r;
  }

  /** Starts the TLS handshake on the current connection (after an +OK to STLS read by the caller). */
  async startTls(ca: Buffer): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const s = tls.connect({ socket: raw, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
    this.socket = s;
    this.hook(s);
  }

  /**
   * Runs a dialog: "C: line" is sent; "S: text" must match the next reply line, where text is a
   * prefix, or /regex/. "S: ..." lines after a C: line of a multi-line command read the body lines.
   */
  async dialog(script: string): Promise<void> {
    for (const raw of script.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
      if (raw.startsWith('C: ')) { this.write(raw.slice(3) + '\r\n'); continue; }
      if (!raw.startsWith('S: ')) throw new Error(`bad dialog line: ${raw}`);
      const want = raw.slice(3);
      const got = await this.readLine();
      const okMatch = want.startsWith('/') && want.endsWith('/') ? new RegExp(want.slice(1, -1)).test(got) : got.startsWith(want);
      if (!okMatch) throw new Error(`dialog: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}
