// Values derived from several statements, computed in one place so that every role that needs
// them (the forwarder's spool task, the submission tools) agrees.
import type { Config } from './types.js';

/** The message entry limit when JESMsgSize is 0 (unlimited): message entries are read whole. */
export const DEFAULT_MESSAGE_ENTRY_LIMIT = 100 * 1024 * 1024;
/** Room for the receiver's own Received: header above a message of MaxMessageSize. */
const TRACE_HEADROOM = 64 * 1024;

/**
 * The largest `message` spool entry (the gateway's own mail) the forwarder reads. It is never
 * below what the receiver accepts with 250, so relayed mail is never refused after 250;
 * `sendmail` and `note` check it before they queue.
 */
export function messageEntryLimit(c: Pick<Config, 'jesMsgSize' | 'receiver'>): number {
  const jes = c.jesMsgSize > 0 ? c.jesMsgSize * 1024 : DEFAULT_MESSAGE_ENTRY_LIMIT;
  const receiver = c.receiver === null ? 0 : c.receiver.maxMessageSize + TRACE_HEADROOM;
  return Math.max(jes, receiver);
}

/** POP3's settings (POP3 does not read the configuration): seconds become milliseconds. */
export function pop3Settings(c: Pick<Config, 'hostName' | 'pop3'>): {
  hostName: string; allowPlaintext: boolean; idleTimeoutMs: number; maxFailedLogins: number; loginTimeoutMs: number; maxConnectionsPerIp: number;
} {
  const p = c.pop3;
  return {
    hostName: c.hostName, allowPlaintext: p?.allowPlaintext ?? false, idleTimeoutMs: (p?.inactivityTimeout ?? 600) * 1000, maxFailedLogins: p?.maxFailedLogins ?? 5,
    loginTimeoutMs: (p?.loginTimeout ?? 60) * 1000, maxConnectionsPerIp: p?.maxConnectionsPerIp ?? 10,
  };
}
