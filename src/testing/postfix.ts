// Starts and stops Postfix peers for tests (PEERS.md): smtp-sink, and a real Postfix smtpd with
// STARTTLS on a loopback port, with its own configuration directory, relaying to an smtp-sink.
// Everything runs on 127.0.0.1 and is stopped by PID or by `postfix -c D stop`.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync, chownSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { testCerts } from './certs.js';

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port (polls up to ms). */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error(`nothing listening on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SinkMessage {
  /** The dump file's text as smtp-sink wrote it (envelope lines, then the message). */
  readonly raw: Buffer;
  /** The message as smtp-sink stored it: un-stuffed, line ends as LF, its own Received header first. */
  readonly data: Buffer;
  /** data without smtp-sink's Received header: compare with the sent message with CRLF → LF. */
  readonly body: Buffer;
  readonly from: string;
  readonly recipients: string[];
}

export interface SmtpSink {
  readonly port: number;
  readonly dumpDir: string;
  /** The messages dumped so far, oldest first. */
  messages(): SinkMessage[];
  /**
   * Waits until at least n dump files exist (polls up to ms). smtp-sink creates a file when a
   * transaction starts and fills it as data arrives: read messages() again once the sender has
   * its 250 replies before looking at the contents of the last ones.
   */
  waitFor(n: number, ms?: number): Promise<SinkMessage[]>;
  stop(): Promise<void>;
}

/**
 * smtp-sink dump files: lines "X-Client-Addr: ...", "X-Client-Proto: ...", "X-Helo-Args: ...",
 * "X-Mail-Args: <from> ...", "X-Rcpt-Args: <to> ..." (one per recipient), then the message.
 */
function parseDump(raw: Buffer): SinkMessage {
  const text = raw.toString('latin1');
  const recipients: string[] = [];
  let from = '';
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    const line = text.slice(pos, nl).replace(/\r$/, '');
    const m = /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args|Lhlo-Args|Ehlo-Args): ?(.*)$/.exec(line);
    if (m === null) break;
    if (m[1] === 'Mail-Args') from = /^<?([^>\s]*)>?/.exec(m[2] ?? '')?.[1] ?? '';
    if (m[1] === 'Rcpt-Args') recipients.push(/^<?([^>\s]*)>?/.exec(m[2] ?? '')?.[1] ?? '');
    pos = nl + 1;
  }
  const data = raw.subarray(pos);
  // smtp-sink prepends "Received: from ...\n\tby smtp-sink ...;\n\t<date>\n".
  let b = 0;
  if (data.subarray(0, 9).toString('latin1') === 'Received:') {
    b = data.indexOf(0x0a) + 1;
    while (b > 0 && (data[b] === 0x09 || data[b] === 0x20)) b = data.indexOf(0x0a, b) + 1;
  }
  return { raw, data, body: data.subarray(b), from, recipients };
}

/** Starts `smtp-sink` (as root with -u nobody) dumping each message to its own file in dir. */
export async function startSmtpSink(opts: { bin: string; dir: string; extraArgs?: readonly string[] }): Promise<SmtpSink> {
  const dumpDir = join(opts.dir, 'sink');
  mkdirSync(dumpDir, { recursive: true });
  chmodSync(opts.dir, 0o755);
  chmodSync(dumpDir, 0o777);
  const port = await freePort();
  const args = ['-u', 'nobody', '-d', join(dumpDir, 'm.'), ...(opts.extraArgs ?? []), `127.0.0.1:${port}`, '100'];
  const child: ChildProcess = spawn(opts.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`smtp-sink did not start: ${stderr}`, { cause: e });
  }
  const messages = (): SinkMessage[] => readdirSync(dumpDir).sort().map((f) => parseDump(readFileSync(join(dumpDir, f))));
  return {
    port,
    dumpDir,
    messages,
    async waitFor(n, ms = 10_000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = messages();
        if (m.length >= n) return m;
        if (Date.now() > until) throw new Error(`smtp-sink has ${m.length} of ${n} messages after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

export interface PostfixSmtpd {
  readonly port: number;
  readonly configDir: string;
  /** Postfix's own log (maillog_file), for assertion messages. */
  log(): string;
  stop(): Promise<void>;
}

const UNIX_SERVICES = [
  'pickup    unix  n       -       n       60      1       pickup',
  'cleanup   unix  n       -       n       -       0       cleanup',
  'qmgr      unix  n       -       n       300     1       qmgr',
  'tlsmgr    unix  -       -       n       1000?   1       tlsmgr',
  'rewrite   unix  -       -       n       -       -       trivial-rewrite',
  'bounce    unix  -       -       n       -       0       bounce',
  'defer     unix  -       -       n       -       0       bounce',
  'trace     unix  -       -       n       -       0       bounce',
  'verify    unix  -       -       n       -       1       verify',
  'flush     unix  n       -       n       1000?   0       flush',
  'proxymap  unix  -       -       n       -       -       proxymap',
  'smtp      unix  -       -       n       -       -       smtp',
  'relay     unix  -       -       n       -       -       smtp',
  'showq     unix  n       -       n       -       -       showq',
  'error     unix  -       -       n       -       -       error',
  'retry     unix  -       -       n       -       -       error',
  'discard   unix  -       -       n       -       -       discard',
  'anvil     unix  -       -       n       -       1       anvil',
  'scache    unix  -       -       n       -       1       scache',
  'postlog   unix-dgram n  -       n       -       1       postlogd',
];

/**
 * Starts a real Postfix smtpd with STARTTLS (testCerts) on 127.0.0.1:port using its own
 * configuration directory under dir, relaying everything to 127.0.0.1:relayPort (an smtp-sink).
 * Needs root. PEERS.md steps 1–5.
 */
export async function startPostfix(opts: { dir: string; relayPort: number; extraMain?: readonly string[] }): Promise<PostfixSmtpd> {
  const D = join(opts.dir, 'postfix');
  mkdirSync(join(D, 'data'), { recursive: true });
  mkdirSync(join(D, 'queue'), { recursive: true });
  // Step 3: the postfix user must reach D (mkdtemp makes 0700).
  for (let p = D; p !== '/' && p !== tmpdir(); p = join(p, '..')) chmodSync(p, 0o755);
  execFileSync('chown', ['postfix', join(D, 'data')]);
  // Step 1: the default main.cf must list D in alternate_config_directories.
  const def = '/etc/postfix/main.cf';
  if (!existsSync(def)) copyFileSync('/etc/postfix/main.cf.proto', def);
  const defText = readFileSync(def, 'utf8');
  const alt = /^alternate_config_directories\s*=\s*(.*)$/m.exec(defText);
  if (alt === null) appendFileSync(def, `\nalternate_config_directories = ${D}\n`);
  else if (!alt[1]!.split(/[\s,]+/).includes(D)) writeFileSync(def, defText.replace(alt[0], `${alt[0]}, ${D}`));
  const certs = testCerts();
  const certFile = join(D, 'cert.pem');
  const keyFile = join(D, 'key.pem');
  writeFileSync(certFile, certs.cert);
  writeFileSync(keyFile, certs.key, { mode: 0o600 });
  const port = await freePort();
  writeFileSync(join(D, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${D}/queue`,
    `data_directory = ${D}/data`,
    'mail_owner = postfix',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mydestination =',
    'local_transport = error:no local',
    'mynetworks = 127.0.0.0/8',
    `relayhost = [127.0.0.1]:${opts.relayPort}`,
    `smtpd_tls_cert_file = ${certFile}`,
    `smtpd_tls_key_file = ${keyFile}`,
    'smtpd_tls_security_level = may',
    'smtp_tls_security_level = none',
    `maillog_file = ${D}/maillog`,
    'maillog_file_prefixes = /var, /tmp',
    'myhostname = postfix.test',
    'message_size_limit = 10240000',
    'smtputf8_enable = no',
    ...(opts.extraMain ?? []),
    '',
  ].join('\n'));
  writeFileSync(join(D, 'master.cf'), [`127.0.0.1:${port} inet n - n - - smtpd`, ...UNIX_SERVICES, ''].join('\n'));
  const pf = (...a: string[]): string => execFileSync('postfix', ['-c', D, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  pf('set-permissions');
  pf('start');
  const log = (): string => (existsSync(join(D, 'maillog')) ? readFileSync(join(D, 'maillog'), 'utf8') : '');
  try {
    await waitForPort(port, 20_000);
  } catch (e) {
    pf('stop');
    throw new Error(`postfix smtpd did not start:\n${log()}`, { cause: e });
  }
  // Remember master's pid: if `postfix stop` cannot run (config gone), stop it by pid.
  const pidFile = join(D, 'queue', 'pid', 'master.pid');
  const masterPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  return {
    port,
    configDir: D,
    log,
    async stop() {
      try {
        pf('stop');
      } catch (e) {
        process.stderr.write(`postfix stop failed (${String(e)}); sending SIGTERM to master ${masterPid}\n`);
        if (Number.isInteger(masterPid) && masterPid > 1) process.kill(masterPid, 'SIGTERM');
      }
      // Take D out of the default main.cf again so the list does not grow run after run.
      const now = readFileSync(def, 'utf8');
      const m = /^alternate_config_directories\s*=\s*(.*)$/m.exec(now);
      if (m !== null) {
        const rest = m[1]!.split(/[\s,]+/).filter((x) => x !== '' && x !== D);
        writeFileSync(def, now.replace(m[0], rest.length > 0 ? `alternate_config_directories = ${rest.join(', ')}` : ''));
      }
    },
  };
}

/** chown helper kept for callers that create extra directories for the postfix user. */
export function giveToPostfix(path: string): void {
  const uid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}
