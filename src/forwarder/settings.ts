// The forwarder's settings from the configuration: the one place where the CSSMTP statements'
// units (seconds, minutes, days, KB) become the milliseconds and bytes the forwarder works in.
import type { Clock } from '../core/index.js';
import { messageEntryLimit, type Config } from '../config/index.js';
import { getCodePage } from '../codepage/index.js';
import { localDomain } from '../spool/sender-policy.js';
import type { ForwarderSettings } from './forwarder.js';
import { Secret, type TargetServerSpec } from './types.js';

/** Spool tasks (TKIDs) reading files at once. */
export const SPOOL_TASKS = 4;
/** An idle target connection is closed after this long. */
export const IDLE_CONNECTION_MS = 5_000;
/** Messages of one file in flight before its task pauses (WAITS), before ChkPointSizeLimit shares. */
export const MAX_PENDING_PER_FILE = 200;
/** SPEC.md §1.1: at most 2,000 RCPT commands per message (seed 000). */
export const MAX_BATCH_RECIPIENTS = 2000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

export function forwarderSettings(c: Config, clock: Clock): ForwarderSettings {
  return {
    tasks: SPOOL_TASKS,
    connectRetryMs: c.timeout.connectRetry * SECOND,
    idleMs: IDLE_CONNECTION_MS,
    retry: { count: c.retryLimit.count, intervalMs: c.retryLimit.interval * MINUTE },
    extended: { active: c.extendedRetry.active, intervalMs: c.extendedRetry.interval * MINUTE, ageMs: c.extendedRetry.age * DAY },
    maxTracked: c.chkPointSizeLimit,
    drainTimeoutMs: c.drainTimeout * SECOND,
    task: {
      parser: {
        syntaxErrorLimit: c.jesSyntaxErrLimit, jobSizeKB: c.jesJobSize, msgSizeKB: c.jesMsgSize, atSign: c.options.atSign,
        maxRecipients: MAX_BATCH_RECIPIENTS, header: c.header, instance: c.instance, hostName: c.hostName, clock,
      },
      recordFormat: c.spool.recordFormat,
      recordLength: c.spool.recordLength,
      codepage: (name) => getCodePage(name ?? c.translate),
      nullTrnc: c.options.nullTrnc,
      badSpoolDisp: c.badSpoolDisp,
      testMode: c.options.testMode,
      maxPending: MAX_PENDING_PER_FILE,
      maxMessageBytes: messageEntryLimit(c),
      maxReceivedHeaders: c.maxReceivedHeaders,
      // Spool files owned by this process's user are the gateway's own (spool/queue.ts trusts
      // the same uid for gateway origins).
      senderPolicy: { policy: c.users.senderPolicy, domain: localDomain(c), gatewayUid: process.getuid?.() },
    },
  };
}

/** The SMTP client's per-command timeouts (Timeout statement, seconds) in milliseconds. */
export function clientTimeouts(c: Config): { connect: number; initialMsg: number; mailCmd: number; rcptCmd: number; dataCmd: number; dataBlock: number; dataTerm: number; anyCmd: number } {
  const t = c.timeout;
  return {
    connect: t.anyCmd * SECOND, initialMsg: t.initialMsg * SECOND, mailCmd: t.mailCmd * SECOND, rcptCmd: t.rcptCmd * SECOND,
    dataCmd: t.dataCmd * SECOND, dataBlock: t.dataBlock * SECOND, dataTerm: t.dataTerm * SECOND, anyCmd: t.anyCmd * SECOND,
  };
}

/** Each TargetServer statement with everything about it: where, how to connect, TLS, AUTH, source address. */
export function targetSpecs(c: Config): TargetServerSpec[] {
  return c.targetServers.map((t) => ({
    targetIp: t.targetIp, targetName: t.targetName, targetMx: t.targetMx ?? undefined, port: t.connectPort,
    connectLimit: t.connectLimit, maxMsgSent: t.maxMsgSent, messageSize: t.messageSize, secure: t.secure,
    tls: { caFile: t.tlsCaFile, servername: t.tlsServerName, minVersion: t.tlsMinVersion, verify: t.tlsVerify },
    auth: t.authUser !== null && t.authPassword !== null ? { user: t.authUser, password: new Secret(t.authPassword) } : null,
    sourceIp: t.sourceIp,
    rate: { msgPerSecond: t.maxMsgPerSecond, msgPerMinute: t.maxMsgPerMinute, rcptPerMsg: t.maxRcptPerMsg, connectPerMinute: t.maxConnectPerMinute, backoff: t.rateBackoff },
  }));
}
