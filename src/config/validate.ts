// Checks that involve more than one value: the rules of SPEC.md §3 and §2 that a single
// parameter cannot express (TargetMx alone, Count × Interval, JobSize ≥ MsgSize, Report Admin
// needs an administrator, ...). Errors stop the gateway; warnings are reported and run on.
import type { Diagnostics } from './errors.js';
import type { StatementGroups } from './build.js';
import type { RawStatement } from './parser.js';
import type { Config } from './types.js';

/** At most this many target addresses and administrators are used (SPEC.md §2.1, §1.2). */
export const MAX_TARGET_ADDRESSES = 4;
export const MAX_MAIL_ADMINISTRATORS = 4;
export const MAX_RETRY_PRODUCT = 7200;
/** Seed 001: CSSMTP limits long retry (Count × Interval minutes) to two hours. */
export const CSSMTP_RETRY_MINUTES = 120;

/**
 * TestMode YES has no valid report destination (seed: EZD1841I). Report Admin without an
 * administrator is a configuration error of its own, and Sysout always has its directory, so
 * only Report None qualifies.
 */
export function testModeWithoutReport(config: Pick<Config, 'options' | 'report'>): boolean {
  return config.options.testMode && config.report === 'none';
}

function has(st: RawStatement, param: string): boolean {
  return st.params.some((p) => p.def.name === param);
}

function lineOf(st: RawStatement, param: string): number {
  return st.params.find((p) => p.def.name === param)?.line ?? st.line;
}

export function validateConfig(config: Config, groups: StatementGroups, diag: Diagnostics, lastLine: number): void {
  const first = (name: string): RawStatement | undefined => groups.get(name)?.[0];
  const all = (name: string): readonly RawStatement[] => groups.get(name) ?? [];

  // ---- TargetServer (SPEC.md §2.1) ----
  const servers = all('TargetServer');
  if (servers.length === 0) {
    diag.error(lastLine, 'TargetServer', null, 'statement missing', 'at least one TargetServer { TargetIP|TargetName|TargetMx ... }');
  }
  const seenIp = new Map<string, number>();
  for (const [k, st] of servers.entries()) {
    const ts = config.targetServers[k];
    const hasIp = has(st, 'TargetIP');
    const hasName = has(st, 'TargetName');
    const hasMx = has(st, 'TargetMx');
    if (!hasIp && !hasName && !hasMx) {
      diag.error(st.line, 'TargetServer', null, 'no target given', 'TargetIP and/or TargetName, or one TargetMx');
    }
    if (hasMx && (hasIp || hasName)) {
      diag.error(lineOf(st, 'TargetMx'), 'TargetServer', 'TargetMx', `cannot be combined with ${hasIp ? 'TargetIP' : 'TargetName'}`, 'TargetIP and/or TargetName, or one TargetMx');
    }
    if (has(st, 'AuthUser') !== has(st, 'AuthPassword')) {
      const missing = has(st, 'AuthUser') ? 'AuthPassword' : 'AuthUser';
      diag.error(st.line, 'TargetServer', missing, 'missing', 'AuthUser and AuthPassword together');
    }
    if (ts !== undefined && ts.authUser !== null && !ts.secure) {
      diag.warn(lineOf(st, 'AuthUser'), 'TargetServer', 'AuthUser', 'credentials are only sent over TLS; without Secure YES mail may go unauthenticated to a target without STARTTLS');
    }
    // (ext) A per-minute limit above 60 × the per-second one can never be reached: a typo, or a
    // limit that was meant as the other one (docs/rate-limits.md).
    if (ts !== undefined && ts.maxMsgPerSecond !== null && ts.maxMsgPerMinute !== null && ts.maxMsgPerMinute > 60 * ts.maxMsgPerSecond) {
      diag.warn(lineOf(st, 'MaxMsgPerMinute'), 'TargetServer', 'MaxMsgPerMinute', `${ts.maxMsgPerMinute} can never be reached with MaxMsgPerSecond ${ts.maxMsgPerSecond} (at most ${60 * ts.maxMsgPerSecond} a minute)`, `MaxMsgPerMinute of at most ${60 * ts.maxMsgPerSecond}, or leave it out`);
    }
    for (const raw of st.params) {
      if (raw.def.name !== 'TargetIP') continue;
      const ip = raw.value.text.replace(/^\[|\]$/g, '').toLowerCase();
      // A target is an address and a port (forwarder/targets.ts): the same IP on another
      // ConnectPort is another target, not a duplicate.
      const port = ts?.connectPort ?? 25;
      const key = `${ip}|${port}`;
      const prev = seenIp.get(key);
      if (prev !== undefined) diag.warn(raw.line, 'TargetServer', 'TargetIP', `address ${ip} port ${port} already given at line ${prev}; duplicate ignored`);
      else seenIp.set(key, raw.line);
    }
  }
  if (seenIp.size > MAX_TARGET_ADDRESSES) {
    const fifth = [...seenIp.values()][MAX_TARGET_ADDRESSES]!;
    diag.warn(fifth, 'TargetServer', 'TargetIP', `${seenIp.size} target addresses configured; only the first ${MAX_TARGET_ADDRESSES} are used`);
  }

  // ---- RetryLimit: Count × Interval ≤ 7200 ----
  const rl = first('RetryLimit');
  const product = config.retryLimit.count * config.retryLimit.interval;
  if (rl !== undefined && product > MAX_RETRY_PRODUCT) {
    diag.error(rl.line, 'RetryLimit', null, `Count × Interval = ${product} exceeds ${MAX_RETRY_PRODUCT}`, `Count × Interval ≤ ${MAX_RETRY_PRODUCT}`);
  } else if (rl !== undefined && product > CSSMTP_RETRY_MINUTES) {
    // Seed 001 bounds long retry at two hours; we allow up to MAX_RETRY_PRODUCT minutes (the
    // spool file stays held that long) and say where this differs from CSSMTP.
    diag.warn(rl.line, 'RetryLimit', null,
      `Count × Interval = ${product} minutes keeps mail in long retry (its spool file held) longer than CSSMTP's two hours; ExtendedRetry is the place for longer waits`,
      `Count × Interval ≤ ${CSSMTP_RETRY_MINUTES} as in CSSMTP, or up to ${MAX_RETRY_PRODUCT}`);
  }

  // ---- JESJobSize ≥ JESMsgSize unless either is 0 (unlimited) ----
  if (config.jesJobSize !== 0 && config.jesMsgSize !== 0 && config.jesJobSize < config.jesMsgSize) {
    const st = first('JESJobSize');
    diag.error(st?.line ?? lastLine, 'JESJobSize', null, `value ${config.jesJobSize} is smaller than JESMsgSize ${config.jesMsgSize}`, '0 (unlimited) or at least JESMsgSize');
  }

  // ---- MailAdministrator: up to 4 used; Report Admin needs one ----
  const admins = all('MailAdministrator');
  if (admins.length > MAX_MAIL_ADMINISTRATORS) {
    for (const st of admins.slice(MAX_MAIL_ADMINISTRATORS)) {
      diag.warn(st.line, 'MailAdministrator', null, `only the first ${MAX_MAIL_ADMINISTRATORS} are used; this one is ignored`);
    }
  }
  if (config.report === 'admin' && config.mailAdministrators.length === 0) {
    diag.error(first('Report')?.line ?? lastLine, 'Report', null, 'value Admin needs at least one MailAdministrator statement', 'Sysout, None, or Admin with MailAdministrator');
  }
  // Seed (Options TestMode): without a report destination, test mode shows nothing (EZD1841I).
  if (testModeWithoutReport(config)) {
    const st = first('Options');
    diag.warn(st === undefined ? lastLine : lineOf(st, 'TestMode'), 'Options', 'TestMode', 'YES with Report None: problems found in test mode are reported nowhere (EZD1841I)', 'Report Sysout or Report Admin');
  }

  // ---- Receiver ----
  const rc = first('Receiver');
  if (rc !== undefined && config.receiver !== null) {
    pairCheck(rc, 'Receiver', diag);
    const r = config.receiver;
    if (r.relayMode === 'all') diag.warn(lineOf(rc, 'RelayMode'), 'Receiver', 'RelayMode', 'All makes this an open relay');
    if ((r.relayMode === 'nearDomains' || r.relayMode === 'both') && !has(rc, 'NearDomain')) {
      diag.warn(lineOf(rc, 'RelayMode'), 'Receiver', 'RelayMode', 'no NearDomain given: no recipient qualifies for relay');
    }
    if ((r.relayMode === 'addressList' || r.relayMode === 'both') && !has(rc, 'RelayAddress')) {
      diag.warn(lineOf(rc, 'RelayMode'), 'Receiver', 'RelayMode', 'no RelayAddress given: no client qualifies for relay');
    }
    if (!has(rc, 'LocalDomain')) diag.warn(rc.line, 'Receiver', 'LocalDomain', 'none given: the receiver accepts no local mail');
  }

  // ---- Pop3 ----
  const pp = first('Pop3');
  if (pp !== undefined && config.pop3 !== null) {
    pairCheck(pp, 'Pop3', diag);
    if (has(pp, 'ListenTls') && !has(pp, 'TlsCert')) {
      diag.error(lineOf(pp, 'ListenTls'), 'Pop3', 'ListenTls', 'needs TlsCert and TlsKey', 'ListenTls together with TlsCert and TlsKey');
    }
    if (has(pp, 'Listen') && !has(pp, 'TlsCert') && !config.pop3.allowPlaintext) {
      diag.warn(lineOf(pp, 'Listen'), 'Pop3', 'Listen', 'without TlsCert there is no STLS and AllowPlaintext is NO: nobody can log in');
    }
    if (has(pp, 'LoginTimeout') && config.pop3.loginTimeout > config.pop3.inactivityTimeout) {
      diag.warn(lineOf(pp, 'LoginTimeout'), 'Pop3', 'LoginTimeout', `longer than InactivityTimeout ${config.pop3.inactivityTimeout}: an idle client is logged out first`, `at most ${config.pop3.inactivityTimeout}`);
    }
  }

  // ---- Spool ----
  const sp = first('Spool');
  if (sp !== undefined && config.spool.recordFormat === 'nl' && !/^IBM-/.test(config.translate)) {
    diag.warn(lineOf(sp, 'RecordFormat'), 'Spool', 'RecordFormat', `NL records are EBCDIC but Translate is ${config.translate}`);
  }
  // EBCDIC with Text frames records at LF X'25' only: X'15' line ends, card images and RDWs
  // are then one long bad record each.
  if (sp !== undefined && has(sp, 'RecordFormat') && config.spool.recordFormat === 'text' && /^IBM-/.test(config.translate)) {
    diag.warn(lineOf(sp, 'RecordFormat'), 'Spool', 'RecordFormat', `Text with Translate ${config.translate} reads only LF X'25' line ends; NL X'15' ends, fixed and RDW records are held as bad`, 'Auto (or leave RecordFormat out), NL, Fixed or Variable');
  }
}

function pairCheck(st: RawStatement, statement: string, diag: Diagnostics): void {
  if (has(st, 'TlsCert') !== has(st, 'TlsKey')) {
    const missing = has(st, 'TlsCert') ? 'TlsKey' : 'TlsCert';
    diag.error(st.line, statement, missing, 'missing', 'TlsCert and TlsKey together');
  }
}
