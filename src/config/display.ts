// `Display,CONFig` (EZD1829I): every configuration value in force, in the layout of the seed's
// MODIFY DISPLAY,CONFIG example: `LABEL : value` in two columns, sections introduced by
// `NAME:` lines. By default (DisplayCompat SPOOLGATE) the seed's misspellings (BADSPOLDISP,
// RETURNTOAILFROM, DATAINIT, RPCTCMD, JESJOBSize, MESSAGESize) are written correctly and our
// (ext) values follow the seed's block, in the same layout. DisplayCompat IBM writes the seed's
// labels as they are and leaves every (ext) line out, for screen scrapers written against CSSMTP.
import { getCodePage } from '../codepage/index.js';
import type { Config, HostPort } from './types.js';

/**
 * Values that belong to the running process rather than to the file. Without them (`spoolgate
 * config show`, no gateway running) the display shows N/A, not the values of the process that
 * prints it.
 */
export interface DisplayRuntime {
  readonly pid?: number;
  /** The log level in force (MODIFY LOGLEVEL may differ from the file). */
  readonly logLevel?: number;
  /** The user exit in force (MODIFY USEREXIT may differ from the file). */
  readonly userExit?: string | null;
  /** WARM, COLD (-f) or NONE. */
  readonly chkpoint?: 'WARM' | 'COLD' | 'NONE';
  readonly chkpointFile?: string;
  readonly ipv6Enabled?: boolean;
}

const L = 20;
const V = 14;
const L2 = 17;

/** A label padded to its column; one longer than the column (START OPTION TCPNAME) keeps a blank before the colon. */
function pad(label: string, width: number): string {
  return label.length >= width ? `${label} ` : label.padEnd(width);
}

function one(label: string, value: string): string {
  return `${pad(label, L)}: ${value}`;
}

function two(l1: string, v1: string, l2: string, v2: string, l2Width = L2): string {
  return `${pad(l1, L)}: ${v1.padEnd(V)} ${l2.padEnd(l2Width)}: ${v2}`;
}

function yn(b: boolean): string {
  return b ? 'YES' : 'NO';
}

function hp(h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

/** The seed shows AtSign as its hex value in IBM-1047, whatever the file's code page. */
export function atSignHex(c: string): string {
  const page = getCodePage('IBM-1047');
  if (page === undefined) return '??';
  try {
    return [...page.encode(c)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  } catch {
    // Not in IBM-1047 (encode throws CodepageError): show the Unicode code point instead of a byte.
    return `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '????'}`;
  }
}

function list(label: string, values: readonly string[]): string[] {
  if (values.length === 0) return [one(label, 'NONE')];
  return values.map((v, k) => one(k === 0 ? label : '', v));
}

/** DisplayCompat IBM: the seed's own spelling of a label (Example 2), where it differs from ours. */
const SEED_LABELS: Readonly<Record<string, string>> = {
  JESJOBSIZE: 'JESJOBSize', JESMSGSIZE: 'JESMSGSize', BADSPOOLDISP: 'BADSPOLDISP', RETURNTOMAILFROM: 'RETURNTOAILFROM',
  MESSAGESIZE: 'MESSAGESize', DATACMD: 'DATAINIT', RCPTCMD: 'RPCTCMD',
};

export function formatConfigDisplay(config: Config, rt: DisplayRuntime = {}): string[] {
  const lines = config.displayCompat === 'ibm' ? seedDisplay(config, rt) : spoolgateDisplay(config, rt);
  // A label with an empty value (HEADER) ends at its colon.
  return lines.map((l) => l.trimEnd());
}

/** The seed's block (Example 2), with our labels or (IBM) the seed's. */
function seedBlock(c: Config, rt: DisplayRuntime, ibm: boolean): { head: string[]; targets: string[]; tail: string[] } {
  const lb = (label: string): string => (ibm ? SEED_LABELS[label] ?? label : label);
  // Seed: its longest right-hand label (DEADLETTERACTION) meets its colon.
  const pair = (l1: string, v1: string, l2: string, v2: string): string => two(l1, v1, l2, v2, ibm ? L2 - 1 : L2);
  const head: string[] = [
    `EZD1829I ${c.instance.toUpperCase()} CONFIGURATION:`,
    one('CONFIGFILENAME', c.configFile),
    one('LOGFILENAME', c.logFile ?? 'STDERR'),
    one('CHKPOINTFILENAME', rt.chkpointFile ?? 'N/A'),
    one('PID', rt.pid === undefined ? 'N/A' : String(rt.pid)),
    pair('LOGLEVEL', String(rt.logLevel ?? c.logLevel), 'USEREXIT', rt.userExit === undefined ? (c.userExit ?? 'NONE') : (rt.userExit ?? 'NONE')),
    pair('CHKPOINTSIZELIMIT', String(c.chkPointSizeLimit), 'CHKPOINT', rt.chkpoint ?? 'N/A'),
    one('CONFIG CODEPAGE', c.configCodePage),
    one('TRANSLATE', c.translate),
    pair('START OPTION TCPNAME', 'N/A', 'IPV6 ENABLED', yn(rt.ipv6Enabled ?? true)),
    // Seed: HOST NAME is the host's own name, DOMAIN NAME the rest (IBM); ours shows the full name.
    pair('EXTWRTNAME', c.extWrtName, 'HOST NAME', (ibm ? c.hostName.split('.')[0]! : c.hostName).toUpperCase()),
    one('DOMAIN NAME', c.hostName.includes('.') ? c.hostName.slice(c.hostName.indexOf('.') + 1).toUpperCase() : 'N/A'),
    one('HEADER', ''),
    one('DATE', yn(c.header.date)),
    one('USERINFO', yn(c.header.userInfo)),
    pair(lb('JESJOBSIZE'), String(c.jesJobSize), lb('JESMSGSIZE'), String(c.jesMsgSize)),
    one('JESSYNTAXERRLIMIT', String(c.jesSyntaxErrLimit)),
    pair(lb('BADSPOOLDISP'), c.badSpoolDisp.toUpperCase(), 'REPORT', c.report.toUpperCase()),
    'OPTIONS:',
    one('NULLTRNC', yn(c.options.nullTrnc)),
    pair('TESTMODE', yn(c.options.testMode), 'ATSIGN', atSignHex(c.options.atSign)),
    one('TLSEHLO', yn(c.options.tlsEhlo)),
    'UNDELIVERABLE:',
    pair(lb('RETURNTOMAILFROM'), yn(c.undeliverable.returnToMailFrom), 'DEADLETTERACTION', c.undeliverable.deadLetterAction.toUpperCase()),
    one('DEADLETTERDIRECTORY', c.undeliverable.deadLetterDirectory),
    ...(ibm ? [] : [one('COPYTO', c.undeliverable.copyTo ?? 'NONE'), one('DELAYNOTICE', String(c.undeliverable.delayNotice))]),
    'RETRYLIMIT:',
    pair('COUNT', String(c.retryLimit.count), 'INTERVAL', String(c.retryLimit.interval)),
    one('EXTENDEDRETRY', c.extendedRetry.active ? 'ACTIVE' : 'INACTIVE'),
    pair('AGE', String(c.extendedRetry.age), 'INTERVAL', String(c.extendedRetry.interval)),
    one('MAILDIRECTORY', c.extendedRetry.mailDirectory),
    'SMF119:',
    pair('CONFIG', yn(c.smf119.config), 'CONNECT', yn(c.smf119.connect)),
    pair('MAIL', yn(c.smf119.mail), 'SPOOL', yn(c.smf119.spool)),
    ibm ? one('STATS', yn(c.smf119.stats)) : pair('STATS', yn(c.smf119.stats), 'INTERVAL', String(c.smf119.interval)),
    'TARGETSERVER:',
  ];
  const out: string[] = [];
  for (const t of c.targetServers) {
    for (const ip of t.targetIp) out.push(one('TARGETIP', ip));
    for (const n of t.targetName) out.push(one('TARGETNAME', n.toUpperCase()));
    if (t.targetMx !== null) out.push(one('TARGETMX', t.targetMx.toUpperCase()));
    out.push(
      pair('CONNECTPORT', String(t.connectPort), 'CONNECTLIMIT', String(t.connectLimit)),
      pair('MAXMSGSENT', String(t.maxMsgSent), lb('MESSAGESIZE'), String(t.messageSize)),
      one('SECURE', yn(t.secure)),
    );
    if (ibm) continue;
    // (ext) shown only when set; the password never.
    if (t.authUser !== null) out.push(one('AUTHUSER', t.authUser));
    if (t.sourceIp !== null) out.push(one('SOURCEIP', t.sourceIp));
    if (t.tlsCaFile !== null) out.push(one('TLSCAFILE', t.tlsCaFile));
    if (t.tlsServerName !== null) out.push(one('TLSSERVERNAME', t.tlsServerName));
    if (t.tlsMinVersion !== 'TLSv1.2' || !t.tlsVerify) out.push(pair('TLSMINVERSION', t.tlsMinVersion, 'TLSVERIFY', yn(t.tlsVerify)));
    // (ext) Rate limits (docs/rate-limits.md): each shown when set; RATEBACKOFF when off.
    if (t.maxMsgPerSecond !== null) out.push(one('MAXMSGPERSECOND', String(t.maxMsgPerSecond)));
    if (t.maxMsgPerMinute !== null) out.push(one('MAXMSGPERMINUTE', String(t.maxMsgPerMinute)));
    if (t.maxRcptPerMsg !== null) out.push(one('MAXRCPTPERMSG', String(t.maxRcptPerMsg)));
    if (t.maxConnectPerMinute !== null) out.push(one('MAXCONNECTPERMINUTE', String(t.maxConnectPerMinute)));
    if (!t.rateBackoff) out.push(one('RATEBACKOFF', 'NO'));
  }
  const to = c.timeout;
  const tail = [
    'TIMEOUT:',
    pair('ANYCMD', String(to.anyCmd), 'CONNECTRETRY', String(to.connectRetry)),
    pair('DATABLOCK', String(to.dataBlock), lb('DATACMD'), String(to.dataCmd)),
    pair('DATATERM', String(to.dataTerm), 'INITIALMSG', String(to.initialMsg)),
    pair('MAILCMD', String(to.mailCmd), lb('RCPTCMD'), String(to.rcptCmd)),
    ...list('MAILADMINISTRATOR', c.mailAdministrators),
  ];
  return { head, targets: out, tail };
}

function seedDisplay(c: Config, rt: DisplayRuntime): string[] {
  const b = seedBlock(c, rt, true);
  return [...b.head, ...b.targets, ...b.tail];
}

function spoolgateDisplay(c: Config, rt: DisplayRuntime): string[] {
  const b = seedBlock(c, rt, false);
  const out = [...b.head, ...b.targets, ...b.tail];
  out.push(
    // ---- (ext) ----
    two('INSTANCE', c.instance, 'LOGFORMAT', c.logFormat.toUpperCase()),
    one('STATEDIRECTORY', c.stateDirectory),
    one('CONTROLSOCKET', c.controlSocket),
    one('REPORTMAILFROM', c.reportMailFrom ?? 'NONE'),
    one('USEREXITDIRECTORY', c.userExitDirectory),
    one('MAXRECEIVEDHEADERS', String(c.maxReceivedHeaders)),
    one('DRAINTIMEOUT', String(c.drainTimeout)),
    one('DISPLAYCOMPAT', c.displayCompat.toUpperCase()),
    'SPOOL:',
    one('DIRECTORY', c.spool.directory),
    two('RECORDFORMAT', c.spool.recordFormat.toUpperCase(), 'RECORDLENGTH', String(c.spool.recordLength)),
    one('RESCANINTERVAL', String(c.spool.rescanInterval)),
    one('HTTP', c.http === null ? 'OFF' : hp(c.http.listen)),
    ...(c.http === null ? [] : [...list('ALLOWEDHOST', c.http.allowedHosts), two('SENDMAXBODY', String(c.http.sendMaxBody), 'SENDRATE', String(c.http.sendRate)), one('SENDUSER', c.http.sendUser ?? '*INSTANCE')]),
  );
  const r = c.receiver;
  if (r === null) out.push(one('RECEIVER', 'OFF'));
  else {
    out.push(
      'RECEIVER:',
      ...list('LISTEN', r.listen.map(hp)),
      one('HOSTNAME', r.hostName),
      ...list('LOCALDOMAIN', r.localDomains),
      two('MAXMESSAGESIZE', String(r.maxMessageSize), 'MAXRECIPIENTS', String(r.maxRecipients)),
      two('MAXCONNECTIONS', String(r.maxConnections), 'MAXCONNPERIP', String(r.maxConnectionsPerIp)),
      two('COMMANDTIMEOUT', String(r.commandTimeout), 'DATATIMEOUT', String(r.dataTimeout)),
      two('MAXBADCOMMANDS', String(r.maxBadCommands), 'VRFY', yn(r.vrfy)),
      one('GREETPAUSE', String(r.greetPause)),
      two('TLS', r.tlsCert === null ? 'NO' : 'YES', 'RELAYMODE', r.relayMode.toUpperCase()),
      one('SENDERLOGINMATCH', yn(r.senderLoginMatch)),
      ...list('NEARDOMAIN', r.nearDomains),
      ...list('RELAYADDRESS', r.relayAddresses.map((x) => x.text)),
      ...list('DENYADDRESS', r.denyAddresses.map((x) => x.text)),
      ...list('DNSBL', r.dnsbl),
    );
  }
  for (const f of c.filters) {
    out.push(`FILTER:`, two(f.match.toUpperCase(), f.pattern, 'ACTION', f.action.toUpperCase()), one('DRYRUN', yn(f.dryRun)));
  }
  const p = c.pop3;
  if (p === null) out.push(one('POP3', 'OFF'));
  else {
    out.push(
      'POP3:',
      two('LISTEN', p.listen === null ? 'NONE' : hp(p.listen), 'LISTENTLS', p.listenTls === null ? 'NONE' : hp(p.listenTls)),
      two('TLS', p.tlsCert === null ? 'NO' : 'YES', 'ALLOWPLAINTEXT', yn(p.allowPlaintext)),
      two('INACTIVITYTIMEOUT', String(p.inactivityTimeout), 'MAXFAILEDLOGINS', String(p.maxFailedLogins)),
      two('LOGINTIMEOUT', String(p.loginTimeout), 'MAXCONNPERIP', String(p.maxConnectionsPerIp)),
    );
  }
  out.push('USERS:', two('DEFAULTDOMAIN', c.users.defaultDomain ?? 'NONE', 'SENDERPOLICY', c.users.senderPolicy.toUpperCase()), one('DEMO', c.users.demo ? 'YES' : 'NO'));
  // The key file's path only, never the key (docs/dkim.md). Before RETENTION: the last retention run follows its ages.
  for (const d of c.dkim) {
    out.push('DKIM:', two('DOMAIN', d.domain, 'SELECTOR', d.selector), one('ALGORITHM', d.algorithm.toUpperCase()), one('KEYFILE', d.keyFile), one('HEADERS', d.headers === null ? 'DEFAULT' : d.headers.join(':').toUpperCase()));
  }
  // (ext) Store: the URL never holds a password (build.ts refuses one); the password file's name only.
  const pg = c.store.postgres;
  if (pg === null) out.push(one('STORE', 'SQLITE'));
  else {
    out.push(
      two('STORE', 'POSTGRESQL', 'NODE', pg.node),
      one('URL', pg.url),
      two('SCHEMA', pg.schema, 'POOLSIZE', String(pg.poolSize)),
      two('LEASETIME', String(pg.leaseTime), 'HEARTBEAT', String(pg.heartbeat)),
      two('STATEMENTTIMEOUT', String(pg.statementTimeout), 'CONNECTTIMEOUT', String(pg.connectTimeout)),
      two('TLS', yn(pg.tls), 'TLSVERIFY', yn(pg.tlsVerify)),
      one('PASSWORDFILE', pg.passwordFile ?? 'NONE'),
    );
  }
  const ret = c.retention;
  // Last: log/retention.ts adds its run's lines after these (execute.ts).
  out.push('RETENTION:', two('JOURNAL', String(ret.journal), 'ACCOUNTING', String(ret.accounting)), two('DEADLETTERS', String(ret.deadLetters), 'REPORTS', String(ret.reports)), one('INTERVAL', String(ret.interval)));
  return out;
}

/** The display's line forms, for lines other roles add to D,CONFIG (log/retention.ts). */
export { one as displayOne, two as displayTwo };
