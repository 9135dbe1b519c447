// The statement table: every statement, its form (single value or block), whether it may be
// repeated, whether REFRESH applies it, whether it is our extension, and its parameters.
// The parser uses this table to recognise statements; build.ts gives the values meaning.

export interface ParamDef {
  readonly name: string;
  readonly repeatable: boolean;
}

export interface StatementDef {
  readonly name: string;
  readonly kind: 'value' | 'block';
  readonly repeatable: boolean;
  /** 'yes' = REFRESH applies it; 'no' = a change is ignored with a warning; 'partial' = see docs. */
  readonly refresh: 'yes' | 'no' | 'partial';
  /** Our extension beyond CSSMTP. */
  readonly ext: boolean;
  readonly params: readonly ParamDef[];
}

function p(name: string, repeatable = false): ParamDef {
  return { name, repeatable };
}

function value(name: string, refresh: StatementDef['refresh'], ext: boolean, repeatable = false): StatementDef {
  return { name, kind: 'value', repeatable, refresh, ext, params: [] };
}

function block(name: string, refresh: StatementDef['refresh'], ext: boolean, params: readonly ParamDef[], repeatable = false): StatementDef {
  return { name, kind: 'block', repeatable, refresh, ext, params };
}

export const STATEMENTS: readonly StatementDef[] = [
  value('BadSpoolDisp', 'yes', false),
  value('ChkPointSizeLimit', 'no', false),
  block('ExtendedRetry', 'partial', false, [p('Age'), p('Interval'), p('MailDirectory')]),
  value('ExtWrtName', 'no', false),
  block('Header', 'yes', false, [p('Date'), p('UserInfo')]),
  value('JESJobSize', 'yes', false),
  value('JESMsgSize', 'yes', false),
  value('JESSyntaxErrLimit', 'yes', false),
  value('LogLevel', 'yes', false),
  value('MailAdministrator', 'yes', false, true),
  block('Options', 'partial', false, [p('NullTrnc'), p('TestMode'), p('AtSign'), p('TLSEhlo')]),
  value('Report', 'yes', false),
  block('RetryLimit', 'yes', false, [p('Count'), p('Interval')]),
  block('SMF119', 'yes', false, [p('CONFIG'), p('CONNECT'), p('MAIL'), p('SPOOL'), p('STATS'), p('Interval')]),
  block('TargetServer', 'yes', false, [
    p('TargetIP', true), p('TargetName', true), p('TargetMx'),
    p('ConnectPort'), p('ConnectLimit'), p('MaxMsgSent'), p('MessageSize'), p('Secure'),
    p('AuthUser'), p('AuthPassword'), p('TlsCaFile'), p('TlsServerName'), p('TlsMinVersion'), p('TlsVerify'), p('SourceIP'),
    p('MaxMsgPerSecond'), p('MaxMsgPerMinute'), p('MaxRcptPerMsg'), p('MaxConnectPerMinute'), p('RateBackoff'),
  ], true),
  block('Timeout', 'yes', false, [
    p('InitialMsg'), p('MAILCmd'), p('RCPTCmd'), p('DATACmd'), p('DataBlock'), p('DataTerm'), p('AnyCmd'), p('ConnectRetry'),
  ]),
  value('Translate', 'no', false),
  block('Undeliverable', 'yes', false, [p('ReturnToMailFrom'), p('DeadLetterAction'), p('DeadLetterDirectory'), p('CopyTo'), p('DelayNotice')]),
  value('UserExit', 'yes', false),
  // ---- (ext) ----
  value('Instance', 'no', true),
  value('HostName', 'yes', true),
  value('StateDirectory', 'no', true),
  value('ControlSocket', 'no', true),
  value('LogFile', 'yes', true),
  value('LogFormat', 'yes', true),
  value('ReportMailFrom', 'yes', true),
  value('UserExitTimeout', 'yes', true),
  value('UserExitFailure', 'yes', true),
  value('UserExitDirectory', 'yes', true),
  value('MaxReceivedHeaders', 'yes', true),
  value('DrainTimeout', 'yes', true),
  value('DisplayCompat', 'yes', true),
  block('Spool', 'partial', true, [p('Directory'), p('RecordFormat'), p('RecordLength'), p('RescanInterval')]),
  block('Http', 'no', true, [p('Listen'), p('AllowedHost', true), p('SendMaxBody'), p('SendRate'), p('SendUser')]),
  block('Receiver', 'partial', true, [
    p('Listen', true), p('HostName'), p('LocalDomain', true), p('MaxMessageSize'), p('MaxRecipients'),
    p('MaxConnections'), p('MaxConnectionsPerIP'), p('CommandTimeout'), p('DataTimeout'), p('MaxBadCommands'),
    p('Vrfy'), p('TlsCert'), p('TlsKey'), p('RelayMode'), p('NearDomain', true), p('RelayAddress', true),
    p('DenyAddress', true), p('Dnsbl', true), p('SenderLoginMatch'), p('GreetPause'),
  ]),
  block('Filter', 'yes', true, [p('Originator'), p('Subject'), p('AttachmentName'), p('MimeType'), p('Action'), p('DryRun')], true),
  block('Pop3', 'partial', true, [
    p('Listen'), p('ListenTls'), p('TlsCert'), p('TlsKey'), p('AllowPlaintext'), p('InactivityTimeout'), p('MaxFailedLogins'),
    p('LoginTimeout'), p('MaxConnectionsPerIP'),
  ]),
  block('Users', 'partial', true, [p('DefaultDomain'), p('SenderPolicy'), p('Demo')]),
  block('Retention', 'yes', true, [p('Journal'), p('Accounting'), p('DeadLetters'), p('Reports'), p('Interval')]),
  // REFRESH re-reads every key file (docs/dkim.md: key rotation).
  block('Dkim', 'yes', true, [p('Domain'), p('Selector'), p('KeyFile'), p('Headers'), p('Algorithm')], true),
  block('Store', 'no', true, [
    p('Backend'), p('Url'), p('PasswordFile'), p('Node'), p('Schema'), p('PoolSize'), p('StatementTimeout'), p('ConnectTimeout'),
    p('LeaseTime'), p('Heartbeat'), p('Tls'), p('TlsVerify'), p('TlsCaFile'),
  ]),
];

const BY_NAME = new Map(STATEMENTS.map((s) => [s.name.toLowerCase(), s]));

/** Statement definition by name, case-insensitively. */
export function findStatement(name: string): StatementDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function findParam(def: StatementDef, name: string): ParamDef | undefined {
  const lower = name.toLowerCase();
  return def.params.find((x) => x.name.toLowerCase() === lower);
}

export function paramList(def: StatementDef): string {
  return def.params.map((x) => x.name).join(', ');
}
