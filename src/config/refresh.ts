// REFRESH (SPEC.md §3, seed MODIFY REFRESH): which changes of a re-read configuration take
// effect. Non-refreshable values keep their old value and each change produces a warning
// (the seed's ExtWrtName, Translate, ChkPointSizeLimit and Options TestMode; ExtendedRetry
// MailDirectory; and our (ext) identity, location and listener settings, which would need
// the process or its sockets to be re-created: NOT_REFRESHABLE). Pure: the caller hands
// `apply` to every role and reports `changed`.
import { join } from 'node:path';
import type { Config } from './types.js';

export interface RefreshDiff {
  /** The configuration to run with: `next`, with the non-refreshable values of `old`. */
  readonly apply: Config;
  /** Changes that were not applied, one message each. */
  readonly ignored: { readonly statement: string; readonly message: string }[];
  /** Statements (canonical names, "TargetServer", "Receiver", ...) whose applied value changed. */
  readonly changed: string[];
}

/**
 * The statements (and parameters) a REFRESH does not apply: a change keeps the old value and
 * is warned about (EZD1843I). docs/configuration.md marks exactly these "no" in its R column
 * (refresh.test.ts compares the two). Everything else is applied by the roles: the forwarder
 * reads the configuration per task and connection, the receiver, POP3 and the log output are
 * handed the new one (main.ts, RefreshDiff.apply).
 */
export const NOT_REFRESHABLE = [
  'ChkPointSizeLimit', 'ExtendedRetry MailDirectory', 'ExtWrtName', 'Options TestMode', 'Translate',
  'Instance', 'StateDirectory', 'ControlSocket', 'Spool Directory', 'Spool RescanInterval',
  'Undeliverable DeadLetterDirectory', 'Http',
  // The listening sockets and their certificates are made once, at start.
  'Receiver Listen', 'Receiver TlsCert', 'Receiver TlsKey',
  'Pop3 Listen', 'Pop3 ListenTls', 'Pop3 TlsCert', 'Pop3 TlsKey',
  // The demo user is made (or not) once, at start.
  'Users Demo',
  // Where durable state lives: switching stores under a running gateway would lose its state.
  'Store',
] as const;
export type NotRefreshable = (typeof NOT_REFRESHABLE)[number];

type Section = (c: Config) => unknown;

// Every statement and the part of Config it sets; used to name what changed.
const SECTIONS: readonly (readonly [string, Section])[] = [
  ['BadSpoolDisp', (c) => c.badSpoolDisp],
  ['ChkPointSizeLimit', (c) => c.chkPointSizeLimit],
  ['ExtendedRetry', (c) => c.extendedRetry],
  ['ExtWrtName', (c) => c.extWrtName],
  ['Header', (c) => c.header],
  ['JESJobSize', (c) => c.jesJobSize],
  ['JESMsgSize', (c) => c.jesMsgSize],
  ['JESSyntaxErrLimit', (c) => c.jesSyntaxErrLimit],
  ['LogLevel', (c) => c.logLevel],
  ['MailAdministrator', (c) => c.mailAdministrators],
  ['Options', (c) => c.options],
  ['Report', (c) => c.report],
  ['RetryLimit', (c) => c.retryLimit],
  ['SMF119', (c) => c.smf119],
  ['TargetServer', (c) => c.targetServers],
  ['Timeout', (c) => c.timeout],
  ['Translate', (c) => c.translate],
  ['Undeliverable', (c) => c.undeliverable],
  ['UserExit', (c) => c.userExit],
  ['Instance', (c) => c.instance],
  ['HostName', (c) => c.hostName],
  ['StateDirectory', (c) => c.stateDirectory],
  ['ControlSocket', (c) => c.controlSocket],
  ['LogFile', (c) => c.logFile],
  ['LogFormat', (c) => c.logFormat],
  ['ReportMailFrom', (c) => c.reportMailFrom],
  ['UserExitTimeout', (c) => c.userExitTimeout],
  ['UserExitFailure', (c) => c.userExitFailure],
  ['UserExitDirectory', (c) => c.userExitDirectory],
  ['MaxReceivedHeaders', (c) => c.maxReceivedHeaders],
  ['DrainTimeout', (c) => c.drainTimeout],
  ['DisplayCompat', (c) => c.displayCompat],
  ['Spool', (c) => c.spool],
  ['Http', (c) => c.http],
  ['Receiver', (c) => c.receiver],
  ['Filter', (c) => c.filters],
  ['Pop3', (c) => c.pop3],
  ['Users', (c) => c.users],
  ['Retention', (c) => c.retention],
  ['Dkim', (c) => c.dkim],
  ['Store', (c) => c.store],
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v: unknown): string {
  if (v === null) return 'none';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function diffForRefresh(old: Config, next: Config): RefreshDiff {
  const ignored: { statement: string; message: string }[] = [];
  const keep = <T>(statement: NotRefreshable, o: T, n: T): T => {
    if (same(o, n)) return n;
    ignored.push({ statement, message: `${statement}: change from ${show(o)} to ${show(n)} ignored; it takes effect at the next start (not refreshable)` });
    return o;
  };

  // Values derived from the writer name follow the name actually kept (the default directories
  // and socket of a new ExtWrtName are not a change of their own).
  const derived = (o: string, n: string, suffix: (c: Config) => string): string =>
    n === suffix(next) && o === suffix(old) ? o : n;
  const extWrtName = keep('ExtWrtName', old.extWrtName, next.extWrtName);
  const translate = keep('Translate', old.translate, next.translate);
  const chkPointSizeLimit = keep('ChkPointSizeLimit', old.chkPointSizeLimit, next.chkPointSizeLimit);
  const testMode = keep('Options TestMode', old.options.testMode, next.options.testMode);
  // The mail directory is opened at start only when ExtendedRetry is active: turning it on needs a restart.
  const extendedOn = !old.extendedRetry.active && next.extendedRetry.active;
  if (extendedOn) ignored.push({ statement: 'ExtendedRetry', message: 'ExtendedRetry: addition ignored; it takes effect at the next start (not refreshable)' });
  const mailDirectory = extendedOn ? old.extendedRetry.mailDirectory : keep('ExtendedRetry MailDirectory', old.extendedRetry.mailDirectory,
    derived(old.extendedRetry.mailDirectory, next.extendedRetry.mailDirectory, (c) => join(c.stateDirectory, c.extWrtName, 'mail')));
  const deadLetterDirectory = keep('Undeliverable DeadLetterDirectory', old.undeliverable.deadLetterDirectory,
    derived(old.undeliverable.deadLetterDirectory, next.undeliverable.deadLetterDirectory, (c) => join(c.stateDirectory, c.extWrtName, 'deadletter')));
  // Without an Instance statement the instance is named after the writer (build.ts): it follows too.
  const instance = keep('Instance', old.instance, derived(old.instance, next.instance, (c) => c.extWrtName));
  const stateDirectory = keep('StateDirectory', old.stateDirectory, next.stateDirectory);
  const controlSocket = keep('ControlSocket', old.controlSocket,
    derived(old.controlSocket, next.controlSocket, (c) => join(c.stateDirectory, `${c.extWrtName}.sock`)));
  const spoolDirectory = keep('Spool Directory', old.spool.directory, next.spool.directory);
  const rescanInterval = keep('Spool RescanInterval', old.spool.rescanInterval, next.spool.rescanInterval);
  const http = keep('Http', old.http, next.http);
  const receiver = next.receiver === null || old.receiver === null
    ? keepWhole('Receiver', old.receiver, next.receiver, ignored)
    : {
        ...next.receiver,
        listen: keep('Receiver Listen', old.receiver.listen, next.receiver.listen),
        tlsCert: keep('Receiver TlsCert', old.receiver.tlsCert, next.receiver.tlsCert),
        tlsKey: keep('Receiver TlsKey', old.receiver.tlsKey, next.receiver.tlsKey),
      };
  const pop3 = next.pop3 === null || old.pop3 === null
    ? keepWhole('Pop3', old.pop3, next.pop3, ignored)
    : {
        ...next.pop3,
        listen: keep('Pop3 Listen', old.pop3.listen, next.pop3.listen),
        listenTls: keep('Pop3 ListenTls', old.pop3.listenTls, next.pop3.listenTls),
        tlsCert: keep('Pop3 TlsCert', old.pop3.tlsCert, next.pop3.tlsCert),
        tlsKey: keep('Pop3 TlsKey', old.pop3.tlsKey, next.pop3.tlsKey),
      };

  const apply: Config = {
    ...next,
    configFile: old.configFile,
    extWrtName,
    translate,
    chkPointSizeLimit,
    options: { ...next.options, testMode },
    extendedRetry: extendedOn ? old.extendedRetry : { ...next.extendedRetry, mailDirectory },
    undeliverable: { ...next.undeliverable, deadLetterDirectory },
    instance,
    stateDirectory,
    controlSocket,
    spool: { ...next.spool, directory: spoolDirectory, rescanInterval },
    http,
    receiver,
    pop3,
    users: { ...next.users, demo: keep('Users Demo', old.users.demo, next.users.demo) },
    store: keep('Store', old.store, next.store),
  };
  const changed = SECTIONS.filter(([, get]) => !same(get(old), get(apply))).map(([name]) => name);
  return { apply, ignored, changed };
}

/** Turning a listener on or off needs a restart: keep the old state. */
function keepWhole<T>(statement: string, o: T | null, n: T | null, ignored: { statement: string; message: string }[]): T | null {
  if ((o === null) === (n === null)) return n;
  ignored.push({ statement, message: `${statement}: ${n === null ? 'removal' : 'addition'} ignored; it takes effect at the next start (not refreshable)` });
  return o;
}
