// Identifiers. Message ids are unique, sortable by creation time and safe as file names.
import { randomBytes } from 'node:crypto';

/** A 20-character id: 9 base-36 chars of time (ms) + 11 of randomness. Sortable by time. */
export function newId(nowMs: number = Date.now()): string {
  const time = nowMs.toString(36).padStart(9, '0');
  const rand = BigInt('0x' + randomBytes(8).toString('hex')).toString(36).padStart(13, '0').slice(0, 11);
  return time + rand;
}

/** RFC 5322 §3.6.4 msg-id for a generated Message-ID header: <id@host>. */
export function newMessageIdHeader(host: string, nowMs: number = Date.now()): string {
  return `<${newId(nowMs)}.spoolgate@${host}>`;
}
