// Dialog runner: plays test/dialogs/*.dialog files against a real SmtpServer on 127.0.0.1:0
// with a recording sink, and reports mismatches with file and line numbers (STYLE.md §6).
//
// File format, one item per line:
//   C: text           client sends text + CRLF. Consecutive C:/W: lines go out in ONE write
//                     (pipelining); a dialog that starts with C: sends before the greeting.
//   W: text           client sends raw bytes, no CRLF added; escapes \r \n \t \\ \xNN.
//   S: pattern        the next reply line from the server; "*" matches any run of characters.
//   S: <closed>       the server closes the connection (no further line).
//   # config: k=v ... server options (see applyConfig below); must come before the first C:/S:.
//   # assert: k=v     check the recording sink (messages, from, rcpts, body, ...; see check()).
//   # flush           sends what is pending as its own packet.
//   # other text      comment. Blank lines are ignored.
import { readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { formatMailbox, formatPath } from '../core/address.js';
import { Codes } from '../smtp/protocol/codes.js';
import { SmtpServer } from '../smtp/server/listener.js';
import type {
  ConnectionPolicy, InboundMessage, InboundSink, RecipientPolicy, SmtpServerLimits, SmtpServerOptions, VrfyPolicy,
} from '../smtp/server/types.js';
import { testCerts } from './certs.js';

export type DialogStep =
  | { readonly kind: 'send'; readonly data: Buffer; readonly line: number }
  | { readonly kind: 'flush'; readonly line: number }
  | { readonly kind: 'expect'; readonly pattern: string; readonly line: number }
  | { readonly kind: 'closed'; readonly line: number }
  | { readonly kind: 'assert'; readonly key: string; readonly value: string; readonly line: number };

export interface Dialog {
  readonly file: string;
  readonly config: Readonly<Record<string, string>>;
  readonly steps: readonly DialogStep[];
}

/** Decodes \r \n \t \\ \xNN escapes. */
export function unescape(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\') {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
      continue;
    }
    const n = s[++i];
    if (n === 'r') bytes.push(13);
    else if (n === 'n') bytes.push(10);
    else if (n === 't') bytes.push(9);
    else if (n === 'x') { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(0x5c, ...(n === undefined ? [] : Buffer.from(n)));
  }
  return Buffer.from(bytes);
}

export function parseDialog(text: string, file: string): Dialog {
  const config: Record<string, string> = {};
  const steps: DialogStep[] = [];
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    const l = raw.replace(/\r$/, '');
    if (l.trim() === '') return;
    let m: RegExpMatchArray | null;
    if ((m = l.match(/^# *config: *(.*)$/))) {
      for (const kv of m[1]!.trim().split(/\s+/)) {
        const eq = kv.indexOf('=');
        if (eq > 0) config[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    } else if ((m = l.match(/^# *assert: *([\w.[\]]+)=(.*)$/))) {
      steps.push({ kind: 'assert', key: m[1]!, value: m[2]!, line });
    } else if (/^# *flush\s*$/.test(l)) {
      steps.push({ kind: 'flush', line });
    } else if (l.startsWith('#')) {
      // comment
    } else if (l.startsWith('C: ') || l === 'C:') {
      steps.push({ kind: 'send', data: Buffer.from(l.slice(3) + '\r\n', 'utf8'), line });
    } else if (l.startsWith('W: ')) {
      steps.push({ kind: 'send', data: unescape(l.slice(3)), line });
    } else if (l.startsWith('S: ')) {
      const p = l.slice(3);
      steps.push(p === '<closed>' ? { kind: 'closed', line } : { kind: 'expect', pattern: p, line });
    } else {
      throw new Error(`${file}:${line}: cannot parse dialog line: ${l}`);
    }
  });
  return { file, config, steps };
}

export function loadDialogs(dir: string): Dialog[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dialog')).sort()
    .map((f) => parseDialog(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

/** Glob match: "*" is any run of characters; everything else literal. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
  return re.test(text);
}

/** The message without the Received: header the server put on top. */
export function stripReceived(data: Buffer): Buffer {
  if (!data.subarray(0, 9).equals(Buffer.from('Received:'))) return data;
  let i = 0;
  for (;;) {
    const e = data.indexOf('\r\n', i);
    if (e < 0) return Buffer.alloc(0);
    i = e + 2;
    if (data[i] !== 0x09 && data[i] !== 0x20) return data.subarray(i);
  }
}

/** A sink that keeps every message in memory; `fail` makes it refuse with 451. */
export class RecordingSink implements InboundSink {
  readonly messages: InboundMessage[] = [];
  fail = false;
  private n = 0;

  async accept(m: InboundMessage): Promise<{ ok: true; id: string } | { ok: false; reply: { code: typeof Codes.C451LocalError; text: string } }> {
    if (this.fail) return { ok: false, reply: { code: Codes.C451LocalError, text: 'local error in processing' } };
    this.messages.push(m);
    return { ok: true, id: `M${++this.n}` };
  }
}

const LIMIT_KEYS: readonly (keyof SmtpServerLimits)[] = [
  'maxMessageSize', 'maxRecipients', 'maxConnections', 'maxConnectionsPerIp', 'commandTimeoutMs',
  'dataTimeoutMs', 'dataBlockOctets', 'maxBadCommands', 'maxAuthFailures', 'maxLineLength', 'greetPauseMs',
];

/**
 * Server options from `# config:` keys: every SmtpServerLimits name; vrfy=on (alice is known);
 * tls=on (test certificate); auth=on (user "u", password "p"); connectDelayMs=N (the connection
 * policy answers after N ms, for early-talker tests); refuseIp=IP; rejectDomain=D (550 5.7.1 for
 * recipients in D); sinkFail=on; hostName=H.
 */
export function serverOptions(config: Readonly<Record<string, string>>, sink: RecordingSink, extra: Partial<SmtpServerOptions> = {}): SmtpServerOptions {
  const limits: Partial<Record<keyof SmtpServerLimits, number>> = {};
  for (const k of LIMIT_KEYS) if (config[k] !== undefined) limits[k] = Number(config[k]);
  const delay = Number(config.connectDelayMs ?? 0);
  const refuse = config.refuseIp;
  const connectionPolicy: ConnectionPolicy | undefined = delay > 0 || refuse !== undefined
    ? {
        check: async (ip) => {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          if (refuse !== undefined && ip === refuse) return { ok: false, reply: { code: Codes.C554ConnectionRefused, text: 'connection refused' }, logReason: 'listed' };
          return { ok: true };
        },
      }
    : undefined;
  const rejectDomain = config.rejectDomain;
  const recipientPolicy: RecipientPolicy = {
    checkRecipient: (_s, _e, mb) => rejectDomain !== undefined && mb.domain.toLowerCase() === rejectDomain
      ? { kind: 'reject', reply: { code: Codes.C550RelayDenied, text: 'relay access denied' }, logReason: 'relay' }
      : { kind: 'accept' },
  };
  const vrfy: VrfyPolicy = {
    verify: async (_s, arg) => (arg.toLowerCase().startsWith('alice')
      ? { code: Codes.C250Ok, text: 'alice <alice@mx.test>' }
      : { code: Codes.C550MailboxUnavailable, text: 'no such user' }),
  };
  if (config.sinkFail === 'on') sink.fail = true;
  const certs = config.tls === 'on' ? testCerts() : undefined;
  return {
    hostName: config.hostName ?? 'mx.test',
    clock: systemClock,
    sink,
    recipientPolicy,
    limits,
    ...(connectionPolicy ? { connectionPolicy } : {}),
    ...(config.vrfy === 'on' ? { vrfy } : {}),
    ...(certs ? { tls: { cert: certs.cert, key: certs.key } } : {}),
    ...(config.auth === 'on' ? { authChecker: { login: async (u: string, p: string) => (u === 'u' && p === 'p' ? { ok: true, user: u } as const : { ok: false, reason: 'invalid', user: u } as const) } } : {}),
    ...extra,
  };
}

/** Reads CRLF lines from a client socket, with a per-read timeout. */
class ReplyReader {
  private buf = '';
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => { this.buf += d.toString('utf8'); this.wake?.(); });
    sock.on('close', () => { this.closed = true; this.wake?.(); });
    sock.on('error', () => { this.closed = true; this.wake?.(); });
  }

  /** Next line, 'closed' at EOF, or 'timeout'. */
  async next(ms: number): Promise<string | { closed: true } | { timeout: true }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return l;
      }
      if (this.closed) return { closed: true };
      const left = deadline - Date.now();
      if (left <= 0) return { timeout: true };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
      this.wake = undefined;
    }
  }
}

function describe(sink: RecordingSink, key: string): string {
  const m = sink.messages[sink.messages.length - 1];
  if (key === 'messages') return String(sink.messages.length);
  if (!m) return '(no message)';
  const e = m.envelope;
  const idx = /\[(\d+)\]$/.exec(key);
  const r = idx ? e.recipients[Number(idx[1])] : undefined;
  switch (key.replace(/\[\d+\]$/, '')) {
    case 'from': return formatPath(e.from);
    case 'rcpts': return e.recipients.map((x) => `<${formatMailbox(x.mailbox)}>`).join(',');
    case 'body': return JSON.stringify(stripReceived(m.data).toString('latin1')).slice(1, -1);
    case 'received': return m.data.toString('latin1').startsWith('Received: ') ? 'yes' : 'no';
    case 'ret': return e.dsn?.ret ?? '';
    case 'envid': return e.dsn?.envid ?? '';
    case 'body8bit': return String(e.body8bit ?? false);
    case 'smtputf8': return String(e.smtputf8 ?? false);
    case 'notify': return r?.notify ? JSON.stringify(r.notify) : '';
    case 'orcpt': return r?.orcpt ? `${r.orcpt.type};${r.orcpt.address}` : '';
    default: return `(unknown assert key ${key})`;
  }
}

export interface DialogOutcome {
  readonly failures: string[];
  readonly sink: RecordingSink;
}

/** Runs one dialog against a fresh server; returns mismatches as "file:line: ..." strings. */
export async function runDialog(d: Dialog, opts: { replyTimeoutMs?: number } = {}): Promise<DialogOutcome> {
  const sink = new RecordingSink();
  const server = new SmtpServer(serverOptions(d.config, sink));
  const failures: string[] = [];
  const [addr] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  const sock = connect({ host: '127.0.0.1', port: addr!.port });
  const reader = new ReplyReader(sock);
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const timeout = opts.replyTimeoutMs ?? 3000;
  let out: Buffer[] = [];
  const flush = () => {
    if (out.length > 0 && !sock.destroyed) sock.write(Buffer.concat(out));
    out = [];
  };
  try {
    for (const step of d.steps) {
      const at = `${d.file}:${step.line}`;
      if (step.kind === 'send') { out.push(step.data); continue; }
      flush();
      if (step.kind === 'flush') { await new Promise((r) => setTimeout(r, 20)); continue; }
      if (step.kind === 'assert') {
        // Replies before this line have been read, so the sink has seen the message.
        const got = describe(sink, step.key);
        if (got !== step.value) failures.push(`${at}: assert ${step.key}: want "${step.value}", got "${got}"`);
        continue;
      }
      const got = await reader.next(timeout);
      if (step.kind === 'closed') {
        if (typeof got === 'string') failures.push(`${at}: want connection closed, got "${got}"`);
        else if ('timeout' in got) failures.push(`${at}: want connection closed, still open after ${timeout} ms`);
        continue;
      }
      if (typeof got !== 'string') {
        failures.push(`${at}: want "${step.pattern}", got ${'closed' in got ? 'connection closed' : `nothing after ${timeout} ms`}`);
        break;
      }
      if (!globMatch(step.pattern, got)) failures.push(`${at}: want "${step.pattern}", got "${got}"`);
    }
    flush();
  } finally {
    sock.destroy();
    await server.close();
  }
  if (server.connectionCount !== 0) failures.push(`${d.file}: ${server.connectionCount} connections still open after close`);
  return { failures, sink };
}
