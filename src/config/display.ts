// `Display,CONFig` (EZD1829I): every configuration value in force, in the layout of the seed's
// MODIFY DISPLAY,CONFIG example: `LABEL : value` in two columns, sections introduced by
// `NAME:` lines. The seed's misspellings (BADSPOLDISP, RETURNTOAILFROM, DATAINIT, RPCTCMD) are
// written correctly here. Our (ext) values follow the seed's block, in the same layout.
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

function one(label: string, value: string): string {
  return `${label.padEnd(L)}: ${value}`;
}

function two(l1: string, v1: string, l2: string, v2: string): string {
  return `${l1.padEnd(L)}: ${v1.padEnd(V)} ${l2.padEnd(L2)}: ${v2}`;
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

export function formatConfigDisplay(config: Config, rt: DisplayRuntime = {}): string[] {
  const c = config;
  const out: string[] = [
    `EZD1829I ${c.instance.toUpperCase()} CONFIGURATION:`,
    one('CONFIGFILENAME', c.configFile),
    one('LOGFILENAME', c.logFile ?? 'STDERR'),
    one('CHKPOINTFILENAME', rt.chkpointFile ?? 'N/A'),
    one('PID', rt.pid === undefined ? 'N/A' : String(rt.pid)),
    two('LOGLEVEL', String(rt.logLevel ?? c.logLevel), 'USEREXIT', rt.userExit === undefined ? (c.userExit ?? 'NONE') : (rt.userExit ?? 'NONE')),
    two('CHKPOINTSIZELIMIT', String(c.chkPointSizeLimit), 'CHKPOINT', rt.chkpoint ?? 'N/A'),
    one('CONFIG CODEPAGE', c.configCodePage),
    one('TRANSLATE', c.translate),
    two('START OPTION TCPNAME', 'N/A', 'IPV6 ENABLED', yn(rt.ipv6Enabled ?? true)),
    two('EXTWRTNAME', c.extWrtName, 'HOST NAME', c.hostName.toUpperCase()),
    one('DOMAIN NAME', c.hostName.includes('.') ? c.hostName.slice(c.hostName.indexOf('.') + 1).toUpperCase() : 'N/A'),
    one('HEADER', ''),
    one('DATE', yn(c.header.date)),
    one('USERINFO', yn(c.header.userInfo)),
    two('JESJOBSIZE', String(c.jesJobSize), 'JESMSGSIZE', String(c.jesMsgSize)),
    one('JESSYNTAXERRLIMIT', String(c.jesSyntaxErrLimit)),
    two('BADSPOOLDISP', c.badSpoolDisp.toUpperCase(), 'REPORT', c.report.toUpperCase()),
    'OPTIONS:',
    one('NULLTRNC', yn(c.options.nullTrnc)),
    two('TESTMODE', yn(c.options.testMode), 'ATSIGN', atSignHex(c.options.atSign)),
    one('TLSEHLO', yn(c.options.tlsEhlo)),
    'UNDELIVERABLE:',
    two('RETURNTOMAILFROM', yn(c.undeliverable.returnToMailFrom), 'DEADLETTERACTION', c.undeliverable.deadLetterAction.toUpperCase()),
    one('DEADLETTERDIRECTORY', c.undeliverable.deadLetterDirectory),
    one('COPYTO', c.undeliverable.copyTo ?? 'NONE'),
    'RETRYLIMIT:',
    two('COUNT', String(c.retryLimit.count), 'INTERVAL', String(c.retryLimit.interval)),
    one('EXTENDEDRETRY', c.extendedRetry.active ? 'ACTIVE' : 'INACTIVE'),
    two('AGE', String(c.extendedRetry.age), 'INTERVAL', String(c.extendedRetry.interval)),
    one('MAILDIRECTORY', c.extendedRetry.mailDirectory),
    'SMF119:',
    two('CONFIG', yn(c.smf119.config), 'CONNECT', yn(c.smf119.connect)),
    two('MAIL', yn(c.smf119.mail), 'SPOOL', yn(c.smf119.spool)),
    two('STATS', yn(c.smf119.stats), 'INTERVAL', String(c.smf119.interval)),
    'TARGETSERVER:',
  ];
  for (const t of c.targetServers) {
    for (const ip of t.targetIp) out.push(one('TARGETIP', ip));
    for (const n of t.targetName) out.push(one('TARGETNAME', n.toUpperCase()));
    if (t.targetMx !== null) out.push(one('TARGETMX', t.targetMx.toUpperCase()));
    out.push(
      two('CONNECTPORT', String(t.connectPort), 'CONNECTLIMIT', String(t.connectLimit)),
      two('MAXMSGSENT', String(t.maxMsgSent), 'MESSAGESIZE', String(t.messageSize)),
      one('SECURE', yn(t.secure)),
    );
    // (ext) shown only when set; the password never.
    if (t.authUser !== null) out.push(one('AUTHUSER', t.authUser));
    if (t.sourceIp !== null) out.push(one('SOURCEIP', t.sourceIp));
    if (t.tlsCaFile !== null) out.push(one('TLSCAFILE', t.tlsCaFile));
    if (t.tlsServerName !== null) out.push(one('TLSSERVERNAME', t.tlsServerName));
    if (t.tlsMinVersion !== 'TLSv1.2' || !t.tlsVerify) out.push(two('TLSMINVERSION', t.tlsMinVersion, 'TLSVERIFY', yn(t.tlsVerify)));
  }
  const to = c.timeout;
  out.push(
    'TIMEOUT:',
    two('ANYCMD', String(to.anyCmd), 'CONNECTRETRY', String(to.connectRetry)),
    two('DATABLOCK', String(to.dataBlock), 'DATACMD', String(to.dataCmd)),
    two('DATATERM', String(to.dataTerm), 'INITIALMSG', String(to.initialMsg)),
    two('MAILCMD', String(to.mailCmd), 'RCPTCMD', String(to.rcptCmd)),
    ...list('MAILADMINISTRATOR', c.mailAdministrators),
    // ---- (ext) ----
    two('INSTANCE', c.instance, 'LOGFORMAT', c.logFormat.toUpperCase()),
    one('STATEDIRECTORY', c.stateDirectory),
    one('CONTROLSOCKET', c.controlSocket),
    one('REPORTMAILFROM', c.reportMailFrom ?? 'NONE'),
    one('USEREXITDIRECTORY', c.userExitDirectory),
    one('MAXRECEIVEDHEADERS', String(c.maxReceivedHeaders)),
    one('DRAINTIMEOUT', String(c.drainTimeout)),
    'SPOOL:',
    one('DIRECTORY', c.spool.directory),
    two('RECORDFORMAT', c.spool.recordFormat.toUpperCase(), 'RECORDLENGTH', String(c.spool.recordLength)),
    one('RESCANINTERVAL', String(c.spool.rescanInterval)),
    one('HTTP', c.http === null ? 'OFF' : hp(c.http.listen)),
    ...(c.http === null ? [] : list('ALLOWEDHOST', c.http.allowedHosts)),
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
  const ret = c.retention;
  out.push('RETENTION:', two('JOURNAL', String(ret.journal), 'ACCOUNTING', String(ret.accounting)), two('DEADLETTERS', String(ret.deadLetters), 'REPORTS', String(ret.reports)), one('INTERVAL', String(ret.interval)));
  return out;
}

/** The display's line forms, for lines other roles add to D,CONFIG (log/retention.ts). */
export { one as displayOne, two as displayTwo };
