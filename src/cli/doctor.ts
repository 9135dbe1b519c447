// `spoolgate doctor [--config FILE] [--user NAME] [--no-targets] [--json]`: what `config check`
// cannot see from the file alone, checked on this machine before a start (O2 #18 item 4):
// - the configuration loads (every error with file:line), its warnings;
// - TLS files: readable, a certificate and a key that belong together, not expired (30-day warning);
// - the user exit module loads (the check REFRESH uses);
// - the spool, state and log directories exist or can be made, and are writable by the service
//   user (--user NAME: checked as that user when run as root);
// - the listen ports are free (or held by this writer's running instance), and a port below 1024
//   needs root or CAP_NET_BIND_SERVICE;
// - the writer lock: which process holds it;
// - each target: reachable, its greeting and EHLO capabilities (STARTTLS, SIZE, AUTH …), and
//   whether Secure YES can be met.
// One line per check: "ok", "warn" or "FAIL" with the reason and, for FAIL, the fix. Exit 0 when
// nothing failed, 1 when something did, 2 for usage.
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { lookup } from 'node:dns/promises';
import { createSecureContext } from 'node:tls';
import { dirname, join } from 'node:path';
import { describeError } from '../core/errors.js';
import { formatDiagnostic, loadConfig, type Config } from '../config/index.js';
import { loadDkimKeys } from '../dkim/index.js';
import { locateConfig } from '../config/locate.js';
import { Logger } from '../log/index.js';
import { SmtpConnector, clientTimeouts, targetSpecs } from '../forwarder/index.js';
import { checkUserExit } from '../userexit/index.js';
import { processIo, type CliIo } from './io.js';
import { parseCommand, usageError } from './parse.js';

export type Verdict = 'ok' | 'warn' | 'FAIL';
export interface Finding { readonly verdict: Verdict; readonly what: string; readonly detail: string; readonly fix?: string }

const DAY = 86_400_000;

/** A certificate and key pair: readable, PEM, matching, and how long it is valid. */
export function checkTls(what: string, certFile: string, keyFile: string, now = Date.now()): Finding[] {
  let cert: Buffer;
  let key: Buffer;
  try { cert = readFileSync(certFile); } catch (e) { return [{ verdict: 'FAIL', what: `${what} certificate`, detail: `${certFile}: ${describeError(e)}`, fix: 'give a readable PEM file (TlsCert)' }]; }
  try { key = readFileSync(keyFile); } catch (e) { return [{ verdict: 'FAIL', what: `${what} key`, detail: `${keyFile}: ${describeError(e)}`, fix: 'give a readable PEM file (TlsKey), owner-only' }]; }
  let x509: X509Certificate;
  try { x509 = new X509Certificate(cert); } catch (e) { return [{ verdict: 'FAIL', what: `${what} certificate`, detail: `${certFile} is not a PEM certificate: ${describeError(e)}` }]; }
  try {
    createPrivateKey(key);
    createSecureContext({ cert, key });
  } catch (e) {
    return [{ verdict: 'FAIL', what: `${what} key`, detail: `${keyFile} does not belong to ${certFile} or is not a PEM key: ${describeError(e)}`, fix: 'give the key the certificate was issued for' }];
  }
  const out: Finding[] = [];
  const notAfter = Date.parse(x509.validTo);
  const days = Math.floor((notAfter - now) / DAY);
  if (notAfter < now) out.push({ verdict: 'FAIL', what: `${what} certificate`, detail: `${certFile} expired on ${x509.validTo}`, fix: 'renew it' });
  else if (days < 30) out.push({ verdict: 'warn', what: `${what} certificate`, detail: `${certFile} expires in ${days} days (${x509.validTo})` });
  else out.push({ verdict: 'ok', what: `${what} certificate`, detail: `${x509.subject.replace(/\n/g, ', ')}, valid until ${x509.validTo}` });
  const mode = statSync(keyFile).mode & 0o077;
  if (mode !== 0) out.push({ verdict: 'warn', what: `${what} key`, detail: `${keyFile} is readable by group or others (mode ${(statSync(keyFile).mode & 0o777).toString(8)})`, fix: `chmod 600 ${keyFile}` });
  return out;
}

/** Is `dir` (or the nearest existing parent, for one not made yet) writable, as `user` when given? */
export function checkWritable(what: string, dir: string, user: string | undefined): Finding {
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  const made = probe === dir ? '' : ` (not there yet; ${probe} is where it would be made)`;
  if (user !== undefined && process.getuid?.() === 0) {
    const r = spawnSync('setpriv', ['--reuid', user, '--regid', user, '--init-groups', 'test', '-w', probe, '-a', '-x', probe], { encoding: 'utf8' });
    if (r.status === 0) return { verdict: 'ok', what, detail: `${dir} writable by ${user}${made}` };
    return { verdict: 'FAIL', what, detail: `${dir} is not writable by ${user}${made}${r.stderr.trim() === '' ? '' : `: ${r.stderr.trim()}`}`, fix: `chown ${user} ${probe} (spoolgate init sets this up)` };
  }
  try {
    accessSync(probe, constants.W_OK | constants.X_OK);
    return { verdict: 'ok', what, detail: `${dir} writable${made}` };
  } catch (e) {
    return { verdict: 'FAIL', what, detail: `${dir}: ${describeError(e)}${made}`, fix: 'make it writable by the user that runs the gateway' };
  }
}

/** Can we listen on host:port right now? */
export function checkPort(what: string, host: string, port: number, held: boolean): Promise<Finding> {
  if (port === 0) return Promise.resolve({ verdict: 'ok', what, detail: `${host}:0 (a free port is chosen at start)` });
  return new Promise((done) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        done(held
          ? { verdict: 'ok', what, detail: `${host}:${port} in use, by the running instance (the writer lock is held)` }
          : { verdict: 'FAIL', what, detail: `${host}:${port} is in use by another program`, fix: `find it with: ss -ltnp 'sport = :${port}'` });
      } else if (e.code === 'EACCES') {
        done({ verdict: 'FAIL', what, detail: `${host}:${port}: permission denied`, fix: 'ports below 1024 need root or CAP_NET_BIND_SERVICE (the systemd unit from spoolgate init grants it)' });
      } else if (e.code === 'EADDRNOTAVAIL') {
        done({ verdict: 'FAIL', what, detail: `${host} is not an address of this machine`, fix: 'listen on an address this machine has (ip addr)' });
      } else done({ verdict: 'FAIL', what, detail: `${host}:${port}: ${describeError(e)}` });
    });
    s.listen({ host, port, exclusive: true }, () => s.close(() => done({ verdict: 'ok', what, detail: `${host}:${port} free` })));
  });
}

/** The writer lock: who holds it (a live PID) or nobody. */
export function lockHolder(config: Config): number | undefined {
  const path = join(config.spool.directory, config.extWrtName, '.lock');
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return undefined; }
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try { process.kill(pid, 0); return pid; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined; }
}

/** Connects to every address of every TargetServer, as the forwarder would, and reports EHLO. */
async function checkTargets(config: Config): Promise<Finding[]> {
  const out: Finding[] = [];
  const timeouts = { ...clientTimeouts(config), connect: 10_000, initialMsg: 10_000, anyCmd: 10_000 };
  const connector = new SmtpConnector({ heloName: () => config.hostName, timeouts: () => timeouts, tlsEhlo: () => config.options.tlsEhlo, log: Logger.silent() });
  for (const spec of targetSpecs(config)) {
    const addresses: { address: string; name?: string }[] = spec.targetIp.map((a) => ({ address: a }));
    for (const name of spec.targetName) {
      try {
        for (const a of await lookup(name, { all: true })) addresses.push({ address: a.address, name });
      } catch (e) {
        out.push({ verdict: 'FAIL', what: `target ${name}:${spec.port}`, detail: `cannot resolve: ${describeError(e)}`, fix: 'check the name (and /etc/hosts, DNS)' });
      }
    }
    if (spec.targetMx !== undefined) out.push({ verdict: 'warn', what: `target MX ${spec.targetMx}`, detail: 'MX targets are not probed by doctor' });
    for (const a of addresses) {
      const what = `target ${a.name === undefined ? '' : `${a.name} `}${a.address}:${spec.port}`;
      const r = await connector.connect({ address: a.address, port: spec.port, server: spec, source: a.name === undefined ? { kind: 'TargetIP' } : { kind: 'TargetName', name: a.name } }, { tls: spec.secure });
      if (!r.ok) {
        const caps = r.error.capabilities;
        out.push({ verdict: 'FAIL', what, detail: `${r.error.reason}: ${r.error.detail}${caps === undefined ? '' : ` (offers STARTTLS: ${caps.startTls ? 'yes' : 'no'})`}`, fix: r.error.reason === 'tls-unavailable' ? 'Secure YES needs a target that offers STARTTLS' : 'check TargetServer and the network path' });
        continue;
      }
      const c = r.value.capabilities;
      const parts = [c.esmtp ? 'ESMTP' : 'SMTP only', `STARTTLS ${c.startTls ? 'yes' : 'no'}`, c.size === undefined || c.size === null ? 'SIZE -' : `SIZE ${c.size}`, c.pipelining ? 'PIPELINING' : '', c.eightBitMime ? '8BITMIME' : '', c.auth.length > 0 ? `AUTH ${c.auth.join(' ')}` : '', r.value.tls ? '(probed over TLS)' : ''];
      out.push({ verdict: 'ok', what, detail: parts.filter((p) => p !== '').join(', ') });
      await r.value.quit();
    }
  }
  if (out.length === 0) out.push({ verdict: 'warn', what: 'targets', detail: 'no TargetServer: the forwarder has nowhere to send' });
  return out;
}

/**
 * The Dkim key files, read as the gateway reads them at start (docs/dkim.md). For each usable
 * key: the TXT record to publish (the public key; the private key is never shown).
 */
export function checkDkim(config: Config): Finding[] {
  if (config.dkim.length === 0) return [];
  const r = loadDkimKeys(config.dkim, config.configFile);
  if (!r.ok) return r.error.map((e) => ({ verdict: 'FAIL' as const, what: 'DKIM key', detail: e, fix: 'see docs/dkim.md' }));
  const out: Finding[] = r.value.warnings.map((w) => ({ verdict: 'warn' as const, what: 'DKIM key', detail: w }));
  for (const d of r.value.keyring.domains()) {
    const k = r.value.keyring.get(d)!;
    out.push({ verdict: 'ok', what: 'DKIM key', detail: `${k.keyFile} signs ${d}; publish TXT at ${k.dnsName}: "${k.txtRecord()}"` });
  }
  return out;
}

export async function diagnose(config: Config, opts: { user?: string; targets: boolean }): Promise<Finding[]> {
  const out: Finding[] = [];
  const rc = config.receiver;
  if (rc !== null && (rc.tlsCert !== null || rc.tlsKey !== null)) {
    if (rc.tlsCert === null || rc.tlsKey === null) out.push({ verdict: 'FAIL', what: 'receiver TLS', detail: 'TlsCert and TlsKey come together', fix: 'give both or neither' });
    else out.push(...checkTls('receiver TLS', rc.tlsCert, rc.tlsKey));
  }
  const p = config.pop3;
  if (p !== null && p.tlsCert !== null && p.tlsKey !== null) out.push(...checkTls('POP3 TLS', p.tlsCert, p.tlsKey));
  for (const t of config.targetServers) {
    if (t.tlsCaFile !== null) {
      try { readFileSync(t.tlsCaFile); out.push({ verdict: 'ok', what: 'target CA file', detail: t.tlsCaFile }); } catch (e) { out.push({ verdict: 'FAIL', what: 'target CA file', detail: `${t.tlsCaFile}: ${describeError(e)}` }); }
    }
  }
  out.push(...checkDkim(config));
  if (config.userExit !== null) {
    const r = await checkUserExit(config.userExit, config.userExitTimeout);
    out.push(r.ok ? { verdict: 'ok', what: 'user exit', detail: `${config.userExit} loads` } : { verdict: 'FAIL', what: 'user exit', detail: `${config.userExit}: ${r.error}`, fix: 'fix the module or set UserExit NONE' });
  }
  out.push(checkWritable('spool directory', config.spool.directory, opts.user));
  out.push(checkWritable('state directory', config.stateDirectory, opts.user));
  if (config.logFile !== null) out.push(checkWritable('log directory', dirname(config.logFile), opts.user));
  const holder = lockHolder(config);
  out.push(holder === undefined
    ? { verdict: 'ok', what: 'writer lock', detail: `writer ${config.extWrtName} is free` }
    : { verdict: 'warn', what: 'writer lock', detail: `writer ${config.extWrtName} is held by running process ${holder}: a second start would be refused` });
  const listens: [string, { host: string; port: number }][] = [
    ...(rc?.listen ?? []).map((l) => ['receiver port', l] as [string, { host: string; port: number }]),
    ...(p?.listen ? [['POP3 port', p.listen] as [string, { host: string; port: number }]] : []),
    ...(p?.listenTls ? [['POP3S port', p.listenTls] as [string, { host: string; port: number }]] : []),
    ...(config.http ? [['HTTP port', config.http.listen] as [string, { host: string; port: number }]] : []),
  ];
  for (const [what, l] of listens) out.push(await checkPort(what, l.host, l.port, holder !== undefined));
  if (opts.targets) out.push(...await checkTargets(config));
  return out;
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('doctor', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { config?: string; user?: string; 'no-targets'?: boolean; json?: boolean };
  if (args.positionals.length > 0) return usageError('doctor', io, `unexpected "${args.positionals[0]!}"`);
  const where = locateConfig(v.config, io.env);
  if (where === undefined) return usageError('doctor', io, 'no configuration found: give --config FILE or set SPOOLGATE_CONFIG');
  const findings: Finding[] = [];
  const loaded = loadConfig(where.path, io.env);
  if (!loaded.ok) {
    for (const e of loaded.error) findings.push({ verdict: 'FAIL', what: 'configuration', detail: formatDiagnostic(e) });
  } else {
    findings.push({ verdict: 'ok', what: 'configuration', detail: `${where.path} (from the ${where.source}) loads` });
    for (const w of loaded.value.warnings) findings.push({ verdict: 'warn', what: 'configuration', detail: formatDiagnostic(w) });
    findings.push(...await diagnose(loaded.value.config, { ...(v.user === undefined ? {} : { user: v.user }), targets: v['no-targets'] !== true }));
  }
  if (v.json === true) io.stdout.write(JSON.stringify({ config: where.path, findings }, null, 2) + '\n');
  else {
    for (const f of findings) io.stdout.write(`${f.verdict.padEnd(4)} ${f.what}: ${f.detail}${f.fix === undefined ? '' : `\n     fix: ${f.fix}`}\n`);
    const failed = findings.filter((f) => f.verdict === 'FAIL').length;
    const warned = findings.filter((f) => f.verdict === 'warn').length;
    io.stdout.write(`${failed === 0 ? 'ready' : 'NOT ready'}: ${failed} failed, ${warned} warning(s), ${findings.length - failed - warned} ok\n`);
  }
  return findings.some((f) => f.verdict === 'FAIL') ? 1 : 0;
}
