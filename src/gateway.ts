// Composition root, forwarder side (with main.ts, the services side): builds the spool queue, the
// checkpoint, extended retry, dead letters, accounting and the forwarder for one configuration
// and wires them. Wiring only: every rule lives in its role. Safe to crash at any point: the
// spool, the checkpoint and the mail directory are the durable state, and a warm start resumes.
import { mkdirSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import type { Clock, Resolver, Result } from './core/index.js';
import { ConfigError, Health, ShutdownStack, describeError, err, ok, systemClock } from './core/index.js';
import { loadDkimKeys, type DkimKeyring, type LoadedKeys } from './dkim/index.js';
import { messageEntryLimit, stateLayout, testModeWithoutReport, type Config } from './config/index.js';
import { Msg } from './control/messages.js';
import { LogOutput, Logger } from './log/index.js';
import { Accounting, accountingPath, TableAccountingSink } from './log/accounting.js';
import { SpoolQueue } from './spool/queue.js';
import { DirectoryHeldFiles, type HeldFiles } from './spool/held-files.js';
import { LocalMessageQueue, type MessageQueue } from './spool/index.js';
import type { Journal } from './store/types.js';
import { accountingSummary } from './receiver/mime.js';
import { DeadLetterStore, TableDeadLetters, type DeadLetters } from './notify/index.js';
import {
  Checkpoint, Forwarder, ExtendedRetry, SmtpConnector, NotifyingUndeliverable, DsnStatusNotices, forwarderJournal, forwarderSettings, clientTimeouts, spoolSource,
  forwarderAccounting, targetSpecs, NotificationBatcher,
} from './forwarder/index.js';
import { ExitSelection, checkExitLocation } from './userexit/index.js';
import { HoldList, QueueService } from './queue/index.js';
import { runPdfSpoolEntry } from './submit/pdf-spool.js';
import { openCluster, type Cluster } from './cluster.js';

export const systemResolver: Resolver = {
  // TargetName and MX hosts resolve through the system resolver (getaddrinfo: /etc/hosts and
  // nsswitch included, as z/OS resolves through its stack's resolver), not DNS only.
  resolveAddresses: async (name) => {
    const all = await dns.lookup(name, { all: true, verbatim: true });
    if (all.length === 0) throw new Error(`no addresses for ${name}`);
    return [...new Set(all.map((a) => a.address))];
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
  /** Where contained faults are marked (default: a Health that logs fault.raised/fault.cleared to the gateway's log). */
  readonly health?: Health;
  /** The journal forwarder events go to, read at each event (the mailbox store opens after the gateway). */
  readonly journal?: () => Journal | undefined;
  /** Fault injection (crash tests): after each durable step of a quarantine release (receiver/release.ts). */
  readonly releaseStep?: (step: string) => Promise<void>;
}

/** Contained faults (R3 item 2), logged once when raised and once when cleared. */
export function gatewayHealth(log: Logger): Health {
  return new Health({
    raised: (f) => log.error('fault.raised', { component: f.component, problem: f.problem, disabling: f.disabling }),
    cleared: (f, now) => log.event('fault.cleared', { component: f.component, failures: f.failures, seconds: Math.round((now - f.since) / 1000) }),
  });
}

export interface Gateway {
  readonly config: () => Config;
  readonly forwarder: Forwarder;
  readonly log: Logger;
  readonly queue: SpoolQueue;
  readonly accounting: Accounting;
  /** Where dead letters are kept (the directory, or the cluster's table): retention prunes it. */
  readonly deadLetters: DeadLetters;
  /** Held spool files and reports of bad ones (this node's directories, or the cluster's tables): every place goes through it. */
  readonly held: HeldFiles;
  /** [P2] With Store Backend PostgreSQL: this node's name and the cluster's nodes (D,NODES). */
  readonly cluster?: Cluster;
  /**
   * Where the gateway's own mail is queued (the receiver's relay, notices, the HTTP send API): this
   * node's spool, or with Store Backend PostgreSQL the shared queue (spool/message-queue.ts).
   */
  readonly messages: MessageQueue;
  /** (O1) The queue model and the operator's actions on it (src/queue). */
  readonly queueView: QueueService;
  /** Contained faults now (extended retry, dead letters, log file; startServices adds the mailbox store). */
  readonly health: Health;
  /** /metrics gauges: held spool files, stored dead letters, first attempt of the oldest extended-retry mail. */
  storeGauges(): Promise<StoreGauges>;
  /** Applies a new configuration (REFRESH): the caller has already filtered non-refreshable changes. */
  applyConfig(next: Config): void;
  /** REFRESH check: reads the DKIM keys of `next` (kept for applyConfig); the problems refuse the refresh. */
  prepareDkim(next: Config): readonly string[];
  /** The user exit for the next spool file (USEREXIT may differ from the file); null = NONE. */
  userExit(): string | null;
  /** USEREXIT,LEVEL=: checks that the module loads; takes effect from the next spool file. */
  setUserExit(value: string | null): Promise<Result<void, string>>;
  stop(): Promise<void>;
}

export interface StoreGauges {
  readonly held: number;
  /** undefined: the dead-letter directory cannot be read (a fault, shown in spoolgate_fault). */
  readonly deadLetters: number | undefined;
  readonly oldestExtended: Date | undefined;
}

/** The operator log on LogFile/LogFormat; REFRESH hands the output a new destination. */
export function makeLogger(config: Config): { log: Logger; output: LogOutput; apply(next: Config): void } {
  const output = new LogOutput(config);
  const log = Logger.create({ sink: output, instance: config.instance });
  // A LogFile that cannot be opened keeps the old destination; the reason is logged there.
  const apply = (next: Config): void => void output.apply(next).then((e) => { if (e !== undefined) log.error('log.file', { error: e }); }, (e: unknown) => log.error('log.file', { error: describeError(e) }));
  return { log, output, apply };
}

/** The LogFile's faults (full disk, ...) into health: fault.raised goes to standard error meanwhile. */
export function watchLogFile(output: LogOutput, health: Health, clock: Clock): void {
  output.onFault((problem) => { if (problem === undefined) health.ok('log-file', clock.now()); else health.fail('log-file', problem, clock.now()); });
}

/**
 * The DKIM keys in force (src/dkim). At start a key problem is a configuration error and the
 * gateway does not start; at REFRESH prepare() reads the new keys before anything changes (a
 * problem refuses the refresh, the keys in force stay) and apply() puts them in force.
 */
function dkimKeys(first: LoadedKeys, log: Logger): { keyring: DkimKeyring; prepare(next: Config): readonly string[]; apply(next: Config): void } {
  for (const w of first.warnings) log.warn('dkim.key', { problem: w });
  let prepared: { config: Config; keyring: DkimKeyring } | undefined;
  const state = {
    keyring: first.keyring,
    prepare(next: Config): readonly string[] {
      const r = loadDkimKeys(next.dkim, next.configFile);
      if (!r.ok) return r.error;
      for (const w of r.value.warnings) log.warn('dkim.key', { problem: w });
      prepared = { config: next, keyring: r.value.keyring };
      return [];
    },
    apply(next: Config): void {
      if (prepared?.config !== next && state.prepare(next).length > 0) {
        log.error('dkim.refresh', { problem: 'DKIM keys could not be read; the keys in force stay', domains: state.keyring.domains().join(',') || '-' });
        return;
      }
      state.keyring = prepared!.keyring;
      prepared = undefined;
      log.event('dkim.keys', { domains: state.keyring.domains().join(',') || '-' });
    },
  };
  return state;
}

/** The durable stores the forwarder works on, opened for one configuration. */
async function openStores(config: Config, clock: Clock, log: Logger, cold: boolean, stops: ShutdownStack, health: Health) {
  mkdirSync(config.stateDirectory, { recursive: true, mode: 0o700 });
  const opened = await SpoolQueue.open({
    root: config.spool.directory, writer: config.extWrtName, clock, rescanMs: config.spool.rescanInterval * 1000, hostName: config.hostName,
    onError: (e) => log.error('spool.watch', { error: describeError(e) }),
  });
  if (!opened.ok) throw opened.error;
  const queue = opened.value;
  for (const path of queue.litter.removed) log.info('spool.litter-removed', { path });
  for (const problem of queue.litter.failed) log.warn('spool.litter', { problem });
  stops.push('spool queue', () => queue.close());
  const checkpoint = Checkpoint.open(stateLayout(config).checkpoint, { cold });
  stops.push('checkpoint', () => checkpoint.close());
  if (cold) log.event('checkpoint.cold-start', {});
  // Announced before any spool file is read again: what is not recorded is sent again.
  for (const problem of checkpoint.lost) log.error('checkpoint.lost', { problem, consequence: 'unfinished spool files are read from their first message; mail already sent from them is sent again' });
  // The mail directory and the dead-letter directory are not needed to start (R3 item 2): one
  // that fails is marked in health and tried again with back-off; mail waits in the spool.
  const extended = config.extendedRetry.active ? new ExtendedRetry(config.extendedRetry.mailDirectory, clock, log, health) : undefined;
  await extended?.open();
  const opened2 = await HoldList.open(stateLayout(config).holds, new Date(clock.now()));
  if (opened2.problem !== undefined) log.error('queue.holds', { problem: opened2.problem });
  return { queue, checkpoint, extended, holds: opened2.list };
}

/**
 * Dead letters and accounting ([P2] #19): files on this node, or with Store Backend PostgreSQL
 * the tables every node shares (cluster.records); the roles get the interface and do not know.
 * Opened after the cluster, so the accounting's last records are written before its pool closes.
 */
async function openRecords(config: Config, clock: Clock, log: Logger, stops: ShutdownStack, health: Health, cluster: Cluster | undefined): Promise<{ deadLetters: DeadLetters; accounting: Accounting }> {
  const dlHealth = config.undeliverable.deadLetterAction === 'store' ? health : undefined;
  // Made with DeadLetterAction Delete too, so that a REFRESH to Store finds it ready (the
  // directory is not refreshable); with Delete a directory that cannot be made is only a warning.
  const deadLetters = cluster === undefined
    ? DeadLetterStore.lazy(config.undeliverable.deadLetterDirectory, clock, dlHealth)
    : new TableDeadLetters(cluster.records.deadLetters, clock, dlHealth);
  const dlProblem = await deadLetters.check();
  if (dlProblem !== undefined) log.warn('deadletter.directory', { directory: cluster === undefined ? config.undeliverable.deadLetterDirectory : 'dead_letters (PostgreSQL)', error: dlProblem });
  const onError = (e: unknown): void => log.error('accounting.write', { error: describeError(e) });
  const accounting = new Accounting({
    ...(cluster === undefined ? { path: accountingPath(config.stateDirectory) } : { sink: new TableAccountingSink(cluster.records.accounting, { onError }) }),
    instance: config.instance, enabled: () => config.smf119, now: () => new Date(clock.now()), onError,
  });
  stops.push('accounting', () => accounting.end());
  return { deadLetters, accounting };
}

/** Builds and starts the forwarder for a validated configuration. */
export async function startGateway(initial: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  let config = initial;
  const clock = opts.clock ?? systemClock;
  if (config.userExit !== null) {
    const where = await checkExitLocation(config.userExit, config.userExitDirectory);
    if (!where.ok) throw new Error(`${config.configFile}: UserExit ${config.userExit} cannot be used: ${where.error}`);
  }
  // Before anything is opened: a key problem is a configuration error, and nothing needs closing.
  const firstKeys = loadDkimKeys(config.dkim, config.configFile);
  if (!firstKeys.ok) throw new ConfigError(`${firstKeys.error.join('\n')}\n${firstKeys.error.length} DKIM key problem(s)`);
  const stops = new ShutdownStack();
  // Without opts.log the gateway owns the log output (startServices passes its own, closed last).
  const made = opts.log === undefined ? makeLogger(config) : undefined;
  if (made !== undefined) stops.push('log output', () => made.output.close());
  const log = opts.log ?? made!.log;
  log.setLevel(config.logLevel);
  const dkim = dkimKeys(firstKeys.value, log);
  stops.push('stopped', () => log.event('gateway.stopped', {}));
  // A store that cannot be opened (writer lock held, unwritable directory) closes the ones opened.
  const health = opts.health ?? gatewayHealth(log);
  if (made !== undefined) watchLogFile(made.output, health, clock);
  const stores = await openStores(config, clock, log, opts.cold === true, stops, health).catch(async (e: unknown) => { await stops.run(); throw e; });
  const { queue, checkpoint, extended, holds } = stores;
  const policy = () => ({ badSpoolDisp: config.badSpoolDisp, report: config.report, admin: { from: config.reportMailFrom ?? '', to: config.mailAdministrators, hostName: config.hostName } });
  // [P2] Store Backend PostgreSQL: spool files go through the shared queue (src/cluster.ts).
  const cluster = await openCluster(config, queue.layout, clock, log, policy, opts.cold === true).catch(async (e: unknown) => { await stops.run(); throw e; });
  if (cluster !== undefined) stops.push('cluster store', () => cluster.close());
  // [P2] Extended retry's records on the shared store: any node serves them (docs/cluster.md).
  if (cluster !== undefined) extended?.share(cluster.extended);
  const { deadLetters, accounting } = await openRecords(config, clock, log, stops, health, cluster).catch(async (e: unknown) => { await stops.run(); throw e; });
  // Held files and reports: this node's held/ and sysout/, or with PostgreSQL every node's tables.
  const held: HeldFiles = cluster?.held ?? new DirectoryHeldFiles(queue.layout);
  const spool = spoolSource({ queue, clock, log, policy, held, ...(cluster === undefined ? {} : { divert: cluster.source.divert }) });
  await spool.disposeBadEntries();
  const wired = cluster?.source.wrap(spool, checkpoint) ?? { source: spool.source, checkpoint };
  if (cluster !== undefined) {
    await cluster.source.start().catch(async (e: unknown) => { await stops.run(); throw e; });
    stops.push('cluster queue', () => cluster.source.stop());
  }
  // The gateway's own mail: one port, the backend chosen here (Backend PostgreSQL: the shared queue).
  const messages: MessageQueue = cluster?.messages ?? new LocalMessageQueue(() => ({ root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName }));
  accounting.record('CONFIG', { reason: 'start', configFile: config.configFile, logLevel: config.logLevel, userExit: config.userExit });
  const exits = new ExitSelection(config.userExit);
  // MAIL records carry the subject and attachment count, read with the receiver's MIME reading.
  const accounted = forwarderAccounting(accounting, accountingSummary);
  const notifications = new NotificationBatcher({
    write: async (mails) => { await messages.enqueueNotifications(mails); },
    maxBytes: () => messageEntryLimit(config),
  });
  const forwarder = new Forwarder({
    clock, log, checkpoint: wired.checkpoint, spool: wired.source, extended, ...accounted, resolver: opts.resolver ?? systemResolver,
    connector: new SmtpConnector({ heloName: () => config.hostName, tlsEhlo: () => config.options.tlsEhlo, timeouts: () => clientTimeouts(config), log }),
    onMailFinished: (item, outcome) => { accounted.onMailFinished(item, outcome); opts.onMailFinished?.(item, outcome); },
    undeliverable: new NotifyingUndeliverable({
      settings: () => ({ returnToMailFrom: config.undeliverable.returnToMailFrom, deadLetterAction: config.undeliverable.deadLetterAction, reportingMta: config.hostName, copyTo: config.undeliverable.copyTo }),
      deadLetters: () => deadLetters,
      // DSNs written close together share one spool entry (forwarder/notify-batch.ts).
      submit: (mail) => notifications.submit(mail),
      log, now: () => new Date(clock.now()),
    }),
    notices: new DsnStatusNotices({
      settings: () => ({ reportingMta: config.hostName, delayNoticeMinutes: config.undeliverable.delayNotice, copyTo: config.undeliverable.copyTo }),
      submit: async (mail) => { await messages.enqueue({ ...mail, origin: { kind: 'notification' }, jobName: 'SGNOTIFY' }); },
      now: () => new Date(clock.now()),
    }),
    ...(opts.journal === undefined ? {} : { journal: forwarderJournal(opts.journal, log, { now: () => clock.now() }) }),
    settings: () => {
      const fs = forwarderSettings(config, clock);
      return { ...fs, extended: { ...fs.extended, store: extended }, task: { ...fs.task, userExit: { ...exits.get(), timeoutMs: config.userExitTimeout, failure: config.userExitFailure } } };
    },
    servers: () => targetSpecs(config),
    health,
    holds,
    dkim: { keyring: () => dkim.keyring, now: () => new Date(clock.now()) },
    // Print-report spool entries: one PDF mail per section, queued as message entries (docs/pdfmail.md).
    printReport: (entry, ctx) => runPdfSpoolEntry(entry, { ...ctx, target: { root: config.spool.directory, writer: config.extWrtName, hostName: config.hostName, instance: config.instance, header: config.header } }),
    // Seed: a Secure YES target with which TLS was negotiated is announced (EZD1821I).
    onSecureTls: (address) => log.event('target.tls', { address, message: Msg.ableToUse(config.instance.toUpperCase(), address) }),
  });
  log.event('gateway.starting', { instance: config.instance, writer: config.extWrtName, spool: config.spool.directory, testMode: config.options.testMode });
  // Seed (Options TestMode): test mode without a report destination shows nothing (EZD1841I).
  if (testModeWithoutReport(config)) log.warn('testmode.no-report', { message: Msg.testModeNoReport(config.instance.toUpperCase()) });
  const targetStats = () => forwarder.listTargets().map((t) => ({ address: t.addr.address, port: t.addr.port, state: t.state, ...t.counters }));
  const stats = accounting.scheduleStats(clock, () => config.smf119.interval, () => ({ counters: { ...forwarder.counters }, targets: targetStats() }));
  stops.push('statistics', () => stats.stop(true));
  stops.push('forwarder', () => forwarder.stop());
  const queueView = new QueueService({
    forwarder, extended, deadLetters, spool: queue.layout, held, holds, quarantine: stateLayout(config).quarantine, log, clock, spoolEntries: () => queue.list(), config: () => config,
    requeue: (mail, deadLetter, jobName) => messages.enqueue({ ...mail, origin: { kind: 'requeue', deadLetter }, jobName: jobName ?? 'SGREQUEUE' }),
    // [P2] an unread file in incoming/ is being stored in the shared queue: an action on it excludes its arrival.
    ...(cluster === undefined ? {} : { arrival: cluster.source }),
  });
  return {
    config: () => config, forwarder, log, queue, accounting, deadLetters, held, health, queueView, messages, ...(cluster === undefined ? {} : { cluster }),
    storeGauges: async () => ({
      held: (await held.list()).length,
      deadLetters: await deadLetters.count().catch(() => undefined),
      oldestExtended: await extended?.oldestFirstAttempt(),
    }),
    applyConfig: (next) => { config = next; log.setLevel(next.logLevel); made?.apply(next); exits.refreshed(next.userExit); dkim.apply(next); },
    prepareDkim: (next) => dkim.prepare(next),
    userExit: () => exits.get().module,
    setUserExit: async (v) => {
      const r = await exits.set(v, config.userExitDirectory, config.userExitTimeout);
      if (!r.ok) return err(r.error);
      log.event('userexit.set', { module: r.module ?? 'NONE' });
      return ok(undefined);
    },
    stop: async () => { await stops.run((f) => log.error('gateway.stop', { stage: f.stage, error: describeError(f.error) })); },
  };
}
