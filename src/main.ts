// Composition root, services side (with gateway.ts, the forwarder side): the mailbox store, POP3,
// the receiver and the operator interfaces around a gateway, wired to each other and to REFRESH.
// The only files that know every role (STYLE.md §1); wiring only: every rule lives in its role.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Authenticator, DEFAULT_LOGIN_THROTTLE, LoginThrottle, ServiceCounters, ShutdownStack, describeError, queueIdFor, systemClock, type Clock } from './core/index.js';
import { pop3Settings, stateLayout, type Config } from './config/index.js';
import type { Logger } from './log/index.js';
import { ensureDemoUser, type DemoUser, type Journal, type Store } from './store/index.js';
import { openSqliteStore } from './store/sqlite/index.js';
import { openSharedStore } from './cluster.js';
import { Pop3Server, type Pop3MaildropLocks } from './pop3/index.js';
import { startReceiver } from './receiver/index.js';
import { refreshFromFile, sendCommand, startControl, takeSnapshot } from './control/index.js';
import { nodeStatusOf } from './control/cluster-view.js';
import { ClusterQueue } from './queue/cluster-queue.js';
import { ConsoleEvents, DeliveryLatency, ProcessMetrics, Throughput, startHttp } from './web/index.js';
import { admitUserExit } from './userexit/index.js';
import { submitHttpMessage } from './submit/index.js';
import { Retention, type Prunable } from './log/retention.js';
import { accountingRetention } from './log/accounting.js';
import { makeLogger, startGateway, systemResolver, watchLogFile, type Gateway, type GatewayOptions } from './gateway.js';

export { makeLogger, startGateway, systemResolver, type Gateway, type GatewayOptions } from './gateway.js';

/** The mailbox store of either backend (SQLite file or the shared PostgreSQL): its journal is pruned by Retention. */
export type ServiceStore = Store & { readonly journal: Journal & Prunable };

/** The store the services run on; locks: POP3's maildrop lock across nodes (PostgreSQL only). */
interface OpenedStore { readonly store: ServiceStore; readonly locks?: Pop3MaildropLocks; close(): Promise<void> }

export interface Services {
  readonly gateway: Gateway;
  readonly store: ServiceStore | undefined;
  readonly pop3: Pop3Server | undefined;
  /** Addresses the servers listen on (after port 0 was resolved). */
  readonly listening: { readonly role: string; readonly host: string; readonly port: number }[];
  /** demo: made on the first start of an embedded default; httpTokenFile: with Http configured. */
  readonly demo?: DemoUser;
  readonly httpTokenFile?: string;
  stop(): Promise<void>;
}

const tlsOf = (cert: string | null, key: string | null): { cert: Buffer; key: Buffer } | undefined =>
  (cert !== null && key !== null ? { cert: readFileSync(cert), key: readFileSync(key) } : undefined);

/** What the services share while starting; appliers: what REFRESH hands the new configuration to. */
interface Wiring {
  readonly config: Config; readonly gateway: Gateway; readonly log: Logger; readonly opts: GatewayOptions; readonly stops: ShutdownStack;
  readonly listening: { role: string; host: string; port: number }[]; readonly appliers: ((c: Config) => void)[];
  /** Receiver and POP3 counters for /metrics. */
  readonly counters: ServiceCounters;
  /** The log output's (LogFile, LogFormat); REFRESH runs it before the gateway and the appliers. */
  readonly applyLog: ((c: Config) => void) | undefined;
}

async function startPop3(w: Wiring, store: ServiceStore, auth: Authenticator, locks: Pop3MaildropLocks | undefined): Promise<Pop3Server | undefined> {
  const p = w.config.pop3;
  if (p === null) return undefined;
  const ps = pop3Settings(w.config);
  const server = new Pop3Server({
    users: store.users, mailboxes: store.mailboxes, journal: store.journal, ...(locks === undefined ? {} : { maildropLocks: locks }), counters: w.counters.pop3, hostName: ps.hostName, tls: tlsOf(p.tlsCert, p.tlsKey),
    allowPlaintext: ps.allowPlaintext, idleTimeoutMs: ps.idleTimeoutMs, loginTimeoutMs: ps.loginTimeoutMs, maxConnectionsPerIp: ps.maxConnectionsPerIp, clock: w.opts.clock, logger: w.log, auth,
  });
  w.stops.push('pop3', () => server.close());
  w.appliers.push((c) => server.apply(pop3Settings(c)));
  if (p.listen) w.listening.push({ role: 'pop3', ...(await server.listen({ host: p.listen.host, port: p.listen.port })) });
  if (p.listenTls) w.listening.push({ role: 'pop3s', ...(await server.listen({ host: p.listenTls.host, port: p.listenTls.port, implicitTls: true })) });
  return server;
}

async function startSmtpReceiver(w: Wiring, store: ServiceStore, auth: Authenticator): Promise<void> {
  const rc = w.config.receiver;
  if (rc === null) return;
  const receiver = await startReceiver({
    config: w.config, store: { users: store.users, mailboxes: store.mailboxes, journal: store.journal },
    resolver: w.opts.resolver ?? systemResolver, log: w.log, clock: w.opts.clock, tls: tlsOf(rc.tlsCert, rc.tlsKey), auth, counters: w.counters.receiver,
    // Relayed mail: one message entry, durable before the receiver answers 250 — in this node's
    // spool (concurrent sessions share the publication's fsyncs: EnqueueGroup, B2 item 3), or with
    // Store Backend PostgreSQL committed in the shared queue (gateway.messages, spool/message-queue.ts).
    // The journal's "queued" event names the entry and the queue id the message has from here on (docs/queue.md).
    // A quarantine release passes beforeRename and key: its relay copy is never written twice.
    spoolSubmit: async (m) => {
      const e = await w.gateway.messages.enqueue({
        envelope: m.envelope, data: m.data, origin: { kind: 'receiver', ...m.origin }, jobName: 'RECEIVER',
        ...(m.beforeRename === undefined ? {} : { beforeRename: m.beforeRename }), ...(m.key === undefined ? {} : { key: m.key }),
      });
      return `${e.id}, queue id ${queueIdFor(e.id, e.jobId, 1)}`;
    },
    // A quarantine release cut short by a crash: its staged relay entry is renamed, never written again.
    ...(w.opts.releaseStep === undefined ? {} : { releaseStep: w.opts.releaseStep }),
    spoolCommit: (id) => w.gateway.messages.commit(id),
    // NOTIFY=SUCCESS for a local mailbox: the "delivered" notice goes out like every notification.
    noticeSubmit: async (m) => { await w.gateway.messages.enqueue({ ...m, origin: { kind: 'notification' }, jobName: 'SGNOTIFY' }); },
  });
  w.stops.push('receiver', () => receiver.close());
  w.gateway.queueView.attachQuarantine(receiver.quarantine);
  w.appliers.push((c) => receiver.apply(c));
  for (const a of receiver.addresses()) w.listening.push({ role: 'smtp', host: a.host, port: a.port });
}

/** Retention (issue #18 item 7): pruning at start and every Retention Interval; ages read at each run. */
function startRetention(w: Wiring, store: ServiceStore | undefined, clock: Clock): Retention {
  const { gateway } = w;
  const retention = new Retention({
    clock, log: w.log, ages: () => gateway.config().retention,
    kinds: {
      ...(store === undefined ? {} : { journal: store.journal }),
      accounting: accountingRetention(gateway.accounting, () => clock.now()),
      deadLetters: gateway.deadLetters,
      reports: { prune: (cutoff, max, batch) => gateway.held.pruneReports(cutoff, max, batch) },
    },
    // [P2] A cluster node's arrival identities, at their own age (cluster.ts ARRIVALS_KEPT_DAYS).
    ...(gateway.cluster === undefined ? {} : { fixed: { arrivals: gateway.cluster.arrivals } }),
  });
  w.stops.push('retention', () => retention.stop());
  retention.start();
  return retention;
}

/** spoolgate's version, from package.json beside src/ (or dist/). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The web console's bounded event tail and throughput counter (made only with Http). */
interface ConsoleFeeds { readonly events: ConsoleEvents; readonly throughput: Throughput }

async function startOperator(w: Wiring, latency: DeliveryLatency | undefined, clock: Clock, retention: Retention, feeds?: ConsoleFeeds): Promise<string | undefined> {
  const { gateway, config, log } = w;
  // [P2] item 4: on a cluster the queue tools see every node (queue/cluster-queue.ts).
  const cluster = gateway.cluster;
  const queue = cluster === undefined ? gateway.queueView : new ClusterQueue(gateway.queueView, {
    ...cluster.queuePort,
    // Actions on the shared queue's rows are logged and journaled as this node's own are.
    record: (action, id, who, detail) => gateway.queueView.recordAction(action, id, who, detail),
    past: (id, key) => gateway.queueView.pastOfKey(id, key),
  }, { suspendMode: () => gateway.forwarder.suspendMode, config: gateway.config, clock });
  const control = await startControl({
    socketPath: config.controlSocket, log,
    target: {
      forwarder: gateway.forwarder, config: gateway.config, accounting: gateway.accounting,
      refresh: () => refreshFromFile({
        current: gateway.config, log,
        // A new UserExit module must load, or the whole refresh is refused (as for any error).
        check: async (next) => {
          // DKIM keys are re-read at each REFRESH (key rotation): one that cannot be used refuses it.
          const dkimProblems = gateway.prepareDkim(next);
          if (dkimProblems.length > 0) return dkimProblems;
          if (next.userExit === null || next.userExit === gateway.userExit()) return [];
          const r = await admitUserExit(next.userExit, next.userExitDirectory, next.userExitTimeout);
          return r.ok ? [] : [`${next.configFile}: UserExit ${next.userExit} cannot be used: ${r.error}; fix the module or set UserExit NONE`];
        },
        // The log's destination and form first: every line the others log about the change is in the new form.
        apply: [(next) => { w.applyLog?.(next); gateway.applyConfig(next); }, ...w.appliers, async (_next, changed) => { if (changed.includes('TargetServer')) await gateway.forwarder.resolve(); }],
      }),
      userExit: () => gateway.userExit(),
      setUserExit: (v) => gateway.setUserExit(v),
      faults: () => gateway.health.list(),
      retention: () => retention.last(),
      queue,
      cluster: () => cluster === undefined ? undefined : {
        node: cluster.node, nodes: () => cluster.nodes(), staleSeconds: cluster.staleSeconds,
        statuses: () => cluster.operator.store.statuses(), refreshOthers: () => cluster.operator.refreshOthers(),
        sharedQueue: () => cluster.queuePort.entries(1000),
      },
      // (ext, O2) DISPLAY,STATUS / `spoolgate status`: w.listening is read when asked (HTTP joins it below).
      process: { pid: process.pid, version: packageVersion(), startedAt: clock.now(), node: config.store.postgres?.node ?? hostname(), listening: () => w.listening },
      runtime: () => ({ pid: process.pid, chkpoint: w.opts.cold ? 'COLD' : 'WARM', chkpointFile: stateLayout(config).checkpoint, ipv6Enabled: true }),
    },
  });
  w.stops.push('control socket', () => control.close());
  if (cluster !== undefined) {
    // Other nodes' requests (REFRESH,ALL, routed queue operations) and this node's published status.
    await cluster.operator.serve({
      execute: async (line) => { const r = await sendCommand(control.path, line); return r.ok ? r.value : { ok: false, lines: [], data: { error: r.error } }; },
      queue: gateway.queueView,
      status: () => nodeStatusOf(takeSnapshot({ forwarder: gateway.forwarder, instance: gateway.config().instance.toUpperCase(), logLevel: log.level, userExit: gateway.userExit() })),
    });
    w.stops.push('cluster operator', () => cluster.operator.stop());
  }
  w.listening.push({ role: 'control', host: control.path, port: 0 });
  if (config.http === null) return undefined;
  const proc = new ProcessMetrics();
  proc.start();
  w.stops.push('process metrics', () => proc.stop());
  // Http SendUser: the send API's SenderPolicy identity, never privileged (uid -1 is nobody's).
  const sendAs = config.http.sendUser === null ? undefined : { uid: -1, user: config.http.sendUser };
  // HTTP commands go through the control socket: one queue for both, the same answer.
  const http = await startHttp({
    listen: config.http.listen, allowedHosts: config.http.allowedHosts, tokenFile: stateLayout(config).httpToken, log,
    // [P2] With PostgreSQL a token made on any node works on every node (web/token.ts sharedTokens).
    ...(gateway.cluster === undefined ? {} : { tokenTable: gateway.cluster.records.tokens }),
    target: {
      execute: (line) => sendCommand(control.path, line),
      queue,
      metrics: { forwarder: gateway.forwarder, spoolEntries: () => gateway.queue.list(), latency, faults: () => gateway.health.list(), now: () => clock.now(), services: w.counters, process: proc, stores: () => gateway.storeGauges(), ...(gateway.cluster === undefined ? {} : { node: gateway.cluster.node }) },
      ...(feeds === undefined ? {} : { console: { config: gateway.config, logLevel: () => log.level, events: feeds.events, throughput: feeds.throughput } }),
      // X1 item 5: the send API queues as `spoolgate sendmail` run by the instance's user would (the current configuration's policy and limits).
      send: { submit: (m) => submitHttpMessage(m, { config: gateway.config(), queue: gateway.messages, ...(sendAs === undefined ? {} : { caller: sendAs }) }), tokenFile: stateLayout(config).httpSendToken, maxBodyBytes: config.http.sendMaxBody, ratePerMinute: config.http.sendRate },
    },
  });
  w.stops.push('http', () => http.close());
  // Before the listener closes (stops run last-in first): waiting event polls end at once.
  if (feeds !== undefined) w.stops.push('console events', () => feeds.events.close());
  w.listening.push({ role: 'http', host: http.host, port: http.port });
  return http.tokenFile;
}

/**
 * The mailbox database — <StateDirectory>/spoolgate.db, or with Store Backend PostgreSQL the shared
 * database (users, mailboxes, journal and POP3's maildrop locks of every node: docs/cluster.md) —
 * or undefined (logged, marked in health) when it cannot be opened.
 */
async function openMailboxStore(config: Config, gateway: Gateway, clock: Clock): Promise<OpenedStore | undefined> {
  const pgc = config.store.backend === 'postgresql' ? config.store.postgres : null;
  const path = pgc === null ? stateLayout(config).database : `the shared store (schema ${pgc.schema})`;
  try {
    if (pgc === null) {
      const s = openSqliteStore(path);
      return { store: s, close: () => s.close() };
    }
    const shared = await openSharedStore(config, clock, gateway.log);
    return shared === undefined ? undefined : { store: shared.store, locks: shared.locks, close: () => shared.close() };
  } catch (e) {
    const roles = [config.receiver !== null ? 'the receiver' : '', config.pop3 !== null ? 'POP3' : ''].filter((r) => r !== '').join(' and ');
    const problem = `mailbox database ${path} cannot be opened (${describeError(e)}): ${roles === '' ? 'no journal is written' : `${roles} not started`}, the forwarder runs; ` +
      (pgc === null ? 'restore the database from a backup (or move it aside to start with empty mailboxes), then restart'
        : 'make the database reachable with its schema current (`spoolgate db status`), then restart');
    gateway.health.fail('mailbox-store', problem, clock.now(), { disabling: roles !== '' });
    return undefined;
  }
}

/**
 * Everything the configuration asks for: the forwarder, the mailbox store, the receiver, POP3
 * and the operator interfaces; stopped in reverse order of start (HTTP first, the log last).
 */
export async function startServices(config: Config, opts: GatewayOptions = {}): Promise<Services> {
  const clock = opts.clock ?? systemClock;
  const latency = config.http === null ? undefined : new DeliveryLatency();
  const feeds = config.http === null ? undefined : { events: new ConsoleEvents(), throughput: new Throughput(() => clock.now()) };
  const stops = new ShutdownStack();
  const logging = opts.log === undefined ? makeLogger(config) : undefined;
  if (logging !== undefined) stops.push('log output', () => logging.output.close()); // last: every role has logged its stop
  let store: ServiceStore | undefined, pop3: Pop3Server | undefined, demo: DemoUser | undefined, httpTokenFile: string | undefined;
  const baseLog = opts.log ?? logging!.log;
  const gateway = await startGateway(config, {
    // The console's tail reads the operator log's lines as they are written.
    ...opts, log: feeds === undefined ? baseLog : baseLog.tee(feeds.events),
    // Forwarder events go to the journal once the store is open (issue #16 item 14).
    journal: () => store?.journal,
    onMailFinished: (item, outcome) => {
      opts.onMailFinished?.(item, outcome);
      feeds?.throughput.observe(outcome);
      if (latency !== undefined && outcome !== 'extended') latency.observe(outcome, (clock.now() - item.arrival.getTime()) / 1000);
    },
  }).catch(async (e: unknown) => { await stops.run(); throw e; });
  const log = gateway.log;
  if (logging !== undefined) watchLogFile(logging.output, gateway.health, clock);
  const w: Wiring = { config, gateway, log, opts, stops, listening: [], appliers: [], applyLog: logging?.apply, counters: new ServiceCounters() };
  // The forwarder stops first (mail in flight to the own receiver finishes), then the services.
  let retention: Retention | undefined;
  const stopAll = async (): Promise<void> => {
    // Pruning first: it renames and deletes accounting files the gateway closes next.
    await retention?.stop();
    // [P2] Before the forwarder stops: its last published status is the running one, and no other node's request is taken on.
    await gateway.cluster?.operator.stop();
    await gateway.stop();
    await stops.run((f) => log.error('service.stop', { stage: f.stage, error: describeError(f.error) }));
  };
  try {
    // R3 item 5: a mailbox database that cannot be opened (corrupt, unreadable) disables the
    // receiver and POP3 with an operator message; the forwarder, which does not need it, runs.
    // Opened for the forwarder alone too: its journal answers "where is my mail?" for outbound mail.
    const opened = await openMailboxStore(config, gateway, clock);
    if (opened !== undefined) {
      const s = (store = opened.store);
      stops.push('mailbox store', () => opened.close());
      gateway.queueView.attachJournal(s.journal);
      demo = await ensureDemoUser(s.users, config.users, stateLayout(config).demoPassword);
      if (demo) log.event('users.demo-created', { user: `demo@${config.users.defaultDomain ?? ''}`, passwordFile: demo.passwordFile });
      // One throttle of failed logins for SMTP AUTH and POP3 (Pop3 MaxFailedLogins sets its limit).
      const auth = new Authenticator(s.users, new LoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE, maxFailures: pop3Settings(config).maxFailedLogins }), clock);
      pop3 = await startPop3(w, s, auth, opened.locks);
      await startSmtpReceiver(w, s, auth);
    }
    retention = startRetention(w, store, clock);
    httpTokenFile = await startOperator(w, latency, clock, retention, feeds);
  } catch (e) {
    await stopAll();
    throw e;
  }
  for (const l of w.listening) log.event('listener.started', { role: l.role, host: l.host, port: l.port });
  return { gateway, store, pop3, listening: w.listening, demo, httpTokenFile, stop: stopAll };
}
