// FakeSmtpServer: a scriptable SMTP server for tests of the client and the forwarder.
// Scripted by verb→reply tables (per connection if wanted), with hooks for the greeting,
// STARTTLS and the final dot; it can hang, disconnect mid-DATA, send malformed replies, offer
// STARTTLS with the test certificates and insist on EHLO after TLS (503 to MAIL otherwise, the
// seed's diagnosis-guide symptom). It records every command and every message (envelope and the
// exact bytes after un-stuffing). Listens on 127.0.0.1 port 0.
//
// Usage:
//   const srv = await FakeSmtpServer.start({ replies: { MAIL: '451 4.3.0 try later' } });
//   ... connect to srv.port ...; srv.messages; srv.commands; await srv.close();
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { testCerts } from './certs.js';

/**
 * What the server does instead of / as a reply:
 * - a string: the reply, e.g. '250 2.1.0 ok'; several lines joined with '\n' are sent as
 *   given ('250-a\n250 b'); CRLF is added to each line;
 * - { hang: true }: never answer and ignore everything after (the client's timeout fires);
 * - { disconnect: true }: close the connection instead of answering;
 * - { raw }: exactly these bytes (malformed replies, injected data);
 * - { delayMs, then }: the action `then` after delayMs of real time (a slow server).
 */
export type FakeAction = string | { readonly hang: true } | { readonly disconnect: true } | { readonly raw: string } | { readonly delayMs: number; readonly then: FakeAction };

export interface FakeCommand {
  /** 1-based connection number. */
  readonly connection: number;
  readonly verb: string;
  /** The full line without CRLF. */
  readonly line: string;
  readonly tls: boolean;
}

export interface FakeMessage {
  readonly connection: number;
  /** MAIL FROM path without brackets ('' for the null path). */
  readonly from: string;
  /** MAIL FROM parameters as sent, e.g. 'SIZE=123 BODY=8BITMIME'. */
  readonly mailParams: string;
  /** Recipients the server accepted, without brackets. */
  readonly recipients: string[];
  /** Message bytes after un-stuffing, including the final CRLF, without the terminating dot. */
  readonly data: Buffer;
  readonly tls: boolean;
}

export interface FakeScript {
  /** Default '220 fake.test ESMTP FakeSmtpServer'. */
  readonly greeting?: FakeAction;
  /** EHLO keywords; default PIPELINING, 8BITMIME, SIZE 10485760, ENHANCEDSTATUSCODES, DSN, plus STARTTLS when tls. */
  readonly extensions?: readonly string[];
  /** Replies by upper-case verb: one action for every use, or a list used in turn (the last repeats). */
  readonly replies?: Readonly<Record<string, FakeAction | readonly FakeAction[]>>;
  /** Reply per recipient (address without brackets, 0-based index in the transaction); undefined = default. */
  readonly rcpt?: (address: string, index: number) => FakeAction | undefined;
  /** Reply to the final dot; the message is recorded before the hook runs. Default '250 2.0.0 queued as N'. */
  readonly onDot?: (msg: FakeMessage) => FakeAction;
  /** Offer STARTTLS with testCerts() (true) or the given certificate. */
  readonly tls?: boolean | { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** Reply to STARTTLS (default '220 2.0.0 ready'); 'break-handshake' answers 220 and then sends non-TLS bytes. */
  readonly starttls?: FakeAction | 'break-handshake';
  /** After TLS, MAIL before a new EHLO gets 503 (servers in the seed's diagnosis guide). */
  readonly requireEhloAfterTls?: boolean;
  /** Drop the connection once this many bytes of message data arrived. */
  readonly disconnectAfterDataBytes?: number;
  /** Accept AUTH PLAIN/LOGIN with these credentials (offered as AUTH PLAIN LOGIN). */
  readonly auth?: { readonly user: string; readonly password: string };
}

export type FakeScriptSource = FakeScript | ((connection: number) => FakeScript);

interface Conn {
  readonly no: number;
  readonly script: FakeScript;
  socket: Socket;
  tls: boolean;
  buf: Buffer;
  mode: 'command' | 'data' | 'auth-user' | 'auth-pass' | 'dead';
  dataBuf: Buffer;
  dataSeen: number;
  needEhlo: boolean;
  from: string | undefined;
  mailParams: string;
  rcpts: string[];
  rcptIndex: number;
  authUser: string;
  uses: Map<string, number>;
}

const isDead = (c: Conn): boolean => c.mode === 'dead';
const DEFAULT_EXTENSIONS = ['PIPELINING', '8BITMIME', 'SIZE 10485760', 'ENHANCEDSTATUSCODES', 'DSN'];
const MAX_LINE = 8192;

export class FakeSmtpServer {
  /** Every command received, in order, over all connections. */
  readonly commands: FakeCommand[] = [];
  /** Every message completed with a final dot (whatever the reply to it was). */
  readonly messages: FakeMessage[] = [];

  /**
   * The command log cut into transactions: each completed message with the MAIL line and the RCPT
   * lines of its transaction, as the client sent them (RSET forgets an open transaction).
   */
  transactions(): { readonly mail: string; readonly rcpts: readonly string[]; readonly message: FakeMessage }[] {
    const open = new Map<number, { mail: string; rcpts: string[] }>();
    const out: { mail: string; rcpts: string[]; message: FakeMessage }[] = [];
    let dots = 0;
    for (const c of this.commands) {
      if (c.verb === 'MAIL') open.set(c.connection, { mail: c.line, rcpts: [] });
      else if (c.verb === 'RCPT') open.get(c.connection)?.rcpts.push(c.line);
      else if (c.verb === 'RSET') open.delete(c.connection);
      else if (c.verb === '.') {
        const t = open.get(c.connection);
        const message = this.messages[dots++];
        if (t !== undefined && message !== undefined) out.push({ ...t, message });
        open.delete(c.connection);
      }
    }
    return out;
  }
  private readonly server: Server;
  private readonly source: FakeScriptSource;
  private readonly sockets = new Set<Socket>();
  private connCount = 0;
  private portNo = 0;

  constructor(source: FakeScriptSource = {}) {
    this.source = source;
    this.server = createServer((s) => this.accept(s));
  }

  /** Creates and starts a server on 127.0.0.1, port 0. */
  static async start(source: FakeScriptSource = {}): Promise<FakeSmtpServer> {
    const s = new FakeSmtpServer(source);
    await s.listen();
    return s;
  }

  /** Listens on 127.0.0.1, port 0 (or the given port: a restart on the port it had). */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const a = this.server.address();
        this.portNo = typeof a === 'object' && a !== null ? a.port : 0;
        resolve(this.portNo);
      });
    });
  }

  get host(): string { return '127.0.0.1'; }
  get port(): number { return this.portNo; }
  /** Connections accepted so far. */
  get connections(): number { return this.connCount; }
  /** Connections currently open. */
  get openConnections(): number { return this.sockets.size; }
  /** Commands of one verb (upper case), e.g. commandsOf('RSET').length. */
  commandsOf(verb: string): FakeCommand[] { return this.commands.filter((c) => c.verb === verb); }

  /** Stops listening and drops every open connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const no = ++this.connCount;
    const script = typeof this.source === 'function' ? this.source(no) : this.source;
    const c: Conn = {
      no, script, socket, tls: false, buf: Buffer.alloc(0), mode: 'command', dataBuf: Buffer.alloc(0), dataSeen: 0,
      needEhlo: false, from: undefined, mailParams: '', rcpts: [], rcptIndex: 0, authUser: '', uses: new Map(),
    };
    this.track(socket);
    this.bind(c, socket);
    this.act(c, script.greeting ?? '220 fake.test ESMTP FakeSmtpServer');
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    // A client that resets the connection is normal in failure tests.
    s.on('error', () => s.destroy());
  }

  private bind(c: Conn, s: Socket): void {
    c.socket = s;
    s.on('data', (chunk: Buffer) => this.onData(c, chunk));
  }

  /** Performs an action; false when the connection is finished (hang/disconnect). */
  private act(c: Conn, a: FakeAction): boolean {
    if (c.mode === 'dead') return false;
    if (typeof a === 'string') {
      c.socket.write(a.split('\n').map((l) => l.replace(/\r$/, '') + '\r\n').join(''));
      return true;
    }
    if ('raw' in a) { c.socket.write(a.raw); return true; }
    if ('delayMs' in a) {
      const t = setTimeout(() => { this.act(c, a.then); }, a.delayMs);
      c.socket.once('close', () => clearTimeout(t));
      return true;
    }
    c.mode = 'dead';
    if ('disconnect' in a) c.socket.destroy();
    return false;
  }

  private scripted(c: Conn, verb: string): FakeAction | undefined {
    const r = c.script.replies?.[verb];
    if (r === undefined) return undefined;
    if (typeof r === 'string' || !Array.isArray(r)) return r as FakeAction;
    const n = c.uses.get(verb) ?? 0;
    c.uses.set(verb, n + 1);
    const list = r as readonly FakeAction[];
    return list[Math.min(n, list.length - 1)];
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.mode === 'dead') return;
    c.buf = Buffer.concat([c.buf, chunk]);
    while (!isDead(c) && c.buf.length > 0) {
      if (c.mode === 'data') { if (!this.onDataBytes(c)) return; continue; }
      const lf = c.buf.indexOf(0x0a);
      if (lf < 0) {
        if (c.buf.length > MAX_LINE) this.act(c, '500 5.5.6 line too long');
        return;
      }
      const line = c.buf.toString('utf8', 0, lf).replace(/\r$/, '');
      c.buf = c.buf.subarray(lf + 1);
      if (!this.onLine(c, line)) return;
    }
  }

  /** Consumes DATA bytes up to and including the final dot; false when more input is needed. */
  private onDataBytes(c: Conn): boolean {
    const before = c.dataBuf.length;
    c.dataBuf = Buffer.concat([c.dataBuf, c.buf]);
    c.buf = Buffer.alloc(0);
    const limit = c.script.disconnectAfterDataBytes;
    if (limit !== undefined && c.dataBuf.length >= limit) {
      c.mode = 'dead';
      c.socket.destroy();
      return false;
    }
    // RFC 5321 §4.1.1.4: the data ends with CRLF "." CRLF (or "." CRLF right at the start).
    let end = -1;
    if (c.dataBuf.subarray(0, 3).toString('latin1') === '.\r\n') end = 0;
    else {
      const i = c.dataBuf.indexOf('\r\n.\r\n', Math.max(0, before - 4), 'latin1');
      if (i >= 0) end = i + 2;
    }
    if (end < 0) return false;
    const stuffed = c.dataBuf.subarray(0, end).toString('latin1');
    c.buf = c.dataBuf.subarray(end + 3);
    c.dataBuf = Buffer.alloc(0);
    c.mode = 'command';
    // RFC 5321 §4.5.2: remove the first period of every line that starts with one.
    const data = Buffer.from(stuffed.replace(/(^|\r\n)\./g, '$1'), 'latin1');
    const msg: FakeMessage = { connection: c.no, from: c.from ?? '', mailParams: c.mailParams, recipients: [...c.rcpts], data, tls: c.tls };
    this.messages.push(msg);
    this.commands.push({ connection: c.no, verb: '.', line: '.', tls: c.tls });
    c.from = undefined;
    c.rcpts = [];
    c.rcptIndex = 0;
    return this.act(c, c.script.onDot?.(msg) ?? `250 2.0.0 queued as ${this.messages.length}`);
  }

  private onLine(c: Conn, line: string): boolean {
    if (c.mode === 'auth-user' || c.mode === 'auth-pass') return this.onAuthLine(c, line);
    const verb = (/^\S+/.exec(line)?.[0] ?? '').toUpperCase();
    this.commands.push({ connection: c.no, verb, line, tls: c.tls });
    const s = c.script;
    const arg = line.slice(verb.length).trim();
    switch (verb) {
      case 'EHLO': {
        const a = this.scripted(c, verb);
        if (a !== undefined) return this.act(c, a);
        c.needEhlo = false;
        const ext = [...(s.extensions ?? DEFAULT_EXTENSIONS)];
        if (s.tls && !c.tls && !ext.includes('STARTTLS')) ext.push('STARTTLS');
        if (s.auth && !ext.some((e) => e.startsWith('AUTH'))) ext.push('AUTH PLAIN LOGIN');
        const lines = ['fake.test greets you', ...ext];
        return this.act(c, lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\n'));
      }
      case 'HELO':
        c.needEhlo = false;
        return this.act(c, this.scripted(c, verb) ?? '250 fake.test');
      case 'STARTTLS':
        return this.onStartTls(c);
      case 'AUTH':
        return this.onAuth(c, arg);
      case 'MAIL': {
        if (c.needEhlo) return this.act(c, '503 5.5.1 Error: send EHLO after STARTTLS');
        const a = this.scripted(c, verb) ?? '250 2.1.0 sender ok';
        if (typeof a === 'string' && a.startsWith('2')) {
          const m = /^FROM:\s*<([^>]*)>\s*(.*)$/i.exec(arg);
          c.from = m?.[1] ?? arg;
          c.mailParams = m?.[2] ?? '';
          c.rcpts = [];
          c.rcptIndex = 0;
        }
        return this.act(c, a);
      }
      case 'RCPT': {
        if (c.from === undefined) return this.act(c, '503 5.5.1 need MAIL first');
        const addr = /^TO:\s*<([^>]*)>/i.exec(arg)?.[1] ?? arg;
        const a = s.rcpt?.(addr, c.rcptIndex) ?? this.scripted(c, verb) ?? '250 2.1.5 recipient ok';
        c.rcptIndex++;
        if (typeof a === 'string' && a.startsWith('2')) c.rcpts.push(addr);
        return this.act(c, a);
      }
      case 'DATA': {
        const a = this.scripted(c, verb);
        if (a === undefined && (c.from === undefined || c.rcpts.length === 0)) return this.act(c, '554 5.5.1 no valid recipients');
        const act = a ?? '354 end data with <CR><LF>.<CR><LF>';
        if (typeof act === 'string' && act.startsWith('354')) { c.mode = 'data'; c.dataBuf = Buffer.alloc(0); }
        return this.act(c, act);
      }
      case 'RSET':
        c.from = undefined;
        c.rcpts = [];
        c.rcptIndex = 0;
        return this.act(c, this.scripted(c, verb) ?? '250 2.0.0 ok');
      case 'NOOP':
        return this.act(c, this.scripted(c, verb) ?? '250 2.0.0 ok');
      case 'QUIT': {
        const ok = this.act(c, this.scripted(c, verb) ?? '221 2.0.0 bye');
        if (ok) { c.mode = 'dead'; c.socket.end(); }
        return false;
      }
      default:
        return this.act(c, this.scripted(c, verb) ?? '502 5.5.2 command not implemented');
    }
  }

  private onStartTls(c: Conn): boolean {
    const s = c.script;
    if (!s.tls || c.tls) return this.act(c, '502 5.5.1 STARTTLS not offered');
    const how = s.starttls ?? '220 2.0.0 ready to start TLS';
    if (how === 'break-handshake') {
      this.act(c, '220 2.0.0 ready to start TLS');
      this.act(c, { raw: 'this is not a TLS handshake\r\n' });
      c.mode = 'dead';
      c.socket.end();
      return false;
    }
    if (typeof how !== 'string' || !how.startsWith('220')) return this.act(c, how);
    this.act(c, how);
    const { cert, key } = typeof s.tls === 'object' ? s.tls : testCerts();
    const raw = c.socket;
    raw.removeAllListeners('data');
    const secure = new TLSSocket(raw, { isServer: true, secureContext: createSecureContext({ cert, key }) });
    this.track(secure);
    c.tls = true;
    c.buf = Buffer.alloc(0);
    // RFC 3207 §4.2: the server discards knowledge from before TLS; the session starts anew.
    c.from = undefined;
    c.rcpts = [];
    c.needEhlo = s.requireEhloAfterTls === true;
    this.bind(c, secure);
    return false;
  }

  private onAuth(c: Conn, arg: string): boolean {
    const a = c.script.auth;
    if (!a) return this.act(c, '502 5.5.1 AUTH not offered');
    const [mech = '', initial] = arg.split(/\s+/);
    if (mech.toUpperCase() === 'PLAIN' && initial !== undefined) {
      const [, user, pass] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
      return this.act(c, user === a.user && pass === a.password ? '235 2.7.0 authenticated' : '535 5.7.8 authentication failed');
    }
    if (mech.toUpperCase() === 'LOGIN') {
      c.mode = 'auth-user';
      return this.act(c, '334 VXNlcm5hbWU6');
    }
    return this.act(c, '504 5.5.4 mechanism not supported');
  }

  private onAuthLine(c: Conn, line: string): boolean {
    const a = c.script.auth!;
    const v = Buffer.from(line, 'base64').toString('utf8');
    if (c.mode === 'auth-user') {
      c.authUser = v;
      c.mode = 'auth-pass';
      return this.act(c, '334 UGFzc3dvcmQ6');
    }
    c.mode = 'command';
    return this.act(c, c.authUser === a.user && v === a.password ? '235 2.7.0 authenticated' : '535 5.7.8 authentication failed');
  }
}
