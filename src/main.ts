// Composition root: load the configuration, build every role, wire them, start and stop.
// The only file that knows every role (STYLE.md §1). Safe to crash at any point: the spool,
// the checkpoint and the mail directory are the durable state, and a warm start resumes.
import { mkdirSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import { dirname, join } from 'node:path';
import type { Clock, Resolver, Result } from './core/index.js';
import { systemClock, describeError } from './core/index.js';
import type { Config } from './config/index.js';
import { LogOutput, Logger } from './log/index.js';
import { SpoolQueue } from './spool/queue.js';
import type { BadEntryPolicy } from './spool/disposition.js';
import { enqueueMessage, type MessageOrigin } from './spool/index.js';
import type { SpoolEntry } from './spool/submit.js';
import type { Envelope } from './core/index.js';
import { DeadLetterStore } from './notify/index.js';
import {
  Checkpoint, Forwarder, ExtendedRetry, MailDirectory, SmtpConnector, NotifyingUndeliverable, forwarderSettings, clientTimeouts, spoolSource,
  forwarderAccounting, targetSpecs,
} from './forwarder/index.js';
import { openSqliteStore, type SqliteStore } from './store/sqlite/index.js';
import { Accounting, accountingPath } from './log/accounting.js';
import { startReceiver } from './receiver/index.js';
import { sendCommand, startControl } from './control/index.js';
import { DeliveryLatency, startHttp } from './web/index.js';
import { loadConfig, diffForRefresh, formatDiagnostic } from './config/index.js';
import { ok, err } from './core/index.js';
import { Pop3Server, type Pop3Settings } from './pop3/index.js';
import { randomBytes } from 'node:crypto';
import { checkUserExit, prepareUserExit } from './userexit/index.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const systemResolver: Resolver = {
  resolveAddresses: async (name) => {
    const [a, aaaa] = await Promise.allSettled([dns.resolve4(name), dns.resolve6(name)]);
    const out = [...(a.status === 'fulfilled' ? a.value : []), ...(aaaa.status === 'fulfilled' ? aaaa.value : [])];
    if (out.length === 0) throw a.status === 'rejected' ? a.reason : new Error(`no A/AAAA records for ${name}`);
    return out;
  },
  resolveMx: (name) => dns.resolveMx(name),
  resolve4: async (name) => {
    try { return await dns.resolve4(name); } catch { return []; }
  },
};

export interface GatewayOptions {
  readonly cold?: boolean;
  readonly clock?: Clock;
  readonly resolver?: Resolver;
  readonly log?: Logger;
  /** Called when a message reaches its final outcome (the HTTP metrics' latency histogram). */
  readonly onMailFinished?: (item: { readonly arrival: Date }, outcome: 'delivered' | 'undeliverable' | 'extended') => void;
}

export interface Gateway {
  readonly config: () => Config;
  readonly forwarder: Forwarder;
  readonly log: Logger;
  readonly queue: SpoolQueue;
  readonly accounting: Accounting;
  /** Applies a new configuration (REFRESH): the caller has already filtered non-refreshable changes. */
  applyConfig(next: Config): void;
  /** The user exit for the next spool file (USEREXIT may differ from the file); null = NONE. */
  userExit(): string | null;
  /** USEREXIT,LEVEL=: checks that the module loads; takes effect from the next spool file. */
  setUserExit(value: string | null): Promise<Result<void, string>>;
  stop(): Promise<void>;
}

/** The operator log on LogFile/LogFormat; REFRESH hands the output a new destination. */
export function makeLogger(config: Config): { log: Logger; output: LogOutput; apply(next: Config): void } {
  const output = new LogOutput(config);
  const log = Logger.create({ sink: output, instance: config.instance });
  // A LogFile that cannot be opened keeps the old destination; the reason is logged there.
  const apply = (next: Config): void => void output.apply(next).then((e) => { if (e !== undefined) log.error('log.file', { error: e }); });
  return { log, output, apply };
}

export function pop3Settings(c: Config): Pop3Settings {
  const p = c.pop3;
  return { hostName: c.hostName, allowPlaintext: p?.allowPlaintext ?? false, idleTimeoutMs: (p?.inactivityTimeout ?? 600) * 1000, maxFailedLogins: p?.maxFailedLogins ?? 5 };
}

/** Queues one of the gateway's own messages as a message entry (raw bytes + envelope). */
async function queueOwnMail(config: Config, mail: { envelope: Envelope; data: Buffer }, origin: MessageOrigin, jobName: string): Promise<SpoolEntry> {
  return enqueueMessage({ root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, envelope: mail.envelope, data: mail.data, origin, jobName });
}

/** Builds and starts the forwarder for a validated configuration. */
export async function startGateway(initial: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  let config = initial;
  const clock = opts.clock ?? systemClock;
  // Without opts.log the gateway owns the log output (startServices passes its own, closed last).
  const made = opts.log === undefined ? makeLogger(config) : undefined;
  const log = opts.log ?? made!.log;
  log.setLevel(config.logLevel);
  mkdirSync(config.stateDirectory, { recursive: true, mode: 0o700 });
  const opened = await SpoolQueue.open({
    root: config.spool.directory, writer: config.extWrtName, clock, rescanMs: config.spool.rescanInterval * 1000, hostName: config.hostName,
    onError: (e) => log.error('spool.watch', { error: describeError(e) }),
  });
  if (!opened.ok) throw opened.error;
  const queue = opened.value;
  const checkpoint = Checkpoint.open(join(config.stateDirectory, `${config.extWrtName}.checkpoint.db`), { cold: opts.cold });
  if (opts.cold) log.event('checkpoint.cold-start', {});
  const mailDir = config.extendedRetry.active ? await MailDirectory.open(config.extendedRetry.mailDirectory) : undefined;
  const extended = mailDir ? new ExtendedRetry(mailDir, clock, log) : undefined;
  // Opened with DeadLetterAction Delete too, so that a REFRESH to Store finds it ready (the
  // directory is not refreshable); with Delete a directory that cannot be made is only a warning.
  const deadLetters = await DeadLetterStore.open(config.undeliverable.deadLetterDirectory, clock).catch((e: unknown) => {
    if (config.undeliverable.deadLetterAction === 'store') throw e;
    log.warn('deadletter.directory', { directory: config.undeliverable.deadLetterDirectory, error: describeError(e) });
    return undefined;
  });

  const adminPolicy = (): BadEntryPolicy => ({
    badSpoolDisp: config.badSpoolDisp, report: config.report,
    admin: { from: config.reportMailFrom ?? '', to: config.mailAdministrators, hostName: config.hostName },
  });
  const spool = spoolSource({ queue, clock, log, policy: adminPolicy });
  await spool.disposeBadEntries();

  const connector = new SmtpConnector({
    heloName: () => config.hostName,
    tlsEhlo: () => config.options.tlsEhlo,
    timeouts: () => clientTimeouts(config),
    log,
  });

  const accounting = new Accounting({
    path: accountingPath(config.stateDirectory), instance: config.instance, enabled: () => config.smf119,
    now: () => new Date(clock.now()), onError: (e) => log.error('accounting.write', { error: describeError(e) }),
  });
  accounting.record('CONFIG', { reason: 'start', configFile: config.configFile, logLevel: config.logLevel, userExit: config.userExit });
  // SPEC.md §2.3: read by each spool task when a file starts. USEREXIT and REFRESH set it (seed:
  // after a REFRESH the file's UserExit is in force) and start a new generation (module reloaded).
  let userExit = { module: config.userExit, generation: 0 };
  const accountingHooks = forwarderAccounting(accounting);
  const forwarder = new Forwarder({
    clock, log, connector, checkpoint, spool: spool.source, extended,
    ...accountingHooks,
    onMailFinished: (item, outcome) => { accountingHooks.onMailFinished(item, outcome); opts.onMailFinished?.(item, outcome); },
    resolver: opts.resolver ?? systemResolver,
    undeliverable: new NotifyingUndeliverable({
      settings: () => ({ returnToMailFrom: config.undeliverable.returnToMailFrom, deadLetterAction: config.undeliverable.deadLetterAction, reportingMta: config.hostName }),
      deadLetters: () => deadLetters,
      submit: async (mail) => { await queueOwnMail(config, mail, { kind: 'notification' }, 'SGNOTIFY'); },
      log,
      now: () => new Date(clock.now()),
    }),
    settings: () => {
      const fs = forwarderSettings(config, clock);
      return { ...fs, extended: { ...fs.extended, store: extended }, task: { ...fs.task, userExit: { ...userExit, timeoutMs: config.userExitTimeout, failure: config.userExitFailure } } };
    },
    servers: () => targetSpecs(config),
  });
  log.event('gateway.starting', { instance: config.instance, writer: config.extWrtName, spool: config.spool.directory, testMode: config.options.testMode });
  const targetStats = () => forwarder.listTargets().map((t) => ({ address: t.addr.address, port: t.addr.port, state: t.state, ...t.counters }));
  const stats = accounting.scheduleStats(clock, () => config.smf119.interval, () => ({ counters: { ...forwarder.counters }, targets: targetStats() }));
  return {
    config: () => config,
    forwarder,
    log,
    queue,
    accounting,
    applyConfig: (next) => {
      config = next;
      log.setLevel(next.logLevel);
      made?.apply(next);
      userExit = { module: next.userExit, generation: userExit.generation + 1 };
    },
    userExit: () => userExit.module,
    setUserExit: async (v) => {
      const r = v === null ? ok(null) : await prepareUserExit(v, dirname(config.configFile), config.userExitTimeout);
      if (!r.ok) return err(r.error);
      userExit = { module: r.value, generation: userExit.generation + 1 };
      log.event('userexit.set', { module: r.value ?? 'NONE' });
      return ok(undefined);
    },
    stop: async () => {
      await forwarder.stop();
      stats.stop(true);
      accounting.close();
      await queue.close();
      checkpoint.close();
      log.event('gateway.stopped', {});
      await made?.output.close();
    },
  };
}

export interface Services {
  readonly gateway: Gateway;
  readonly store: SqliteStore | undefined;
  readonly pop3: Pop3Server | undefined;
  /** Addresses the servers listen on (after port 0 was resolved). */
  readonly listening: { readonly role: string; readonly host: string; readonly port: number }[];
  /** Set on the first start of an embedded default: the demo user's name and password file. */
  readonly demo?: { readonly user: string; readonly passwordFile: string; readonly password: string };
  /** With Http configured: the file holding the API's bearer token. */
  readonly httpTokenFile?: string;
  stop(): Promise<void>;
}

function readPem(path: string | null): Buffer | undefined {
  return path === null ? undefined : readFileSync(path);
}

/**
 * Everything the configuration asks for: the forwarder, the mailbox store, the receiver, POP3
 * and the operator interfaces. On the first start with a Users DefaultDomain and no users yet,
 * a `demo` user is created with a random password, written (mode 0600) to the state directory.
 */
export async function startServices(config: Config, opts: GatewayOptions = {}): Promise<Services> {
  const clock = opts.clock ?? systemClock;
  const latency = config.http === null ? undefined : new DeliveryLatency();
  const logging = opts.log === undefined ? makeLogger(config) : undefined;
  const gateway = await startGateway(config, {
    ...opts,
    ...(logging ? { log: logging.log } : {}),
    onMailFinished: (item, outcome) => {
      opts.onMailFinished?.(item, outcome);
      if (latency !== undefined && outcome !== 'extended') latency.observe(outcome, (clock.now() - item.arrival.getTime()) / 1000);
    },
  });
  const log = gateway.log;
  const listening: { role: string; host: string; port: number }[] = [];
  let store: SqliteStore | undefined;
  let pop3: Pop3Server | undefined;
  let demo: Services['demo'];
  let httpTokenFile: string | undefined;
  const closers: (() => Promise<void>)[] = [];
  // What REFRESH tells besides the gateway: each role applies the configuration it is handed.
  const appliers: ((c: Config) => void)[] = [];
  if (logging !== undefined) appliers.push(logging.apply);
  try {
    if (config.receiver !== null || config.pop3 !== null) {
      store = openSqliteStore(join(config.stateDirectory, 'spoolgate.db'));
      const s = store;
      closers.push(() => s.close());
      const domain = config.users.defaultDomain;
      if (domain !== null && (await s.users.listUsers()).length === 0) {
        const password = randomBytes(12).toString('base64url');
        const added = await s.users.addUser('demo', password, { domain });
        if (added.ok) {
          const passwordFile = join(config.stateDirectory, 'demo.password');
          writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
          demo = { user: 'demo', passwordFile, password };
          log.event('users.demo-created', { user: `demo@${domain}`, passwordFile });
        }
      }
    }
    if (config.pop3 !== null && store !== undefined) {
      const p = config.pop3;
      const cert = readPem(p.tlsCert);
      const key = readPem(p.tlsKey);
      const ps = pop3Settings(config);
      pop3 = new Pop3Server({
        users: store.users, mailboxes: store.mailboxes, journal: store.journal, hostName: ps.hostName,
        tls: cert && key ? { cert, key } : undefined,
        allowPlaintext: ps.allowPlaintext, idleTimeoutMs: ps.idleTimeoutMs, clock: opts.clock, logger: log,
        throttle: { maxFailures: ps.maxFailedLogins },
      });
      const server = pop3;
      closers.push(() => server.close());
      appliers.push((c) => server.apply(pop3Settings(c)));
      if (p.listen) listening.push({ role: 'pop3', ...(await server.listen({ host: p.listen.host, port: p.listen.port })) });
      if (p.listenTls) listening.push({ role: 'pop3s', ...(await server.listen({ host: p.listenTls.host, port: p.listenTls.port, implicitTls: true })) });
    }
    if (config.receiver !== null && store !== undefined) {
      const rc = config.receiver;
      const cert = readPem(rc.tlsCert);
      const key = readPem(rc.tlsKey);
      const receiver = await startReceiver({
        config, store: { users: store.users, mailboxes: store.mailboxes, journal: store.journal },
        resolver: opts.resolver ?? systemResolver, log, clock: opts.clock,
        tls: cert && key ? { cert, key } : undefined,
        // Relayed mail goes onto the forwarder's spool, durable before the receiver answers 250.
        spoolSubmit: async (m) => (await queueOwnMail(gateway.config(), m, { kind: 'receiver', ...m.origin }, 'RECEIVER')).id,
      });
      closers.push(() => receiver.close());
      appliers.push((c) => receiver.apply(c));
      for (const a of receiver.addresses()) listening.push({ role: 'smtp', host: a.host, port: a.port });
    }
    const control = await startControl({
      socketPath: config.controlSocket, log,
      target: {
        forwarder: gateway.forwarder,
        config: gateway.config,
        accounting: gateway.accounting,
        refresh: async () => {
          // SPEC.md §3: any error rejects the whole refresh and the old configuration stays.
          const loaded = loadConfig(gateway.config().configFile);
          if (!loaded.ok) return err(loaded.error.map((e) => formatDiagnostic(e)));
          const d = diffForRefresh(gateway.config(), loaded.value.config);
          // A new UserExit module must load, or the whole refresh is refused (as for any error).
          const exit = d.apply.userExit;
          if (exit !== null && exit !== gateway.userExit()) {
            const checked = await checkUserExit(exit, d.apply.userExitTimeout);
            if (!checked.ok) return err([`${d.apply.configFile}: UserExit ${exit} cannot be used: ${checked.error}; fix the module or set UserExit NONE`]);
          }
          gateway.applyConfig(d.apply);
          for (const a of appliers) a(d.apply);
          for (const i of d.ignored) log.warn('refresh.ignored', { statement: i.statement, detail: i.message });
          if (d.changed.includes('TargetServer')) await gateway.forwarder.resolve();
          return ok({ ignored: d.ignored, changed: d.changed });
        },
        userExit: () => gateway.userExit(),
        setUserExit: (v) => gateway.setUserExit(v),
        runtime: () => ({ pid: process.pid, chkpoint: opts.cold ? 'COLD' : 'WARM', chkpointFile: join(config.stateDirectory, `${config.extWrtName}.checkpoint.db`), ipv6Enabled: true }),
      },
    });
    closers.unshift(() => control.close());
    listening.push({ role: 'control', host: control.path, port: 0 });
    if (config.http !== null) {
      // Commands go through the control socket: one queue for both, the same answer.
      const http = await startHttp({
        listen: config.http.listen, tokenFile: join(config.stateDirectory, 'http.token'), log,
        target: {
          execute: (line) => sendCommand(control.path, line),
          metrics: { forwarder: gateway.forwarder, spoolEntries: () => gateway.queue.list(), latency, now: () => clock.now() },
        },
      });
      closers.splice(1, 0, () => http.close()); // closers run in reverse: HTTP stops before the control socket
      listening.push({ role: 'http', host: http.host, port: http.port });
      httpTokenFile = http.tokenFile;
    }
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await gateway.stop();
    await logging?.output.close();
    throw e;
  }
  for (const l of listening) log.event('listener.started', { role: l.role, host: l.host, port: l.port });
  return {
    gateway, store, pop3, listening, demo, httpTokenFile,
    stop: async () => {
      await gateway.stop();
      for (const c of closers.reverse()) await c().catch((e: unknown) => log.error('service.stop', { error: describeError(e) }));
      await logging?.output.close(); // last: every role has logged its stop
    },
  };
}

/** The default configuration file when none is given: ./config/spoolgate.conf if present. */
export function defaultConfigPath(): string | undefined {
  return existsSync('config/spoolgate.conf') ? 'config/spoolgate.conf' : undefined;
}
