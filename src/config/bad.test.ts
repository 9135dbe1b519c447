// Bad configurations with their exact error texts pinned (chasquid's bad-config tests): a
// change of wording or line attribution must be deliberate. Each case is one mistake and, apart
// from the few whose point is several messages, gives exactly one error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';

const TS = "TargetServer { TargetIP 192.0.2.1 }\n";
const STATEMENT_NAMES = 'a statement name (BadSpoolDisp, ChkPointSizeLimit, ExtendedRetry, ExtWrtName, Header, JESJobSize, JESMsgSize, JESSyntaxErrLimit, LogLevel, MailAdministrator, Options, Report, RetryLimit, SMF119, TargetServer, Timeout, Translate, Undeliverable, UserExit, Instance, HostName, StateDirectory, ControlSocket, LogFile, LogFormat, ReportMailFrom, UserExitTimeout, UserExitFailure, UserExitDirectory, MaxReceivedHeaders, DrainTimeout, DisplayCompat, Spool, Http, Receiver, Filter, Pop3, Users, Retention, Dkim, Store)';

const CASES: { name: string; text: string; want: string[] }[] = [
  { name: "unknown statement", text: "MaxHops 5\n" + TS, want: [`bad.conf:1: MaxHops: unknown statement; allowed ${STATEMENT_NAMES}`] },
  { name: "unknown statement with block", text: "Frobnicate {\n  Level 3\n}\n" + TS, want: [`bad.conf:1: Frobnicate: unknown statement; allowed ${STATEMENT_NAMES}`] },
  { name: "unknown parameter", text: "RetryLimit { Count 5 Tries 3 }\n" + TS, want: ["bad.conf:1: RetryLimit: unknown parameter 'Tries'; allowed Count, Interval"] },
  { name: "missing open brace", text: "RetryLimit\n  Count 5\n}\n" + TS, want: ["bad.conf:2: RetryLimit: expected '{' but found 'Count'; allowed RetryLimit { parameters }"] },
  { name: "missing close brace", text: "RetryLimit {\n  Count 5\nLogLevel 7\n" + TS, want: ["bad.conf:3: RetryLimit: missing '}' for the block opened at line 1; allowed RetryLimit { parameters }"] },
  { name: "missing close brace at end of file", text: "TargetServer { TargetIP 192.0.2.1 }\nHeader {\n  Date NO\n", want: ["bad.conf:3: Header: missing '}' for the block opened at line 2; allowed Header { parameters }"] },
  { name: "stray close brace", text: "}\n" + TS, want: [`bad.conf:1: }: unexpected '}' outside a block; allowed ${STATEMENT_NAMES}`] },
  { name: "text after close brace", text: "Header { Date NO } LogLevel 3\n" + TS, want: ["bad.conf:1: Header: unexpected 'LogLevel' after '}'; allowed nothing after '}' on its line"] },
  { name: "value statement given a block", text: "LogLevel { 7 }\n" + TS, want: ["bad.conf:1: LogLevel: takes a value, not a block; allowed LogLevel value"] },
  { name: "missing value", text: "LogLevel\n" + TS, want: ["bad.conf:1: LogLevel: missing value; allowed LogLevel value"] },
  { name: "two values", text: "LogLevel 7 15\n" + TS, want: ["bad.conf:1: LogLevel: unexpected '15' after the value; allowed one value per statement"] },
  { name: "missing parameter value", text: "RetryLimit {\n  Count\n}\n" + TS, want: ["bad.conf:2: RetryLimit Count: missing value; allowed Count value on the same line"] },
  { name: "duplicate statement", text: "LogLevel 7\nLogLevel 15\n" + TS, want: ["bad.conf:2: LogLevel: duplicate statement (first at line 1); allowed once per file"] },
  { name: "duplicate block statement", text: "Options { NullTrnc YES }\nOptions { TLSEhlo YES }\n" + TS, want: ["bad.conf:2: Options: duplicate statement (first at line 1); allowed once per file"] },
  { name: "duplicate parameter", text: "Timeout {\n  AnyCmd 60\n  AnyCmd 90\n}\n" + TS, want: ["bad.conf:3: Timeout AnyCmd: duplicate parameter (first at line 2); allowed once per statement"] },
  { name: "MaxReceivedHeaders below 10", text: "MaxReceivedHeaders 5\n" + TS, want: ["bad.conf:1: MaxReceivedHeaders: value 5 out of range; allowed 10..1000"] },
  { name: "MaxReceivedHeaders not a number", text: "MaxReceivedHeaders none\n" + TS, want: ["bad.conf:1: MaxReceivedHeaders: value 'none' is not a whole number; allowed 10..1000"] },
  { name: "LogLevel out of range", text: "LogLevel 256\n" + TS, want: ["bad.conf:1: LogLevel: value 256 out of range; allowed 0..255"] },
  { name: "LogLevel not a number", text: "LogLevel high\n" + TS, want: ["bad.conf:1: LogLevel: value 'high' is not a whole number; allowed 0..255"] },
  { name: "LogLevel negative", text: "LogLevel -1\n" + TS, want: ["bad.conf:1: LogLevel: value '-1' is not a whole number; allowed 0..255"] },
  { name: "JESSyntaxErrLimit out of range", text: "JESSyntaxErrLimit 1000\n" + TS, want: ["bad.conf:1: JESSyntaxErrLimit: value 1000 out of range; allowed 0..999"] },
  { name: "JESMsgSize out of range", text: "JESMsgSize 1000001\n" + TS, want: ["bad.conf:1: JESMsgSize: value 1000001 out of range; allowed 0..1000000"] },
  { name: "JobSize smaller than MsgSize", text: "JESJobSize 100\nJESMsgSize 200\n" + TS, want: ["bad.conf:1: JESJobSize: value 100 is smaller than JESMsgSize 200; allowed 0 (unlimited) or at least JESMsgSize"] },
  { name: "RetryLimit Count out of range", text: "RetryLimit { Count 9000 }\n" + TS, want: ["bad.conf:1: RetryLimit Count: value 9000 out of range; allowed 0..7200 (and Count × Interval ≤ 7200)"] },
  { name: "Retention age out of range", text: "Retention {\n  Journal 40000\n}\n" + TS, want: ["bad.conf:2: Retention Journal: value 40000 out of range; allowed 0..36500"] },
  { name: "Retention Interval 0", text: "Retention { Interval 0 }\n" + TS, want: ["bad.conf:1: Retention Interval: value 0 out of range; allowed 1..1440"] },
  { name: "Count times Interval", text: "RetryLimit {\n  Count 100\n  Interval 100\n}\n" + TS, want: ["bad.conf:1: RetryLimit: Count × Interval = 10000 exceeds 7200; allowed Count × Interval ≤ 7200"] },
  { name: "Timeout below 30", text: "Timeout { InitialMsg 29 }\n" + TS, want: ["bad.conf:1: Timeout InitialMsg: value 29 out of range; allowed 30..1200"] },
  { name: "Timeout above 1200", text: "Timeout { DataTerm 1201 }\n" + TS, want: ["bad.conf:1: Timeout DataTerm: value 1201 out of range; allowed 30..1200"] },
  { name: "bad YES/NO", text: "Header { Date maybe }\n" + TS, want: ["bad.conf:1: Header Date: value 'maybe' is not YES or NO; allowed YES, NO"] },
  { name: "bad BadSpoolDisp", text: "BadSpoolDisp Keep\n" + TS, want: ["bad.conf:1: BadSpoolDisp: value 'Keep' not recognised; allowed Hold, Delete"] },
  { name: "bad Report", text: "Report Console\n" + TS, want: ["bad.conf:1: Report: value 'Console' not recognised; allowed Sysout, Admin, None"] },
  { name: "Report Admin without administrator", text: "Report Admin\n" + TS, want: ["bad.conf:1: Report: value Admin needs at least one MailAdministrator statement; allowed Sysout, None, or Admin with MailAdministrator"] },
  { name: "bad mailbox", text: "MailAdministrator user1.example.com\n" + TS, want: ["bad.conf:1: MailAdministrator: value 'user1.example.com' is not a mail address (address has no @domain); allowed local@domain"] },
  { name: "bad mailbox domain", text: "MailAdministrator user@-example.com\n" + TS, want: ["bad.conf:1: MailAdministrator: value 'user@-example.com' is not a mail address (domain is not a valid host name or address literal); allowed local@domain"] },
  { name: "bad CopyTo", text: "Undeliverable { CopyTo postmaster@ }\n" + TS, want: ["bad.conf:1: Undeliverable CopyTo: value 'postmaster@' is not a mail address (address has no @domain); allowed local@domain"] },
  { name: "ExtWrtName too long", text: "ExtWrtName CSSMTPABC\n" + TS, want: ["bad.conf:1: ExtWrtName: value 'CSSMTPABC' is not a writer name; allowed 1 to 8 characters of A-Z 0-9 $ # @"] },
  { name: "ExtWrtName bad character", text: "ExtWrtName CSS-MTP\n" + TS, want: ["bad.conf:1: ExtWrtName: value 'CSS-MTP' is not a writer name; allowed 1 to 8 characters of A-Z 0-9 $ # @"] },
  { name: "Instance bad", text: "Instance -gw\n" + TS, want: ["bad.conf:1: Instance: value '-gw' is not an instance name; allowed 1 to 32 characters of A-Z a-z 0-9 . _ - starting with a letter or digit"] },
  { name: "unknown code page", text: "Translate IBM-999\n" + TS, want: ["bad.conf:1: Translate: code page 'IBM-999' not known; allowed IBM-037, IBM-273, IBM-277, IBM-278, IBM-280, IBM-284, IBM-285, IBM-297, IBM-500, IBM-871, IBM-1047, IBM-1140, IBM-1141, IBM-1142, IBM-1143, IBM-1144, IBM-1145, IBM-1146, IBM-1147, IBM-1148, IBM-1149, IBM-930, IBM-933, IBM-935, IBM-937, IBM-939, ISO8859-1, UTF-8"] },
  { name: "AtSign letter", text: "Options { AtSign a }\n" + TS, want: ["bad.conf:1: Options AtSign: value 'a' cannot be the at sign; allowed one character other than A-Z a-z 0-9 + * / . , & ( ) ' - = : \" \\ % < > ? ; and blank"] },
  { name: "AtSign two characters", text: "Options { AtSign @@ }\n" + TS, want: ["bad.conf:1: Options AtSign: value '@@' is not a single character; allowed one character other than A-Z a-z 0-9 + * / . , & ( ) ' - = : \" \\ % < > ? ; and blank"] },
  // VERSION2..4 are CSSMTP's exit interfaces (accepted with a warning: config.test.ts); others are not.
  { name: "UserExit VERSION7", text: "UserExit VERSION7\n" + TS, want: ["bad.conf:1: UserExit: value 'VERSION7' names an MVS exit interface; allowed NONE or the path of a JavaScript/TypeScript module"] },
  { name: "UserExitTimeout too small", text: "UserExitTimeout 5\n" + TS, want: ["bad.conf:1: UserExitTimeout: value 5 out of range; allowed 10..600000"] },
  { name: "UserExitFailure unknown", text: "UserExitFailure IGNORE\n" + TS, want: ["bad.conf:1: UserExitFailure: value 'IGNORE' not recognised; allowed REJECT_FILE, REJECT_MAIL, CONTINUE"] },
  { name: "missing TargetServer", text: "LogLevel 7\n", want: ["bad.conf:1: TargetServer: statement missing; allowed at least one TargetServer { TargetIP|TargetName|TargetMx ... }"] },
  { name: "empty file", text: "", want: ["bad.conf:1: TargetServer: statement missing; allowed at least one TargetServer { TargetIP|TargetName|TargetMx ... }"] },
  { name: "TargetServer without target", text: "TargetServer {\n  ConnectPort 25\n}\n", want: ["bad.conf:1: TargetServer: no target given; allowed TargetIP and/or TargetName, or one TargetMx"] },
  { name: "TargetMx with TargetIP", text: "TargetServer {\n  TargetIP 192.0.2.1\n  TargetMx example.com\n}\n", want: ["bad.conf:3: TargetServer TargetMx: cannot be combined with TargetIP; allowed TargetIP and/or TargetName, or one TargetMx"] },
  { name: "TargetMx with TargetName", text: "TargetServer { TargetName a.example.com TargetMx example.com }\n", want: ["bad.conf:1: TargetServer TargetMx: cannot be combined with TargetName; allowed TargetIP and/or TargetName, or one TargetMx"] },
  { name: "two TargetMx", text: "TargetServer { TargetMx a.example.com TargetMx b.example.com }\n", want: ["bad.conf:1: TargetServer TargetMx: duplicate parameter (first at line 1); allowed once per statement"] },
  { name: "bad IPv4", text: "TargetServer { TargetIP 192.0.2.256 }\n", want: ["bad.conf:1: TargetServer TargetIP: value '192.0.2.256' is not an IPv4 or IPv6 address; allowed an address such as 192.0.2.25 or 2001:db8::25"] },
  { name: "IPv4 with leading zero", text: "TargetServer { TargetIP 192.0.2.01 }\n", want: ["bad.conf:1: TargetServer TargetIP: value '192.0.2.01' is not an IPv4 or IPv6 address; allowed an address such as 192.0.2.25 or 2001:db8::25"] },
  { name: "bad IPv6", text: "TargetServer { TargetIP 2001:db8:::1 }\n", want: ["bad.conf:1: TargetServer TargetIP: value '2001:db8:::1' is not an IPv4 or IPv6 address; allowed an address such as 192.0.2.25 or 2001:db8::25"] },
  { name: "host name as TargetIP", text: "TargetServer { TargetIP mail.example.com }\n", want: ["bad.conf:1: TargetServer TargetIP: value 'mail.example.com' is not an IPv4 or IPv6 address; allowed an address such as 192.0.2.25 or 2001:db8::25"] },
  { name: "bad TargetName", text: "TargetServer { TargetName mail_server.example.com }\n", want: ["bad.conf:1: TargetServer TargetName: value 'mail_server.example.com' is not a valid host name; allowed a host name such as mail.example.com"] },
  { name: "ConnectPort 0", text: "TargetServer { TargetIP 192.0.2.1 ConnectPort 0 }\n", want: ["bad.conf:1: TargetServer ConnectPort: value 0 out of range; allowed 1..65535"] },
  { name: "ConnectPort too big", text: "TargetServer { TargetIP 192.0.2.1 ConnectPort 65536 }\n", want: ["bad.conf:1: TargetServer ConnectPort: value 65536 out of range; allowed 1..65535"] },
  { name: "AuthUser without AuthPassword", text: "TargetServer { TargetName smtp.example.net AuthUser u Secure YES }\n", want: ["bad.conf:1: TargetServer AuthPassword: missing; allowed AuthUser and AuthPassword together"] },
  // (ext) Rate limits: 0, negative, absurd and unit-suffixed values are errors that say how to write "no limit".
  { name: "MaxMsgPerSecond 0", text: "TargetServer {\n  TargetIP 192.0.2.1\n  MaxMsgPerSecond 0\n}\n", want: ["bad.conf:3: TargetServer MaxMsgPerSecond: value 0 out of range; allowed 1..1000 (leave the parameter out for no limit)"] },
  { name: "MaxMsgPerMinute negative", text: "TargetServer { TargetIP 192.0.2.1 MaxMsgPerMinute -30 }\n", want: ["bad.conf:1: TargetServer MaxMsgPerMinute: value '-30' is not a whole number; allowed 1..60000 (leave the parameter out for no limit)"] },
  { name: "MaxMsgPerMinute absurd", text: "TargetServer { TargetIP 192.0.2.1 MaxMsgPerMinute 99999999999999999999 }\n", want: ["bad.conf:1: TargetServer MaxMsgPerMinute: value '99999999999999999999' out of range; allowed 1..60000 (leave the parameter out for no limit)"] },
  { name: "MaxMsgPerSecond with a unit", text: "TargetServer { TargetIP 192.0.2.1 MaxMsgPerSecond 20/s }\n", want: ["bad.conf:1: TargetServer MaxMsgPerSecond: value '20/s' is not a whole number; allowed 1..1000 (leave the parameter out for no limit)"] },
  { name: "MaxRcptPerMsg above the 2000 RCPT limit", text: "TargetServer { TargetIP 192.0.2.1 MaxRcptPerMsg 2001 }\n", want: ["bad.conf:1: TargetServer MaxRcptPerMsg: value 2001 out of range; allowed 1..2000 (leave the parameter out for no limit)"] },
  { name: "MaxConnectPerMinute 0", text: "TargetServer { TargetIP 192.0.2.1 MaxConnectPerMinute 0 }\n", want: ["bad.conf:1: TargetServer MaxConnectPerMinute: value 0 out of range; allowed 1..6000 (leave the parameter out for no limit)"] },
  { name: "RateBackoff not YES/NO", text: "TargetServer { TargetIP 192.0.2.1 RateBackoff sometimes }\n", want: ["bad.conf:1: TargetServer RateBackoff: value 'sometimes' is not YES or NO; allowed YES, NO"] },
  { name: "bad TlsMinVersion", text: "TargetServer { TargetIP 192.0.2.1 TlsMinVersion SSLv3 }\n", want: ["bad.conf:1: TargetServer TlsMinVersion: value 'SSLv3' not recognised; allowed TLSv1.2, TLSv1.3"] },
  { name: "unterminated quote", text: "Options { AtSign \"# }\n" + TS, want: ["bad.conf:1: \"# }: quoted value not closed on its line"] },
  { name: "control character", text: "LogLevel 7\u0001\n" + TS, want: ["bad.conf:1: 7: control character X'01' not allowed"] },
  { name: "Receiver without Listen", text: "Receiver { LocalDomain example.test }\n" + TS, want: ["bad.conf:1: Receiver Listen: missing; allowed at least one Listen host:port (leave out the Receiver statement to turn the receiver off)"] },
  { name: "Receiver bad Listen", text: "Receiver { Listen 127.0.0.1 }\n" + TS, want: ["bad.conf:1: Receiver Listen: value '127.0.0.1' is not host:port; allowed host:port, e.g. 127.0.0.1:25 or [::1]:25"] },
  { name: "Receiver unbracketed IPv6", text: "Receiver { Listen ::1:25 LocalDomain example.test }\n" + TS, want: ["bad.conf:1: Receiver Listen: value '::1:25': an IPv6 address must be in brackets; allowed host:port, e.g. 127.0.0.1:25 or [::1]:25"] },
  { name: "Receiver bad port", text: "Receiver { Listen 127.0.0.1:99999 LocalDomain example.test }\n" + TS, want: ["bad.conf:1: Receiver Listen: value '127.0.0.1:99999' has an invalid port; allowed host:port, e.g. 127.0.0.1:25 or [::1]:25"] },
  { name: "Receiver TlsCert without TlsKey", text: "Receiver { Listen 127.0.0.1:25 LocalDomain example.test TlsCert c.pem }\n" + TS, want: ["bad.conf:1: Receiver TlsKey: missing; allowed TlsCert and TlsKey together"] },
  { name: "Receiver bad CIDR", text: "Receiver { Listen 127.0.0.1:25 LocalDomain example.test RelayAddress 10.0.0.0/33 }\n" + TS, want: ["bad.conf:1: Receiver RelayAddress: value '10.0.0.0/33' has an invalid prefix length; allowed an address or address/prefix, e.g. 192.0.2.0/24 or 2001:db8::/32; prefix 0..32"] },
  { name: "Receiver bad RelayMode", text: "Receiver { Listen 127.0.0.1:25 LocalDomain example.test RelayMode Open }\n" + TS, want: ["bad.conf:1: Receiver RelayMode: value 'Open' not recognised; allowed None, All, NearDomains, AddressList, Both"] },
  { name: "Filter without match", text: "Filter { Action Discard }\n" + TS, want: ["bad.conf:1: Filter: no match parameter; allowed exactly one of Originator, Subject, AttachmentName, MimeType"] },
  { name: "Filter with two matches", text: "Filter {\n  Subject *x*\n  MimeType image/*\n}\n" + TS, want: ["bad.conf:3: Filter MimeType: cannot be combined with Subject; allowed exactly one of Originator, Subject, AttachmentName, MimeType"] },
  { name: "Filter bad Action", text: "Filter { Subject *x* Action Bounce }\n" + TS, want: ["bad.conf:1: Filter Action: value 'Bounce' not recognised; allowed Keep, Discard"] },
  { name: "Pop3 InactivityTimeout below 600", text: "Pop3 { Listen 127.0.0.1:110 AllowPlaintext YES InactivityTimeout 300 }\n" + TS, want: ["bad.conf:1: Pop3 InactivityTimeout: value 300 out of range; allowed 600..86400"] },
  { name: "Pop3 LoginTimeout 0", text: "Pop3 { Listen 127.0.0.1:110 AllowPlaintext YES LoginTimeout 0 }\n" + TS, want: ["bad.conf:1: Pop3 LoginTimeout: value 0 out of range; allowed 5..3600"] },
  { name: "Pop3 MaxConnectionsPerIP 0", text: "Pop3 { Listen 127.0.0.1:110 AllowPlaintext YES MaxConnectionsPerIP 0 }\n" + TS, want: ["bad.conf:1: Pop3 MaxConnectionsPerIP: value 0 out of range; allowed 1..1000"] },
  { name: "Pop3 ListenTls without cert", text: "Pop3 { ListenTls 127.0.0.1:995 }\n" + TS, want: ["bad.conf:1: Pop3 ListenTls: needs TlsCert and TlsKey; allowed ListenTls together with TlsCert and TlsKey"] },
  { name: "Http without Listen", text: "Http {\n}\n" + TS, want: ["bad.conf:1: Http Listen: missing; allowed Listen host:port (leave out the Http statement to turn HTTP off)"] },
  { name: "Spool RecordLength 0", text: "Spool { RecordLength 0 }\n" + TS, want: ["bad.conf:1: Spool RecordLength: value 0 out of range; allowed 1..32760"] },
  { name: "Spool bad RecordFormat", text: "Spool { RecordFormat VB }\n" + TS, want: ["bad.conf:1: Spool RecordFormat: value 'VB' not recognised; allowed Text, NL, Fixed, Variable, Auto"] },
  { name: "Users bad SenderPolicy", text: "Users { SenderPolicy Anyone }\n" + TS, want: ["bad.conf:1: Users SenderPolicy: value 'Anyone' not recognised; allowed Any, Own"] },
  { name: "brace inside block", text: "Header {\n  {\n  Date NO\n}\n" + TS, want: ["bad.conf:2: Header: unexpected '{' inside the block; allowed Date, UserInfo"] },
  { name: "ExtendedRetry Age 0", text: "ExtendedRetry { Age 0 }\n" + TS, want: ["bad.conf:1: ExtendedRetry Age: value 0 out of range; allowed 1..365"] },
  { name: "two independent mistakes", text: "LogLevel 300\nTimeout { AnyCmd 5 }\nLogLevel 7\n" + TS, want: [
      "bad.conf:1: LogLevel: value 300 out of range; allowed 0..255",
      "bad.conf:2: Timeout AnyCmd: value 5 out of range; allowed 30..1200",
      "bad.conf:3: LogLevel: duplicate statement (first at line 1); allowed once per file",
    ] },
];

test('at least 40 bad configurations are pinned', () => {
  assert.ok(CASES.length >= 40);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
});

for (const c of CASES) {
  test(`bad config: ${c.name}`, () => {
    const r = parseConfig(c.text, 'bad.conf', {}, { hostName: 'h.example' });
    assert.ok(!r.ok, 'must be rejected');
    assert.deepEqual(r.error.map((e) => e.message), c.want);
    for (const e of r.error) {
      assert.equal(e.code, 'ERR_CONFIG');
      assert.equal(e.file, 'bad.conf');
    }
  });
}

test('the valid TargetServer used by the cases is itself accepted', () => {
  assert.ok(parseConfig(TS, 'ok.conf', {}, { hostName: 'h.example' }).ok);
});

