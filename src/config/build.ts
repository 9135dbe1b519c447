// Builds the fully defaulted Config from parsed statements: one function per statement reads
// its values (with ranges) and supplies the defaults of SPEC.md §3. Cross-statement checks are
// in validate.ts.
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DBCS_PAGES, EBCDIC_PAGES, getCodePage } from '../codepage/index.js';
import type { Diagnostics } from './errors.js';
import type { RawStatement } from './parser.js';
import { dkimStatements } from './dkim.js';
import { StatementReader, checkDuplicateParams, readValue, resolvePath } from './reader.js';
import type { Config, FilterMatch, Pop3Config, StoreConfig, ReceiverConfig, TargetServerConfig, TimeoutConfig, FilterRule } from './types.js';
import {
  atSign, cidr, hostName, hostPort, instanceName, integer, ipLiteral, localDomain, mailbox, oneOf, show, text, writerName,
  type Parsed,
} from './values.js';

export const DEFAULT_INSTANCE = 'spoolgate';
export const DEFAULT_STATE_DIRECTORY = './var/state';
export const DEFAULT_SPOOL_DIRECTORY = './var/spool';
/** RFC 5321 §6.3 hop limit; Postfix's hopcount_limit is 50, Exim's received_headers_max 30. */
export const DEFAULT_MAX_RECEIVED_HEADERS = 100;

const TRANSLATE_ALLOWED = `${EBCDIC_PAGES.join(', ')}, ${DBCS_PAGES.join(', ')}, ISO8859-1, UTF-8`;

function translate(t: string): Parsed<string> {
  const page = getCodePage(t);
  if (page === undefined) return { ok: false, problem: `code page ${show(t)} not known`, allowed: TRANSLATE_ALLOWED };
  return { ok: true, value: page.name };
}

/** Seed: the CSSMTP exit interfaces a UserExit statement may name (an MVS load module each). */
const MVS_EXIT = /^VERSION[234]$/i;

function userExit(t: string, baseDir: string): Parsed<string | null> {
  if (t.toUpperCase() === 'NONE' || MVS_EXIT.test(t)) return { ok: true, value: null };
  if (/^VERSION[0-9]$/i.test(t)) {
    return { ok: false, problem: `value ${show(t)} names an MVS exit interface`, allowed: 'NONE or the path of a JavaScript/TypeScript module' };
  }
  return resolvePath(t, baseDir);
}

/**
 * An unchanged CSSMTP file's `UserExit VERSION2|VERSION3|VERSION4` names an MVS exit program that
 * cannot run here: start-up goes on without an exit (userExit() reads it as NONE), with this
 * warning naming the JavaScript module form.
 */
function warnMvsExit(st: RawStatement | undefined, diag: Diagnostics): void {
  const t = st?.value?.text;
  if (st?.value === undefined || st.value === null || t === undefined || !MVS_EXIT.test(t)) return;
  diag.warn(st.value.line, 'UserExit', null, `${t.toUpperCase()} is an MVS exit program and cannot run here; running without a user exit`, 'NONE, or the path of a JavaScript module doing the same checks (docs/userexit.md)');
}

/** Default ExtWrtName from the instance name: upper case, only A-Z 0-9 $ # @, at most 8. */
export function defaultWriterName(instance: string): string {
  const w = instance.toUpperCase().replace(/[^A-Z0-9$#@]/g, '').slice(0, 8);
  return w === '' ? 'SPOOLGAT' : w;
}

/** The ExtWrtName as coded, when it is also a valid Instance name (no $ # @), else undefined. */
function writerAsInstance(st: RawStatement | undefined): string | undefined {
  const t = st?.value?.text;
  if (t === undefined) return undefined;
  const w = writerName(t);
  if (!w.ok) return undefined;
  const i = instanceName(w.value);
  return i.ok ? i.value : undefined;
}

export interface BuildInput {
  readonly statements: readonly RawStatement[];
  readonly fileName: string;
  readonly configCodePage: string;
  readonly hostName?: string;
}

/** Statements by canonical name, first occurrence first (duplicates of single statements dropped). */
export type StatementGroups = ReadonlyMap<string, readonly RawStatement[]>;

export function buildConfig(input: BuildInput, diag: Diagnostics): { config: Config; groups: StatementGroups } {
  const baseDir = dirname(resolve(input.fileName));
  const groups = new Map<string, RawStatement[]>();
  for (const st of input.statements) {
    checkDuplicateParams(st, diag);
    const list = groups.get(st.def.name) ?? [];
    if (list.length > 0 && !st.def.repeatable) {
      diag.error(st.line, st.def.name, null, `duplicate statement (first at line ${list[0]!.line})`, 'once per file');
      continue;
    }
    list.push(st);
    groups.set(st.def.name, list);
  }
  const one = (name: string): RawStatement | undefined => groups.get(name)?.[0];
  const many = (name: string): RawStatement[] => groups.get(name) ?? [];
  const block = (name: string): StatementReader => new StatementReader(one(name), diag, baseDir);
  const val = <T>(name: string, parse: (t: string) => Parsed<T>, dflt: T): T => readValue(one(name), diag, parse, dflt);
  const pathVal = (name: string, dflt: string | null): string | null => val(name, (t) => resolvePath(t, baseDir), dflt);

  // Identity and locations first: other defaults derive from them.
  // Seed: ExtWrtName defaults to the started procedure's name, and every console message names
  // the procedure. A CSSMTP file that names its writer (ExtWrtName CSSMTP) and no Instance runs
  // as that procedure: its messages say CSSMTP, as the seed's do.
  const instance = val('Instance', instanceName, writerAsInstance(one('ExtWrtName')) ?? DEFAULT_INSTANCE);
  const extWrtName = val('ExtWrtName', writerName, defaultWriterName(instance));
  const stateDirectory = pathVal('StateDirectory', resolve(baseDir, DEFAULT_STATE_DIRECTORY)) ?? '';
  const writerDir = join(stateDirectory, extWrtName);
  const hostDefault = input.hostName ?? hostname();
  const host = val('HostName', hostName, hostDefault.toLowerCase());

  const er = block('ExtendedRetry');
  const hdr = block('Header');
  const opt = block('Options');
  const rl = block('RetryLimit');
  const smf = block('SMF119');
  const und = block('Undeliverable');
  const spool = block('Spool');

  warnMvsExit(one('UserExit'), diag);
  const translateName = val('Translate', translate, 'IBM-1047');
  const mailAdmins = many('MailAdministrator').map((st) => readValue(st, diag, mailbox, ''));

  const config: Config = {
    configFile: resolve(input.fileName),
    configCodePage: input.configCodePage,
    badSpoolDisp: val('BadSpoolDisp', (t) => oneOf(t, [['Hold', 'hold'], ['Delete', 'delete']] as const), 'hold'),
    chkPointSizeLimit: val('ChkPointSizeLimit', (t) => integer(t, 1, 10_000_000), 64000),
    extendedRetry: {
      active: er.present,
      age: er.int('Age', 1, 365, 5),
      interval: er.int('Interval', 0, 1440, 30),
      mailDirectory: er.path('MailDirectory', join(writerDir, 'mail')),
    },
    extWrtName,
    header: { date: hdr.yesNo('Date', true), userInfo: hdr.yesNo('UserInfo', true) },
    jesJobSize: val('JESJobSize', (t) => integer(t, 0, 1_000_000), 0),
    jesMsgSize: val('JESMsgSize', (t) => integer(t, 0, 1_000_000), 0),
    jesSyntaxErrLimit: val('JESSyntaxErrLimit', (t) => integer(t, 0, 999), 5),
    logLevel: val('LogLevel', (t) => integer(t, 0, 255), 7),
    mailAdministrators: mailAdmins.filter((a) => a !== '').slice(0, 4),
    options: {
      nullTrnc: opt.yesNo('NullTrnc', false),
      testMode: opt.yesNo('TestMode', false),
      atSign: opt.get('AtSign', atSign, '@'),
      tlsEhlo: opt.yesNo('TLSEhlo', false),
    },
    report: val('Report', (t) => oneOf(t, [['Sysout', 'sysout'], ['Admin', 'admin'], ['None', 'none']] as const), 'sysout'),
    retryLimit: {
      count: rl.int('Count', 0, 7200, 5, ' (and Count × Interval ≤ 7200)'),
      interval: rl.int('Interval', 0, 7200, 1, ' (and Count × Interval ≤ 7200)'),
    },
    smf119: {
      config: smf.yesNo('CONFIG', false),
      connect: smf.yesNo('CONNECT', false),
      mail: smf.yesNo('MAIL', false),
      spool: smf.yesNo('SPOOL', false),
      stats: smf.yesNo('STATS', false),
      interval: smf.int('Interval', 1, 1440, 15),
    },
    targetServers: many('TargetServer').map((st) => targetServer(new StatementReader(st, diag, baseDir))),
    timeout: timeouts(block('Timeout')),
    translate: translateName,
    undeliverable: {
      returnToMailFrom: und.yesNo('ReturnToMailFrom', true),
      deadLetterAction: und.oneOf('DeadLetterAction', [['Store', 'store'], ['Delete', 'delete']] as const, 'store'),
      deadLetterDirectory: und.path('DeadLetterDirectory', join(writerDir, 'deadletter')),
      copyTo: und.get('CopyTo', (t) => mailbox(t) as Parsed<string | null>, null),
      delayNotice: und.int('DelayNotice', 0, 525600, 240),
    },
    userExit: val('UserExit', (t) => userExit(t, baseDir), null),
    instance,
    hostName: host,
    stateDirectory,
    controlSocket: pathVal('ControlSocket', join(stateDirectory, `${extWrtName}.sock`)) ?? '',
    logFile: pathVal('LogFile', null),
    logFormat: val('LogFormat', (t) => oneOf(t, [['Text', 'text'], ['Json', 'json']] as const), 'text'),
    reportMailFrom: val('ReportMailFrom', (t) => mailbox(t) as Parsed<string | null>, null),
    userExitTimeout: val('UserExitTimeout', (t) => integer(t, 10, 600_000), 5000),
    // REJECT_FILE by default: with BadSpoolDisp Hold nothing is lost while the exit is broken.
    userExitDirectory: pathVal('UserExitDirectory', baseDir) ?? baseDir,
    userExitFailure: val('UserExitFailure', (t) => oneOf(t, [['REJECT_FILE', 'rejectFile'], ['REJECT_MAIL', 'rejectMail'], ['CONTINUE', 'continue']] as const), 'rejectFile'),
    // RFC 5321 §6.3: loop detection by counting Received fields (spool/headers.ts overHopLimit).
    maxReceivedHeaders: val('MaxReceivedHeaders', (t) => integer(t, 10, 1000), DEFAULT_MAX_RECEIVED_HEADERS),
    // Seconds a stop (SIGTERM) waits for attempts in flight before cutting their connections.
    drainTimeout: val('DrainTimeout', (t) => integer(t, 1, 3600), 30),
    displayCompat: val('DisplayCompat', (t) => oneOf(t, [['IBM', 'ibm'], ['SPOOLGATE', 'spoolgate']] as const), 'spoolgate'),
    spool: {
      directory: spool.path('Directory', resolve(baseDir, DEFAULT_SPOOL_DIRECTORY)),
      // Without a RecordFormat, EBCDIC spool files are framed per file as they come (NL, LF,
      // fixed or RDW): CSSMTP reads JES data sets whatever their record format.
      recordFormat: spool.oneOf('RecordFormat', [['Text', 'text'], ['NL', 'nl'], ['Fixed', 'fixed'], ['Variable', 'variable'], ['Auto', 'auto']] as const, getCodePage(translateName)?.ebcdic === true ? 'auto' : 'text'),
      recordLength: spool.int('RecordLength', 1, 32760, 80),
      rescanInterval: spool.int('RescanInterval', 1, 3600, 5),
    },
    http: httpBlock(block('Http'), diag),
    receiver: receiverBlock(block('Receiver'), diag, host),
    filters: many('Filter').map((st) => filterRule(new StatementReader(st, diag, baseDir), diag)).filter((f): f is FilterRule => f !== null),
    pop3: pop3Block(block('Pop3'), diag),
    users: usersBlock(block('Users')),
    retention: retentionBlock(block('Retention')),
    dkim: dkimStatements(many('Dkim'), diag, baseDir),
    store: storeBlock(block('Store'), diag, host),
  };
  return { config, groups };
}

function targetServer(b: StatementReader): TargetServerConfig {
  const limit = (name: string, max: number): number | null => b.get(name, (t) => integer(t, 1, max, ' (leave the parameter out for no limit)') as Parsed<number | null>, null);
  return {
    targetIp: b.all('TargetIP', ipLiteral),
    targetName: b.all('TargetName', hostName),
    targetMx: b.get('TargetMx', hostName as (t: string) => Parsed<string | null>, null),
    connectPort: b.int('ConnectPort', 1, 65535, 25),
    connectLimit: b.int('ConnectLimit', 1, 1000, 5),
    maxMsgSent: b.int('MaxMsgSent', 0, 1_000_000, 0),
    messageSize: b.int('MessageSize', 1, 2_147_483_647, 524288),
    secure: b.yesNo('Secure', false),
    authUser: b.get('AuthUser', (t) => text(t, 'a user name') as Parsed<string | null>, null),
    authPassword: b.get('AuthPassword', (t) => text(t, 'a password') as Parsed<string | null>, null),
    tlsCaFile: b.path('TlsCaFile', null),
    tlsServerName: b.get('TlsServerName', hostName as (t: string) => Parsed<string | null>, null),
    tlsMinVersion: b.oneOf('TlsMinVersion', [['TLSv1.2', 'TLSv1.2'], ['TLSv1.3', 'TLSv1.3']] as const, 'TLSv1.2'),
    tlsVerify: b.yesNo('TlsVerify', true),
    sourceIp: b.get('SourceIP', ipLiteral as (t: string) => Parsed<string | null>, null),
    // (ext) Rate limits: absent = no limit. 0 is an error, not "unlimited": a limit of nothing
    // would stop the target for ever, and leaving the parameter out already says "no limit".
    maxMsgPerSecond: limit('MaxMsgPerSecond', 1000),
    maxMsgPerMinute: limit('MaxMsgPerMinute', 60_000),
    maxRcptPerMsg: limit('MaxRcptPerMsg', 2000),
    maxConnectPerMinute: limit('MaxConnectPerMinute', 6000),
    rateBackoff: b.yesNo('RateBackoff', true),
  };
}

function timeouts(b: StatementReader): TimeoutConfig {
  const t = (name: string, dflt: number): number => b.int(name, 30, 1200, dflt);
  return {
    initialMsg: t('InitialMsg', 300),
    mailCmd: t('MAILCmd', 300),
    rcptCmd: t('RCPTCmd', 300),
    dataCmd: t('DATACmd', 120),
    dataBlock: t('DataBlock', 180),
    dataTerm: t('DataTerm', 600),
    anyCmd: t('AnyCmd', 300),
    connectRetry: t('ConnectRetry', 120),
  };
}

/**
 * Http SendUser: a login-name-like local part. Not root: the send API's identity is never
 * privileged (SenderPolicy Any is the way to let it name every sender).
 */
function sendUser(t: string): Parsed<string> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(t) || t.toLowerCase() === 'root') {
    return { ok: false, problem: `value ${JSON.stringify(t.slice(0, 70))} is not a user name the send API may act as`, allowed: 'a user name of 1..64 letters, digits, . _ - (not root; use Users { SenderPolicy Any } to allow every sender)' };
  }
  return { ok: true, value: t };
}

function httpBlock(b: StatementReader, diag: Diagnostics): Config['http'] {
  if (!b.present) return null;
  if (!b.has('Listen')) {
    diag.error(b.line, 'Http', 'Listen', 'missing', 'Listen host:port (leave out the Http statement to turn HTTP off)');
    return null;
  }
  const listen = b.get('Listen', hostPort, null as { host: string; port: number } | null);
  return listen === null ? null : {
    listen, allowedHosts: b.all('AllowedHost', hostName).map((h) => h.toLowerCase()),
    sendMaxBody: b.int('SendMaxBody', 1024, 1_073_741_824, 16_777_216),
    sendRate: b.int('SendRate', 0, 1_000_000, 0),
    sendUser: b.get('SendUser', sendUser as (t: string) => Parsed<string | null>, null),
  };
}

function receiverBlock(b: StatementReader, diag: Diagnostics, host: string): ReceiverConfig | null {
  if (!b.present) return null;
  const listen = b.all('Listen', hostPort);
  if (!b.has('Listen')) diag.error(b.line, 'Receiver', 'Listen', 'missing', 'at least one Listen host:port (leave out the Receiver statement to turn the receiver off)');
  return {
    listen,
    hostName: b.get('HostName', hostName, host),
    localDomains: b.all('LocalDomain', localDomain),
    maxMessageSize: b.int('MaxMessageSize', 1024, 2_147_483_647, 10_485_760),
    maxRecipients: b.int('MaxRecipients', 1, 100_000, 100),
    maxConnections: b.int('MaxConnections', 1, 100_000, 100),
    maxConnectionsPerIp: b.int('MaxConnectionsPerIP', 1, 100_000, 10),
    commandTimeout: b.int('CommandTimeout', 30, 3600, 300),
    dataTimeout: b.int('DataTimeout', 30, 3600, 600),
    maxBadCommands: b.int('MaxBadCommands', 1, 1000, 10),
    greetPause: b.int('GreetPause', 0, 30_000, 0),
    vrfy: b.yesNo('Vrfy', false),
    tlsCert: b.path('TlsCert', null),
    tlsKey: b.path('TlsKey', null),
    relayMode: b.oneOf('RelayMode', [['None', 'none'], ['All', 'all'], ['NearDomains', 'nearDomains'], ['AddressList', 'addressList'], ['Both', 'both']] as const, 'none'),
    nearDomains: b.all('NearDomain', hostName),
    relayAddresses: b.all('RelayAddress', cidr),
    denyAddresses: b.all('DenyAddress', cidr),
    dnsbl: b.all('Dnsbl', hostName),
    senderLoginMatch: b.yesNo('SenderLoginMatch', true),
  };
}

const FILTER_MATCHES: readonly (readonly [string, FilterMatch])[] = [
  ['Originator', 'originator'], ['Subject', 'subject'], ['AttachmentName', 'attachmentName'], ['MimeType', 'mimeType'],
];

function filterRule(b: StatementReader, diag: Diagnostics): FilterRule | null {
  const given = FILTER_MATCHES.filter(([name]) => b.has(name));
  const action = b.oneOf('Action', [['Keep', 'keep'], ['Discard', 'discard']] as const, 'keep');
  const dryRun = b.yesNo('DryRun', false);
  const allowed = 'exactly one of Originator, Subject, AttachmentName, MimeType';
  if (given.length === 0) {
    diag.error(b.line, 'Filter', null, 'no match parameter', allowed);
    return null;
  }
  if (given.length > 1) {
    diag.error(b.lineOf(given[1]![0]), 'Filter', given[1]![0], `cannot be combined with ${given[0]![0]}`, allowed);
    return null;
  }
  const [name, match] = given[0]!;
  const pattern = b.get(name, (t) => text(t, 'a pattern with * wildcards'), '');
  if (pattern === '') return null;
  return { match, pattern: match === 'mimeType' ? pattern.toLowerCase() : pattern, action, dryRun };
}

function pop3Block(b: StatementReader, diag: Diagnostics): Pop3Config | null {
  if (!b.present) return null;
  if (!b.has('Listen') && !b.has('ListenTls')) {
    diag.error(b.line, 'Pop3', 'Listen', 'missing', 'Listen or ListenTls host:port (leave out the Pop3 statement to turn POP3 off)');
  }
  return {
    listen: b.get('Listen', hostPort, null as { host: string; port: number } | null),
    listenTls: b.get('ListenTls', hostPort, null as { host: string; port: number } | null),
    tlsCert: b.path('TlsCert', null),
    tlsKey: b.path('TlsKey', null),
    allowPlaintext: b.yesNo('AllowPlaintext', false),
    // RFC 1939 §3: an autologout timer MUST be at least 10 minutes.
    inactivityTimeout: b.int('InactivityTimeout', 600, 86400, 600),
    maxFailedLogins: b.int('MaxFailedLogins', 1, 1000, 5),
    // Before login nobody is known: a short deadline from connect, so strangers cannot hold slots.
    loginTimeout: b.int('LoginTimeout', 5, 3600, 60),
    maxConnectionsPerIp: b.int('MaxConnectionsPerIP', 1, 1000, 10),
  };
}

function usersBlock(b: StatementReader): Config['users'] {
  return {
    defaultDomain: b.get('DefaultDomain', hostName as (t: string) => Parsed<string | null>, null),
    senderPolicy: b.oneOf('SenderPolicy', [['Any', 'any'], ['Own', 'own']] as const, 'own'),
    demo: b.yesNo('Demo', false),
  };
}

/**
 * (ext) Retention: days to keep each kind (0 = for ever), and minutes between pruning runs.
 * Defaults (docs/configuration.md "Retention"): the journal, dead letters and sysout reports 30
 * days, accounting 400 days (a year of "who sends e-mail" plus a month for the yearly audit).
 */
function retentionBlock(b: StatementReader): Config['retention'] {
  return {
    journal: b.int('Journal', 0, 36_500, 30),
    accounting: b.int('Accounting', 0, 36_500, 400),
    deadLetters: b.int('DeadLetters', 0, 36_500, 30),
    reports: b.int('Reports', 0, 36_500, 30),
    interval: b.int('Interval', 1, 1440, 60),
  };
}

const PG_ONLY = ['Url', 'PasswordFile', 'Node', 'Schema', 'PoolSize', 'StatementTimeout', 'ConnectTimeout', 'LeaseTime', 'Heartbeat', 'Tls', 'TlsVerify', 'TlsCaFile'] as const;

/** A PostgreSQL URL without a password (a password in the file would show in D,CONFIG and logs). */
export function postgresUrl(t: string): Parsed<string> {
  const allowed = 'postgres://user@host[:port]/database (the password from PasswordFile or SPOOLGATE_STORE_PASSWORD)';
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return { ok: false, problem: `value ${show(t)} is not a URL`, allowed };
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return { ok: false, problem: `value ${show(u.protocol)} is not a PostgreSQL URL`, allowed };
  if (u.hostname === '') return { ok: false, problem: 'the URL names no host', allowed };
  if (u.password !== '') return { ok: false, problem: 'the URL holds a password, which would be shown in displays and logs', allowed };
  return { ok: true, value: t };
}

function nodeName(t: string): Parsed<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(t)) return { ok: false, problem: `value ${show(t)} is not a node name`, allowed: '1 to 63 characters of A-Z a-z 0-9 . _ - starting with a letter or digit' };
  return { ok: true, value: t.toLowerCase() };
}

function schemaName(t: string): Parsed<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(t)) return { ok: false, problem: `value ${show(t)} is not a plain schema name`, allowed: '1 to 63 characters of a-z 0-9 _ not starting with a digit' };
  return { ok: true, value: t };
}

/**
 * (ext) Store: SQLite (the embedded default: nothing else to set) or PostgreSQL (docs/cluster.md).
 * The password is never in the file: PasswordFile, or SPOOLGATE_STORE_PASSWORD at start.
 */
function storeBlock(b: StatementReader, diag: Diagnostics, host: string): StoreConfig {
  const backend = b.oneOf('Backend', [['SQLite', 'sqlite'], ['PostgreSQL', 'postgresql']] as const, 'sqlite');
  if (backend === 'sqlite') {
    for (const name of PG_ONLY) {
      if (b.has(name)) diag.warn(b.lineOf(name), 'Store', name, 'ignored with Backend SQLite', 'Backend PostgreSQL to use it, or leave it out');
    }
    return { backend, postgres: null };
  }
  if (!b.has('Url')) diag.error(b.line, 'Store', 'Url', 'missing (Backend PostgreSQL needs it)', 'Url postgres://user@host[:port]/database');
  const leaseTime = b.int('LeaseTime', 5, 3600, 30);
  const heartbeat = b.int('Heartbeat', 1, 1200, 10);
  if (b.has('Heartbeat') || b.has('LeaseTime')) {
    if (heartbeat * 2 > leaseTime) {
      diag.error(b.lineOf(b.has('Heartbeat') ? 'Heartbeat' : 'LeaseTime'), 'Store', 'Heartbeat', `${heartbeat} is more than half of LeaseTime ${leaseTime}: one late heartbeat would lose every lease of the node`, `Heartbeat at most LeaseTime / 2 (e.g. LeaseTime 30 Heartbeat 10)`);
    }
  }
  const tls = b.yesNo('Tls', false);
  if (!tls && (b.has('TlsVerify') || b.has('TlsCaFile'))) diag.warn(b.lineOf(b.has('TlsCaFile') ? 'TlsCaFile' : 'TlsVerify'), 'Store', b.has('TlsCaFile') ? 'TlsCaFile' : 'TlsVerify', 'ignored without Tls YES', 'Tls YES to use TLS to the database');
  return {
    backend,
    postgres: {
      url: b.get('Url', postgresUrl, ''),
      passwordFile: b.path('PasswordFile', null),
      node: b.get('Node', nodeName, host.split('.')[0]!.toLowerCase()),
      schema: b.get('Schema', schemaName, 'public'),
      poolSize: b.int('PoolSize', 1, 100, 10),
      statementTimeout: b.int('StatementTimeout', 1, 3600, 30),
      connectTimeout: b.int('ConnectTimeout', 1, 300, 10),
      leaseTime,
      heartbeat,
      tls,
      tlsVerify: b.yesNo('TlsVerify', true),
      tlsCaFile: b.path('TlsCaFile', null),
    },
  };
}
