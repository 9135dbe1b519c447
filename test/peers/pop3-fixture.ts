// Shared fixture for the POP3 peer tests: a spoolgate POP3 server over a temporary SQLite store,
// messages that exercise byte-stuffing, and the poplib client script run against any server.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Pop3Server } from '../../src/pop3/server.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { testCerts } from '../../src/testing/certs.js';
import { tempDir } from '../../src/testing/peers.js';

export const MESSAGES: readonly string[] = [
  'From: batch@host.example\r\nTo: alice@example.com\r\nSubject: plain\r\n\r\nline one\r\nline two\r\n',
  'From: batch@host.example\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter the lone dot\r\n' + 'x'.repeat(900) + '\r\n',
  'Subject: third\r\nX-Empty:\r\n\r\n\r\n\r\nbody after blank lines\r\n',
];

export async function startSpoolgatePop3(t: TestContext, opts: { allowPlaintext?: boolean; loginTimeoutMs?: number } = {}): Promise<{ port: number; store: SqliteStore; server: Pop3Server }> {
  const store = openSqliteStore(join(tempDir(t), 'spoolgate.db'), { scrypt: { N: 1024, r: 8, p: 1 } });
  await store.users.addUser('alice', 'secret');
  for (const m of MESSAGES) await store.mailboxes.deliver('alice', Buffer.from(m, 'latin1'));
  const c = testCerts();
  const server = new Pop3Server({
    users: store.users, mailboxes: store.mailboxes, journal: store.journal, hostName: 'localhost',
    tls: { key: c.key, cert: c.cert }, allowPlaintext: opts.allowPlaintext ?? false, throttle: { failDelayMs: 0 },
    ...(opts.loginTimeoutMs === undefined ? {} : { loginTimeoutMs: opts.loginTimeoutMs }),
  });
  const { port } = await server.listen();
  t.after(async () => { await server.close(); await store.close(); });
  return { port, store, server };
}

/** Runs a command without blocking the event loop (our server lives in this process). */
export function runAsync(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => errs.push(d));
    p.once('error', (e) => { clearTimeout(timer); reject(e); });
    p.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString() }); });
    p.stdin.on('error', () => undefined); // a peer that exits before reading: its exit code tells
    p.stdin.end(opts.input ?? '');
  });
}

export interface PoplibResult {
  capaBefore: string[];
  capaAfter: string[];
  stat: [number, number];
  list: string[];
  uidls: string[];
  tops: string[];
  retrs: string[];
  quit: string;
}

const POPLIB = String.raw`
import base64, json, poplib, ssl, sys
host, port, user, pw, ca, delete = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
p = poplib.POP3(host, int(port), timeout=30)
before = sorted(p.capa().keys())
p.stls(context=ctx)
after = sorted(p.capa().keys())
p.user(user)
p.pass_(pw)
count, octets = p.stat()
listing = [l.decode() for l in p.list()[1]]
uidls = [l.decode() for l in p.uidl()[1]]
tops, retrs = [], []
for i in range(1, count + 1):
    tops.append(base64.b64encode(b''.join(l + b'\r\n' for l in p.top(i, 0)[1])).decode())
    retrs.append(base64.b64encode(b''.join(l + b'\r\n' for l in p.retr(i)[1])).decode())
    if delete == '1':
        p.dele(i)
q = p.quit().decode()
print(json.dumps({'capaBefore': before, 'capaAfter': after, 'stat': [count, octets], 'list': listing, 'uidls': uidls, 'tops': tops, 'retrs': retrs, 'quit': q}))
`;

/** Python poplib: CAPA, STLS (certificate verified), USER/PASS, STAT, LIST, UIDL, TOP n 0, RETR, DELE, QUIT. */
export async function poplib(python: string, port: number, opts: { delete: boolean; user?: string; password?: string }): Promise<PoplibResult> {
  const r = await runAsync(python, ['-c', POPLIB, '127.0.0.1', String(port), opts.user ?? 'alice', opts.password ?? 'secret', testCerts().caFile, opts.delete ? '1' : '0']);
  if (r.code !== 0) throw new Error(`poplib failed (${r.code}): ${r.stderr}`);
  const j = JSON.parse(r.stdout.toString()) as PoplibResult;
  return { ...j, tops: j.tops.map(b64), retrs: j.retrs.map(b64) };
}

function b64(s: string): string {
  return Buffer.from(s, 'base64').toString('latin1');
}
