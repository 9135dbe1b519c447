import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { parseConfig, parseConfigBytes, formatConfigDisplay, pop3Settings, type Config } from './index.js';
import { getCodePage } from '../codepage/index.js';

const OPTS = { hostName: 'gw.example.test' };
const FILE = '/etc/spoolgate/cssmtp.conf';

function parseOk(text: string, file = FILE): { config: Config; warnings: string[] } {
  const r = parseConfig(text, file, {}, OPTS);
  if (!r.ok) assert.fail(`unexpected errors:\n${r.error.map((e) => e.message).join('\n')}`);
  return { config: r.value.config, warnings: r.value.warnings.map((w) => w.text) };
}

// Written the way IBM's samples are: braces on their own lines, mixed case, comments.
const IBM_STYLE = `
# CSSMTP configuration for the payroll writer
ExtWrtName   CSS#MTP          # the writer name may contain #
LOGLEVEL     15
translate    ibm-037
badspooldisp delete
report       admin
MailAdministrator   user1@us.example.com
MailAdministrator   <user2@us.example.com>
JESJobSize   2000
JESMsgSize   1000
JESSyntaxErrLimit 0
ChkPointSizeLimit 1000
UserExit     NONE
Header
  {
  Date     no
  USERINFO Yes
  }
Options
{
  NullTrnc YES
  TestMode no
  AtSign   $
  TLSEhlo  yes
}
RetryLimit
  {
  Count 6
  Interval 10   # one hour of long retry
  }
ExtendedRetry
  {
  Age   3
  Interval 60
  MailDirectory /var/cssmtp/CSSMTP/mail/
  }
Undeliverable
{
  ReturnToMailFrom No
  DeadLetterAction Delete
  DeadLetterDirectory deadletters
}
SMF119
{
  CONFIG yes
  Connect YES
  MAIL no
  Spool yes
  STATS yes
}
Timeout
{
  InitialMsg 60
  MAILcmd 61
  RCPTcmd 62
  DATAcmd 63
  DataBlock 64
  DataTerm 65
  AnyCmd 66
  ConnectRetry 67
}
TargetServer
{
  TargetName  d03av01.boulder.example.com
  TargetIP    9.100.1.2
  TargetIP    2001:db8::25
  ConnectPort 2525
  ConnectLimit 2
  MaxMsgSent  1000
  MessageSize 1048576
  Secure      yes
}
TargetServer
{
  TargetMx    example.com
}
`;

// The same content with one-line blocks and braces on the keyword's line.
const ONE_LINE = `
ExtWrtName CSS#MTP
LogLevel 15 ; semicolon comments too
Translate IBM-037
BadSpoolDisp Delete
Report Admin
MailAdministrator user1@us.example.com
MailAdministrator user2@us.example.com
JESJobSize 2000
JESMsgSize 1000
JESSyntaxErrLimit 0
ChkPointSizeLimit 1000
UserExit None
Header { Date NO UserInfo YES }
Options { NullTrnc YES TestMode NO AtSign $ TLSEhlo YES }
RetryLimit { Count 6 Interval 10 }
ExtendedRetry { Age 3 Interval 60 MailDirectory /var/cssmtp/CSSMTP/mail/ }
Undeliverable { ReturnToMailFrom NO DeadLetterAction Delete DeadLetterDirectory ./deadletters }
SMF119 { CONFIG YES CONNECT YES MAIL NO SPOOL YES STATS YES }
Timeout {
  InitialMsg 60 MAILCmd 61 RCPTCmd 62
  DATACmd 63 DataBlock 64 DataTerm 65 AnyCmd 66 ConnectRetry 67 }
TargetServer { TargetName D03AV01.BOULDER.EXAMPLE.COM TargetIP 9.100.1.2 TargetIP 2001:DB8::25 ConnectPort 2525 ConnectLimit 2 MaxMsgSent 1000 MessageSize 1048576 Secure YES }
TargetServer{TargetMx example.com}
`;

test('a configuration written the IBM way parses to the expected values', () => {
  const { config: c, warnings } = parseOk(IBM_STYLE);
  assert.deepEqual(warnings, []);
  assert.equal(c.extWrtName, 'CSS#MTP');
  assert.equal(c.logLevel, 15);
  assert.equal(c.translate, 'IBM-037');
  assert.equal(c.badSpoolDisp, 'delete');
  assert.equal(c.report, 'admin');
  assert.deepEqual(c.mailAdministrators, ['user1@us.example.com', 'user2@us.example.com']);
  assert.equal(c.jesJobSize, 2000);
  assert.equal(c.jesMsgSize, 1000);
  assert.equal(c.jesSyntaxErrLimit, 0);
  assert.equal(c.chkPointSizeLimit, 1000);
  assert.equal(c.userExit, null);
  assert.deepEqual(c.header, { date: false, userInfo: true });
  assert.deepEqual(c.options, { nullTrnc: true, testMode: false, atSign: '$', tlsEhlo: true });
  assert.deepEqual(c.retryLimit, { count: 6, interval: 10 });
  assert.deepEqual(c.extendedRetry, { active: true, age: 3, interval: 60, mailDirectory: '/var/cssmtp/CSSMTP/mail' });
  assert.deepEqual(c.undeliverable, { returnToMailFrom: false, deadLetterAction: 'delete', deadLetterDirectory: '/etc/spoolgate/deadletters', copyTo: null, delayNotice: 240 });
  assert.deepEqual(c.smf119, { config: true, connect: true, mail: false, spool: true, stats: true, interval: 15 });
  assert.deepEqual(c.timeout, { initialMsg: 60, mailCmd: 61, rcptCmd: 62, dataCmd: 63, dataBlock: 64, dataTerm: 65, anyCmd: 66, connectRetry: 67 });
  assert.equal(c.targetServers.length, 2);
  assert.deepEqual(c.targetServers[0], {
    targetIp: ['9.100.1.2', '2001:db8::25'], targetName: ['d03av01.boulder.example.com'], targetMx: null,
    connectPort: 2525, connectLimit: 2, maxMsgSent: 1000, messageSize: 1048576, secure: true,
    authUser: null, authPassword: null, tlsCaFile: null, tlsServerName: null, tlsMinVersion: 'TLSv1.2', tlsVerify: true, sourceIp: null,
    maxMsgPerSecond: null, maxMsgPerMinute: null, maxRcptPerMsg: null, maxConnectPerMinute: null, rateBackoff: true,
  });
  assert.equal(c.targetServers[1]?.targetMx, 'example.com');
  assert.deepEqual(c.targetServers[1]?.targetIp, []);
});

test('one-line blocks parse identically to blocks on separate lines', () => {
  assert.deepEqual(parseOk(ONE_LINE).config, parseOk(IBM_STYLE).config);
});

test('every default of SPEC.md §3 when only a TargetServer is given', () => {
  const { config: c, warnings } = parseOk('TargetServer { TargetIP 192.0.2.1 }\n', '/srv/gw/spoolgate.conf');
  assert.deepEqual(warnings, []);
  assert.deepEqual(c, {
    configFile: '/srv/gw/spoolgate.conf',
    configCodePage: 'UTF-8',
    badSpoolDisp: 'hold',
    chkPointSizeLimit: 64000,
    extendedRetry: { active: false, age: 5, interval: 30, mailDirectory: '/srv/gw/var/state/SPOOLGAT/mail' },
    extWrtName: 'SPOOLGAT',
    header: { date: true, userInfo: true },
    jesJobSize: 0,
    jesMsgSize: 0,
    jesSyntaxErrLimit: 5,
    logLevel: 7,
    mailAdministrators: [],
    options: { nullTrnc: false, testMode: false, atSign: '@', tlsEhlo: false },
    report: 'sysout',
    retryLimit: { count: 5, interval: 1 },
    smf119: { config: false, connect: false, mail: false, spool: false, stats: false, interval: 15 },
    targetServers: [{
      targetIp: ['192.0.2.1'], targetName: [], targetMx: null, connectPort: 25, connectLimit: 5, maxMsgSent: 0,
      messageSize: 524288, secure: false, authUser: null, authPassword: null, tlsCaFile: null, tlsServerName: null,
      tlsMinVersion: 'TLSv1.2', tlsVerify: true, sourceIp: null,
      maxMsgPerSecond: null, maxMsgPerMinute: null, maxRcptPerMsg: null, maxConnectPerMinute: null, rateBackoff: true,
    }],
    timeout: { initialMsg: 300, mailCmd: 300, rcptCmd: 300, dataCmd: 120, dataBlock: 180, dataTerm: 600, anyCmd: 300, connectRetry: 120 },
    translate: 'IBM-1047',
    undeliverable: { returnToMailFrom: true, deadLetterAction: 'store', deadLetterDirectory: '/srv/gw/var/state/SPOOLGAT/deadletter', copyTo: null, delayNotice: 240 },
    userExit: null,
    instance: 'spoolgate',
    hostName: 'gw.example.test',
    stateDirectory: '/srv/gw/var/state',
    controlSocket: '/srv/gw/var/state/SPOOLGAT.sock',
    logFile: null,
    logFormat: 'text',
    reportMailFrom: null,
    userExitTimeout: 5000,
    userExitFailure: 'rejectFile',
    userExitDirectory: '/srv/gw',
    maxReceivedHeaders: 100,
    drainTimeout: 30,
    displayCompat: 'spoolgate',
    spool: { directory: '/srv/gw/var/spool', recordFormat: 'auto', recordLength: 80, rescanInterval: 5 },
    http: null,
    receiver: null,
    filters: [],
    pop3: null,
    users: { defaultDomain: null, senderPolicy: 'own', demo: false },
    retention: { journal: 30, accounting: 400, deadLetters: 30, reports: 30, interval: 60 },
    dkim: [],
    store: { backend: 'sqlite', postgres: null },
  });
});

test('ExtendedRetry coded without parameters is active with defaults', () => {
  const { config: c } = parseOk('ExtendedRetry\n{\n}\nTargetServer { TargetIP 192.0.2.1 }');
  assert.deepEqual(c.extendedRetry, { active: true, age: 5, interval: 30, mailDirectory: '/etc/spoolgate/var/state/SPOOLGAT/mail' });
});

test('directory defaults follow Instance, ExtWrtName and StateDirectory', () => {
  const { config: c } = parseOk('Instance payroll-gw\nStateDirectory /var/lib/sg\nTargetServer { TargetIP 192.0.2.1 }');
  assert.equal(c.extWrtName, 'PAYROLLG');
  assert.equal(c.controlSocket, '/var/lib/sg/PAYROLLG.sock');
  assert.equal(c.undeliverable.deadLetterDirectory, '/var/lib/sg/PAYROLLG/deadletter');
  const { config: d } = parseOk('ExtWrtName mail1\nStateDirectory state\nTargetServer { TargetIP 192.0.2.1 }');
  assert.equal(d.extWrtName, 'MAIL1');
  assert.equal(d.stateDirectory, '/etc/spoolgate/state');
  assert.equal(d.extendedRetry.mailDirectory, '/etc/spoolgate/state/MAIL1/mail');
});

test('extension statements: Receiver, Filter, Pop3, Users, Http, Spool', () => {
  const { config: c } = parseOk(`
TargetServer { TargetIP 192.0.2.1 }
Http { Listen [::1]:8025 }
LogFile /var/log/sg.log
LogFormat JSON
Spool { Directory /var/spool/sg RecordFormat fixed RecordLength 133 RescanInterval 30 }
Receiver
{
  Listen 0.0.0.0:25
  Listen [::]:25
  HostName mx.example.test
  LocalDomain example.test
  LocalDomain Example.ORG
  MaxMessageSize 2048
  Vrfy yes
  TlsCert cert.pem
  TlsKey key.pem
  RelayMode both
  NearDomain partner.example
  RelayAddress 10.0.0.0/8
  DenyAddress 2001:db8::/32
  Dnsbl zen.spamhaus.example
}
Filter { AttachmentName *.vbs Action Discard }
Filter
{
  Subject "*free money*"
  DryRun yes
}
Filter { MimeType Image/* }
Pop3 { Listen 127.0.0.1:110 ListenTls 127.0.0.1:995 TlsCert c.pem TlsKey k.pem InactivityTimeout 900 }
Users { DefaultDomain example.test SenderPolicy any }
`);
  assert.deepEqual(c.http, { listen: { host: '::1', port: 8025 }, allowedHosts: [], sendMaxBody: 16_777_216, sendRate: 0, sendUser: null });
  assert.equal(c.logFile, '/var/log/sg.log');
  assert.equal(c.logFormat, 'json');
  assert.deepEqual(c.spool, { directory: '/var/spool/sg', recordFormat: 'fixed', recordLength: 133, rescanInterval: 30 });
  const r = c.receiver;
  assert.ok(r !== null);
  assert.deepEqual(r.listen, [{ host: '0.0.0.0', port: 25 }, { host: '::', port: 25 }]);
  assert.equal(r.hostName, 'mx.example.test');
  assert.deepEqual(r.localDomains, ['example.test', 'example.org']);
  assert.equal(r.maxMessageSize, 2048);
  assert.equal(r.maxRecipients, 100);
  assert.equal(r.maxConnectionsPerIp, 10);
  assert.equal(r.vrfy, true);
  assert.equal(r.tlsCert, '/etc/spoolgate/cert.pem');
  assert.equal(r.relayMode, 'both');
  assert.deepEqual(r.relayAddresses, [{ text: '10.0.0.0/8', address: '10.0.0.0', prefix: 8, family: 4 }]);
  assert.deepEqual(r.denyAddresses.map((x) => x.text), ['2001:db8::/32']);
  assert.deepEqual(r.dnsbl, ['zen.spamhaus.example']);
  assert.deepEqual(c.filters, [
    { match: 'attachmentName', pattern: '*.vbs', action: 'discard', dryRun: false },
    { match: 'subject', pattern: '*free money*', action: 'keep', dryRun: true },
    { match: 'mimeType', pattern: 'image/*', action: 'keep', dryRun: false },
  ]);
  assert.deepEqual(c.pop3, {
    listen: { host: '127.0.0.1', port: 110 }, listenTls: { host: '127.0.0.1', port: 995 },
    tlsCert: '/etc/spoolgate/c.pem', tlsKey: '/etc/spoolgate/k.pem', allowPlaintext: false, inactivityTimeout: 900, maxFailedLogins: 5,
    loginTimeout: 60, maxConnectionsPerIp: 10,
  });
  assert.deepEqual(c.users, { defaultDomain: 'example.test', senderPolicy: 'any', demo: false });
});

test('warnings: more than four administrators and target addresses, duplicates, test mode without report', () => {
  const { config: c, warnings } = parseOk(`
MailAdministrator a@x.example
MailAdministrator b@x.example
MailAdministrator c@x.example
MailAdministrator d@x.example
MailAdministrator e@x.example
Report None
Options { TestMode YES }
TargetServer { TargetIP 192.0.2.1 TargetIP 192.0.2.2 }
TargetServer { TargetIP 192.0.2.3 TargetIP 192.0.2.1 }
TargetServer { TargetIP 192.0.2.4 TargetIP 192.0.2.5 }
`, 'w.conf');
  assert.deepEqual(c.mailAdministrators, ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example']);
  assert.deepEqual(warnings, [
    'w.conf:6: MailAdministrator: only the first 4 are used; this one is ignored',
    'w.conf:8: Options TestMode: YES with Report None: problems found in test mode are reported nowhere (EZD1841I); allowed Report Sysout or Report Admin',
    'w.conf:10: TargetServer TargetIP: address 192.0.2.1 port 25 already given at line 9; duplicate ignored',
    'w.conf:11: TargetServer TargetIP: 5 target addresses configured; only the first 4 are used',
  ]);
});

// Issue #16 item 6: EBCDIC spools are framed per file unless RecordFormat says otherwise, and
// Text with an EBCDIC Translate (LF X'25' only) is warned about.
test('Spool RecordFormat: Auto by default with an EBCDIC Translate, Text with an ASCII one; Text with EBCDIC warns', () => {
  const TS = 'TargetServer { TargetIP 192.0.2.1 }\n';
  assert.equal(parseOk(TS).config.spool.recordFormat, 'auto');
  assert.equal(parseOk('Translate IBM-273\n' + TS).config.spool.recordFormat, 'auto');
  assert.equal(parseOk('Translate ISO8859-1\n' + TS).config.spool.recordFormat, 'text');
  assert.equal(parseOk('Spool { RecordFormat NL }\n' + TS).config.spool.recordFormat, 'nl');
  const { config: c, warnings } = parseOk('Spool {\n  RecordFormat Text\n}\n' + TS, 's.conf');
  assert.equal(c.spool.recordFormat, 'text');
  assert.deepEqual(warnings, ["s.conf:2: Spool RecordFormat: Text with Translate IBM-1047 reads only LF X'25' line ends; NL X'15' ends, fixed and RDW records are held as bad; allowed Auto (or leave RecordFormat out), NL, Fixed or Variable"]);
  assert.deepEqual(parseOk('Translate UTF-8\nSpool { RecordFormat Text }\n' + TS).warnings, []);
});

// Issue #16 item 5: an unchanged CSSMTP file's MVS exit must not stop start-up.
test('UserExit VERSION2|VERSION3|VERSION4: accepted as no exit, with a warning naming the JavaScript module form', () => {
  for (const v of ['VERSION2', 'Version3', 'VERSION4']) {
    const { config: c, warnings } = parseOk(`UserExit ${v}\nTargetServer { TargetIP 192.0.2.1 }\n`, 'u.conf');
    assert.equal(c.userExit, null, v);
    assert.deepEqual(warnings, [`u.conf:1: UserExit: ${v.toUpperCase()} is an MVS exit program and cannot run here; running without a user exit; allowed NONE, or the path of a JavaScript module doing the same checks (docs/userexit.md)`]);
  }
});

test('Pop3 LoginTimeout and MaxConnectionsPerIP: parsed, in D,CONFIG, in the POP3 settings; a LoginTimeout over InactivityTimeout warns', () => {
  const { config: c, warnings } = parseOk('Pop3 {\n  Listen 127.0.0.1:110\n  AllowPlaintext YES\n  LoginTimeout 30\n  MaxConnectionsPerIP 4\n}\nTargetServer { TargetIP 192.0.2.1 }\n');
  assert.deepEqual([c.pop3?.loginTimeout, c.pop3?.maxConnectionsPerIp], [30, 4]);
  assert.deepEqual(warnings, []);
  const s = pop3Settings(c);
  assert.deepEqual([s.loginTimeoutMs, s.maxConnectionsPerIp, s.idleTimeoutMs], [30_000, 4, 600_000]);
  assert.ok(formatConfigDisplay(c).some((l) => /^LOGINTIMEOUT\s+: 30\s+MAXCONNPERIP\s+: 4$/.test(l)), formatConfigDisplay(c).join('\n'));
  const long = parseOk('Pop3 {\n  Listen 127.0.0.1:110\n  AllowPlaintext YES\n  LoginTimeout 900\n}\nTargetServer { TargetIP 192.0.2.1 }\n', 'p.conf');
  assert.deepEqual(long.warnings, ['p.conf:4: Pop3 LoginTimeout: longer than InactivityTimeout 600: an idle client is logged out first; allowed at most 600']);
});

test('quoted values carry blanks, braces and a # at sign', () => {
  const { config: c } = parseOk('Options { AtSign "#" }\nTargetServer {\n AuthUser "relay user"\n AuthPassword "p{a}s\\"s #1"\n TargetName smtp.example.net\n Secure YES }');
  assert.equal(c.options.atSign, '#');
  assert.equal(c.targetServers[0]?.authUser, 'relay user');
  assert.equal(c.targetServers[0]?.authPassword, 'p{a}s"s #1');
});

test('an EBCDIC configuration file is decoded with CSSMTP_CODEPAGE_CONFIG', () => {
  const page = getCodePage('IBM-1047');
  assert.ok(page !== undefined);
  const text = 'ExtWrtName CSSMTP\nLogLevel 31\nTargetServer\n{\n  TargetIP 192.0.2.7\n}\n';
  const bytes = page.encode(text);
  const r = parseConfigBytes(bytes, 'e.conf', { CSSMTP_CODEPAGE_CONFIG: 'IBM-1047' }, OPTS);
  assert.ok(r.ok);
  assert.equal(r.value.config.logLevel, 31);
  assert.equal(r.value.config.configCodePage, 'IBM-1047');
  assert.deepEqual(r.value.config.targetServers[0]?.targetIp, ['192.0.2.7']);
  const bad = parseConfigBytes(bytes, 'e.conf', { CSSMTP_CODEPAGE_CONFIG: 'IBM-9999' }, OPTS);
  assert.ok(!bad.ok);
  assert.equal(bad.error[0]?.message, "e.conf:0: CSSMTP_CODEPAGE_CONFIG: code page 'IBM-9999' not known; allowed a code page such as IBM-1047, IBM-037, ISO8859-1, UTF-8");
});

test('AtSign in a national code page: X\'7C\' in IBM-273 is §, shown as its IBM-1047 hex', () => {
  const p273 = getCodePage('IBM-273');
  assert.ok(p273 !== undefined);
  const bytes = Buffer.concat([p273.encode('Options { AtSign '), Buffer.from([0x7c]), p273.encode(' }\nTargetServer { TargetIP 192.0.2.1 }\n')]);
  const r = parseConfigBytes(bytes, 'n.conf', { CSSMTP_CODEPAGE_CONFIG: 'IBM-273' }, OPTS);
  assert.ok(r.ok, r.ok ? '' : r.error.map((e) => e.message).join('\n'));
  assert.equal(r.value.config.options.atSign, '§');
  assert.ok(formatConfigDisplay(r.value.config).some((l) => /ATSIGN\s+: B5$/.test(l)));
});

test('Display,CONFig layout (EZD1829I)', () => {
  const { config } = parseOk(IBM_STYLE);
  const lines = formatConfigDisplay(config, { pid: 67108874, chkpoint: 'WARM' });
  assert.equal(lines[0], 'EZD1829I SPOOLGATE CONFIGURATION:');
  const want = [
    'CONFIGFILENAME      : /etc/spoolgate/cssmtp.conf',
    'PID                 : 67108874',
    'LOGLEVEL            : 15             USEREXIT         : NONE',
    'CHKPOINTSIZELIMIT   : 1000           CHKPOINT         : WARM',
    'TRANSLATE           : IBM-037',
    'EXTWRTNAME          : CSS#MTP        HOST NAME        : GW.EXAMPLE.TEST',
    'DOMAIN NAME         : EXAMPLE.TEST',
    'JESJOBSIZE          : 2000           JESMSGSIZE       : 1000',
    'BADSPOOLDISP        : DELETE         REPORT           : ADMIN',
    'TESTMODE            : NO             ATSIGN           : 5B',
    'RETURNTOMAILFROM    : NO             DEADLETTERACTION : DELETE',
    'EXTENDEDRETRY       : ACTIVE',
    'AGE                 : 3              INTERVAL         : 60',
    'TARGETIP            : 9.100.1.2',
    'TARGETIP            : 2001:db8::25',
    'TARGETNAME          : D03AV01.BOULDER.EXAMPLE.COM',
    'MAXMSGSENT          : 1000           MESSAGESIZE      : 1048576',
    'SECURE              : YES',
    'TARGETMX            : EXAMPLE.COM',
    'ANYCMD              : 66             CONNECTRETRY     : 67',
    'MAILADMINISTRATOR   : user1@us.example.com',
    '                    : user2@us.example.com',
  ];
  for (const w of want) assert.ok(lines.includes(w), `missing line: ${JSON.stringify(w)}\n${lines.join('\n')}`);
  // Values appear in the seed's order.
  assert.ok(lines.indexOf('OPTIONS:') < lines.indexOf('UNDELIVERABLE:'));
  assert.ok(lines.indexOf('SMF119:') < lines.indexOf('TARGETSERVER:'));
  assert.ok(lines.indexOf('TARGETSERVER:') < lines.indexOf('TIMEOUT:'));
});

test('(ext) UserExitTimeout and UserExitFailure parse, case-insensitively', () => {
  const { config } = parseOk('TargetServer { TargetIP 192.0.2.1 }\nUserExit exits/check.mjs\nUserExitTimeout 250\nUserExitFailure continue', 'conf/sg.conf');
  assert.equal(config.userExitTimeout, 250);
  assert.equal(config.userExitFailure, 'continue');
  assert.equal(parseOk('TargetServer { TargetIP 192.0.2.1 }\nUserExitFailure REJECT_MAIL').config.userExitFailure, 'rejectMail');
});

test('(ext) MaxReceivedHeaders: default 100, parsed, shown by D,CONFIG', () => {
  assert.equal(parseOk('TargetServer { TargetIP 192.0.2.1 }').config.maxReceivedHeaders, 100);
  const { config } = parseOk('TargetServer { TargetIP 192.0.2.1 }\nmaxreceivedheaders 30');
  assert.equal(config.maxReceivedHeaders, 30);
  assert.ok(formatConfigDisplay(config).some((l) => /MAXRECEIVEDHEADERS\s+: 30$/.test(l)));
});

test('relative paths resolve against the configuration file directory', () => {
  const { config } = parseOk('TargetServer { TargetIP 192.0.2.1 }\nUserExit exits/check.js', 'conf/sg.conf');
  assert.equal(config.userExit, resolve('conf/exits/check.js'));
  assert.equal(config.configFile, resolve('conf/sg.conf'));
});

test('CRLF, CR and tab-separated files parse like LF files', () => {
  const lf = parseOk(IBM_STYLE).config;
  assert.deepEqual(parseOk(IBM_STYLE.replace(/\n/g, '\r\n')).config, lf);
  assert.deepEqual(parseOk(IBM_STYLE.replace(/\n/g, '\r').replace(/ +/g, '\t')).config, lf);
});

// Issue #16 item 12: a configuration kept as an FB80 data set and brought over in binary has no
// line ends: 80-byte records, blank-padded. Each record is one line.
test('an FB80 data-set image (no line ends) parses, in UTF-8 and in IBM-1047; errors name the record', () => {
  const lines = IBM_STYLE.split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  const image = lines.map((l) => l.padEnd(80, ' ')).join('');
  const want = parseOk(IBM_STYLE).config;
  const utf8 = parseConfigBytes(Buffer.from(image, 'utf8'), FILE, {}, OPTS);
  assert.ok(utf8.ok, utf8.ok ? '' : utf8.error.map((e) => e.message).join('\n'));
  assert.deepEqual(utf8.value.config, want);
  const p1047 = getCodePage('IBM-1047')!;
  const ebcdic = parseConfigBytes(p1047.encode(image, { newline: 'strict' }), FILE, { CSSMTP_CODEPAGE_CONFIG: 'IBM-1047' }, OPTS);
  assert.ok(ebcdic.ok, ebcdic.ok ? '' : ebcdic.error.map((e) => e.message).join('\n'));
  assert.deepEqual(ebcdic.value.config, { ...want, configCodePage: 'IBM-1047' });
  // A mistake in record 3 is reported at line 3.
  const bad = ['TargetServer { TargetIP 192.0.2.1 }', 'LogLevel 7', 'LogLevel 8'].map((l) => l.padEnd(80, ' ')).join('');
  const r = parseConfigBytes(Buffer.from(bad), 'fb.conf', {}, OPTS);
  assert.ok(!r.ok);
  assert.deepEqual(r.error.map((e) => e.message), ['fb.conf:3: LogLevel: duplicate statement (first at line 2); allowed once per file']);
});

// Issue #16 item 12: CSSMTP files write the at sign unquoted.
test('AtSign # unquoted is the value; a # comment elsewhere is still a comment', () => {
  const { config: c } = parseOk('Options { AtSign # }   # national at sign\nTargetServer { TargetIP 192.0.2.1 }\n');
  assert.equal(c.options.atSign, '#');
  const multi = parseOk('Options\n{\n  AtSign #\n  TLSEhlo YES # comment\n}\nTargetServer { TargetIP 192.0.2.1 }\n').config;
  assert.equal(multi.options.atSign, '#');
  assert.equal(multi.options.tlsEhlo, true);
  // "#text" right after AtSign is a comment: the value is missing.
  const r = parseConfig('Options { AtSign #x\n}\nTargetServer { TargetIP 192.0.2.1 }\n', 'a.conf', {}, OPTS);
  assert.ok(!r.ok);
});

// Issue #16 item 16: a target is address and port.
test('the same TargetIP on another ConnectPort is another target, not a duplicate', () => {
  const { warnings } = parseOk('TargetServer { TargetIP 127.0.0.1 ConnectPort 2525 }\nTargetServer { TargetIP 127.0.0.1 ConnectPort 2526 }\n');
  assert.deepEqual(warnings, []);
  const same = parseOk('TargetServer { TargetIP 127.0.0.1 ConnectPort 2525 }\nTargetServer { TargetIP 127.0.0.1 ConnectPort 2525 }\n', 'd.conf').warnings;
  assert.deepEqual(same, ['d.conf:2: TargetServer TargetIP: address 127.0.0.1 port 2525 already given at line 1; duplicate ignored']);
});

// Issue #16 item 10: a CSSMTP file names its writer, not an Instance; the seed's messages name
// the procedure, which is the writer's default. Instance follows ExtWrtName when not coded.
test('Instance defaults to the ExtWrtName when one is coded (EZD1829I CSSMTP), else spoolgate', () => {
  const cssmtp = parseOk('ExtWrtName CSSMTP\nTargetServer { TargetIP 192.0.2.1 }').config;
  assert.equal(cssmtp.instance, 'CSSMTP');
  assert.equal(formatConfigDisplay(cssmtp)[0], 'EZD1829I CSSMTP CONFIGURATION:');
  assert.equal(parseOk('ExtWrtName CSSMTP\nInstance gw1\nTargetServer { TargetIP 192.0.2.1 }').config.instance, 'gw1');
  assert.equal(parseOk('ExtWrtName CSS#MTP\nTargetServer { TargetIP 192.0.2.1 }').config.instance, 'spoolgate', '# is not allowed in an Instance name');
  assert.equal(parseOk('TargetServer { TargetIP 192.0.2.1 }').config.instance, 'spoolgate');
});

test('(ext) DisplayCompat: SPOOLGATE by default and shown; IBM writes the seed\'s labels and leaves the (ext) lines out', () => {
  const base = 'ExtWrtName CSSMTP\nTargetServer { TargetIP 192.0.2.1 AuthUser relay AuthPassword x Secure YES }\nUndeliverable { CopyTo ops@example.com }\n';
  const ours = formatConfigDisplay(parseOk(base).config);
  assert.ok(ours.includes('DISPLAYCOMPAT       : SPOOLGATE'));
  assert.ok(ours.some((l) => l.startsWith('BADSPOOLDISP ')) && ours.some((l) => l.startsWith('AUTHUSER ')) && ours.some((l) => l.startsWith('COPYTO ')));
  const ibm = formatConfigDisplay(parseOk(`${base}DisplayCompat ibm\n`).config);
  for (const label of ['BADSPOLDISP', 'RETURNTOAILFROM', 'JESJOBSize', 'MESSAGESize', 'DATAINIT', 'RPCTCMD']) assert.ok(ibm.some((l) => l.includes(`${label} `) || l.includes(`${label}:`)), label);
  for (const label of ['BADSPOOLDISP', 'AUTHUSER', 'COPYTO', 'DELAYNOTICE', 'DISPLAYCOMPAT', 'INSTANCE', 'SPOOL:', 'RECEIVER']) assert.ok(!ibm.some((l) => l.startsWith(label)), label);
  assert.equal(ibm.at(-1), 'MAILADMINISTRATOR   : NONE', 'the seed\'s block ends the display');
  assert.ok(!ibm.some((l) => l !== l.trimEnd()), 'no trailing blanks');
});

test('Http SendMaxBody, SendRate and SendUser (the send API): values, and errors naming file and line', () => {
  const { config } = parseOk('TargetServer { TargetIP 192.0.2.1 }\nHttp { Listen 127.0.0.1:8025 SendMaxBody 2048 SendRate 60 SendUser reports }\n');
  assert.deepEqual([config.http?.sendMaxBody, config.http?.sendRate, config.http?.sendUser], [2048, 60, 'reports']);
  for (const bad of ['root', 'ROOT', 'a b', 'x@y']) {
    const u = parseConfig(`TargetServer { TargetIP 192.0.2.1 }\nHttp { Listen 127.0.0.1:8025 SendUser "${bad}" }\n`, 'b.conf', {}, OPTS);
    assert.ok(!u.ok, bad);
    assert.match(u.error.map((e) => e.message).join('\n'), /^b\.conf:2: .*SendUser.*not root/m, bad);
  }
  const r = parseConfig('TargetServer { TargetIP 192.0.2.1 }\nHttp { Listen 127.0.0.1:8025\n SendMaxBody 10 }\n', 'a.conf', {}, OPTS);
  assert.ok(!r.ok);
  assert.match(r.error.map((e) => e.message).join('\n'), /^a\.conf:3: .*SendMaxBody.*1024/m);
});

// Issue #16 item 13: seed 001 bounds long retry at two hours (its own example: 4 retries of 30
// minutes); more is allowed here up to 7200 minutes, with a warning at config check.
test('RetryLimit Count × Interval over two hours: accepted with a warning; two hours exactly is quiet', () => {
  const TS = 'TargetServer { TargetIP 192.0.2.1 }\n';
  assert.deepEqual(parseOk('RetryLimit { Count 4 Interval 30 }\n' + TS).warnings, []);
  const { config: c, warnings } = parseOk('RetryLimit {\n  Count 5\n  Interval 30\n}\n' + TS, 'r.conf');
  assert.deepEqual(c.retryLimit, { count: 5, interval: 30 });
  assert.deepEqual(warnings, [
    "r.conf:1: RetryLimit: Count × Interval = 150 minutes keeps mail in long retry (its spool file held) longer than CSSMTP's two hours; ExtendedRetry is the place for longer waits; allowed Count × Interval ≤ 120 as in CSSMTP, or up to 7200",
  ]);
});

// Issue #16 item 13: the seed's default directories are /var/cssmtp/<extwrtname>/mail/ and
// …/deadletter/; here /var/cssmtp is the StateDirectory. The seed's D,CONFIG example (EXTWRTNAME
// CSSMTP, MAILDIRECTORY /var/cssmtp/CSSMTP/mail/) comes out the same with StateDirectory /var/cssmtp.
test('default MailDirectory and DeadLetterDirectory: <StateDirectory>/<EXTWRTNAME>/mail and …/deadletter, the seed\'s shape', () => {
  const { config: c } = parseOk('ExtWrtName CSSMTP\nStateDirectory /var/cssmtp\nExtendedRetry { Age 100 Interval 30 }\nTargetServer { TargetIP 9.100.1.2 }\n');
  assert.equal(c.extendedRetry.mailDirectory, '/var/cssmtp/CSSMTP/mail');
  assert.equal(c.undeliverable.deadLetterDirectory, '/var/cssmtp/CSSMTP/deadletter');
  // A lower-case writer name is the same writer: the directory uses the upper-case form.
  assert.equal(parseOk('ExtWrtName cssmtp\nStateDirectory /var/cssmtp\nTargetServer { TargetIP 9.100.1.2 }\n').config.extendedRetry.mailDirectory, '/var/cssmtp/CSSMTP/mail');
});

test('(ext) TargetServer rate limits parse, default to none, and show in Display,CONFig', () => {
  const r = parseConfig('TargetServer {\n  TargetName smtp.office365.com\n  ConnectPort 587\n  MaxMsgPerMinute 30\n  MaxRcptPerMsg 500\n  MaxConnectPerMinute 20\n  RateBackoff NO\n}\nTargetServer { TargetIP 192.0.2.9 MaxMsgPerSecond 14 }\n', 'rate.conf');
  assert.ok(r.ok, JSON.stringify(r));
  const [m365, ses] = r.value.config.targetServers;
  assert.deepEqual([m365?.maxMsgPerSecond, m365?.maxMsgPerMinute, m365?.maxRcptPerMsg, m365?.maxConnectPerMinute, m365?.rateBackoff], [null, 30, 500, 20, false]);
  assert.deepEqual([ses?.maxMsgPerSecond, ses?.maxMsgPerMinute, ses?.maxRcptPerMsg, ses?.maxConnectPerMinute, ses?.rateBackoff], [14, null, null, null, true]);
  const lines = formatConfigDisplay(r.value.config);
  for (const want of ['MAXMSGPERMINUTE     : 30', 'MAXRCPTPERMSG       : 500', 'MAXCONNECTPERMINUTE : 20', 'RATEBACKOFF         : NO', 'MAXMSGPERSECOND     : 14']) {
    assert.ok(lines.includes(want), `${want} in\n${lines.join('\n')}`);
  }
  // DisplayCompat IBM leaves every (ext) line out.
  const ibm = formatConfigDisplay({ ...r.value.config, displayCompat: 'ibm' });
  assert.ok(!ibm.some((l) => l.startsWith('MAXMSGPER') || l.startsWith('MAXRCPT') || l.startsWith('RATEBACKOFF')));
});

test('(ext) a MaxMsgPerMinute that MaxMsgPerSecond never lets it reach is a warning naming line and fix', () => {
  const r = parseConfig('TargetServer {\n  TargetIP 192.0.2.1\n  MaxMsgPerSecond 2\n  MaxMsgPerMinute 600\n}\n', 'rate.conf');
  assert.ok(r.ok);
  assert.deepEqual(r.value.warnings.map((w) => w.text), ['rate.conf:4: TargetServer MaxMsgPerMinute: 600 can never be reached with MaxMsgPerSecond 2 (at most 120 a minute); allowed MaxMsgPerMinute of at most 120, or leave it out']);
});
