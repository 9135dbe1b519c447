// A private Dovecot POP3 server on loopback, the reference implementation our POP3 server is
// compared with (PEERS.md recipe): its own base_dir, passwd-file users, Maildir homes owned by
// nobody:nogroup, STLS with the test certificate, run in the foreground as a child process and stopped by its pid.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface DovecotOptions {
  /** An empty private directory. */
  dir: string;
  users: readonly { name: string; password: string }[];
  /** Messages per user, delivered into Maildir (stored with LF line ends, as a local MDA would). */
  mail: Readonly<Record<string, readonly Buffer[]>>;
  certFile: string;
  keyFile: string;
  dovecotBin?: string;
}

export interface DovecotHandle { port: number; dir: string; logFile: string; stop(): Promise<void> }

/** A port that was free a moment ago (Dovecot needs a number; it cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), uid, gid);
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`dovecot did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startDovecot(o: DovecotOptions): Promise<DovecotHandle> {
  const D = o.dir;
  chmodSync(D, 0o755);
  const port = await freePort();
  const conf = join(D, 'dovecot.conf');
  const logFile = join(D, 'dovecot.log');
  mkdirSync(join(D, 'run'), { recursive: true });
  writeFileSync(join(D, 'users'), o.users.map((u) => `${u.name}:{PLAIN}${u.password}::::\n`).join(''), { mode: 0o644 });
  const nobody = { uid: 65534, gid: 65534 };
  for (const u of o.users) {
    const md = join(D, 'home', u.name, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(md, sub), { recursive: true });
    (o.mail[u.name] ?? []).forEach((m, i) => {
      // Maildir names sort by delivery time, so the POP3 order is the array order.
      writeFileSync(join(md, 'cur', `${1700000000 + i}.M${i}P1.spoolgate-test:2,`), Buffer.from(m.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
    });
    chownTree(join(D, 'home', u.name), nobody.uid, nobody.gid);
  }
  writeFileSync(conf, `base_dir = ${D}/run
state_dir = ${D}/run/state
protocols = pop3
listen = 127.0.0.1
log_path = ${logFile}
ssl = yes
ssl_cert = <${o.certFile}
ssl_key = <${o.keyFile}
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${D}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${D}/home/%u
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`);
  // Foreground (-F) as our child, so it is stopped by its own pid and reaped by us.
  const child = spawn(o.dovecotBin ?? '/usr/sbin/dovecot', ['-F', '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await Promise.race([waitForPort(port, 10_000), exited.then((c) => { throw new Error(`dovecot exited with ${c}; see ${logFile}`); })]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, dir: D, logFile, stop };
}
